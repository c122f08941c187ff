"""MkDocs hook: every page's code as a Jupyter notebook, generated at build time.

* ``notebooks/<page>.ipynb``: the page's runnable ```` ```python ```` blocks, in order, each
  under the heading it sits in; every page gets a "下载 Notebook" link to it. The test of
  the docs blocks (``tests/test_docs.py``) runs each page's blocks top to bottom in one
  namespace: these cells, in this order (with the page's shell blocks between them).
* ``training-notebook.ipynb``: the same for the 完整训练示例 page plus its loss curve,
  executed here during the build (nbclient, every cell time-limited) and rendered with its
  outputs by mkdocs-jupyter. The executed notebook is cached (``tools/sitecache.py``) by a
  hash of its cells, the package's source and the library versions: an unchanged one is
  not executed again, under ``mkdocs serve`` or in the next build.

Package-source includes (```` ```python title="nnbasics/..." ```` with ``--8<--``) are not
cells: a notebook imports the package instead.
"""

from __future__ import annotations

import html
import json
import logging
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

# the fence parser and the page manifest live in tools/ (shared with the tests and the Makefile)
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import docblocks
import pages
import sitecache

HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*$")
log = logging.getLogger("mkdocs.hooks.notebooks")
CELL_TIMEOUT = 300
# the notebook executed at build time, and the page whose blocks it runs (the page manifest)
((EXECUTED, EXECUTED_FROM),) = pages.GENERATED.items()
# the page's figure the executed notebook draws again, and the cell that draws it
LOSS_CURVE_FIGURE = "training-loss-curve"
LOSS_CURVE = (
    "from nnbasics.plot import training_loss_curve\n\n"
    "fig = training_loss_curve()  # 用 nnbasics.training.fit 重跑完整示例并画出损失曲线"
)
# its alt text in the rendered notebook: the page's own, read at build time
_alt = ["完整训练示例的损失曲线"]


def page_cells(markdown: str, path: Path = Path("page.md")) -> tuple[str, list[tuple[str, str]]]:
    """The page title and its runnable Python blocks as ``(heading, code)`` pairs."""
    lines = markdown.splitlines()
    fences = docblocks.parse(path, markdown)
    inside = {k for f in fences for k in range(f.start, f.end + 1)}  # no headings in code
    headings = [
        (k, m.group(1), m.group(2))
        for k, line in enumerate(lines)
        if k not in inside and (m := HEADING.match(line))
    ]
    title = next((text for _, level, text in headings if level == "#"), "")
    cells = []
    for fence in fences:
        if fence.runnable:
            heading = next((text for k, _, text in reversed(headings) if k < fence.start), "")
            cells.append((heading, fence.code.strip("\n")))
    return title, cells


def notebook(
    title: str, url: str, cells: list[tuple[str, str]], extra: list[dict] | None = None
) -> str:
    def md(text: str) -> dict:
        return {"cell_type": "markdown", "metadata": {}, "source": text}

    def code(text: str) -> dict:
        return {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": text,
        }

    out = [
        md(
            f"# {title}\n\n本 Notebook 由网站页面 [{title}]({url}) 的代码块在构建时自动生成，"
            "单元格从上到下依次运行即可。需要先安装 nnbasics（见网站首页的安装说明）。"
        )
    ]
    last = None
    for heading, source in cells:
        if heading and heading != last:
            out.append(md(f"## {heading}"))
            last = heading
        out.append(code(source))
    out += extra or []
    for k, cell in enumerate(out):
        cell["id"] = f"cell-{k}"
    nb = {
        "cells": out,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, ensure_ascii=False, indent=1) + "\n"


