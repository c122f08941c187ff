"""Formulas: math-core renders them to MathML at build time (docsite/render/mathml.py); a formula
it cannot render fails the build; an aligned derivation lines up in Chromium."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

from docsite.render import mathml

ROOT = Path(__file__).resolve().parent.parent

ALIGNED = r"\begin{aligned} (a+b)^2 &= (a+b)(a+b) \\ &= a^2 + 2ab + b^2 \end{aligned}"


def _block(latex: str) -> str:
    return f'<div class="arithmatex">\\[{latex}\\]</div>'


def _text(mathml: str) -> str:
    """The characters a reader sees: MathML without its tags and the alttext attribute."""
    return re.sub(r"<[^>]*>", "", mathml)


@pytest.mark.parametrize(
    ("latex", "message"),
    [
        (r"\softmax(z)", r'Unknown command "\\softmax" \(character \d+\)'),
        (r"\begin{eqnarray} a &= b \end{eqnarray}", r"Unknown environment \"eqnarray\""),
        (r"\frac{1}{", r"closing"),
    ],
)
def test_a_formula_that_cannot_be_rendered_names_the_page_and_formula(latex: str, message: str):
    with pytest.raises(PluginError, match=r"^docs/x\.md: cannot render formula .*" + message):
        mathml.render_math(_block(latex), "docs/x.md")


def test_an_aligned_derivation_is_a_table_without_a_literal_ampersand():
    html = mathml.render_math(_block(ALIGNED), "docs/x.md")
    assert html.count("<mtr") == 2 and "<mtable" in html
    assert "&" not in _text(html).replace("&amp;", "&").replace("&ApplyFunction;", "")
    assert "\\" not in _text(html)  # no command left as text


def test_inline_and_display_math_keep_their_source_for_screen_readers():
    html = mathml.render_math(r'<span class="arithmatex">\(\sigma(x) &lt; 1\)</span>')
    alttext = r'<math alttext="\\sigma\(x\) &lt; 1"'
    assert re.fullmatch(r'<span class="arithmatex">' + alttext + r".*</math></span>", html)
    assert 'display="block"' in mathml.render_math(_block("x^2"))


@pytest.mark.processes
def test_an_unknown_macro_fails_the_build(tmp_path: Path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(
        "# 公式\n\n$$\\operatorname{softmax}(z)_i$$\n\n正文 $\\softmax(z)$。\n", encoding="utf-8"
    )
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\n"
        "theme: material\nplugins:\n  - search\n  - nnbasics\n"
        "markdown_extensions:\n  - pymdownx.arithmatex:\n      generic: true\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=tmp_path,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert (
        "docs/index.md: cannot render formula '\\\\softmax(z)': "
        'Unknown command "\\softmax"' in result.stderr
    ), result.stderr
