"""Build step: what Material's search index holds, so that the results read well.

* Formulas. Material indexes the text of a page, and the text of a MathML formula
  (docsite/render/mathml.py renders them at build time) is its symbols run together: the
  cross-entropy formula came out in the result previews as "L=−1N∑i=1Nlog⁡pi,yi…". The index
  gets a readable form instead: a formula that reads on one line (letters, numbers and
  operators: θ, 1/(1−p), W×B, log 2; a short script Unicode can write: x², w⊤, W₁, xᵢ) as
  that line, any other formula (a fraction, a root, limits, a matrix, p with subscript θ) as
  "…". The pages themselves keep their MathML; only what the search plugin reads is changed
  (:func:`index_html`).
* Tags. Every page has the same two tags, so the chips Material shows on each result said
  nothing: the index carries no tags, and the tags page (``tags/``) is not in it.
* Terms. A term of the glossary (docs/_data/glossary.yml) brings first the lesson that
  defines it: that lesson's entry gets the term and its other names in a field of its own,
  ``terms``, weighted as Material weighs tags (not shown in the results). Without it
  "感知机" found the lesson that says it most (感知机学习规则), not the one that teaches it
  (:func:`add_terms`).
* One location, one entry. Material's search worker keeps the word positions of each entry
  by its location, for the highlighted previews; two entries with one location (a page whose
  headings have no ``id``, as the notebook page's ``<h2 id="">`` had) overwrite each other's,
  and every query that matches the first one fails in the worker ("训练", "模型",
  "混合精度训练" found nothing). Entries with a location already seen are merged into the
  first one.
"""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

from docsite import glossary, pages