def execute(source: str, cwd: Path) -> str:
    """Run a notebook top to bottom in a fresh kernel (bounded: a cell that runs over
    ``CELL_TIMEOUT`` seconds, a kernel that does not start, or an error fails the build)."""
    import nbformat
    from nbclient import NotebookClient

    start = time.perf_counter()
    nb = nbformat.reads(source, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        startup_timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    log.info("executed %s in %.1f s", EXECUTED, time.perf_counter() - start)
    return nbformat.writes(nb) + "\n"


def _executed(source: str, cwd: Path, config_file: str | None) -> str:
    """The notebook executed, from the cache when neither it nor the package has changed."""
    import nnbasics

    package = sitecache.package_source(Path(nnbasics.__file__).parent)
    key = sitecache.digest(source, package, sitecache.versions())
    cache = sitecache.cache_dir(config_file)
    executed = sitecache.read(cache, "training-notebook", key, ".ipynb")
    if executed is None:
        executed = execute(source, cwd)
        sitecache.write(cache, "training-notebook", key, ".ipynb", executed)
    else:
        log.info("%s unchanged: its outputs come from %s", EXECUTED, cache)
    return executed


def _loss_curve_alt(page: Path) -> str:
    """The alt text of the loss curve, as the page writes it under its own figure."""
    for _, name, alt in pages.figure_refs(page.read_text(encoding="utf-8"), page):
        if name == LOSS_CURVE_FIGURE:
            return f"{alt}（Notebook 执行时绘制）"
    raise PluginError(f"notebooks: {page} does not show figures/{LOSS_CURVE_FIGURE}.svg")


def _pages(files: Files) -> list[File]:
    return [f for f in files.documentation_pages() if f.src_uri.endswith(".md") and f.abs_src_path]


@event_priority(100)  # before mkdocs-jupyter turns the generated notebook into a page
def on_files(files: Files, config) -> Files:
    for page in _pages(files):
        source = Path(page.abs_src_path)
        title, cells = page_cells(source.read_text(encoding="utf-8"), source)
        if not cells:
            continue
        url = "../" + page.dest_uri.removesuffix("index.html")
        nb = notebook(title, url, cells)
        files.append(
            File.generated(config, f"notebooks/{Path(page.src_uri).stem}.ipynb", content=nb)
        )
        if page.src_uri == EXECUTED_FROM:
            extra = [
                {"cell_type": "markdown", "metadata": {}, "source": "## 损失曲线"},
                {
                    "cell_type": "code",
                    "metadata": {},
                    "execution_count": None,
                    "outputs": [],
                    "source": LOSS_CURVE,
                },
            ]
            intro = notebook(
                title + "（Notebook）",
                "../" + page.dest_uri.removesuffix("index.html"),
                cells,
                extra,
            )
            folder = Path(tempfile.mkdtemp(prefix="nnbasics-notebook-"))
            _folders.append(folder)
            (folder / EXECUTED).write_text(
                _executed(intro, folder, config.config_file_path), encoding="utf-8"
            )
            _alt[0] = _loss_curve_alt(source)
            files.append(File(EXECUTED, str(folder), config.site_dir, config.use_directory_urls))
    return files


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)


def _offline(script: re.Match[str]) -> str:
    """nbconvert's page template loads MathJax (here with an empty URL) and Mermaid from a
    CDN; the notebook has neither math nor diagrams, and the site must work offline."""
    text = script.group(0)
    if 'src=""' in text or "mathjax" in text.lower() or "mermaid" in text.lower():
        return ""
    return text


_folders: list[Path] = []


def on_post_build(config) -> None:
    """Remove the temporary folders of the executed notebook (it has been copied)."""
    while _folders:
        shutil.rmtree(_folders.pop(), ignore_errors=True)


def on_post_page(output: str, page, config) -> str:
    """Offline notebook page; nbconvert's placeholder alt text replaced by a real one."""
    if page.file.src_uri != EXECUTED:
        return output
    output = _SCRIPT.sub(_offline, output)
    # code cells scroll sideways: keyboard users must be able to focus them
    output = output.replace(
        '<div class="highlight-ipynb hl-python">',
        '<div class="highlight-ipynb hl-python" tabindex="0">',
    )
    return output.replace(
        'alt="No description has been provided for this image"', f'alt="{html.escape(_alt[0])}"'
    )


@event_priority(60)  # before pagemeta.py (priority 50), which shows the links under the title
def on_page_markdown(markdown: str, page, config, files) -> str:
    """The page's notebook links, left in ``page.meta["header_links"]`` for pagemeta.py,
    the one hook that writes under a page's title."""
    name = f"notebooks/{Path(page.file.src_uri).stem}.ipynb"
    if files.get_file_from_path(name) is None:
        return markdown
    links = [f'[下载 Notebook]({name}){{ .md-button download="{Path(name).name}" }}']
    if page.file.src_uri == EXECUTED_FROM:
        links.append(f"[查看执行后的 Notebook]({EXECUTED}){{ .md-button }}")
    page.meta["header_links"] = " ".join(links)
    return markdown
