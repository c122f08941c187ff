"""Build step: every page's code as a Jupyter notebook, generated at build time.

* ``notebooks/<page>.ipynb``: the page's runnable ```` ```python ```` blocks, in order, each
  under the heading it sits in; every page gets a "下载 Notebook" link to it. The test of
  the docs blocks (``tests/test_docs.py``) runs each page's blocks top to bottom in one
  namespace: these cells, in this order (with the page's shell blocks between them).
* ``training-notebook.ipynb``: the same for the 完整训练示例 page plus its loss curve,
  executed here during the build (nbclient, every cell time-limited) and rendered with its
  outputs by mkdocs-jupyter. The executed notebook is cached (``docsite/cache.py``) by a
  hash of its cells, the package's source and the library versions: an unchanged one is
  not executed again, under ``mkdocs serve`` or in the next build.

Package-source includes (```` ```python title="nnbasics/..." ```` with ``--8<--``) are not
cells: a notebook imports the package instead. A block that answers an exercise (inside a
numbered list item, as under 练习) comes after a Markdown cell with the exercise's question
and the answer's prose, so the notebook never shows an answer without its question.

The executed notebook's page is rendered here, not by nbconvert: its Markdown cells, code and
outputs go through the site's own Markdown (the same extensions, slugs and code highlighting
as every other page), so its headings get the ids its table of contents links to, its code
looks like the site's code blocks (light and dark) and it carries no notebook stylesheet.
"""

from __future__ import annotations

import html
import json
import logging
import posixpath
import re
import shutil
import tempfile
import textwrap
import time
from pathlib import Path
from typing import NamedTuple

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.toc import get_toc

from docsite import cache as sitecache
from docsite import markdown as pagemarkdown
from docsite import pages

HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*$")
COMMENT = re.compile(r"<!--.*?-->", re.S)
log = logging.getLogger("mkdocs.plugins.nnbasics.notebooks")
CELL_TIMEOUT = 300
# the page's figure the executed notebook draws again, and the cell that draws it
LOSS_CURVE_FIGURE = "training-loss-curve"
LOSS_CURVE = (
    "from nnbasics.plot import training_loss_curve\n\n"
    "fig = training_loss_curve()  # 用 nnbasics.training.fit 重跑完整示例并画出损失曲线"
)


ITEM = re.compile(r"^(\s*)\d+\.\s+")  # a numbered list item (an exercise)
ADMONITION = re.compile(r"^\s*(\?\?\?\+?|!!!)\s")  # ??? success "参考答案"


class Cell(NamedTuple):
    heading: str  # the heading the block sits under
    code: str
    context: str = ""  # Markdown before it: the exercise's question and the answer's prose


def _dedent(lines: list[str]) -> str:
    return COMMENT.sub("", textwrap.dedent("\n".join(lines))).strip()


def _context(lines: list[str], fences: list, fence, inside: set[int]) -> str:
    """For a block inside a numbered list item (an exercise and its answer): the item's
    question, up to its admonition, then the prose between that admonition (or the item's
    previous block) and the block; fences and comments left out."""
    indent = len(fence.indent)
    item = next(
        (
            k
            for k in range(fence.start - 1, -1, -1)
            if k not in inside and (m := ITEM.match(lines[k])) and len(m.group(1)) < indent
        ),
        None,
    )
    if item is None:
        return ""
    # the item ends at the first later line (outside fences) indented no deeper than its number
    depth = len(ITEM.match(lines[item]).group(1))
    if any(
        lines[k].strip() and k not in inside and len(lines[k]) - len(lines[k].lstrip()) <= depth
        for k in range(item + 1, fence.start)
    ):
        return ""
    before = [f for f in fences if f.runnable and item < f.start < fence.start]
    admonition = next(
        (k for k in range(item + 1, fence.start) if k not in inside and ADMONITION.match(lines[k])),
        None,
    )
    prose_from = before[-1].end + 1 if before else (admonition + 1 if admonition else item + 1)
    prose = _dedent([lines[k] for k in range(prose_from, fence.start) if k not in inside])
    if before:
        return prose
    number = ITEM.match(lines[item]).group(0).strip().rstrip(".")
    question_end = admonition if admonition is not None else fence.start
    first = lines[item][len(ITEM.match(lines[item]).group(0)) :]
    rest = _dedent([lines[k] for k in range(item + 1, question_end) if k not in inside])
    question = first.strip() + (f"\n{rest}" if rest else "")
    text = f"**练习 {number}**：{question}"
    if admonition is not None:
        text += "\n\n**参考答案**" + (f"：{prose}" if prose else "")
    elif prose:
        text += f"\n\n{prose}"
    return text


def cells_of(markdown: str, path: Path = Path("page.md")) -> tuple[str, list[Cell]]:
    """The page title and its runnable Python blocks, each with its heading and (for an
    exercise's answer) the question it answers."""
    lines = markdown.splitlines()
    fences = pagemarkdown.parse(path, markdown)
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
            context = _context(lines, fences, fence, inside) if fence.indent else ""
            cells.append(Cell(heading, fence.code.strip("\n"), context))
    return title, cells


