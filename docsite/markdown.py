"""Reading the site's Markdown: the one parser for fences, front matter, snippet includes and
indented blocks (collapsed ``???`` blocks, ``!!! quote "原文"`` quotations).

Everything that reads a page goes through here: the block inventory and runs
(:mod:`docsite.runs`), the page manifest (:mod:`docsite.pages`), the glossary check
(:mod:`docsite.glossary`), the notebook and figure steps of the build (:mod:`docsite.render`)
and the tests.

The docs have two kinds of Python block (see CONTRIBUTING.md):

* runnable: fenced exactly ```` ```python ````; pytest-codeblocks runs it; its printed output
  follows under ``<!--pytest-codeblocks:expected-output-->``;
* package source: ```` ```python title="nnbasics/..." ```` whose body is only ``--8<--``
  includes.

```` ```bash ```` blocks are run by pytest-codeblocks too (through bash). Anything else that
looks like Python is an error (:func:`problems`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MARKER = "<!--pytest-codeblocks:expected-output-->"
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


def display(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


@dataclass
class Fence:
    path: Path
    start: int  # 0-based index of the opening fence line
    end: int  # 0-based index of the closing fence line
    indent: str
    fence: str
    info: str  # everything after the fence characters, unstripped
    body: list[str]

    @property
    def location(self) -> str:
        return f"{display(self.path)}:{self.start + 1}"

    @property
    def code(self) -> str:
        return "".join(line + "\n" for line in self.body)

    @property
    def runnable(self) -> bool:
        """Run by pytest-codeblocks as Python: a backtick fence whose info is exactly python."""
        return self.fence.startswith("`") and self.info.rstrip() == "python"

    @property
    def shell(self) -> bool:
        return self.fence.startswith("`") and self.info.strip() in {"bash", "sh"}

    @property
    def include(self) -> bool:
        """A titled package-source include: only ``--8<--`` lines under title="nnbasics/..."."""
        body = [line for line in self.body if line.strip()]
        titled = bool(re.search(r"""title=(["'])nnbasics/[^"']+\1""", self.info))
        return titled and bool(body) and all(line.strip().startswith("--8<--") for line in body)

    @property
    def python_looking(self) -> bool:
        info = self.info.strip().strip("{}").lstrip(".").lower()
        lang = re.split(r"[\s{}]", info, maxsplit=1)[0] if info else ""
        return lang.startswith(("py", "ipython")) and not lang.startswith("pycon")


@dataclass
class Block:
    """A runnable block with the expected-output fence that follows it (if any)."""

    fence: Fence
    expected: Fence | None


def parse(path: Path, text: str | None = None) -> list[Fence]:
    """Every fenced block of a Markdown file (or of ``text``, read from ``path``), in order.

    This is the project's one fence parser: the inventory, the runner, the updater, the
    linter, the notebook step of the build and the tests all read blocks through it.

    Raises:
        ValueError: for a fence that is never closed, naming the file and line.
    """
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    fences: list[Fence] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.group("indent"), m.group("fence"), m.group("info")
        j = i + 1
        while j < len(lines) and not (
            lines[j].strip().startswith(fence) and lines[j].strip().strip(fence[0]) == ""
        ):
            j += 1
        if j == len(lines):
            raise ValueError(f"{path}:{i + 1}: fence {fence!r} is never closed")
        body = [
            line[len(indent) :] if line.startswith(indent) else line.lstrip()
            for line in lines[i + 1 : j]
        ]
        fences.append(Fence(path, i, j, indent, fence, info, body))
        i = j + 1
    return fences


_INCLUDE = re.compile(r"""--8<--\s+(["'])(?P<file>[^"':]+)(?::(?P<section>[\w-]+))?\1""")


def included_lines(line: str) -> list[str]:
    """The lines a ``--8<-- "file:section"`` include line brings in (pymdownx.snippets: the
    lines between ``--8<-- [start:section]`` and ``--8<-- [end:section]``, the marker lines
    left out, or the whole file without a section).

    Raises:
        ValueError: for a line that is not an include, a missing file or section.
    """
    m = _INCLUDE.search(line)
    if not m:
        raise ValueError(f"not a snippet include: {line!r}")
    source = (ROOT / m.group("file")).read_text(encoding="utf-8").splitlines()
    section = m.group("section")
    if section is None:
        return [s for s in source if "--8<-- [" not in s]
    try:
        start = source.index(next(s for s in source if s.strip().endswith(f"[start:{section}]")))
        end = source.index(next(s for s in source if s.strip().endswith(f"[end:{section}]")))
    except StopIteration:
        raise ValueError(f"{m.group('file')} has no section {section!r}") from None
    return [s for s in source[start + 1 : end] if "--8<-- [" not in s]


def markdown_files() -> list[Path]:
    """Every page of the site, and the README (its example is code a reader copies too)."""
    pages = sorted(DOCS.rglob("*.md"))
    return [*pages, ROOT / "README.md"]


def pages_with_output() -> list[Path]:
    """The site's pages that show at least one block's output."""
    pages = [p for p in markdown_files() if p.is_relative_to(DOCS)]
    return [p for p in pages if any(b.expected for b in blocks(p))]


def front_matter_bounds(lines: list[str]) -> tuple[int, int] | None:
    """Indices of the opening and closing ``---`` of the page's front matter, if any."""
    if lines and lines[0] == "---":
        for k in range(1, len(lines)):
            if lines[k] == "---":
                return 0, k
    return None


def blocks(path: Path) -> list[Block]:
    """Runnable Python and shell blocks of ``path`` with their expected-output fences."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fences = parse(path)
    out: list[Block] = []
    for k, fence in enumerate(fences):
        if not (fence.runnable or fence.shell):
            continue
        expected = None
        if k + 1 < len(fences):
            between = [line.strip() for line in lines[fence.end + 1 : fences[k + 1].start]]
            if [line for line in between if line] == [MARKER]:
                expected = fences[k + 1]
        out.append(Block(fence, expected))
    return out


def problems(paths: list[Path] | None = None) -> list[str]:
    """Fences that look like Python but are neither runnable nor a package-source include."""
    found = []
    for path in paths or markdown_files():
        for fence in parse(path):
            if fence.python_looking and not (fence.runnable or fence.include):
                found.append(f"{fence.location}: untested fence {fence.fence}{fence.info.strip()}")
    return found


def front_matter(path: Path, text: str | None = None) -> dict[str, Any]:
    """The YAML front matter of a Markdown page ({} when it has none).

    Raises:
        ValueError: for front matter that is never closed, naming the file.
    """
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    if not lines or lines[0] != "---":
        return {}
    bounds = front_matter_bounds(lines)
    if bounds is None:
        raise ValueError(f"{display(path)}:1: front matter is never closed")
    meta = yaml.safe_load("\n".join(lines[bounds[0] + 1 : bounds[1]])) or {}
    return meta if isinstance(meta, dict) else {}


def body(path: Path, text: str | None = None) -> str:
    """A page's Markdown without its front matter."""
    text = path.read_text(encoding="utf-8") if text is None else text
    lines = text.split("\n")
    bounds = front_matter_bounds(lines)
    return text if bounds is None else "\n".join(lines[bounds[1] + 1 :])


# a collapsed block (pymdownx.details "???", not the open "???+"): proof and reference, one
# click away, not on the main path
COLLAPSED = re.compile(r"^(?P<indent>[ \t]*)\?\?\? ")
# a quotation of the article: an admonition titled 原文 (docs/article.md, each chapter's overview)
ARTICLE_QUOTE = re.compile(r'^(?P<indent>[ \t]*)!!! quote "原文"')


def indented_blocks(markdown: str, opener: re.Pattern[str]) -> Iterator[tuple[int, bool]]:
    """``(line index, inside)`` for every line of ``markdown``: ``inside`` for a line that
    ``opener`` matches (an admonition's first line, say) and for every blank or deeper-indented
    line under it."""
    indent: int | None = None
    for number, line in enumerate(markdown.split("\n")):
        if indent is not None:
            if not line.strip() or len(line) - len(line.lstrip()) > indent:
                yield number, True
                continue
            indent = None
        m = opener.match(line)
        if m:
            indent = len(m["indent"].expandtabs(4))
        yield number, m is not None


def main_path(markdown: str) -> str:
    """``markdown`` without its collapsed blocks (``??? ...`` and everything indented under
    it): what a reader reads and runs without opening anything."""
    lines = markdown.split("\n")
    return "\n".join(lines[k] for k, inside in indented_blocks(markdown, COLLAPSED) if not inside)


def article_quote_lines(markdown: str) -> set[int]:
    """The numbers (from 1) of the lines of ``markdown`` inside a ``!!! quote "原文"`` block:
    the article's words, kept as they were."""
    return {k + 1 for k, inside in indented_blocks(markdown, ARTICLE_QUOTE) if inside}
