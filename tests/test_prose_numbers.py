"""The claim rule, for the numbers it can check mechanically: a decimal number in a page's
prose (0.5519, 21.2000, 1e-15, 2.2e-09) is printed by a block of the page, or written in its
code (a hyperparameter), or the sentence cites a source (a link to the web, or to the page
whose output it quotes, which must then print it). See CONTRIBUTING.md, 文字."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from docsite import markdown, pages

DOCS = Path(__file__).resolve().parent.parent / "docs"
# decimals with at least two digits after the point, and numbers in e-notation
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d{2,}(?:e[-+]?\d+)?|(?:\.\d+)?e[-+]?\d+)(?![\w.])")
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)
_CODE_SPAN = re.compile(r"`[^`\n]+`")


def _fenced_text(path: Path) -> str:
    """Everything inside the page's fences (code and printed outputs) and its front matter."""
    text = path.read_text(encoding="utf-8")
    front = re.match(r"\A---\n.*?\n---\n", text, re.S)
    bodies = ["".join(f.code) for f in markdown.parse(path)]
    return (front.group(0) if front else "") + "\n".join(bodies)


def _prose_lines(path: Path) -> list[tuple[int, str]]:
    """The page's lines outside fences and front matter, with inline code and formulas blanked."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fenced: set[int] = set()
    for fence in markdown.parse(path):
        fenced.update(range(fence.start, fence.end + 1))
    front = re.match(r"\A---\n.*?\n---\n", "\n".join(lines) + "\n", re.S)
    skip = front.group(0).count("\n") if front else 0
    text = "\n".join("" if i in fenced or i < skip else line for i, line in enumerate(lines))
    text = _MATH.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return [(n, _CODE_SPAN.sub(" ", line)) for n, line in enumerate(text.splitlines(), 1)]


def unbacked_numbers(path: Path) -> list[str]:
    """``file:line: number`` for each decimal in the prose that nothing on the page backs."""
    own = _fenced_text(path)
    found = []
    for number, line in _prose_lines(path):
        cited = "](http" in line
        linked = [
            (path.parent / target).resolve()
            for target in re.findall(r"\]\(([\w./-]+\.md)(?:#[^)]*)?\)", line)
            if (path.parent / target).is_file()
        ]
        for match in NUMBER.finditer(line):
            value = match.group(0)
            if value in own or cited or any(value in _fenced_text(p) for p in linked):
                continue
            where = path.relative_to(DOCS.parent) if path.is_relative_to(DOCS) else path
            found.append(f"{where}:{number}: {value}")
    return found


@pytest.mark.parametrize("page", pages.markdown_pages(), ids=lambda p: p.src)
def test_numbers_in_prose_come_from_the_page(page):
    assert unbacked_numbers(page.path) == []


def test_a_number_nothing_prints_is_caught(tmp_path: Path):
    page = tmp_path / "p.md"
    page.write_text(
        "# 页\n\n损失约为 0.5519，见下。\n\n```python\nprint(0.5514)\n```\n\n"
        "<!--pytest-codeblocks:expected-output-->\n\n```text\n0.5514\n```\n\n"
        "默认值 0.25（见 [文档](https://pytorch.org/docs)）；输出 0.5514 对得上。\n",
        encoding="utf-8",
    )
    assert [line.split(": ", 1)[1] for line in unbacked_numbers(page)] == ["0.5519"]
