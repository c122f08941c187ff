from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parent.parent
if os.environ.get("PYTEST_XDIST_WORKER"):
    # one PyTorch (OpenMP) thread per pytest-xdist worker, in this process and the ones it
    # starts: with a worker per core, more threads only spin against each other
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
# tools/: the docs block inventory/runner/updater and the browser helpers the tests share
sys.path.insert(0, str(ROOT / "tools"))


# `make page PAGE=losses`: the session's site is that page alone (with the home page)
ONE_PAGE = os.environ.get("NNBASICS_PAGE")


def one_page_config(name: str) -> Path:
    """A config that builds ``docs/<name>.md`` and the home page only: the site's own
    config with every other page excluded, and links to them not checked."""
    page = ROOT / "docs" / f"{name}.md"
    if not page.exists():
        raise pytest.UsageError(f"NNBASICS_PAGE={name}: there is no docs/{name}.md")
    others = [
        p.relative_to(ROOT / "docs").as_posix()
        for p in (ROOT / "docs").glob("*.md")
        if p.stem not in {name, "index"}
    ]
    config = {
        "INHERIT": "mkdocs.yml",
        "nav": [{"首页": "index.md"}, {name: f"{name}.md"}],
        "exclude_docs": "\n".join(["_plugins/", *others]),
        "validation": {
            "nav": {"omitted_files": "info", "not_found": "info"},
            "links": {"not_found": "info", "anchors": "info", "unrecognized_links": "info"},
        },
    }
    # beside mkdocs.yml: the relative paths it names (docs/, hooks, overrides/) stay right
    path = ROOT / f".mkdocs-page-{name}.yml"
    path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    return path


def build_site(
    dest: Path, config: Path | None = None, *, tool: str = "mkdocs"
) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` (or ``properdocs``, its fork) into ``dest``."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    config = config or (one_page_config(ONE_PAGE) if ONE_PAGE else ROOT / "mkdocs.yml")
    return subprocess.run(
        [sys.executable, "-m", tool, "build", "--strict", "-d", str(dest), "-f", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``), every test of the built site runs on one
    worker: the site is built once, while the other workers run everything else."""
    for item in items:
        if "built_site" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("site"))


def _once(tmp_path_factory: pytest.TempPathFactory, name: str) -> tuple[Path, FileLock]:
    """A folder shared by every pytest-xdist worker of this run, and its lock."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the workers' common temporary folder
    return base / name, FileLock(str(base / f"{name}.lock"))


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once per test run with ``mkdocs build --strict``."""
    dest, lock = _once(tmp_path_factory, "site")
    with lock:
        if not (dest / "index.html").exists():
            result = build_site(dest)
            assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return dest


@pytest.fixture(scope="session")
def built_dists(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The sdist and the wheel, built once per test run: ``[*.tar.gz, *.whl]``."""
    dest, lock = _once(tmp_path_factory, "dist")
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
