"""The page manifest (tools/pages.py): mkdocs.yml's nav is the one list of pages."""

from __future__ import annotations

import shutil
from pathlib import Path

import docblocks
import pages
import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_nav_lists_every_markdown_file_of_docs():
    listed = {p.path for p in pages.markdown_pages()}
    assert listed == set(docblocks.markdown_files()) - {ROOT / "README.md"}


def test_sections_are_the_article_in_order():
    titles = [p.title for p in pages.section_pages()]
    assert titles == [
        "感知机",
        "激活函数",
        "前向传播与反向传播",
        "权重初始化",
        "梯度下降优化器",
        "损失函数",
        "批量规范化",
        "暂退法（Dropout）",
        "过拟合与泛化",
        "完整训练示例",
    ]
    assert pages.pages()[0].url == "" and pages.pages()[0].path.name == "index.md"


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


def test_a_section_page_without_its_sections_is_named(tmp_path: Path):
    page = "---\nsection: true\n---\n\n# 新页\n\n## 从零实现\n\n## 练习\n"
    config = _site(tmp_path, "  - 新页: new.md", page)
    with pytest.raises(ValueError, match=r"docs/new\.md:1: .*'## 常见坑'"):
        pages.pages(config)
    (tmp_path / "docs" / "new.md").write_text(page + "\n## 常见坑\n", encoding="utf-8")
    pages.pages.cache_clear()
    assert [p.section for p in pages.pages(config)] == [False, True]


def test_an_unclosed_fence_is_named_with_its_line(tmp_path: Path):
    page = tmp_path / "page.md"
    page.write_text("# 页\n\n```python\nprint(1)\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"page\.md:3: fence '```' is never closed"):
        docblocks.parse(page)
