"""Old links keep working: the anchors of the pages that became chapters of lessons.

Before issue 21 each chapter was one long page; ``docs/_data/old-pages.json`` records those
pages' URLs and the anchors of their headings. Each old URL is now its chapter's overview
(``losses/`` is ``losses/index.md``), so the page still opens; its sections moved to lessons. This
step finds, after the build, the page that has each old anchor now (the overview itself, else the
first page of the same chapter in nav order, else the one page of the site with that anchor;
``renamed`` in the data file names a new place for a heading that was reworded) and gives the
overview a small script: opening ``losses/#huber`` goes on to the lesson with that heading, so a
link or bookmark made before the split lands where it pointed.

In a full build an old anchor that no page has fails the build, naming it. A build of some pages
only (``make page``) has no such check.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from pathlib import Path

from mkdocs.exceptions import PluginError

DATA = Path(__file__).resolve().parents[2] / "docs" / "_data" / "old-pages.json"
ID = re.compile(r'\sid="([^"]+)"')
MARK = "<!-- nnbasics: old anchors -->"
# the script: an anchor the page lacks goes to the page that has it now (hash kept, history not
# grown); nothing runs for an anchor the page has
SCRIPT = (
    MARK + "<script>(function(){{var m={map};"
    "var h=decodeURIComponent(location.hash.slice(1));"
    "if(h&&!document.getElementById(h)&&m[h])location.replace(m[h]);}})();</script>"
)


def load() -> tuple[dict[str, list[str]], dict[str, str]]:
    """``(old URL -> its anchors, "url#anchor" -> "new url#anchor" of renamed headings)``."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    return data["pages"], data.get("renamed", {})


def _ids(path: Path) -> set[str]:
    return {html.unescape(i) for i in ID.findall(path.read_text(encoding="utf-8"))}


def forwards(site: Path, order: list[str]) -> tuple[dict[str, dict[str, str]], list[str]]:
    """For each old URL built in ``site``: ``{anchor: "url#anchor"}`` of the anchors that moved
    to another page (URLs from the site's root); and the old anchors no page has. ``order``: the
    site's page URLs in nav order."""
    old, renamed = load()
    ids = {url: _ids(site / url / "index.html") for url in order if (site / url).is_dir()}
    result: dict[str, dict[str, str]] = {}
    lost = []
    for url, anchors in old.items():
        if url not in ids:
            continue
        moved = {}
        for anchor in anchors:
            target = renamed.get(f"{url}#{anchor}")
            if target is None:
                if anchor in ids[url]:
                    continue
                chapter = url.split("/")[0] + "/"
                same = [u for u in order if url and u.startswith(chapter) and anchor in ids[u]]
                anywhere = [u for u in order if anchor in ids.get(u, ())]
                # another chapter's page only when it is the one page with that heading (a
                # 常见坑 of another chapter is not where an old link pointed)
                found = (same or (anywhere if len(anywhere) == 1 else []) or [None])[0]
                if found is None:
                    lost.append(f"{url}#{anchor}")
                    continue
                target = f"{found}#{anchor}"
            moved[anchor] = target
        result[url] = moved
    return result, lost


def relative(target: str, here: str) -> str:
    """The link from the page ``here`` to ``target`` ("url#anchor"), both from the site's root."""
    url, _, anchor = target.partition("#")
    if url == here:
        return f"#{anchor}"
    path = posixpath.relpath(url or ".", here.rstrip("/") or ".")
    return ("" if path == "." else path + "/") + f"#{anchor}"


def add_forwards(config, order: list[str]) -> None:
    """Give each overview the script that forwards its old anchors (``order``: the built
    pages' URLs in nav order); fail a full build on an old anchor no page has."""
    site = Path(config["site_dir"])
    result, lost = forwards(site, order)
    partial = Path(config.config_file_path or "").name.startswith(".mkdocs-page-")
    if lost and not partial:
        raise PluginError(
            "oldurls: no page has these anchors of the old pages any more: "
            + ", ".join(lost)
            + f" (name where each went in {DATA.name}'s 'renamed')"
        )
    for url, moved in result.items():
        if not moved:
            continue
        table = {anchor: relative(target, url) for anchor, target in moved.items()}
        page = site / url / "index.html"
        text = page.read_text(encoding="utf-8")
        script = SCRIPT.format(map=json.dumps(table, ensure_ascii=False, separators=(",", ":")))
        page.write_text(text.replace("</body>", script + "</body>", 1), encoding="utf-8")
