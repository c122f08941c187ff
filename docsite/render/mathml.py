"""Build step: render the LaTeX that pymdownx.arithmatex marks into MathML at build time.

arithmatex (``generic: true``) wraps each formula as ``<span class="arithmatex">\\(...\\)</span>``
or ``<div class="arithmatex">\\[...\\]</div>``. This step replaces those with MathML Core from
math-core, which current browsers render natively: no JavaScript, no web font and no network at
view time. ``aligned`` and the other multi-line environments become MathML tables, so a
derivation lines up at its ``&``.

The formulas are set in Latin Modern Math, an OpenType math font (its MATH table gives
stretchy brackets, display-size sums and products, primes at the right height; browsers have no
such font of their own). ``docs/_fonts/latinmodern-math.otf`` is never served: after the build
this step keeps only the characters the site's formulas use and writes them, renamed "NNBasics
Math", to ``assets/fonts/nnbasics-math.woff`` (``docs/stylesheets/site.css`` loads it). The
subset is cached by its character set.

A formula math-core cannot render fails the build with the page and the formula: a syntax
error, an unknown macro (``\\softmax``; write ``\\operatorname{softmax}``) or an unknown
environment. Nothing is ever shown to readers as raw TeX.
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
from pathlib import Path

import math_core
from mkdocs.exceptions import PluginError

from docsite import cache as sitecache

FONT = Path(__file__).resolve().parents[2] / "docs" / "_fonts" / "latinmodern-math.otf"
FONT_NAME = "NNBasics Math"
FONT_FILE = "assets/fonts/nnbasics-math.woff"
_TAG = re.compile(r"<[^>]+>")
# the characters of every formula of this build (text inside <math>, after rendering)

# an inline formula and the Chinese punctuation right after it: a line never starts with the
# punctuation (the browser may break after a formula as after a picture)
_INLINE = re.compile(
    r'<span class="arithmatex">\\\((.+?)\\\)</span>([，。、；：！？）」』]*)', re.S
)
_BLOCK = re.compile(r'<div class="arithmatex">\\\[(.+?)\\\]</div>', re.S)

# fancy_error=False: one plain line ("Unknown command "\softmax".") instead of a coloured frame
_CONVERTER = math_core.LatexToMathML(fancy_error=False)


def _mathml(latex: str, display: bool, where: str, used: set[str]) -> str:
    source = html.unescape(latex).strip()
    try:
        rendered = _CONVERTER.convert_with_local_state(source, displaystyle=display)
    except math_core.LatexError as exc:
        # math-core's message starts with the offset of the error: "4: Unknown command ..."
        offset, _, message = str(exc).partition(": ")
        detail = f"{message.rstrip('.')} (character {offset})" if offset.isdigit() else str(exc)
        raise PluginError(f"{where}: cannot render formula {source!r}: {detail}") from None
    used.update(html.unescape(_TAG.sub("", rendered)))
    # keep the source for screen readers and copying, as MathJax does
    return rendered.replace("<math", f'<math alttext="{html.escape(source)}"', 1)


def render_math(content: str, where: str = "page", used: set[str] | None = None) -> str:
    """Replace arithmatex's LaTeX spans and divs in ``content`` by MathML; ``where`` (the
    page's file) names the page in the error a formula that cannot be rendered raises; the
    characters the formulas use are added to ``used`` (the font subset keeps them)."""
    used = set() if used is None else used
    content = _BLOCK.sub(
        # tabindex: a wide formula scrolls sideways, and keyboard users must reach it too
        lambda m: (
            f'<div class="arithmatex" tabindex="0">{_mathml(m.group(1), True, where, used)}</div>'
        ),
        content,
    )

    def inline(m: re.Match) -> str:
        formula = f'<span class="arithmatex">{_mathml(m.group(1), False, where, used)}</span>'
        if not m.group(2):
            return formula
        return f'<span class="nb-nowrap">{formula}{m.group(2)}</span>'

    return _INLINE.sub(inline, content)


def subset_font(text: str, target: Path, source: Path = FONT) -> None:
    """Write the glyphs of ``text`` from ``source`` to ``target`` (WOFF), with every OpenType
    layout feature and the MATH table (so its size variants and stretchy parts come along),
    renamed ``FONT_NAME``."""
    from fontTools import subset

    options = subset.Options()
    options.layout_features = ["*"]
    options.flavor = "woff"
    options.drop_tables += ["FFTM"]  # FontForge's timestamps: nothing to keep
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = FONT_NAME
        elif record.nameID == 6:
            record.string = FONT_NAME.replace(" ", "") + "-Regular"
    target.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(target), options)


# A one-letter <mi> is shown in italic by the browser (text-transform: math-auto) as a character
# of the Mathematical Alphanumeric Symbols block: 𝑥 (U+1D465) for x. The italic counterparts of
# every Latin and Greek letter go into the font, whichever letters the formulas name.
MATH_ITALIC = "".join(
    chr(c) for c in [*range(0x1D434, 0x1D468), 0x210E, *range(0x1D6E2, 0x1D71C)] if c != 0x1D455
)


# glyphs the browser draws for elements, not for text: the radical sign of <msqrt>/<mroot>
DRAWN = "\u221a"


def write_font(config, used: set[str]) -> None:
    """The math font, cut down to the characters ``used`` (and those drawn by hand), into the
    built site."""
    text = "".join(sorted(used | set(MATH_ITALIC) | set(DRAWN)))
    key = sitecache.digest(text, hashlib.sha256(FONT.read_bytes()).hexdigest(), FONT_NAME)
    cache = sitecache.cache_dir(config.config_file_path) / f"math-font-{key}.woff"
    if not cache.is_file():
        subset_font(text, cache)
    target = Path(config.site_dir) / FONT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cache, target)
