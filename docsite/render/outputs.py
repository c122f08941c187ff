"""Build step: tell a block's printed output from its code.

On a page an output is the fenced block right after ``<!--pytest-codeblocks:expected-output-->``
(the marker the tests read). The marker survives into the HTML as a comment; this step turns the
highlighted block after it into an output: a ``输出`` label above it, the class ``nb-output``
(its own style in ``docs/stylesheets/site.css``: a coloured edge; its lines kept, so a
printed table stays aligned, and scrolled with a cue where the screen is narrow) and
``no-copy`` (Material gives it no copy button: what a reader copies is code, and a button
over an output hides the end of its first line).
"""

from __future__ import annotations

import re

MARKER = "<!--pytest-codeblocks:expected-output-->"
OUTPUT = re.compile(re.escape(MARKER) + r'\s*<div class="highlight">')
LABEL = '<p class="nb-output__label" aria-hidden="true">输出</p>'


def mark_outputs(html: str) -> str:
    """The page's HTML with every output block after the marker labelled and classed."""
    return OUTPUT.sub(
        MARKER
        + LABEL
        + '<div class="highlight nb-output no-copy" role="region" aria-label="输出">',
        html,
    )
