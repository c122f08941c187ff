"""The site's page manifest: the nav of ``mkdocs.yml`` is the one list of pages.

Every test derives its pages from here, so a new page is one Markdown file plus one nav line
(see CONTRIBUTING.md). A page of the article (one of its sections) says so in its front
matter with ``section: true``; a section page must have the headings 从零实现, 常见坑 and 练习.

    >>> import pages
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

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CONFIG = ROOT / "mkdocs.yml"
# what a page of the article must contain (CONTRIBUTING.md says why)
SECTION_HEADINGS = ("从零实现", "常见坑", "练习")
# how a page shows a figure drawn by nnbasics.plot: ![alt text](figures/name.svg), where the
# name is the plot function's with hyphens (docs/_plugins/figures.py draws what pages name)
FIGURE = re.compile(r"!\[([^\]]*)\]\(figures/([a-z0-9-]+)\.svg\)")
# pages made at build time, not files in docs/: the executed notebook and the page it comes
# from (docs/_plugins/notebooks.py reads this)
GENERATED = {"training-notebook.ipynb": "training.md"}


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
        return bool(self.meta.get("section"))


def _line_of(text: str, needle: str) -> int:
    return next((k + 1 for k, line in enumerate(text.splitlines()) if needle in line), 0)


def front_matter(path: Path) -> dict[str, Any]:
    """The YAML front matter of a Markdown page ({} when it has none)."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return {}
    end = text.find("\n---\n", 4)
    if end < 0:
        raise ValueError(f"{path.relative_to(ROOT)}:1: front matter is never closed")
    meta = yaml.safe_load(text[4:end]) or {}
    return meta if isinstance(meta, dict) else {}


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
        if page.section:
            lines = path.read_text(encoding="utf-8").splitlines()
            headings = [line[3:].strip() for line in lines if line.startswith("## ")]
            for need in SECTION_HEADINGS:
                if not any(h.startswith(need) for h in headings):
                    raise ValueError(
                        f"docs/{src}:1: a section page (section: true) needs a '## {need}' "
                        "heading (see CONTRIBUTING.md)"
                    )
        result.append(page)
    return tuple(result)


def section_pages(config: Path = CONFIG) -> list[Page]:
    """The article's sections, in the article's order."""
    return [p for p in pages(config) if p.section]


def markdown_pages(config: Path = CONFIG) -> list[Page]:
    """The nav's Markdown pages (not the notebook)."""
    return [p for p in pages(config) if p.src.endswith(".md")]


def figure_refs(markdown: str, path: Path) -> Iterator[tuple[str, str, str]]:
    """``(location, figure name, alt text)`` of each figure a page shows, ``location`` being
    ``path:line``."""
    for number, line in enumerate(markdown.splitlines(), 1):
        for match in FIGURE.finditer(line):
            yield f"{path}:{number}", match.group(2), match.group(1)