def page_cells(markdown: str, path: Path = Path("page.md")) -> tuple[str, list[tuple[str, str]]]:
    """The page title and its runnable Python blocks as ``(heading, code)`` pairs."""
    title, cells = cells_of(markdown, path)
    return title, [(c.heading, c.code) for c in cells]


# a link or image target in a page's Markdown: ](target)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def notebook_name(src_uri: str) -> str:
    """The notebook of the page ``src_uri``: ``notebooks/losses-regression.ipynb`` for
    ``losses/regression.md``, ``notebooks/losses.ipynb`` for the chapter's ``losses/index.md``."""
    stem = src_uri.removesuffix(".md").removesuffix("/index")
    return f"notebooks/{stem.replace('/', '-')}.ipynb"


def _site_links(text: str, url: str, src_dir: str = "") -> str:
    """Links of a page's Markdown (a page in the folder ``src_dir`` of docs/) made to work from
    a notebook in ``notebooks/`` (one folder deep on the site): ``#x`` -> the page's ``url#x``,
    ``other.md#x`` -> ``../other/#x``, ``figures/a.svg`` -> ``../figures/a.svg``; absolute URLs
    unchanged."""

    def fix(m: re.Match[str]) -> str:
        target = m.group(1)
        if re.match(r"[a-z]+:|/", target):
            return m.group(0)
        if target.startswith("#"):
            return f"]({url}{target})"
        path, hash_, anchor = target.partition("#")
        if not path.startswith("figures/"):  # figures are named from the site's root
            path = posixpath.normpath(posixpath.join(src_dir, path))
        if path.startswith("../"):
            return m.group(0)
        if path.endswith(".md"):
            stem = path.removesuffix(".md")
            path = "" if stem == "index" else stem.removesuffix("/index") + "/"
        return f"](../{path}{hash_}{anchor})"

    return LINK.sub(fix, text)


def notebook(
    title: str,
    url: str,
    cells: list[tuple[str, str]] | list[Cell],
    extra: list[dict] | None = None,
    page_title: str | None = None,
    src_dir: str = "",
) -> str:
    """The notebook of a page's ``cells``, titled ``title``, its first cell linking to the page
    (``url``, named ``page_title``: the page's own title, by default ``title``)."""

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
            f"# {title}\n\n本 Notebook 由网站页面 [{page_title or title}]({url}) 的代码块在构建时"
            "自动生成，单元格从上到下依次运行即可。需要先安装 nnbasics（见网站首页的安装说明）。"
        )
    ]
    last = None
    for cell in cells:
        cell = cell if isinstance(cell, Cell) else Cell(*cell)
        if cell.heading and cell.heading != last:
            out.append(md(f"## {cell.heading}"))
            last = cell.heading
        if cell.context:
            out.append(md(_site_links(cell.context, url, src_dir)))
        out.append(code(cell.code))
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


def execute(source: str, cwd: Path, name: str = "notebook") -> str:
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
    log.info("executed %s in %.1f s", name, time.perf_counter() - start)
    return nbformat.writes(nb) + "\n"


def _executed(source: str, cwd: Path, config_file: str | None, name: str) -> str:
    """The notebook executed, from the cache when neither it nor the package has changed."""
    import nnbasics

    package = sitecache.package_source(Path(nnbasics.__file__).parent)
    key = sitecache.digest(source, package, sitecache.versions())
    cache = sitecache.cache_dir(config_file)
    entry = Path(name).stem
    executed = sitecache.read(cache, entry, key, ".ipynb")
    if executed is None:
        executed = execute(source, cwd, name)
        sitecache.write(cache, entry, key, ".ipynb", executed)
    else:
        log.info("%s unchanged: its outputs come from %s", name, cache)
    return executed


def _loss_curve_alt(page: Path) -> str:
    """The alt text of the loss curve, as the page writes it under its own figure."""
    for _, name, alt in pages.figure_refs(page.read_text(encoding="utf-8"), page):
        if name == LOSS_CURVE_FIGURE:
            return f"{alt}（Notebook 执行时绘制）"
    raise PluginError(f"notebooks: {page} does not show figures/{LOSS_CURVE_FIGURE}.svg")


def _pages(files: Files) -> list[File]:
    return [f for f in files.documentation_pages() if f.src_uri.endswith(".md") and f.abs_src_path]


class Built(NamedTuple):
    """What :func:`add_notebooks` made that later steps need: each executed notebook's alt text
    for its figure, and the temporary folders to remove after the build."""

    alts: dict[str, str]
    folders: list[Path]


