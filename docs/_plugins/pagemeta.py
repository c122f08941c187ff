"""MkDocs hook: the wiki metadata the source article carries, for every page.

Under each page title: "约 N 字 大约 M 分钟 · 创建于 … · 更新于 …", as the source wiki shows it
("约 1443 字大约 5 分钟"), and on a page with code output the versions that output came from
("输出来自 nnbasics 0.1.0、PyTorch 2.13.0、Python 3.11", which ``make update-docs`` records
in the front matter); at the end of the page: its change log from git (date, short hash,
commit subject), newest first.

* 字数 counts each Chinese character, plus each run of Latin letters or digits as one word, in
  the page's Markdown (front matter and HTML comments left out). The reading time counts what
  a careful reader reads, collapsed blocks included: the prose at 300 Chinese characters and
  200 Latin words a minute, and every non-blank line of code and output at 15 lines a minute,
  the package source a block includes (``--8<--``) counted as the lines it shows
  (:func:`reading_minutes`).
* 创建于 is the front matter's ``created`` (the article's own date for the pages made from
  it), otherwise the page's first commit; 更新于 is its last commit.
* Without git, or for a file git does not know, the dates fall back to the file's
  modification time and the change log says it is unavailable; in a shallow clone it says
  that only the commits present are listed.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

from mkdocs.plugins import event_priority

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import docblocks

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
WORD = re.compile(r"[A-Za-z0-9]+(?:[.'][A-Za-z0-9]+)*")
COMMENT = re.compile(r"<!--.*?-->", re.S)
HAN_PER_MINUTE = 300  # Chinese characters
LATIN_WORDS_PER_MINUTE = 200
CODE_LINES_PER_MINUTE = 15  # code and printed output, read line by line


def count_words(markdown: str) -> int:
    """Chinese characters plus Latin/number words."""
    text = COMMENT.sub("", markdown)
    return len(HAN.findall(text)) + len(WORD.findall(HAN.sub(" ", text)))


def reading_minutes(markdown: str, path: Path) -> float:
    """Minutes a careful reader needs for ``markdown`` (the page ``path``'s Markdown, without
    its front matter): its prose at :data:`HAN_PER_MINUTE` Chinese characters plus
    :data:`LATIN_WORDS_PER_MINUTE` Latin words a minute, and its code and outputs at
    :data:`CODE_LINES_PER_MINUTE` non-blank lines a minute, each package-source include counted
    as the lines it shows."""
    lines = markdown.splitlines()
    fenced: set[int] = set()
    code = 0
    for fence in docblocks.parse(path, markdown):
        fenced.update(range(fence.start, fence.end + 1))
        for line in fence.body:
            if fence.include and line.strip():
                code += sum(1 for s in docblocks.included_lines(line) if s.strip())
            elif line.strip():
                code += 1
    prose = COMMENT.sub("", "\n".join(s for k, s in enumerate(lines) if k not in fenced))
    han = len(HAN.findall(prose))
    latin = len(WORD.findall(HAN.sub(" ", prose)))
    return han / HAN_PER_MINUTE + latin / LATIN_WORDS_PER_MINUTE + code / CODE_LINES_PER_MINUTE


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


def _changelog(path: Path) -> str:
    rows = history(path)
    lines = ["", "", '??? info "变更记录"', ""]
    if rows is None:
        lines.append("    变更记录不可用：构建时没有找到这个文件的 git 历史。")
        return "\n".join(lines) + "\n"
    if _shallow(path.parent):
        lines += ["    这是浅克隆（shallow clone），下面只列出本地可见的提交。", ""]
    lines += ["    | 日期 | 提交 | 说明 |", "    | --- | --- | --- |"]
    for date, short, subject in rows:
        subject = html.escape(subject).replace("|", "\\|")
        lines.append(f"    | {date} | `{short}` | {subject} |")
    return "\n".join(lines) + "\n"


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


def on_pre_build(config) -> None:
    """Each build (each rebuild of ``mkdocs serve``) reads git afresh."""
    history.cache_clear()
    _shallow.cache_clear()


@event_priority(50)  # after notebooks.py (priority 60) has left its links in page.meta
def on_page_markdown(markdown: str, page, config, files) -> str:
    """Under the title: the metadata line, then the links other hooks left in
    ``page.meta["header_links"]`` (notebooks.py: the page's notebook); the change log at the
    end. Words are counted in the page's own Markdown, before anything is added."""
    if not page.file.abs_src_path or not page.file.src_uri.endswith(".md"):
        return markdown
    path = Path(page.file.abs_src_path)
    words = count_words(markdown)
    minutes = max(1, math.ceil(reading_minutes(markdown, path)))
    created, updated = page_dates(path, page.meta.get("created"))
    meta = (
        f'<p class="page-meta">约 {words} 字 大约 {minutes} 分钟 · '
        f"创建于 {created} · 更新于 {updated}{_outputs_from(page.meta)}</p>"
    )
    header = [meta] + (["", page.meta["header_links"]] if page.meta.get("header_links") else [])
    lines = markdown.splitlines()
    for k, line in enumerate(lines):
        if line.startswith("# "):
            lines[k + 1 : k + 1] = ["", *header]
            break
    else:
        lines[0:0] = [*header, ""]
    return "\n".join(lines) + _changelog(path)
