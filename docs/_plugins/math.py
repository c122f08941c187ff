"""MkDocs hook: render the LaTeX that pymdownx.arithmatex marks into MathML at build time.

arithmatex (``generic: true``) wraps each formula as ``<span class="arithmatex">\\(...\\)</span>``
or ``<div class="arithmatex">\\[...\\]</div>``. This hook replaces those with MathML from
latex2mathml, which every current browser renders natively: no JavaScript, no web font and
no network at view time. A formula latex2mathml cannot parse fails the build.
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert

_INLINE = re.compile(r'<span class="arithmatex">\\\((.+?)\\\)</span>', re.S)
_BLOCK = re.compile(r'<div class="arithmatex">\\\[(.+?)\\\]</div>', re.S)


def _mathml(latex: str, display: str) -> str:
    source = html.unescape(latex).strip()
    try:
        rendered = convert(source, display=display)
    except Exception as exc:  # latex2mathml raises many exception types
        raise ValueError(f"cannot render formula {source!r}: {exc}") from exc
    # keep the source for screen readers / copy, as MathJax does
    return rendered.replace("<math ", f'<math alttext="{html.escape(source)}" ', 1)


def render_math(content: str) -> str:
    """Replace arithmatex's LaTeX spans and divs in ``content`` by MathML."""
    content = _BLOCK.sub(
        # tabindex: a wide formula scrolls sideways, and keyboard users must reach it too
        lambda m: f'<div class="arithmatex" tabindex="0">{_mathml(m.group(1), "block")}</div>',
        content,
    )
    return _INLINE.sub(
        lambda m: f'<span class="arithmatex">{_mathml(m.group(1), "inline")}</span>', content
    )


def on_page_content(html_content: str, **_: object) -> str:
    return render_math(html_content)