def add_notebooks(files: Files, config) -> Built:
    """A notebook for every page with blocks, and each executed notebook of
    :data:`docsite.pages.GENERATED` run and added as a page of its own."""
    built = Built({}, [])
    for page in _pages(files):
        source = Path(page.abs_src_path)
        title, cells = cells_of(source.read_text(encoding="utf-8"), source)
        if not cells:
            continue
        url = "../" + page.dest_uri.removesuffix("index.html")
        src_dir = posixpath.dirname(page.src_uri)
        nb = notebook(title, url, cells, src_dir=src_dir)
        files.append(File.generated(config, notebook_name(page.src_uri), content=nb))
        for executed_name, executed_from in pages.GENERATED.items():
            if page.src_uri != executed_from:
                continue
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
                title + "（Notebook）", url, cells, extra, page_title=title, src_dir=src_dir
            )
            folder = Path(tempfile.mkdtemp(prefix="nnbasics-notebook-"))
            built.folders.append(folder)
            (folder / executed_name).write_text(
                _executed(intro, folder, config.config_file_path, executed_name), encoding="utf-8"
            )
            built.alts[executed_name] = _loss_curve_alt(source)
            files.append(
                File(executed_name, str(folder), config.site_dir, config.use_directory_urls)
            )
    return built


def remove_folders(built: Built) -> None:
    """Remove the temporary folders of the executed notebooks (they have been copied)."""
    while built.folders:
        shutil.rmtree(built.folders.pop(), ignore_errors=True)


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def _fence(language: str, text: str) -> str:
    ticks = "`" * max([3, *(len(run) + 1 for run in re.findall(r"`+", text))])
    return f"{ticks}{language}\n{text.rstrip()}\n{ticks}"


# what marks a block's printed output on a page (outputs.py labels the block after it)
OUTPUT_MARKER = "<!--pytest-codeblocks:expected-output-->"


def _outputs(outputs: list[dict], alt: str) -> list[str]:
    """A code cell's outputs as a page shows a block's output: printed text (consecutive
    stream chunks joined) as a text block after the output marker, an image as an image with
    ``alt``."""
    parts: list[str] = []
    stream: list[str] = []
    for output in [*outputs, {"output_type": "end"}]:
        if output["output_type"] == "stream":
            stream.append(_text(output["text"]))
            continue
        if stream:
            parts.append(OUTPUT_MARKER + "\n\n" + _fence("text", "".join(stream)))
            stream = []
        data = output.get("data", {})
        if "image/png" in data:
            src = "data:image/png;base64," + _text(data["image/png"]).replace("\n", "")
            parts.append(f'<img src="{src}" alt="{html.escape(alt)}">')
        elif "image/svg+xml" in data:
            parts.append(_text(data["image/svg+xml"]))
        elif "text/plain" in data:
            parts.append(OUTPUT_MARKER + "\n\n" + _fence("text", _text(data["text/plain"])))
        elif output["output_type"] == "error":
            parts.append(OUTPUT_MARKER + "\n\n" + _fence("text", "\n".join(output["traceback"])))
    return parts


def notebook_markdown(nb: dict, alt: str = "", download: str = "") -> str:
    """An executed notebook as the site's Markdown: its Markdown cells as they are (a link to
    ``download`` it after the first), each code cell as a Python block followed by its
    outputs."""
    parts: list[str] = []
    for k, cell in enumerate(nb["cells"]):
        source = _text(cell["source"])
        if cell["cell_type"] == "markdown":
            parts.append(source)
            if k == 0 and download:
                parts.append(f"[下载这个 Notebook（含输出）]({download}){{ .md-button download }}")
        elif cell["cell_type"] == "code":
            parts.append(_fence("python", source))
            parts += _outputs(cell.get("outputs", []), alt)
    return "\n\n".join(parts) + "\n"


def executed_page(content: str, page, config, alts: dict[str, str]) -> str:
    """The executed notebook's page, rendered by the site's Markdown instead of nbconvert's
    template (see the module's docstring), and its table of contents from the same headings."""
    if page.file.src_uri not in alts:
        return content
    import markdown

    nb = json.loads(Path(page.file.abs_src_path).read_text(encoding="utf-8"))
    md = markdown.Markdown(
        extensions=config.markdown_extensions, extension_configs=config.mdx_configs or {}
    )
    # mkdocs-jupyter copies the notebook beside its page (include_source)
    name = page.file.src_uri
    content = md.convert(notebook_markdown(nb, alts[name], download=name))
    page.toc = get_toc(getattr(md, "toc_tokens", []))
    return content


def header_links(page, files) -> str:
    """The page's notebook links, for :func:`docsite.render.pagemeta.page_header` to show
    under its title ("" for a page without a notebook)."""
    name = notebook_name(page.file.src_uri)
    if files.get_file_from_path(name) is None:
        return ""
    here = posixpath.dirname(page.file.src_uri) or "."
    link = posixpath.relpath(name, here)
    links = [f'[下载 Notebook]({link}){{ .md-button download="{Path(name).name}" }}']
    for executed_name, executed_from in pages.GENERATED.items():
        if page.file.src_uri == executed_from:
            executed = posixpath.relpath(executed_name, here)
            links.append(f"[查看执行后的 Notebook]({executed}){{ .md-button }}")
    return " ".join(links)
