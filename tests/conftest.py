from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parent.parent
# One PyTorch (OpenMP) thread per process, here and in every process the tests start: a test run
# runs several PyTorch processes at once (the pytest-xdist workers, the site build and the page
# runs in the background), and with more threads than cores they spin against each other (on
# this 2-core machine a 5-second page took minutes). The outputs must not depend on it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
# tools/: the docs block inventory/runner/updater and the browser helpers the tests share
sys.path.insert(0, str(ROOT / "tools"))


# `make page PAGE=losses`: the session's site is that page alone (with the home page)
ONE_PAGE = os.environ.get("NNBASICS_PAGE")


def one_page_config(name: str) -> Path:
    """A config that builds ``docs/<name>.md`` (or every page of the chapter ``docs/<name>/``)
    and the home page only: the site's own config with every other page excluded, and links to
    them not checked."""
    docs = ROOT / "docs"
    page = docs / f"{name}.md"
    chosen = [page] if page.is_file() else sorted((docs / name).glob("*.md"))
    if not chosen:
        raise pytest.UsageError(f"NNBASICS_PAGE={name}: there is no docs/{name}.md or docs/{name}/")
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
        "exclude_docs": "\n".join(["_plugins/", "_data/", "_fonts/", *others]),
        "validation": {
            "nav": {"omitted_files": "info", "not_found": "info"},
            "links": {"not_found": "info", "anchors": "info", "unrecognized_links": "info"},
        },
    }
    # beside mkdocs.yml: the relative paths it names (docs/, hooks, overrides/) stay right
    path = ROOT / f".mkdocs-page-{name.replace('/', '-')}.yml"
    path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    return path


def _build_command(dest: Path, config: Path | None, tool: str) -> list[str]:
    config = config or (one_page_config(ONE_PAGE) if ONE_PAGE else ROOT / "mkdocs.yml")
    return [sys.executable, "-m", tool, "build", "--strict", "-d", str(dest), "-f", str(config)]


def build_site(
    dest: Path, config: Path | None = None, *, tool: str = "mkdocs"
) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` (or ``properdocs``, its fork) into ``dest``."""
    return subprocess.run(
        _build_command(dest, config, tool),
        cwd=ROOT,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=600,
    )


def shared(base: Path, name: str) -> tuple[Path, FileLock]:
    """A folder shared by every pytest-xdist worker of this run, and its lock."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the workers' common temporary folder
    return base / name, FileLock(str(base / f"{name}.lock"))


def _in_background(command: list[str | Path], log: Path, status: Path) -> None:
    """Start ``command`` without waiting: its output goes to ``log``, its exit status to
    ``status`` when it ends."""
    line = " ".join(shlex.quote(str(word)) for word in command)
    line += f" > {shlex.quote(str(log))} 2>&1; echo $? > {shlex.quote(str(status))}"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    subprocess.Popen(["bash", "-c", line], cwd=ROOT, env=env, start_new_session=True)


def _start_site_build(base: Path) -> None:
    """Start the session's site build in the background, once per run (the first worker to
    collect starts it); ``built_site`` waits for it. The tests that need the site run last
    (see below), so the build overlaps with the others."""
    dest, lock = shared(base, "site")
    with lock:
        if dest.with_suffix(".started").exists():
            return
        dest.with_suffix(".started").touch()
    command = _build_command(dest, None, "mkdocs")
    _in_background(command, dest.with_suffix(".log"), dest.with_suffix(".status"))


def start_page_runs(base: Path, pages: list[Path] | None = None) -> Path:
    """Start, once per test run and in the background, the run of the blocks of ``pages``
    (default: every page) top to bottom under ``docblocks.TEST_CONFIG`` (PyTorch's plain
    kernels, two threads: ``tools/docblocks.py --save-runs``); the folder its results go to."""
    folder, lock = shared(base, "page-runs")
    with lock:
        if folder.exists():
            return folder
        folder.mkdir()
    command = [sys.executable, ROOT / "tools" / "docblocks.py", "--save-runs", folder]
    _in_background([*command, *(pages or [])], folder / "log", folder / "status")
    return folder


def _about_page(item: pytest.Item, name: str) -> bool:
    """Whether ``item`` tests the page ``docs/<name>.md``: its blocks, or a test parametrized
    by that page (its file, its URL, its built HTML file)."""
    if item.nodeid.startswith((f"docs/{name}.md::", f"docs/{name}/")):
        return True
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return False
    ident = callspec.id.removeprefix("chromium-")  # pytest-playwright's browser parameter
    url = "" if name == "index" else f"{name}/"
    return ident in {f"{name}.md", f"docs/{name}.md", url, f"{url}index.html", name} or (
        ident.startswith((f"docs/{name}.md:", f"{name}/", f"docs/{name}/"))
    )


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected what will not run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The work that can run in the background starts now: the plain-kernel page runs and the
    site build. The tests that wait for them go last (page runs, then the site), so that the
    workers run everything else meanwhile."""

    def uses(item: pytest.Item, fixture: str) -> bool:
        return fixture in getattr(item, "fixturenames", ())

    if ONE_PAGE:  # `make page`: only the tests of that page
        keep = [item for item in items if _about_page(item, ONE_PAGE)]
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep

    base = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    pages = {
        item.callspec.params["block"].fence.path
        for item in items
        if uses(item, "page_runs") and hasattr(item, "callspec") and "block" in item.callspec.params
    }
    if pages:
        start_page_runs(base, sorted(pages))
    if any(uses(item, "built_site") for item in items):
        _start_site_build(base)
    items.sort(key=lambda item: (uses(item, "built_site"), uses(item, "page_runs")))


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once per test run with ``mkdocs build --strict`` (started in the
    background at collection)."""
    base = tmp_path_factory.getbasetemp()
    _start_site_build(base)  # a no-op when collection started it
    dest, _ = shared(base, "site")
    status = dest.with_suffix(".status")
    deadline = time.monotonic() + 900
    while not status.exists() or not status.read_text().strip():
        assert time.monotonic() < deadline, "the site build did not finish in 15 minutes"
        time.sleep(0.5)
    log = dest.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    assert status.read_text().strip() == "0", f"mkdocs build --strict failed:\n{log}"
    return dest


@pytest.fixture(scope="session")
def built_dists(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The sdist and the wheel, built once per test run: ``[*.tar.gz, *.whl]``."""
    dest, lock = shared(tmp_path_factory.getbasetemp(), "dist")
    with lock:
        if not dest.exists():
            build = subprocess.run(
                [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dest), str(ROOT)],
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert build.returncode == 0, build.stdout + build.stderr
    dists = sorted(dest.iterdir(), key=lambda p: p.suffix)
    assert [p.suffix for p in dists] == [".gz", ".whl"]
    return dists
