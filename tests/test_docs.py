"""Every code block of the docs: inventoried, run, linted.

Each block runs twice per test session, once for each of two instruction sets:

* pytest-codeblocks (``pytest --codeblocks docs``) runs each block in the test process, in a
  namespace of its own, with the kernels of this machine's instruction set;
* this module runs each page's blocks top to bottom in a fresh interpreter, in one namespace
  (exactly the cells of the page's notebook, in order: that is the notebook test too), with
  PyTorch's plain x86-64 kernels (``ATEN_CPU_CAPABILITY=default``), and fails a block that
  changes PyTorch's global settings for the blocks after it.

So every printed output is checked on AVX2 and default on GitHub's runners and on this
project's CI machine, on AVX-512 and default where the CPU has AVX-512.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from docsite import markdown, runs

ALL_BLOCKS = [b for path in markdown.markdown_files() for b in markdown.blocks(path)]


def test_docs_have_runnable_blocks():
    assert len([b for b in ALL_BLOCKS if b.fence.runnable]) >= 20


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=lambda b: b.fence.location)
def test_block_prints_what_the_page_shows_on_plain_kernels(block, page_runs):
    result = page_runs(block.fence.path)[block.fence.location]
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", f"a reader would see this on stderr:\n{result.stderr}"
    expected = block.expected.code if block.expected else ""
    assert result.stdout == expected, (
        f"output differs under {runs.TEST_CONFIG}, top to bottom (or is stale): print what "
        "holds on every CPU and thread count (a bound, rounded digits), then run `make update-docs`"
    )


@pytest.mark.parametrize(
    "block", [b for b in ALL_BLOCKS if b.fence.runnable], ids=lambda b: b.fence.location
)
def test_block_is_self_contained_and_seeded(block):
    code = block.fence.code
    assert "pytest-codeblocks:cont" not in code and "__main__" not in code
    random = re.search(
        r"torch\.(randn|rand|randint|randperm|manual_seed)\b|nn\.(Linear|Conv2d|"
        r"Dropout)|Perceptron\(|MLP\(|ConvBlock\(|make_classifier\(|shuffle=True",
        code,
    )
    if random:
        assert re.search(r"torch\.manual_seed\(|set_seed\(", code), (
            "block draws random numbers without seeding"
        )


def test_no_untested_python_fences():
    assert markdown.problems() == []


def test_inventory_flags_every_fence_pytest_codeblocks_would_skip(tmp_path: Path):
    page = tmp_path / "page.md"
    page.write_text(
        textwrap.dedent(
            """\
            ```python
            print(1)
            ```

            ```python title="nnbasics/models.py"
            --8<-- "nnbasics/models.py:mlp"
            ```

            ``` python
            print(2)
            ```

            ```py
            print(3)
            ```

            ~~~python
            print(4)
            ~~~

            ```{.python}
            print(5)
            ```

            ```python title="demo.py"
            print(6)
            ```

            ```python title="nnbasics/models.py"
            print(7)
            ```

            ```pycon
            >>> 1
            ```

            ```text
            python
            ```
            """
        ),
        encoding="utf-8",
    )
    flagged = [line.split(":")[1] for line in markdown.problems([page])]
    assert flagged == ["9", "13", "17", "21", "25", "29"]


def test_includes_name_existing_sections():
    pattern = re.compile(r'--8<--\s+"([^":]+)(?::([\w-]+))?"')
    found = 0
    for path in markdown.markdown_files():
        for fence in markdown.parse(path):
            if not fence.include:
                continue
            title = re.search(r'title="([^"]+)"', fence.info).group(1)
            for line in fence.body:
                m = pattern.search(line)
                assert m, f"{fence.location}: malformed include {line!r}"
                assert m.group(1) == title, f"{fence.location}: title must name the included file"
                source = (markdown.ROOT / m.group(1)).read_text(encoding="utf-8")
                if m.group(2):
                    assert f"--8<-- [start:{m.group(2)}]" in source
                    assert f"--8<-- [end:{m.group(2)}]" in source
                found += 1
    assert found >= 5


@pytest.mark.parametrize(
    "path", markdown.markdown_files(), ids=lambda p: p.relative_to(markdown.ROOT).as_posix()
)
def test_docs_blocks_pass_ruff(path: Path):
    """Per file, so that `make page` lints its page's blocks too."""
    status, report = runs.lint([path])
    assert status == 0, report


