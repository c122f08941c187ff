"""One terminology (docs/_data/glossary.yml, docsite/glossary.py): the pages use the preferred
terms only, the 术语表 page lists them all, and search keeps each term whole."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from docsite import glossary, pages

ROOT = Path(__file__).resolve().parent.parent


def test_the_glossary_data_is_valid_and_names_existing_pages():
    terms = glossary.terms()
    assert len(terms) >= 25
    nav = {page.src for page in pages.pages()}
    for term in terms:
        assert term.page in nav, f"glossary.yml:{term.line}: {term.page} is not in the nav"
        assert term.definition.endswith("。"), f"glossary.yml:{term.line}: one full sentence"
    # the terms the issues of this project name
    names = {term.zh for term in terms}
    assert {"梯度消失", "梯度爆炸", "标签平滑", "过拟合", "死神经元", "权重衰减"} <= names


# every page but the glossary, which lists the other names on purpose
@pytest.mark.parametrize(
    "page", [p for p in pages.markdown_pages() if p.src != glossary.PAGE], ids=lambda p: p.src
)
def test_pages_use_the_preferred_terms(page):
    found = glossary.variants_in(page.path.read_text(encoding="utf-8"))
    where = [f"docs/{page.src}:{line}: {variant} → {term}" for line, variant, term in found]
    assert where == []


def test_a_non_preferred_term_is_flagged_with_its_line():
    text = "---\ndescription: 批量归一化\n---\n\n# 页\n\n训练时用批量归一化。\n反向传播不是变体。\n"
    assert glossary.variants_in(text) == [(7, "批量归一化", "批量规范化")]
    # a quotation of the article is the article's wording; the same words unquoted are not
    quoted = "原文的注释是 `# 训练/测试模式切换`，本站称为评估模式。\n测试模式下……\n"
    assert glossary.variants_in(quoted) == [(2, "测试模式", "评估模式")]
    # inside a 原文 quote block everything is the article's; the line after it is the site's
    block = '!!! quote "原文"\n\n    BN 即批量归一化。\n\n        # 测试模式\n测试模式下……\n'
    assert glossary.variants_in(block) == [(6, "测试模式", "评估模式")]


def test_a_bad_entry_names_the_file_and_line(tmp_path: Path):
    (tmp_path / "docs" / "_data").mkdir(parents=True)
    (tmp_path / "docs" / "a.md").write_text("# a\n", encoding="utf-8")
    data = tmp_path / "docs" / "_data" / "glossary.yml"
    good = "- zh: 甲\n  en: a\n  variants: []\n  page: a.md\n  definition: 甲。\n"
    data.write_text(good + "- zh: 乙\n  en: b\n  variants: [甲]\n  page: a.md\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"glossary\.yml:6: missing \['definition'\]"):
        glossary.terms(data)
    data.write_text(good + good.replace("甲。", "乙。"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"glossary\.yml:6: 甲 is already on line 1"):
        glossary.terms(data)
    data.write_text(good.replace("a.md", "no.md"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"glossary\.yml:1: 甲: page no\.md is not in docs/"):
        glossary.terms(data)


def test_the_glossary_page_and_search_data_are_built(built_site: Path):
    html = (built_site / "glossary" / "index.html").read_text(encoding="utf-8")
    for term in glossary.terms():
        assert f"<strong>{term.zh}</strong>" in html, term.zh
    data = json.loads((built_site / "search" / "glossary.json").read_text(encoding="utf-8"))
    assert data["synonyms"]["批量归一化"] == "批量规范化"
    index = json.loads((built_site / "search" / "search_index.json").read_text("utf-8"))
    words = {
        word
        for doc in index["docs"]
        for word in re.split(r"[\s\u200b]+", doc["title"] + " " + doc["text"])
    }
    # jieba kept the compound terms whole (without the glossary it splits 标签平滑 in two)
    for term in ("梯度消失", "梯度爆炸", "标签平滑", "死神经元", "权重衰减", "过拟合"):
        assert term in words, term


def _glossary_hook():
    from docsite.render import terms

    return terms


def test_the_built_search_worker_lets_a_word_end_a_query(built_site: Path):
    hook = _glossary_hook()
    (worker,) = (built_site / "assets" / "javascripts" / "workers").glob("search.*.min.js")
    code = worker.read_text(encoding="utf-8")
    assert hook.WORKER_FIXED in code and hook.WORKER_LOOP not in code


def test_a_changed_search_worker_fails_the_build_clearly(tmp_path: Path):
    from mkdocs.exceptions import PluginError

    hook = _glossary_hook()
    workers = tmp_path / "assets" / "javascripts" / "workers"
    workers.mkdir(parents=True)
    (workers / "search.123.min.js").write_text("function fe(t,e){/* rewritten */}", "utf-8")
    with pytest.raises(PluginError, match=r"search\.123\.min\.js: Material's query segmentation"):
        hook.fix_search_worker(tmp_path)
