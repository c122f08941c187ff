"""The page manifest (docsite/pages.py): mkdocs.yml's nav is the one list of pages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from docsite import markdown, pages

ROOT = Path(__file__).resolve().parent.parent


def test_nav_lists_every_markdown_file_of_docs():
    listed = {p.path for p in pages.markdown_pages()}
    assert listed == set(markdown.markdown_files()) - {ROOT / "README.md"}


def test_sections_are_the_article_in_order():
    titles = [p.title for p in pages.section_pages()]
    assert titles == [
        "感知机",
        "激活函数",
        "前向传播与反向传播",
        "梯度下降优化器",
        "损失函数",
        "批量规范化",
        "暂退法（Dropout）",
        "完整训练示例",
    ]
    assert all(p.src.endswith("/index.md") for p in pages.section_pages())
    assert pages.pages()[0].url == "" and pages.pages()[0].path.name == "index.md"


def test_overfitting_comes_before_batch_norm_and_dropout():
    chapters = list(dict.fromkeys(p.chapter for p in pages.pages() if p.chapter))
    assert chapters.index("overfitting") < chapters.index("batch-norm") < chapters.index("dropout")


def test_every_page_of_a_chapter_but_its_overview_is_a_lesson():
    for page in pages.markdown_pages():
        if page.chapter:
            assert page.lesson == (Path(page.src).name != "index.md"), page.src


@pytest.mark.parametrize("page", pages.markdown_pages(), ids=lambda p: p.src)
def test_every_page_is_a_lesson_a_learner_can_finish(page: pages.Page):
    """The lesson rule (CONTRIBUTING.md): the main path, what is not collapsed, reads in at most
    15 minutes and runs at most 12 blocks."""
    size = pages.lesson_size(page.path)
    assert size.minutes <= pages.LESSON_MINUTES, f"docs/{page.src}: {size.minutes:.1f} min"
    assert size.blocks <= pages.LESSON_BLOCKS, f"docs/{page.src}: {size.blocks} blocks"


def test_the_lesson_rule_counts_the_main_path_only(tmp_path: Path):
    block = "```python\nprint(1)\n```\n\n"
    collapsed = '??? note "从零实现与对照"\n\n' + "".join(
        "    " + line + "\n" for line in ("字" * 600 + "\n\n" + block * 3).splitlines()
    )
    page = tmp_path / "p.md"
    page.write_text("---\nlesson: true\n---\n\n# 课\n\n" + block * 2 + collapsed, "utf-8")
    size = pages.lesson_size(page)
    # the title's one character, two lines of code; nothing of the collapsed block
    assert size.blocks == 2 and size.minutes == pytest.approx(1 / 300 + 2 / 15)
    page.write_text("# 课\n\n" + "字" * 4800 + "\n\n" + block * 13, "utf-8")
    size = pages.lesson_size(page)
    assert size.blocks == 13 and size.minutes > 16 and not size.fits
    # an open block (???+) is on the main path
    page.write_text("# 课\n\n???+ note\n\n    " + "字" * 4800 + "\n", "utf-8")
    assert pages.lesson_size(page).minutes == pytest.approx(4801 / 300 + 1 / 200)  # "note"


def _site(tmp_path: Path, nav_line: str, page: str | None = None) -> Path:
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "index.md", tmp_path / "docs" / "index.md")
    if page is not None:
        (tmp_path / "docs" / "new.md").write_text(page, encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text(f"site_name: x\nnav:\n  - 首页: index.md\n{nav_line}\n", encoding="utf-8")
    return config


def test_a_nav_entry_without_a_file_is_named_with_its_line(tmp_path: Path):
    config = _site(tmp_path, "  - 新页: missing.md")
    with pytest.raises(ValueError, match=r"mkdocs\.yml:4: nav entry '新页' names missing\.md"):
        pages.pages(config)


def test_a_lesson_without_its_summary_is_named(tmp_path: Path):
    page = "---\nlesson: true\n---\n\n# 新课\n\n## 常见坑\n\n## 练习\n"
    config = _site(tmp_path, "  - 新课: new.md", page)
    with pytest.raises(ValueError, match=r"docs/new\.md:1: .*'## 小结'"):
        pages.pages(config)
    (tmp_path / "docs" / "new.md").write_text(page + "\n## 小结\n", encoding="utf-8")
    pages.pages.cache_clear()
    assert [p.lesson for p in pages.pages(config)] == [False, True]


def test_an_unclosed_fence_is_named_with_its_line(tmp_path: Path):
    page = tmp_path / "page.md"
    page.write_text("# 页\n\n```python\nprint(1)\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"page\.md:3: fence '```' is never closed"):
        markdown.parse(page)
