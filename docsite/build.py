"""``make build``: the site in ``site/``, built once and then only when something it reads changed.

The build reads the pages (``docs/``), ``mkdocs.yml``, the theme overrides, the package (its
source is shown on the pages, its code draws the figures and runs the notebook), this package
(the plugin), the pinned dependencies and the installed versions. A hash of all of them
(:func:`inputs_key`) is written beside the built site (``site/.build-key``); the next build
with the same key does nothing. The tests read the site from here (``conftest.py``:
``built_site``), and CI deploys exactly this folder.

Git history is an input too (each page shows its dates and change log), so the key includes
the commit: a new commit rebuilds.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
KEY_FILE = ".build-key"
# what the build reads, besides the installed versions and the commit
INPUTS = (
    "docs",
    "overrides",
    "nnbasics",
    "docsite",
    "mkdocs.yml",
    "pyproject.toml",
    "constraints.txt",
)


def _files() -> list[Path]:
    found: list[Path] = []
    for name in INPUTS:
        path = ROOT / name
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += [
                p
                for p in path.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
            ]
    return sorted(found)


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def inputs_key(config: Path = ROOT / "mkdocs.yml") -> str:
    """A hash of everything the build of ``config`` reads (see the module docstring)."""
    digest = hashlib.sha256()
    for path in [*_files(), config]:
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    installed = sorted(f"{d.metadata['Name']}=={d.version}" for d in distributions())
    digest.update(json.dumps([installed, sys.version, _commit()]).encode())
    return digest.hexdigest()


def command(dest: Path, config: Path = ROOT / "mkdocs.yml", tool: str = "mkdocs") -> list[str]:
    """The strict build of ``config`` into ``dest`` with ``tool`` (mkdocs or properdocs)."""
    return [sys.executable, "-m", tool, "build", "--strict", "-d", str(dest), "-f", str(config)]


def build(
    dest: Path = SITE,
    config: Path = ROOT / "mkdocs.yml",
    *,
    force: bool = False,
    tool: str = "mkdocs",
) -> subprocess.CompletedProcess[str] | None:
    """Build ``config`` into ``dest`` unless ``dest`` already holds the build of the same
    inputs (None then); the finished build's process (its log in stdout and stderr)."""
    key = inputs_key(config) + tool
    stamp = dest / KEY_FILE
    if not force and stamp.is_file() and stamp.read_text(encoding="utf-8") == key:
        return None
    stamp.unlink(missing_ok=True)
    done = subprocess.run(
        command(dest, config, tool),
        cwd=ROOT,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if done.returncode == 0:
        stamp.write_text(key, encoding="utf-8")
    return done


def main(*, force: bool = False, tool: str = "mkdocs") -> int:
    done = build(force=force, tool=tool)
    if done is None:
        print(f"{SITE.relative_to(ROOT)}/ is up to date (nothing the build reads has changed)")
        return 0
    sys.stderr.write(done.stderr)
    sys.stdout.write(done.stdout)
    return done.returncode


def one_page_config(name: str) -> Path:
    """A config that builds ``docs/<name>.md`` (or every page of the chapter ``docs/<name>/``)
    and the home page only (``make page``): the site's own config with every other page
    excluded, and links to them not checked. It is written beside ``mkdocs.yml``, so that the
    relative paths that config names (docs/, overrides/) stay right.

    Raises:
        ValueError: when there is no such page or chapter.
    """
    docs = ROOT / "docs"
    page = docs / f"{name}.md"
    chosen = [page] if page.is_file() else sorted((docs / name).glob("*.md"))
    if not chosen:
        raise ValueError(f"NNBASICS_PAGE={name}: there is no docs/{name}.md or docs/{name}/")
    chosen.sort(key=lambda p: p.name != "index.md")  # a chapter's overview first
    keep = {p.relative_to(docs).as_posix() for p in chosen} | {"index.md"}
    others = [
        rel
        for rel in (p.relative_to(docs).as_posix() for p in docs.rglob("*.md"))
        if rel not in keep and not rel.startswith("_")
    ]
    config = {
        "INHERIT": "mkdocs.yml",
        "nav": [{"首页": "index.md"}]
        + [{p.relative_to(docs).as_posix(): p.relative_to(docs).as_posix()} for p in chosen],
        "exclude_docs": "\n".join(["_data/", "_fonts/", *others]),
        "validation": {
            "nav": {"omitted_files": "info", "not_found": "info"},
            "links": {"not_found": "info", "anchors": "info", "unrecognized_links": "info"},
        },
    }
    path = ROOT / f".mkdocs-page-{name.replace('/', '-')}.yml"
    text = json.dumps(config, ensure_ascii=False)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path
