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

.PHONY: test page test-package serve build shots update-docs format lint bench clean system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch alone from the CPU index (--no-deps); its dependencies come from PyPI in the next step
$(VENV)/.torch: $(BIN)/python constraints.txt
	$(PIP) install --quiet --disable-pip-version-check --retries 2 --no-deps \
		-c constraints.txt --index-url $(TORCH_INDEX) "$(TORCH)"
	touch $@

$(VENV)/.docs: $(VENV)/.torch pyproject.toml constraints.txt
	$(PIP) install --quiet --disable-pip-version-check -c constraints.txt -e ".[docs]"
	touch $@

$(VENV)/.test: $(VENV)/.torch pyproject.toml constraints.txt
	$(PIP) install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	touch $@ $(VENV)/.docs

## system packages (a CJK font for the figures), installed only when missing
system-deps:
	bash scripts/system-deps.sh

## make test: every test, one command (what .ci/run and the workflow run), on every core
## (pytest-xdist; the workers share one site build and one run of each page: tests/conftest.py)
XDIST ?= -n auto
test: system-deps $(VENV)/.test
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest $(XDIST) --codeblocks tests docs README.md $(PYTEST_ARGS)

## make page PAGE=losses: one chapter's (or one page's: PAGE=losses/ctc) tests while writing it: its blocks (pytest-codeblocks and
## the plain-kernel page run), a build of that page alone (with the home page) and its browser
## and site checks, its terms (tests/conftest.py keeps the tests of that page only)
page: system-deps $(VENV)/.test
	@test -n "$(PAGE)" || { echo "usage: make page PAGE=<name of a file in docs/, e.g. losses>"; exit 2; }
	NNBASICS_PAGE=$(PAGE) PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest \
		--codeblocks $(or $(wildcard docs/$(PAGE).md),docs/$(PAGE)/) tests/test_docs.py tests/test_site.py tests/test_glossary.py \
		tests/test_prose_numbers.py \
		tests/test_deepened.py tests/test_browser.py $(PYTEST_ARGS)

## make test-package TORCH=torch==2.6.0: the package tests alone on another PyTorch, in a venv
## of their own (.venv-torch-2.6.0); the docs outputs are checked on the pinned one only
PACKAGE_TESTS := tests/test_functional.py tests/test_ops.py \
	tests/test_nn_optim_autograd.py tests/test_models.py tests/test_data.py \
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

## make build: the static site in site/ (mkdocs build --strict; DOCS=properdocs for the fork)
build: system-deps $(VENV)/.docs
	$(BIN)/python -m $(DOCS) build --strict --config-file mkdocs.yml

## make shots PAGE=losses: build the site, then screenshots of a page (or of every page without
## PAGE) to open and look at before a change lands: Chromium at 1280 px (light) and as a 390 px
## phone (light and dark), cut into tiles, and Firefox (phone light, desktop dark) when
## firefox-esr is installed; in test-artifacts/shots/ (tools/shots.py)
shots: build
	rm -rf test-artifacts/shots
	$(BIN)/python tools/shots.py --out test-artifacts/shots $(PAGE)

## make update-docs: run every docs block under every instruction set and thread count this machine
## can produce (tools/docblocks.py: sweep) and rewrite the outputs shown under it when they agree
update-docs: $(VENV)/.test
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python tools/docblocks.py --update

## make format: ruff format the package, the tests and every docs block
format: $(VENV)/.test
	$(BIN)/python -m ruff format .
	$(BIN)/python -m ruff check --fix .
	$(BIN)/python tools/docblocks.py --format

bench: $(VENV)/.test
	$(BIN)/python benchmarks/bench_fit.py
	$(BIN)/python benchmarks/bench_functional.py

clean:
	rm -rf $(VENV) site dist .pytest_cache .ruff_cache