def test_update_command_rewrites_stale_output(tmp_path: Path):
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nprint(6 * 7)\n```\n\n"
        f"{markdown.MARKER}\n\n```text\n41\n```\n\n"
        "```python\nprint('新')\n```\n",
        encoding="utf-8",
    )
    assert runs.check([page]) == 1
    assert runs.update([page]) == 0
    text = page.read_text(encoding="utf-8")
    assert "```text\n42\n```" in text
    assert text.count(markdown.MARKER) == 2 and "```text\n新\n```" in text
    assert runs.check([page]) == 0


PAGES_WITH_OUTPUT = markdown.pages_with_output()


def test_pages_with_output_are_found():
    assert len(PAGES_WITH_OUTPUT) >= 8


@pytest.mark.parametrize("path", PAGES_WITH_OUTPUT, ids=lambda p: p.name)
def test_page_records_the_versions_its_outputs_came_from(path: Path):
    """A page never claims outputs from versions that are not the ones checked here."""
    recorded = runs.recorded_versions(path)
    installed = runs.installed_versions()
    assert recorded == installed, (
        f"{path.name}: outputs recorded from {recorded}, installed {installed}; "
        "regenerate them with `make update-docs` under the pinned versions"
    )


def test_pages_without_output_record_no_versions():
    for path in markdown.markdown_files():
        if path.parent == markdown.DOCS and path not in PAGES_WITH_OUTPUT:
            assert runs.recorded_versions(path) is None, path.name


def test_update_records_and_removes_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(runs, "DOCS", tmp_path)
    page = tmp_path / "page.md"
    page.write_text(
        '---\ntags:\n  - x\noutputs_from:\n  torch: "1.0"\n---\n\n# 页\n\n'
        "```python\nprint(1)\n```\n",
        encoding="utf-8",
    )
    assert runs.update([page]) == 0
    assert runs.recorded_versions(page) == runs.installed_versions()
    text = page.read_text(encoding="utf-8")
    assert text.startswith("---\ntags:\n  - x\noutputs_from:\n") and text.count("outputs_from") == 1
    page.write_text(text.replace("print(1)", "x = 1"), encoding="utf-8")
    assert runs.update([page]) == 0  # nothing printed any more: no versions claimed
    assert runs.recorded_versions(page) is None
    assert page.read_text(encoding="utf-8").startswith("---\ntags:\n  - x\n---\n")


def test_update_refuses_an_output_that_differs_between_configurations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The sweep names the block, the differing lines and the configurations, and leaves the
    page untouched (no half-rewritten page), while a stable page beside it is written."""
    unstable = tmp_path / "unstable.md"
    original = (
        "```python\nprint('同')\n```\n\n"
        "```python\nimport torch\n\nprint('threads', torch.get_num_threads())\n"
        "print(torch.backends.cpu.get_cpu_capability())\n```\n\n"
        f"{markdown.MARKER}\n\n```text\nold\n```\n"
    )
    unstable.write_text(original, encoding="utf-8")
    stable = tmp_path / "stable.md"
    stable.write_text("```python\nprint(6 * 7)\n```\n", encoding="utf-8")
    assert runs.update([unstable, stable]) == 1
    err = capsys.readouterr().err
    assert unstable.read_text(encoding="utf-8") == original
    assert "```text\n42\n```" in stable.read_text(encoding="utf-8")
    assert f"{unstable}:5: the output differs between configurations" in err
    assert "'threads 1'  under" in err and "'threads 2'  under" in err
    assert "'DEFAULT'" in err and "default, 2 threads, block alone" in err
    assert f"NOT UPDATED {unstable}" in err


def test_sweep_skips_what_this_cpu_cannot_run_and_says_why():
    reason = runs.producible(runs.Config("avx512", 1))
    with_avx512 = "avx512f" in runs._cpu()
    assert (reason is None) == with_avx512, reason
    if reason is not None:
        assert "cannot run PyTorch's avx512 kernels" in reason
    assert runs.producible(runs.Config("default", 1)) is None
