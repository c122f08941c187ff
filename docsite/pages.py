"""The site's page manifest: the nav of ``mkdocs.yml`` is the one list of pages.

Every test derives its pages from here, so a new page is one Markdown file plus one nav line
(see CONTRIBUTING.md). The site is a set of chapters, each a folder of docs/ whose ``index.md``
is the chapter's overview; a chapter that carries a section of the article says so in that
overview's front matter with ``section: true``. Every other page of a chapter is a lesson
(``lesson: true``), which must have the headings 小结 and 练习 and fit the lesson rule
(:func:`lesson_size`: its main path, what is not collapsed, reads in at most
:data:`LESSON_MINUTES` minutes and runs at most :data:`LESSON_BLOCKS` blocks).

    >>> from docsite import pages
    >>> [p.url for p in pages.section_pages()][:2]
    ['perceptron/', 'activations/']
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from docsite.markdown import body, front_matter, included_lines, main_path, parse

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CONFIG = ROOT / "mkdocs.yml"
# what a lesson must contain (CONTRIBUTING.md says why)
LESSON_HEADINGS = ("小结", "练习")
# folders of docs/ that are not chapters: the API reference, one generated page per module
REFERENCE = ("api",)
# the lesson rule (CONTRIBUTING.md): a lesson's main path reads in about 15 minutes, with at
# most a dozen runnable blocks
LESSON_MINUTES = 15
LESSON_BLOCKS = 12
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
WORD = re.compile(r"[A-Za-z0-9]+(?:[.'][A-Za-z0-9]+)*")
COMMENT = re.compile(r"<!--.*?-->", re.S)
HAN_PER_MINUTE = 300  # Chinese characters
LATIN_WORDS_PER_MINUTE = 200
CODE_LINES_PER_MINUTE = 15  # code and printed output, read line by line
# how a page shows a figure drawn by nnbasics.plot: ![alt text](figures/name.svg), where the
# name is the plot function's with hyphens (docsite/render/figures.py draws what pages name)
FIGURE = re.compile(r"!\[([^\]]*)\]\(figures/([a-z0-9-]+)\.svg\)")
# pages made at build time, not files in docs/: the executed notebook and the page it comes
# from (docsite/render/notebooks.py reads this)
GENERATED = {"training-notebook.ipynb": "training/full-example.md"}


class _Loader(yaml.SafeLoader):
    """mkdocs.yml with its ``!!python/...`` tags read as None (only the nav is wanted)."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)


@dataclass(frozen=True)
class Page:
    src: str  # path under docs/, e.g. "losses.md"
    title: str  # the nav title
    meta: dict[str, Any]  # the front matter (empty for a notebook)

    @property
    def path(self) -> Path:
        """The Markdown file behind the page (for a generated page, the one it is made from)."""
        return DOCS / GENERATED.get(self.src, self.src)

    @property
    def url(self) -> str:
        """The page's URL relative to the site root: "" for the home page, "losses/"."""
        stem = Path(self.src).with_suffix("").as_posix()
        return "" if stem == "index" else stem.removesuffix("/index") + "/"

    @property
    def section(self) -> bool:
        """The overview of a chapter that carries a section of the article."""
        return bool(self.meta.get("section"))

    @property
    def lesson(self) -> bool:
        return bool(self.meta.get("lesson"))

    @property
    def chapter(self) -> str:
        """The chapter's folder under docs/ ("losses"), "" for a page outside every chapter (the
        API reference's folder holds generated pages, not lessons)."""
        parts = Path(self.src).parts
        return parts[0] if len(parts) > 1 and parts[0] not in REFERENCE else ""


def _line_of(text: str, needle: str) -> int:
    return next((k + 1 for k, line in enumerate(text.splitlines()) if needle in line), 0)


def _walk(nav: list[Any]) -> list[tuple[str, str]]:
    """``(title, src)`` of every nav entry, in order (a section's title names its pages)."""
    found: list[tuple[str, str]] = []
    for entry in nav:
        if isinstance(entry, str):
            found.append(("", entry))
            continue
        for title, value in entry.items():
            if isinstance(value, list):
                found += [(t or title, src) for t, src in _walk(value)]
            else:
                found.append((title, value))
    return found


