"""Build step: the wiki metadata the source article carries, for every page.

Under each page title, in small muted type: "约 N 字 大约 M 分钟 · 创建于 … · 更新于 …", as the
source wiki shows it ("约 1443 字大约 5 分钟"), and on a page with code output the versions
that output came from ("输出来自 nnbasics 0.1.0、PyTorch 2.13.0、Python 3.11", which
``make update-docs`` records in the front matter); at the end of the page: "最后更新：<date>"
and a link to the page's history on the repository (``repo_url``). Neither line is page text
for the search index (``data-search-exclude``). Commit messages are written for the
maintainers and are not shown.

* 字数 counts each Chinese character, plus each run of Latin letters or digits as one word, in
  the page's main path: its Markdown without front matter, HTML comments and collapsed blocks
  (proof and reference a reader opens only if they want, ``pages.main_path``). The reading
  time is the lesson rule's measure of that main path (CONTRIBUTING.md): the prose at 300
  Chinese characters and 200 Latin words a minute, and every non-blank line of code and
  output at 15 lines a minute, the package source a block includes (``--8<--``) counted as the
  lines it shows (:func:`reading_minutes`).
* 创建于 is the front matter's ``created`` (the article's own date for the pages made from
  it), otherwise the page's first commit; 更新于 is its last commit.
* Without git, or for a file git does not know, the dates fall back to the file's
  modification time; in a shallow clone the first commit present is not the page's first,
  so 创建于 falls back to the last commit.
* A generated page says nothing its Markdown cannot back: the API reference (mkdocstrings'
  ``::: module`` blocks) shows no word count or reading time, and its 更新于 is the newest
  commit of the page or of the modules it documents; the tags page (Material's tags listing)
  shows neither line.

The step also finishes the two generated pages:

* The API reference: the Sphinx roles the docstrings use (``:func:`fit```, ``:class:``,
  ``:mod:``...), which mkdocstrings leaves as text, become code linked to the object's entry
  on the page (:func:`link_roles`); the front matter's ``toc_depth`` keeps its table of
  contents to the modules and their members (:func:`trim_toc`).
* The tags page: tags that list the same pages are one group, under one heading that carries
  every such tag's anchor, so a page is listed once, in the order of the nav
  (:func:`merge_tag_groups`).
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
import subprocess
from functools import cache
from pathlib import Path

from mkdocs.structure.toc import AnchorLink, TableOfContents

from docsite.markdown import main_path
from docsite.pages import count_words, reading_minutes


def _git(*args: str, cwd: Path) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, encoding="utf-8", timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


@cache
def _shallow(root: Path) -> bool:
    return (_git("rev-parse", "--is-shallow-repository", cwd=root) or "").strip() == "true"


@cache  # the dates and the change log of a page read it once per build
def history(path: Path) -> list[tuple[str, str, str]] | None:
    """``(date, short hash, subject)`` of each commit touching ``path``, newest first;
    None when git is unavailable or does not track the file."""
    out = _git(
        "log",
        "--follow",
        "--date=short",
        "--format=%ad%x09%h%x09%s",
        "--",
        path.name,
        cwd=path.parent,
    )
    if out is None:
        return None
    rows = [tuple(line.split("\t", 2)) for line in out.splitlines() if line.count("\t") >= 2]
    return rows or None  # type: ignore[return-value]


def history_url(config, src_uri: str) -> str | None:
    """The page's history on the repository (GitHub's commit list of its source file)."""
    repo = (config.get("repo_url") or "").rstrip("/")
    if not repo.startswith("https://github.com/"):
        return None
    root = Path(config.config_file_path).parent.resolve()
    docs = Path(config.docs_dir).resolve().relative_to(root)
    return f"{repo}/commits/main/{docs.as_posix()}/{src_uri}"


def _history_line(updated: str, url: str | None) -> str:
    """The line at the end of a page: its last update, and where its history is."""
    link = f' · <a href="{html.escape(url)}">本页在 GitHub 上的修改历史</a>' if url else ""
    return f'\n\n<p data-search-exclude class="page-history">最后更新：{updated}{link}</p>\n'


def page_dates(path: Path, created: object = None) -> tuple[str, str]:
    rows = history(path)
    mtime = dt.date.fromtimestamp(path.stat().st_mtime).isoformat()
    first = rows[-1][0] if rows and not _shallow(path.parent) else None
    updated = rows[0][0] if rows else mtime
    created_s = str(created) if created else (first or updated)
    return created_s, updated


def _outputs_from(meta: dict) -> str:
    """ " · 输出来自 nnbasics …、PyTorch …、Python …" from the front matter's ``outputs_from``,
    which ``make update-docs`` writes when it regenerates the page's outputs."""
    versions = meta.get("outputs_from")
    if not versions:
        return ""
    return (
        f" · 输出来自 nnbasics {versions['nnbasics']}、PyTorch {versions['torch']}、"
        f"Python {versions['python']}"
    )


