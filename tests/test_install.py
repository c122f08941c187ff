"""The wheel, installed into a fresh virtual environment as a reader would, runs the README's
example and prints what the README shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from importlib.metadata import version
from pathlib import Path

import docblocks

import nnbasics

# the index the Makefile takes PyTorch from (its CPU build)
TORCH_INDEX = os.environ.get("TORCH_INDEX", "https://download.pytorch.org/whl/cpu")


def _pip(python: Path, *args: str) -> None:
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_wheel_in_a_fresh_venv_runs_the_readme_example(built_dists: list[Path], tmp_path: Path):
    wheel = built_dists[1]
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # the README's two install steps: PyTorch (the version the README's output came from,
    # CPU build), then nnbasics with the progress extra
    _pip(python, "--no-deps", "--index-url", TORCH_INDEX, f"torch=={version('torch')}")
    _pip(python, f"nnbasics[progress] @ {wheel.as_uri()}")

    example = next(b for b in docblocks.blocks(docblocks.ROOT / "README.md") if b.fence.runnable)
    assert example.expected is not None
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    code = "import sys, nnbasics\nprint(nnbasics.__file__, file=sys.stderr)\n"
    result = subprocess.run(
        [str(python), "-c", code + example.fence.code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    # nnbasics came from the wheel in the fresh environment, not from this checkout
    assert result.stderr.strip().startswith(str(env_dir)), result.stderr
    assert result.stdout == example.expected.code


def test_a_too_old_torch_is_one_clear_line():
    code = "import torch\ntorch.__version__ = '2.1.2'\nimport nnbasics\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    floor = ".".join(map(str, nnbasics.MIN_TORCH))
    assert last == (
        f"ImportError: nnbasics needs PyTorch >= {floor}, found 2.1.2: "
        f'pip install --upgrade "torch>={floor}"'
    )


def test_the_floor_is_the_one_pyproject_declares():
    pyproject = (docblocks.ROOT / "pyproject.toml").read_text(encoding="utf-8")
    floor = ".".join(map(str, nnbasics.MIN_TORCH))
    assert re.findall(r"(?m)^dependencies = (.*)$", pyproject) == [f'["torch>={floor}"]']
