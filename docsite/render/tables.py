"""Build step: a table of prose reads as cards on a phone.

A table with three or more columns whose cells hold sentences (the glossary, the summary, the
API reference's parameter tables) cannot fit a 390 px screen: it scrolls, and the column a
reader wants (定义) is off the screen. Such a table gets the attribute ``data-nb-cards`` (not a
class: Material styles only tables without one) and each cell a ``data-label`` with its
column's heading; on a narrow screen ``docs/stylesheets/site.css`` shows each row as a card,
each cell under its heading. Wider screens show the table as it is.
"""

from __future__ import annotations

import html
import re

TABLE = re.compile(r"<table>(.*?)</table>", re.S)
HEAD_CELL = re.compile(r"<th[^>]*>(.*?)</th>", re.S)
ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
CELL = re.compile(r"<td([^>]*)>", re.S)
TAG = re.compile(r"<[^>]+>")
# a table "of prose": the cells of one of its columns average this many characters or more
PROSE_CHARS = 24


def _text(fragment: str) -> str:
    return html.unescape(TAG.sub("", fragment)).strip()


def as_cards(table: str) -> str:
    """``<table>…</table>`` with the class and labels when it is a table of prose."""
    body = TABLE.match(table).group(1)
    heads = [_text(h) for h in HEAD_CELL.findall(body)]
    rows = [
        [_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in ROW.findall(body)
    ]
    rows = [row for row in rows if row]
    columns = [[row[k] for row in rows if k < len(row)] for k in range(len(heads))]
    longest = max((sum(map(len, c)) / len(c) for c in columns if c), default=0)
    if len(heads) < 3 or longest < PROSE_CHARS:
        return table

    def label_row(row: re.Match) -> str:
        labels = iter(heads)
        return (
            "<tr>"
            + CELL.sub(
                lambda c: f'<td{c.group(1)} data-label="{html.escape(next(labels, ""))}">',
                row.group(1),
            )
            + "</tr>"
        )

    return "<table data-nb-cards>" + ROW.sub(label_row, body) + "</table>"


def tables_as_cards(content: str) -> str:
    """Every prose table of ``content`` as cards on a phone (see the module docstring)."""
    return TABLE.sub(lambda m: as_cards(m.group(0)), content)
