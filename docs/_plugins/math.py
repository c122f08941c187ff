"""MkDocs hook: render the LaTeX that pymdownx.arithmatex marks into MathML at build time.

arithmatex (``generic: true``) wraps each formula as ``<span class="arithmatex">\\(...\\)</span>``
or ``<div class="arithmatex">\\[...\\]</div>``. This hook replaces those with MathML Core from
math-core, which current browsers render natively: no JavaScript, no web font and no network at
view time. ``aligned`` and the other multi-line environments become MathML tables, so a
derivation lines up at its ``&``.

A formula math-core cannot render fails the build with the page and the formula: a syntax
error, an unknown macro (``\\softmax``; write ``\\operatorname{softmax}``) or an unknown
environment. Nothing is ever shown to readers as raw TeX.
"""

from __future__ import annotations

import html
import re

import math_core
from mkdocs.exceptions import PluginError

_INLINE = re.compile(r'<span class="arithmatex">\\\((.+?)\\\)</span>', re.S)
_BLOCK = re.compile(r'<div class="arithmatex">\\\[(.+?)\\\]</div>', re.S)

# fancy_error=False: one plain line ("Unknown command "\softmax".") instead of a coloured frame
_CONVERTER = math_core.LatexToMathML(fancy_error=False)


def _mathml(latex: str, display: bool, where: str) -> str:
    source = html.unescape(latex).strip()
    try:
        rendered = _CONVERTER.convert_with_local_state(source, displaystyle=display)
    except math_core.LatexError as exc:
        # math-core's message starts with the offset of the error: "4: Unknown command ..."
        offset, _, message = str(exc).partition(": ")
        detail = f"{message.rstrip('.')} (character {offset})" if offset.isdigit() else str(exc)
        raise PluginError(f"{where}: cannot render formula {source!r}: {detail}") from None
    # keep the source for screen readers and copying, as MathJax does
    return rendered.replace("<math", f'<math alttext="{html.escape(source)}"', 1)


def render_math(content: str, where: str = "page") -> str:
    """Replace arithmatex's LaTeX spans and divs in ``content`` by MathML; ``where`` (the
    page's file) names the page in the error a formula that cannot be rendered raises."""
    content = _BLOCK.sub(
        # tabindex: a wide formula scrolls sideways, and keyboard users must reach it too
        lambda m: f'<div class="arithmatex" tabindex="0">{_mathml(m.group(1), True, where)}</div>',
        content,
    )
    return _INLINE.sub(
        lambda m: f'<span class="arithmatex">{_mathml(m.group(1), False, where)}</span>', content
    )


def on_page_content(html_content: str, page: object, **_: object) -> str:
    file = getattr(page, "file", None)
    where = f"docs/{file.src_uri}" if file is not None else "page"
    return render_math(html_content, where)