@cache
def pages(config: Path = CONFIG) -> tuple[Page, ...]:
    """Every page of the nav, in nav order.

    Raises:
        ValueError: for a nav entry whose file does not exist, or a section page without a
            required heading, naming the file and line.
    """
    text = config.read_text(encoding="utf-8")
    nav = yaml.load(text, Loader=_Loader).get("nav") or []
    docs = config.parent / "docs"
    result = []
    for title, src in _walk(nav):
        path = docs / GENERATED.get(src, src)
        if not path.is_file():
            raise ValueError(
                f"{config.name}:{_line_of(text, src)}: nav entry {title!r} names {src}, "
                f"which is not a file in docs/"
            )
        meta = front_matter(path) if src.endswith(".md") else {}
        page = Page(src, title, meta)
        if page.lesson:
            lines = path.read_text(encoding="utf-8").splitlines()
            headings = [line[3:].strip() for line in lines if line.startswith("## ")]
            for need in LESSON_HEADINGS:
                if not any(h.startswith(need) for h in headings):
                    raise ValueError(
                        f"docs/{src}:1: a lesson (lesson: true) needs a '## {need}' "
                        "heading (see CONTRIBUTING.md)"
                    )
        result.append(page)
    return tuple(result)


def section_pages(config: Path = CONFIG) -> list[Page]:
    """The overviews of the chapters that carry the article's sections, in the site's order."""
    return [p for p in pages(config) if p.section]


def chapter_pages(chapter: str, config: Path = CONFIG) -> list[Page]:
    """The pages of one chapter (its overview first), in nav order."""
    return [p for p in pages(config) if p.chapter == chapter]


def markdown_pages(config: Path = CONFIG) -> list[Page]:
    """The nav's Markdown pages (not the notebook)."""
    return [p for p in pages(config) if p.src.endswith(".md")]


def figure_refs(markdown: str, path: Path) -> Iterator[tuple[str, str, str]]:
    """``(location, figure name, alt text)`` of each figure a page shows, ``location`` being
    ``path:line``."""
    for number, line in enumerate(markdown.splitlines(), 1):
        for match in FIGURE.finditer(line):
            yield f"{path}:{number}", match.group(2), match.group(1)


def count_words(markdown: str) -> int:
    """Chinese characters plus Latin/number words."""
    text = COMMENT.sub("", markdown)
    return len(HAN.findall(text)) + len(WORD.findall(HAN.sub(" ", text)))


def reading_minutes(markdown: str, path: Path) -> float:
    """Minutes a careful reader needs for ``markdown`` (the page ``path``'s Markdown, without
    its front matter): its prose at :data:`HAN_PER_MINUTE` Chinese characters plus
    :data:`LATIN_WORDS_PER_MINUTE` Latin words a minute, and its code and outputs at
    :data:`CODE_LINES_PER_MINUTE` non-blank lines a minute, each package-source include counted
    as the lines it shows."""
    lines = markdown.splitlines()
    fenced: set[int] = set()
    code = 0
    for fence in parse(path, markdown):
        fenced.update(range(fence.start, fence.end + 1))
        for line in fence.body:
            if fence.include and line.strip():
                code += sum(1 for s in included_lines(line) if s.strip())
            elif line.strip():
                code += 1
    prose = COMMENT.sub("", "\n".join(s for k, s in enumerate(lines) if k not in fenced))
    han = len(HAN.findall(prose))
    latin = len(WORD.findall(HAN.sub(" ", prose)))
    return han / HAN_PER_MINUTE + latin / LATIN_WORDS_PER_MINUTE + code / CODE_LINES_PER_MINUTE


@dataclass(frozen=True)
class LessonSize:
    minutes: float  # the main path's reading time
    blocks: int  # runnable blocks on the main path

    @property
    def fits(self) -> bool:
        return self.minutes <= LESSON_MINUTES and self.blocks <= LESSON_BLOCKS


def lesson_size(path: Path) -> LessonSize:
    """The size of a page's main path (:func:`main_path`): its reading time and its runnable
    blocks."""
    text = main_path(body(path))
    runnable = sum(1 for fence in parse(path, text) if fence.runnable)
    return LessonSize(reading_minutes(text, path), runnable)
