"""The build's terminology step: the site's terms (``docs/_data/glossary.yml``, read by
``docsite/glossary.py``) for the 术语表 page and for search.

- jieba, which Material's search plugin uses to split the pages' Chinese into words, keeps
  every term whole (梯度消失, 标签平滑, 过拟合 …): searching for a term finds the term, not
  its halves (标签平滑 must not bring up the 标签 page).
- The 术语表 page (``glossary.md``) gets the table where it says ``<!-- glossary -->``.
- Material's search worker splits each run of Chinese characters of a query into words of the
  index, but never lets a word end at the run's last character unless no shorter word starts
  the run (its loop stops one short): 标签平滑 became 标签 + 平, 学习率 became 学习. The
  build fixes that one comparison in the worker it copies (and fails if the code is not there).
- ``search/glossary.json`` gives the search box (``javascripts/search-segment.js``) the terms
  to keep whole in a query and the synonyms to replace by the preferred term (批量归一化 →
  批量规范化), so a reader who knows another name still finds the defining page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jieba
from mkdocs.exceptions import PluginError

from docsite import glossary

MARKER = "<!-- glossary -->"


def segment_terms_whole() -> None:
    """Make jieba cut every glossary name out whole when it segments the pages for search."""
    try:
        glossary.terms.cache_clear()
        words = glossary.words()
    except ValueError as exc:
        raise PluginError(str(exc)) from None
    jieba.setLogLevel(60)  # no "Building prefix dict" lines in the build log
    for word in words:
        # add_word without a frequency gives the word just enough weight to be cut out whole
        jieba.add_word(word)


def glossary_table(markdown: str, page: Any) -> str:
    """The 术语表 page with its table in place of the marker line."""
    if page.file.src_uri != glossary.PAGE:
        return markdown
    if MARKER not in markdown:
        raise PluginError(f"docs/{glossary.PAGE}: no {MARKER} line for the glossary table")
    return markdown.replace(MARKER, glossary.table(), 1)


# Material 9.x's worker, function that segments a Chinese run of the query: the end of a
# candidate word goes up to the run's last character excluded; the fix includes it
WORKER_LOOP = "for(let o=s+1;o<t.length;o++)t.slice(s,o)in e"
WORKER_FIXED = "for(let o=s+1;o<=t.length;o++)t.slice(s,o)in e"


def fix_search_worker(site_dir: Path) -> None:
    """Let a query's word end at the end of its Chinese run (see the module docstring)."""
    workers = sorted((site_dir / "assets" / "javascripts" / "workers").glob("search.*.min.js"))
    if not workers:
        raise PluginError(f"{site_dir}: no Material search worker to fix")
    for worker in workers:
        code = worker.read_text(encoding="utf-8")
        if WORKER_FIXED in code:
            continue
        if code.count(WORKER_LOOP) != 1:
            raise PluginError(
                f"{worker.name}: Material's query segmentation changed; check whether "
                "docsite/render/terms.py still needs to fix it"
            )
        worker.write_text(code.replace(WORKER_LOOP, WORKER_FIXED), encoding="utf-8")


def write_search_terms(config: Any) -> None:
    """The search worker fixed, and the glossary's words and synonyms for the search box."""
    fix_search_worker(Path(config["site_dir"]))
    data = {"words": glossary.words(), "synonyms": glossary.synonyms()}
    path = Path(config["site_dir"]) / "search" / "glossary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