MATH = re.compile(r"<math\b[^>]*>(.*?)</math>", re.S)
ELIDED = "…"
EXCLUDED_PAGES = ("tags/",)
# a script that Unicode can write on the line: x², w⊤, σ′, W₁, x_i as xᵢ
SUPERSCRIPT = dict(zip("0123456789+−=()niTk", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀᵏ", strict=True))
SUPERSCRIPT.update({c: c for c in "⊤′″‴∗*"})
SUBSCRIPT = dict(
    zip(
        "0123456789+−=()aehijklmnoprstuvxβγρφχ",
        "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ",
        strict=True,
    )
)


class _Elided(Exception):
    """A part of a formula that does not read on one line."""


class _Tree(HTMLParser):
    """MathML as nested lists: [name, child, ...], text as str."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: list[Any] = ["mrow"]
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node: list[Any] = [tag]
        self.stack[-1].append(node)
        self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].append([tag])

    def handle_endtag(self, tag: str) -> None:
        if len(self.stack) > 1 and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].append(data)


def _script(node: list[Any], table: dict[str, str]) -> str:
    text = _line(node).strip()
    if not text or any(c not in table for c in text):
        raise _Elided
    return "".join(table[c] for c in text)


def _line(node: Any) -> str:
    """One MathML node on one line (raises _Elided for a layout that does not fit one)."""
    if isinstance(node, str):
        return node.replace("\u2061", " ")  # the invisible function application: log x
    name, children = node[0], [c for c in node[1:] if not (isinstance(c, str) and not c.strip())]
    if name in ("mrow", "mi", "mn", "mo", "mstyle"):
        return "".join(_line(c) for c in children)
    if name in ("mspace", "mtext"):
        return " " + "".join(_line(c) for c in children) + " "
    if name in ("msub", "msup", "msubsup") and len(children) == {"msubsup": 3}.get(name, 2):
        base = _line(children[0]).strip()
        if not base or " " in base or len(base) > 3:
            raise _Elided
        if name == "msup":
            return base + _script(children[1], SUPERSCRIPT)
        sub = _script(children[1], SUBSCRIPT)
        return base + sub + (_script(children[2], SUPERSCRIPT) if name == "msubsup" else "")
    raise _Elided  # a fraction, a root, limits over or under, a matrix


def formula_text(mathml: str) -> str:
    """The readable form of one ``<math>`` element's content (see the module docstring)."""
    tree = _Tree()
    tree.feed(mathml)
    tree.close()
    try:
        text = re.sub(r"\s+", " ", _line(tree.root)).strip()
    except _Elided:
        return ELIDED
    text = re.sub(r"(?<=\w) (?=\()", "", text)  # "max (0, x)" -> "max(0, x)"
    return text or ELIDED


def index_html(content: str) -> str:
    """``content`` (a page's HTML) as the search index should read it: each formula replaced
    by its readable form."""
    return MATH.sub(lambda m: html.escape(formula_text(m.group(1)), quote=False), content)


def readable_formulas(config: Any) -> None:
    """Let Material's search index read each formula as text (its own on_config must have
    created the index)."""
    search = config.plugins.get("material/search")
    index = getattr(search, "search_index", None)
    if index is None or not hasattr(index, "add_entry_from_context"):
        raise PluginError(
            "docsite/render/searchindex.py: Material's search plugin has no search_index; "
            "check whether this step still fits its version"
        )
    add_entry = index.add_entry_from_context
    if getattr(add_entry, "readable_formulas", False):
        return  # mkdocs serve: already wrapped

    def add_entry_with_readable_formulas(page: Any) -> None:
        content = page.content
        page.content = index_html(content)
        try:
            add_entry(page)
        finally:
            page.content = content

    add_entry_with_readable_formulas.readable_formulas = True
    index.add_entry_from_context = add_entry_with_readable_formulas


def tidy(index: dict[str, Any]) -> dict[str, Any]:
    """The search index without tags, without the excluded pages, with one entry per
    location (a repeated location's title and text appended to its first entry)."""
    docs, first = [], {}
    for doc in index["docs"]:
        doc.pop("tags", None)
        if doc["location"].startswith(EXCLUDED_PAGES):
            continue
        seen = first.get(doc["location"])
        if seen is None:
            first[doc["location"]] = doc
            docs.append(doc)
            continue
        title = doc["title"].rstrip("¶").strip()
        seen["text"] = " ".join(filter(None, [seen["text"], f"<p>{title}</p>", doc["text"]]))
    return {**index, "docs": docs}


TERMS_FIELD = "terms"
MARK = "\u2063"  # INVISIBLE SEPARATOR: a term's own word in the terms field


def add_terms(index: dict[str, Any], defined: dict[str, list[str]]) -> dict[str, Any]:
    """``index`` with each page's entry (``location`` is the page's URL) carrying the names of
    the terms the page defines (``defined``: page URL -> names) in the field ``terms``, which
    the index's config declares with the tags' weight."""
    fields = dict(index["config"]["fields"])
    fields[TERMS_FIELD] = {"boost": fields.get("tags", {}).get("boost", 1e6)}
    docs = []
    for doc in index["docs"]:
        names = defined.get(doc["location"])
        docs.append({**doc, TERMS_FIELD: names} if names else doc)
    return {**index, "config": {**index["config"], "fields": fields}, "docs": docs}


def _defined() -> dict[str, list[str]]:
    """Page URL -> the names (preferred and others) of the glossary terms it defines."""
    names = {name: term for term in glossary.terms() for name in (term.zh, *term.variants)}
    found: dict[str, list[str]] = {}
    for name, term in names.items():
        url = pages.Page(term.page, "", {}).url
        # the search box matches the start of a word ("感知机*"), so 感知机 also finds the
        # lesson that defines 感知机学习规则, and the longer name, a rarer word, counts for more.
        # A name that begins others is made a word as rare (the name and an invisible
        # separator, U+2063), repeated once for each longer name, so that its own lesson, where
        # it occurs more often, comes first. Other names stay common words: a rare 训练模式
        # would win every query with a word beginning 训练.
        longer = sum(1 for other in names if other != name and other.startswith(name))
        words = [name + MARK] * (1 + longer) if longer else [name]
        found.setdefault(url, []).extend(words)
    return found


def add_terms_to_index(config: Any) -> None:
    """The written search index tidied, with the glossary's terms on their lessons' entries."""
    path = Path(config["site_dir"]) / "search" / "search_index.json"
    if not path.is_file():
        raise PluginError(f"{path}: no search index to tidy")
    index = add_terms(tidy(json.loads(path.read_text(encoding="utf-8"))), _defined())
    path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), "utf-8")