def forget_history() -> None:
    """Each build (each rebuild of ``mkdocs serve``) reads git afresh."""
    history.cache_clear()
    _shallow.cache_clear()


# a page whose body is made at build time: mkdocstrings' injections, Material's tags listing
INJECTION = re.compile(r"^::: ([\w.]+)", re.M)
TAGS_LISTING = "<!-- material/tags"


def _module_paths(markdown: str, root: Path) -> list[Path]:
    """The source files of the modules a page documents (``::: nnbasics.training``)."""
    out = []
    for name in INJECTION.findall(markdown):
        base = root.joinpath(*name.split("."))
        out += [f for f in (base.with_suffix(".py"), base / "__init__.py") if f.exists()]
    return out


def page_header(markdown: str, page, config, links: str = "") -> str:
    """Under the title: the metadata line, then ``links`` (the page's notebook,
    :func:`docsite.render.notebooks.header_links`); the last update and the history link at
    the end. Words are counted in the page's own Markdown, before anything is added."""
    if not page.file.abs_src_path or not page.file.src_uri.endswith(".md"):
        return markdown
    if TAGS_LISTING in markdown:
        return markdown
    path = Path(page.file.abs_src_path)
    created, updated = page_dates(path, page.meta.get("created"))
    modules = _module_paths(markdown, Path(config.config_file_path).parent)
    if modules:
        updated = max([updated, *(page_dates(m)[1] for m in modules)])
        text = f"创建于 {created} · 更新于 {updated}"
    else:
        main = main_path(markdown)
        words = count_words(main)
        minutes = max(1, math.ceil(reading_minutes(main, path)))
        text = (
            f"约 {words} 字 大约 {minutes} 分钟 · "
            f"创建于 {created} · 更新于 {updated}{_outputs_from(page.meta)}"
        )
    meta = f'<p data-search-exclude class="page-meta">{text}</p>'
    header = [meta] + (["", links] if links else [])
    lines = markdown.splitlines()
    for k, line in enumerate(lines):
        if line.startswith("# "):
            lines[k + 1 : k + 1] = ["", *header]
            break
    else:
        lines[0:0] = [*header, ""]
    url = None if modules else history_url(config, page.file.src_uri)
    return "\n".join(lines) + _history_line(updated, url)


# a Sphinx cross-reference role as mkdocstrings renders it: :func:<code>fit</code>
ROLE = re.compile(
    r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj|const|type):"
    r"<code>(~?)([\w.]+)(\(\))?</code>"
)
OBJECT_ID = re.compile(r'<h[1-6] id="([\w.]+)"')


def link_roles(content: str) -> str:
    """Each Sphinx role in an API page's HTML as inline code, linked to the entry of the
    object it names when the page has one: the name as written (``nnbasics.training.fit``),
    or in the module of the entry it appears in (``fit``), or the one entry ending in it."""
    ids = [(m.start(), m.group(1)) for m in OBJECT_ID.finditer(content)]
    known = {i for _, i in ids}

    def resolve(name: str, at: int) -> str | None:
        if name in known:
            return name
        here = next((i for pos, i in reversed(ids) if pos < at), "")
        parts = here.split(".")
        for k in range(len(parts), 0, -1):  # the innermost enclosing object first
            if (candidate := ".".join(parts[:k]) + "." + name) in known:
                return candidate
        ends = [i for i in known if i.endswith("." + name)]
        return ends[0] if len(ends) == 1 else None

    def replace(m: re.Match[str]) -> str:
        tilde, name, call = m.groups()
        shown = (name.rsplit(".", 1)[-1] if tilde else name) + (call or "")
        code = f"<code>{shown}</code>"
        target = resolve(name, m.start())
        return f'<a href="#{target}">{code}</a>' if target else code

    return ROLE.sub(replace, content)


