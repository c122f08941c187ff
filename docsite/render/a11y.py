"""Build step: small accessibility fixes to Material's markup (found by axe-core in
tests/test_browser.py).

* The search overlay has ``role="dialog"`` but no accessible name: it gets ``aria-label``.
* Every highlighted code block is keyboard-focusable from the start (``tabindex="0"``), so a
  block that scrolls sideways can be scrolled with the keyboard. Material sets this itself when
  it mounts a block, but with the ``content.lazy`` feature (mkdocs.yml) it mounts a block only
  once it comes into view, and Tab would skip the blocks below it. Once mounted, Material takes
  the tab stop off again from a block that does not scroll.
"""

from __future__ import annotations

import re

SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog">'
CODE_BLOCK = re.compile(
    r'(<div class="highlight[^"]*"[^>]*>(?:<span class="filename">[^<]*</span>)?'
    r"<pre>(?:<span></span>)?)<code>"
)


def label_page(output: str) -> str:
    """The search dialog named, every code block reachable by keyboard."""
    output = output.replace(
        SEARCH_DIALOG,
        '<div class="md-search" data-md-component="search" role="dialog" aria-label="搜索">',
    )
    return CODE_BLOCK.sub(r'\1<code tabindex="0">', output)
