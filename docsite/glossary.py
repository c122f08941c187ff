"""The site's terminology: ``docs/_data/glossary.yml``, one entry per term.

Each term has its preferred Chinese name (``zh``, the one every page uses), its English name,
the other Chinese names a reader may know (``variants``: the prose never uses them), the page
that defines it and a one-line definition. From this one file come:

- the 术语表 page (``docs/glossary.md``; ``docsite/render/terms.py`` writes the table);
- the words jieba keeps whole when it segments the pages for search (梯度消失 stays one word,
  so a search for it is not a search for 梯度 and 消失);
- the synonyms the search box maps to the preferred term (``search/glossary.json``, read by
  ``docs/javascripts/search-segment.js``);
- the check that no page uses a non-preferred variant (``tests/test_glossary.py``).

    >>> from docsite import glossary
    >>> glossary.preferred("批量归一化")
    '批量规范化'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from docsite.markdown import article_quote_lines

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DATA = DOCS / "_data" / "glossary.yml"
# the page the table is written into: the only page where variants may appear
PAGE = "glossary.md"
_FIELDS = ("zh", "en", "variants", "page", "definition")


@dataclass(frozen=True)
class Term:
    zh: str
    en: str
    variants: tuple[str, ...]
    page: str  # the defining page, a path under docs/
    definition: str
    line: int  # where the entry starts in the data file


class _LineLoader(yaml.SafeLoader):
    """Mappings remember the line they start on (for error messages)."""

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


@cache
def terms(path: Path = DATA) -> tuple[Term, ...]:
    """The terms of ``path``, checked: every field present, the page a file in ``docs/``, no
    Chinese name (preferred or variant) given twice. A problem raises ``ValueError`` naming
    the file and line."""
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    entries = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    if not isinstance(entries, list):
        raise ValueError(f"{where}: expected a list of terms")
    found: list[Term] = []
    seen: dict[str, int] = {}
    for entry in entries:
        line = entry.pop("__line__", 0)
        missing = [field for field in _FIELDS if field not in entry]
        unknown = sorted(set(entry) - set(_FIELDS))
        if missing or unknown:
            raise ValueError(f"{where}:{line}: missing {missing} / unknown {unknown} fields")
        term = Term(
            zh=str(entry["zh"]),
            en=str(entry["en"]),
            variants=tuple(str(v) for v in entry["variants"] or ()),
            page=str(entry["page"]),
            definition=str(entry["definition"]),
            line=line,
        )
        if not (path.parent.parent / term.page).is_file():
            raise ValueError(f"{where}:{line}: {term.zh}: page {term.page} is not in docs/")
        for name in (term.zh, *term.variants):
            if name in seen:
                raise ValueError(f"{where}:{line}: {name} is already on line {seen[name]}")
            seen[name] = line
        found.append(term)
    return tuple(found)


def preferred(name: str) -> str | None:
    """The preferred term for ``name`` (a preferred term or one of its variants)."""
    for term in terms():
        if name == term.zh or name in term.variants:
            return term.zh
    return None


def synonyms() -> dict[str, str]:
    """Variant -> preferred term, for the search box."""
    return {variant: term.zh for term in terms() for variant in term.variants}


def words() -> list[str]:
    """Every Chinese name, preferred or variant: the words jieba must keep whole."""
    return [name for term in terms() for name in (term.zh, *term.variants)]


_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)


def variants_in(markdown: str) -> list[tuple[int, str, str]]:
    """``(line, variant, preferred)`` for each non-preferred term in ``markdown``, in the prose
    and in the code alike (a reader reads both comments and printed labels). Skipped: the front
    matter, the article's own words (a ``!!! quote "原文"`` block, and “…” or `…` on a line that
    says 原文), and an occurrence inside a longer preferred term (none today, but 反向传播 must
    never flag 反向 alone)."""
    body = _FRONT_MATTER.sub(lambda m: "\n" * m.group(0).count("\n"), markdown, count=1)
    preferred_terms = [term.zh for term in terms()]
    variants = synonyms()
    found = []
    quoted = article_quote_lines(body)
    for number, line in enumerate(body.splitlines(), start=1):
        if number in quoted:
            continue
        for variant, term in variants.items():
            for match in re.finditer(re.escape(variant), line):
                inside = any(
                    variant in longer
                    and any(
                        m.start() <= match.start() and match.end() <= m.end()
                        for m in re.finditer(re.escape(longer), line)
                    )
                    for longer in preferred_terms
                    if longer != variant
                )
                if not inside and not _quotes_the_article(line, match.start()):
                    found.append((number, variant, term))
    return found


_QUOTED = re.compile(r"“[^”]*”|`[^`]*`")


def _quotes_the_article(line: str, position: int) -> bool:
    """Whether ``position`` lies in a quotation (“…” or `…`) on a line that says it quotes the
    article (原文): the site carries the whole article, and says where it words things
    differently."""
    return "原文" in line and any(m.start() < position < m.end() for m in _QUOTED.finditer(line))


def table() -> str:
    """The glossary as a Markdown table for the 术语表 page (links relative to ``docs/``)."""
    rows = [
        "| 术语 | 英文 | 又称 | 定义 | 详见 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for term in sorted(terms(), key=lambda t: t.en.lower()):
        variants = "、".join(term.variants) or "—"
        title = _page_titles().get(term.page, term.page)
        rows.append(
            f"| **{term.zh}** | {term.en} | {variants} | {term.definition} "
            f"| [{title}]({term.page}) |"
        )
    return "\n".join(rows)


@cache
def _page_titles() -> dict[str, str]:
    from docsite import pages  # the nav titles

    return {page.src: page.title for page in pages.pages()}