def trim_toc(toc: TableOfContents, depth: int) -> None:
    """Keep the table of contents to headings of level ``depth`` and above."""

    def trim(items: list[AnchorLink]) -> None:
        for item in items:
            if item.level >= depth:
                item.children = []
            trim(item.children)

    trim(list(toc))


def api_roles_and_toc(content: str, page) -> str:
    """An API page's reST roles as links; the table of contents cut to the page's
    ``toc_depth``."""
    if page.file.src_uri.endswith(".md") and INJECTION.search(page.markdown or ""):
        content = link_roles(content)
        # reStructuredText's "::" before a literal block reads as one colon
        content = content.replace("::</p>", ":</p>")
    depth = page.meta.get("toc_depth")
    if depth:
        trim_toc(page.toc, int(depth))
    return content


TAG_GROUP = re.compile(
    r'<h(?P<level>[1-6]) id="(?P<id>tag:[^"]+)">\s*(?P<tag><span class="md-tag[^"]*">[^<]*</span>)'
    r'<a class="headerlink"[^>]*>[^<]*</a></h(?P=level)>\s*<ul>(?P<list>.*?)</ul>',
    re.S,
)
LIST_ITEM = re.compile(r"<li>\s*<a href=\"[^\"]*\">\s*(.*?)\s*</a>\s*</li>", re.S)


def merge_tag_groups(content: str, order: list[str]) -> tuple[str, dict[str, str]]:
    """The tags listing with every page once: tags listing the same pages become one group
    (one heading with each tag and its anchor), each group's pages in the order of ``order``
    (the nav's titles). Also returns which anchors were merged into which heading."""
    groups = list(TAG_GROUP.finditer(content))
    if not groups:
        return content, {}
    rank = {title: k for k, title in enumerate(order)}

    def items(m: re.Match[str]) -> list[tuple[str, str]]:
        found = [(x.group(1), x.group(0)) for x in LIST_ITEM.finditer(m.group("list"))]
        return sorted(found, key=lambda t: rank.get(html.unescape(t[0]), len(rank)))

    merged: dict[tuple[str, ...], list[re.Match[str]]] = {}
    for m in groups:
        merged.setdefault(tuple(title for title, _ in items(m)), []).append(m)
    out, moved = [], {}
    for same in merged.values():
        first = same[0]
        chips = " ".join(
            m.group("tag")
            if m is first
            else m.group("tag").replace("<span ", f'<span id="{m.group("id")}" ', 1)
            for m in same
        )
        moved.update({m.group("id"): first.group("id") for m in same[1:]})
        level, anchor = first.group("level"), first.group("id")
        out.append(
            f'<h{level} id="{anchor}">{chips}<a class="headerlink" href="#{anchor}" '
            f'title="Permanent link">&para;</a></h{level}>\n<ul>\n'
            + "\n".join(li for _, li in items(first))
            + "\n</ul>"
        )
    start, end = groups[0].start(), groups[-1].end()
    return content[:start] + "\n".join(out) + content[end:], moved


def _merge_toc(items: list[AnchorLink], moved: dict[str, str]) -> list[AnchorLink]:
    """The table of contents without the merged tags' entries, each group's entry named
    after all of its tags ("deep-learning · neural-network")."""
    names = {i.id: i.title for i in items}
    kept = []
    for item in items:
        if item.id in moved:
            continue
        merged = [names[tag] for tag, into in moved.items() if into == item.id and tag in names]
        if merged:
            item.title = " · ".join([item.title, *merged])
        item.children = _merge_toc(item.children, moved)
        kept.append(item)
    return kept


def merge_tags(page, nav) -> None:
    """The tags page's groups of one tag merged (see :func:`merge_tag_groups`)."""
    if not page.content or not TAG_GROUP.search(page.content):
        return
    order = [p.title for p in nav.pages]
    page.content, moved = merge_tag_groups(page.content, order)
    if moved:  # the merged tags' entries leave the table of contents (their anchors stay)
        page.toc = TableOfContents(_merge_toc(list(page.toc), moved))
