from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# tools/: the docs block inventory/runner/updater and the browser helpers the tests share
sys.path.insert(0, str(ROOT / "tools"))


def build_site(
    dest: Path, config: Path | None = None, *, tool: str = "mkdocs"
) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` (or ``properdocs``, its fork) into ``dest``."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    config = config or ROOT / "mkdocs.yml"
    return subprocess.run(
        [sys.executable, "-m", tool, "build", "--strict", "-d", str(dest), "-f", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once per test session with ``mkdocs build --strict``."""
    dest = tmp_path_factory.mktemp("site")
    result = build_site(dest)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return dest


@pytest.fixture(scope="session")
def built_dists(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The sdist and the wheel, built once per test session: ``[*.tar.gz, *.whl]``."""
    dest = tmp_path_factory.mktemp("dist")
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
