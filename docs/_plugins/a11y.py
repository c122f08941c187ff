"""MkDocs hook: small accessibility fixes to Material's markup (found by axe-core in
tests/test_browser.py).

* The search overlay has ``role="dialog"`` but no accessible name: it gets ``aria-label``.
"""

from __future__ import annotations

SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog">'


def on_post_page(output: str, page, config) -> str:
    return output.replace(
        SEARCH_DIALOG,
        '<div class="md-search" data-md-component="search" role="dialog" aria-label="搜索">',
    )
