"""The wheel, installed into a fresh virtual environment as a reader would, runs the README's
example and prints what the README shows (PyTorch itself is linked from this environment)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from importlib.metadata import Distribution, distribution
from pathlib import Path

from packaging.requirements import Requirement

import nnbasics
from docsite import markdown


def _pip(python: Path, *args: str) -> None:
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _requirements_closure(name: str) -> list[Distribution]:
    """``name``'s distribution and every one it requires (no extras), installed here."""
    found: dict[str, Distribution] = {}
    todo = [name]
    while todo:
        dist = distribution(todo.pop())
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in found:
            continue
        found[key] = dist
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(found.values())


def _link_torch(site: Path, dest: Path) -> None:
    """Make PyTorch and its own dependencies, as installed here, importable in the venv whose
    site-packages is ``site``: links to their files in ``dest``, named by a ``.pth`` file.

    Installing the 200 MB PyTorch wheel again takes a minute and tests PyTorch's packaging,
    not ours; pip still checks that they satisfy the wheel's requirements (``torch>=``).
    """
    dest.mkdir()
    for dist in _requirements_closure("torch"):
        for file in dist.files or []:
            top = file.parts[0]
            source = Path(dist.locate_file(top))
            if top != ".." and source.exists() and not (dest / top).exists():
                (dest / top).symlink_to(source)
    (site / "torch-from-the-test-environment.pth").write_text(f"{dest}\n", encoding="utf-8")


def test_wheel_in_a_fresh_venv_runs_the_readme_example(built_dists: list[Path], tmp_path: Path):
    wheel = built_dists[1]
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    site = next(env_dir.glob("lib/python*/site-packages"))
    # the README's two install steps: PyTorch (here: linked from this environment, the
    # version the README's output came from), then nnbasics with the progress extra
    _link_torch(site, tmp_path / "torch-links")
    _pip(python, f"nnbasics[progress] @ {wheel.as_uri()}")
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = {line.split("==")[0].lower() for line in listed.splitlines()}
    # nothing but PyTorch's closure, the wheel and its declared requirements
    assert not names & {"matplotlib", "pytest", "mkdocs"}, sorted(names)
    assert {"torch", "nnbasics", "tqdm", "numpy"} <= names, sorted(names)

    example = next(b for b in markdown.blocks(markdown.ROOT / "README.md") if b.fence.runnable)
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
    # nnbasics came from the wheel in the fresh environment, not from this checkout; and a
    # reader sees nothing else on stderr (no warning)
    assert result.stderr.splitlines() == [str(site / "nnbasics" / "__init__.py")], result.stderr
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
    pyproject = (markdown.ROOT / "pyproject.toml").read_text(encoding="utf-8")
    floor = ".".join(map(str, nnbasics.MIN_TORCH))
    assert re.findall(r"(?m)^dependencies = \[\"torch>=([\d.]+)\"", pyproject) == [floor]
