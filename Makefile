# The two commands of the README:
#   make serve   install the docs tools and serve the site on http://127.0.0.1:8000
#   make test    install everything and run every test (package, docs blocks, site, workflows)
# Both create .venv/ and install PyTorch's CPU build (never the multi-GB CUDA build).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# PyTorch's CPU-only wheels; PyPI itself serves the CUDA build on Linux.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH := torch==2.13.0
# the tests install PyTorch from the same index (tests/test_install.py)
export TORCH_INDEX
export NO_MKDOCS_2_WARNING := 1
# the site builder: mkdocs (frozen 1.x) or properdocs, its maintained drop-in fork
DOCS ?= mkdocs

.PHONY: test check page test-package serve build shots update-docs format lint bench clean system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch alone from the CPU index (--no-deps); its dependencies come from PyPI in the next step
$(VENV)/.torch: $(BIN)/python constraints.txt
	$(PIP) install --quiet --disable-pip-version-check --retries 2 --no-deps \
		-c constraints.txt --index-url $(TORCH_INDEX) "$(TORCH)"
	touch $@

# the docs tools, and docsite/ (the site's plugin: MkDocs finds it through an entry point)
$(VENV)/.docs: $(VENV)/.torch pyproject.toml constraints.txt docsite/pyproject.toml
	$(PIP) install --quiet --disable-pip-version-check -c constraints.txt -e ".[docs]" -e ./docsite
	touch $@

$(VENV)/.test: $(VENV)/.torch pyproject.toml constraints.txt docsite/pyproject.toml
	$(PIP) install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]" -e ./docsite
	touch $@ $(VENV)/.docs

## system packages (a CJK font for the figures), installed only when missing
system-deps:
	bash scripts/system-deps.sh

## make test: every test, one command (what .ci/run and the workflow run), on every core
## (pytest-xdist). The site is built once, into site/, by the first test that needs it (or not
## at all when `make build` already built these inputs): CI deploys that folder.
## Two workers per core: about half of a test run is waiting (on Chromium, on torchrun's
## ranks, on a build), and a second worker per core fills it.
XDIST ?= -n $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))
PYTEST := PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest
test: system-deps $(VENV)/.test
	$(PYTEST) $(XDIST) --codeblocks tests docs README.md $(PYTEST_ARGS)

## make check: the quick loop while working, about a minute: the unit tier, then the blocks of
## the pages changed since the last commit (pytest-codeblocks and the plain-kernel page run, the
## latter from the execution cache when the page has not changed since it last ran)
check: $(VENV)/.test
	$(PYTEST) $(XDIST) -q -m unit tests $(PYTEST_ARGS)
	@changed="$$($(BIN)/python -m docsite changed)"; \
	if [ -n "$$changed" ]; then \
		echo "changed pages: $$changed"; \
		NNBASICS_PAGE="$$changed" $(PYTEST) $(XDIST) -q -m docs --codeblocks docs tests/test_docs.py $(PYTEST_ARGS); \
	else echo "no page changed since the last commit"; fi

## make page PAGE=losses: one chapter's (or one page's: PAGE=losses/ctc) tests while writing it:
## its blocks (pytest-codeblocks and the plain-kernel page run), a build of that page alone (with
## the home page), its site and browser checks, its terms (conftest.py keeps its tests only)
page: system-deps $(VENV)/.test
	@test -n "$(PAGE)" || { echo "usage: make page PAGE=<name of a file in docs/, e.g. losses>"; exit 2; }
	NNBASICS_PAGE=$(PAGE) $(PYTEST) $(XDIST) \
		--codeblocks $(or $(wildcard docs/$(PAGE).md),docs/$(PAGE)/) tests $(PYTEST_ARGS)

## make test-package TORCH=torch==2.6.0: the package tests alone on another PyTorch, in a venv
## of their own (.venv-torch-2.6.0); the docs outputs are checked on the pinned one only
PACKAGE_TESTS := tests/test_functional.py tests/test_ops.py \
	tests/test_nn.py tests/test_optim.py tests/test_autograd.py tests/test_models.py tests/test_data.py \
	tests/test_training.py tests/test_cli.py tests/test_testing.py tests/test_init.py \
	tests/test_checkpoint.py tests/test_amp.py tests/test_distributed.py \
	tests/test_perceptron_rule.py tests/test_split.py
PKG_VENV = .venv-$(subst ==,-,$(TORCH))
test-package:
	$(PYTHON) -m venv $(PKG_VENV)
	@# the pins of what is installed by name; torch's own dependencies follow the torch asked for
	grep -E '^(numpy|pytest|hypothesis|pyyaml|tqdm)==' constraints.txt > $(PKG_VENV)/constraints.txt
	export PIP_CONSTRAINT=$(PKG_VENV)/constraints.txt PIP_DISABLE_PIP_VERSION_CHECK=1 && \
	$(PKG_VENV)/bin/python -m pip install --quiet --retries 2 --no-deps \
		--index-url $(TORCH_INDEX) "$(TORCH)" && \
	$(PKG_VENV)/bin/python -m pip install --quiet "$(TORCH)" -e ".[progress]" \
		numpy pytest hypothesis pyyaml
	$(PKG_VENV)/bin/python -c "import torch; print('torch', torch.__version__)"
	$(PKG_VENV)/bin/python -m pytest -p no:cacheprovider $(PACKAGE_TESTS) $(PYTEST_ARGS)

## make serve: the site with live reload on http://127.0.0.1:8000; it also rebuilds when
## nnbasics/ changes (the pages include its source, the figures come from its code)
serve: system-deps $(VENV)/.docs
	$(BIN)/python -m $(DOCS) serve --dev-addr 127.0.0.1:8000 --watch nnbasics

## make build: the static site in site/ (mkdocs build --strict; DOCS=properdocs for the fork),
## skipped when nothing the build reads has changed since site/ was built (docsite/build.py)
build: system-deps $(VENV)/.docs
	$(BIN)/python -m docsite build --tool $(DOCS)

## make shots PAGE=losses: build the site, then screenshots of a page (or of every page without
## PAGE) to open and look at before a change lands: Chromium at 1280 px (light) and as a 390 px
## phone (light and dark), cut into tiles, and Firefox (phone light, desktop dark) when
## firefox-esr is installed; in test-artifacts/shots/ (docsite/shots.py)
shots: build
	rm -rf test-artifacts/shots
	$(BIN)/python -m docsite shots --out test-artifacts/shots $(PAGE)

## make update-docs: run every docs block under every instruction set and thread count this machine
## can produce (docsite/runs.py: sweep) and rewrite the outputs shown under it when they agree
update-docs: $(VENV)/.test
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m docsite update

## make format: ruff format the package, the tests and every docs block
format: $(VENV)/.test
	$(BIN)/python -m ruff format .
	$(BIN)/python -m ruff check --fix .
	$(BIN)/python -m docsite format

bench: $(VENV)/.test
	$(BIN)/python -m benchmarks.bench_fit
	$(BIN)/python -m benchmarks.bench_functional

clean:
	rm -rf $(VENV) site dist .pytest_cache .ruff_cache
