"""Inventory, run, lint and update the code blocks of the docs.

The docs have two kinds of Python block (see CONTRIBUTING.md):

* runnable: fenced exactly ```` ```python ````; pytest-codeblocks runs it (in the test
  process, in a namespace of its own), and this module runs the page's blocks top to bottom
  in a fresh interpreter, as the page's notebook does; its printed output follows under
  ``<!--pytest-codeblocks:expected-output-->``;
* package source: ```` ```python title="nnbasics/..." ```` whose body is only
  ``--8<--`` includes.

```` ```bash ```` blocks are run by pytest-codeblocks too (through bash), and their output
is kept up to date here as well. Anything else that looks like Python is an error.

Usage (from the repository root)::

    python tools/docblocks.py --update   # rerun every block, rewrite expected outputs
    python tools/docblocks.py --check    # rerun every block, fail on a difference
    python tools/docblocks.py --lint     # ruff check + ruff format --check every block
    python tools/docblocks.py --format   # ruff format every block in place
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MARKER = "<!--pytest-codeblocks:expected-output-->"
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
RUN_TIMEOUT = 300  # seconds for one block


def _display(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


@dataclass
class Fence:
    path: Path
    start: int  # 0-based index of the opening fence line
    end: int  # 0-based index of the closing fence line
    indent: str
    fence: str
    info: str  # everything after the fence characters, unstripped
    body: list[str]

    @property
    def location(self) -> str:
        return f"{_display(self.path)}:{self.start + 1}"

    @property
    def code(self) -> str:
        return "".join(line + "\n" for line in self.body)

    @property
    def runnable(self) -> bool:
        """Run by pytest-codeblocks as Python: a backtick fence whose info is exactly python."""
        return self.fence.startswith("`") and self.info.rstrip() == "python"

    @property
    def shell(self) -> bool:
        return self.fence.startswith("`") and self.info.strip() in {"bash", "sh"}

    @property
    def include(self) -> bool:
        """A titled package-source include: only ``--8<--`` lines under title="nnbasics/..."."""
        body = [line for line in self.body if line.strip()]
        titled = bool(re.search(r"""title=(["'])nnbasics/[^"']+\1""", self.info))
        return titled and bool(body) and all(line.strip().startswith("--8<--") for line in body)

    @property
    def python_looking(self) -> bool:
        info = self.info.strip().strip("{}").lstrip(".").lower()
        lang = re.split(r"[\s{}]", info, maxsplit=1)[0] if info else ""
        return lang.startswith(("py", "ipython")) and not lang.startswith("pycon")


@dataclass
class Block:
    """A runnable block with the expected-output fence that follows it (if any)."""

    fence: Fence
    expected: Fence | None


def parse(path: Path, text: str | None = None) -> list[Fence]:
    """Every fenced block of a Markdown file (or of ``text``, read from ``path``), in order.

    This is the project's one fence parser: the inventory, the runner, the updater, the
    linter and the notebook hook (``docs/_plugins/notebooks.py``) all read blocks through it.

    Raises:
        ValueError: for a fence that is never closed, naming the file and line.
    """
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    fences: list[Fence] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.group("indent"), m.group("fence"), m.group("info")
        j = i + 1
        while j < len(lines) and not (
            lines[j].strip().startswith(fence) and lines[j].strip().strip(fence[0]) == ""
        ):
            j += 1
        if j == len(lines):
            raise ValueError(f"{path}:{i + 1}: fence {fence!r} is never closed")
        body = [
            line[len(indent) :] if line.startswith(indent) else line.lstrip()
            for line in lines[i + 1 : j]
        ]
        fences.append(Fence(path, i, j, indent, fence, info, body))
        i = j + 1
    return fences


def markdown_files() -> list[Path]:
    """Every page of the site, and the README (its example is code a reader copies too)."""
    pages = sorted(p for p in DOCS.rglob("*.md") if "_plugins" not in p.parts)
    return [*pages, ROOT / "README.md"]


def pages_with_output() -> list[Path]:
    """The site's pages that show at least one block's output."""
    pages = [p for p in markdown_files() if p.parent == DOCS]
    return [p for p in pages if any(b.expected for b in blocks(p))]


# the front-matter key that records which versions a page's outputs came from
VERSIONS_KEY = "outputs_from"


def installed_versions() -> dict[str, str]:
    """The nnbasics, PyTorch and Python versions installed here, as a page records them.

    PyTorch without its local build tag (``2.13.0+cpu`` -> ``2.13.0``: the CPU and CUDA
    builds of one release print the same CPU results); Python as major.minor.
    """
    from importlib.metadata import version

    return {
        "nnbasics": version("nnbasics"),
        "torch": version("torch").split("+")[0],
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
    }


def _front_matter(lines: list[str]) -> tuple[int, int] | None:
    """Indices of the opening and closing ``---`` of the page's front matter, if any."""
    if lines and lines[0] == "---":
        for k in range(1, len(lines)):
            if lines[k] == "---":
                return 0, k
    return None


def recorded_versions(path: Path) -> dict[str, str] | None:
    """The versions ``path``'s front matter says its outputs came from (None if it says none)."""
    import yaml

    lines = path.read_text(encoding="utf-8").splitlines()
    bounds = _front_matter(lines)
    if bounds is None:
        return None
    meta = yaml.safe_load("\n".join(lines[bounds[0] + 1 : bounds[1]])) or {}
    found = meta.get(VERSIONS_KEY)
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else None


def record_versions(path: Path, versions: dict[str, str] | None) -> bool:
    """Write (or, with None, remove) the page's ``outputs_from``; True if the file changed.

    A page of the site must have front matter; the README (no front matter) is left alone.
    """
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    bounds = _front_matter(lines)
    if bounds is None:
        if versions is not None and path.parent == DOCS:
            raise ValueError(f"{_display(path)}: a page with outputs needs front matter")
        return False
    start, end = bounds
    meta = lines[start + 1 : end]
    k = next((i for i, line in enumerate(meta) if line.startswith(f"{VERSIONS_KEY}:")), None)
    if k is not None:  # drop the old record: its key line and the indented lines under it
        stop = k + 1
        while stop < len(meta) and meta[stop].startswith(" "):
            stop += 1
        del meta[k:stop]
    if versions is not None:
        meta += [f"{VERSIONS_KEY}:", *(f'  {key}: "{value}"' for key, value in versions.items())]
    new = "\n".join([lines[start], *meta, *lines[end:]]) + "\n"
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False


def blocks(path: Path) -> list[Block]:
    """Runnable Python and shell blocks of ``path`` with their expected-output fences."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fences = parse(path)
    out: list[Block] = []
    for k, fence in enumerate(fences):
        if not (fence.runnable or fence.shell):
            continue
        expected = None
        if k + 1 < len(fences):
            between = [line.strip() for line in lines[fence.end + 1 : fences[k + 1].start]]
            if [line for line in between if line] == [MARKER]:
                expected = fences[k + 1]
        out.append(Block(fence, expected))
    return out


def problems(paths: list[Path] | None = None) -> list[str]:
    """Fences that look like Python but are neither runnable nor a package-source include."""
    found = []
    for path in paths or markdown_files():
        for fence in parse(path):
            if fence.python_looking and not (fence.runnable or fence.include):
                found.append(f"{fence.location}: untested fence {fence.fence}{fence.info.strip()}")
    return found


@dataclass
class Result:
    stdout: str
    stderr: str
    returncode: int


# Runs in the fresh interpreter of run_page: the blocks (JSON on stdin) top to bottom in one
# namespace, as the page's notebook runs them, each block's output caught on its own.
_PAGE_RUNNER = r"""
import contextlib, io, json, subprocess, sys, traceback

def global_state():
    # what a block could change for every block after it (a reader pasting the next block
    # into the same interpreter would get other output): PyTorch's and NumPy's settings
    if not uses_torch:  # a page without PyTorch: nothing to import, nothing to watch
        return {}
    import numpy, torch
    return {
        "default dtype": torch.get_default_dtype(),
        "print options": repr(torch.tensor([1 / 3, 1e8])),
        "grad mode": torch.is_grad_enabled(),
        "deterministic algorithms": torch.are_deterministic_algorithms_enabled(),
        "anomaly detection": torch.is_anomaly_enabled(),
        "threads": torch.get_num_threads(),
        "numpy print options": numpy.get_printoptions(),
    }

uses_torch, todo = json.load(sys.stdin)
namespace = {"__name__": "__main__", "__builtins__": __builtins__}
before = global_state()
results = []
for kind, code, location in todo:
    if kind == "shell":
        proc = subprocess.run(["bash", "-c", code], capture_output=True, text=True)
        results.append((proc.stdout, proc.stderr, proc.returncode))
        continue
    out, err, status = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            exec(compile(code, location, "exec"), namespace)
        except SystemExit as stop:
            status = stop.code if isinstance(stop.code, int) else 1
        except BaseException:
            traceback.print_exc()
            status = 1
    after = global_state()
    for what in (k for k in before if after[k] != before[k]):
        err.write(f"{location}: the block changes {what} for every block after it "
                  f"({before[what]!r} -> {after[what]!r}); restore it in the block\n")
        status = status or 1
    before = after
    results.append((out.getvalue(), err.getvalue(), status))
sys.__stdout__.write(json.dumps(results))
"""


def run_page(
    page_blocks: list[Block],
    *,
    threads: int | None = None,
    capability: str | None = None,
) -> list[Result]:
    """Run blocks top to bottom in one fresh interpreter and one namespace, as a page's
    notebook runs them: Python with ``exec``, shell through bash; each block's stdout,
    stderr and status on its own. A block that changes PyTorch's or NumPy's global settings
    (default dtype, print options, grad mode, ...) fails: it would change what the next
    block prints.

    ``threads`` caps PyTorch's intra-op threads (so parallel runs do not oversubscribe
    the cores); the printed outputs must not depend on it. ``capability`` sets
    ``ATEN_CPU_CAPABILITY`` (``"default"``, ``"avx2"``, ``"avx512"``): PyTorch then uses the
    kernels of that instruction set, as on a reader's machine that has only it.
    """
    env = dict(os.environ, PYTHONIOENCODING="utf-8", PYTHONWARNINGS="default")
    if threads is not None:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    if capability is not None:
        env["ATEN_CPU_CAPABILITY"] = capability
    env.pop("PYTHONPATH", None)
    # the interpreter's own bin/ (a virtual environment's) first: console scripts such as `nnbasics`
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    todo = [
        ("python" if b.fence.runnable else "shell", b.fence.code, b.fence.location)
        for b in page_blocks
    ]
    # run from an empty folder so that `nnbasics` comes from the installed package
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, "-c", _PAGE_RUNNER],
            input=json.dumps(
                [any(re.search(r"\b(torch|nnbasics)\b", c) for _, c, _ in todo), todo]
            ),
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=RUN_TIMEOUT * max(1, len(todo)),
        )
    if proc.returncode != 0:  # the runner itself failed: every block gets its message
        return [Result("", proc.stderr, proc.returncode) for _ in todo]
    return [Result(*found) for found in json.loads(proc.stdout)]


def run_block(fence: Fence, *, threads: int | None = None, capability: str | None = None) -> Result:
    """Run one block alone in a fresh interpreter (:func:`run_page` with one block)."""
    (result,) = run_page([Block(fence, None)], threads=threads, capability=capability)
    return result


def run_all(
    all_blocks: list[Block], jobs: int | None = None, *, capability: str | None = None
) -> list[Result]:
    """Run every page's blocks (:func:`run_page`), pages in parallel, one per core, each with
    one PyTorch thread; the results in the order of ``all_blocks``."""
    by_page: dict[Path, list[Block]] = {}
    for block in all_blocks:
        by_page.setdefault(block.fence.path, []).append(block)
    jobs = jobs or max(1, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        runs = pool.map(
            lambda page: run_page(page, threads=1, capability=capability), by_page.values()
        )
        found = {
            b.fence.location: r
            for page, results in zip(by_page.values(), runs, strict=True)
            for b, r in zip(page, results, strict=True)
        }
    return [found[b.fence.location] for b in all_blocks]


def _write_expected(path: Path, found: list[tuple[Block, Result]]) -> bool:
    """Rewrite the expected-output fences of one file; True if it changed."""
    lines = path.read_text(encoding="utf-8").splitlines()
    original = list(lines)
    # edit from the bottom so earlier line numbers stay valid
    for block, result in sorted(found, key=lambda br: br[0].fence.start, reverse=True):
        indent = block.fence.indent
        output = result.stdout.splitlines()
        new = [
            indent + "```text",
            *[(indent + line) if line else "" for line in output],
            indent + "```",
        ]
        if block.expected is not None:
            start, end = block.expected.start, block.expected.end
            if output:
                lines[start : end + 1] = new
            else:  # the block no longer prints: drop marker and fence
                lines[block.fence.end + 1 : end + 1] = []
        elif output:
            lines[block.fence.end + 1 : block.fence.end + 1] = ["", indent + MARKER, "", *new]
    if lines != original:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return True
    return False


def update(paths: list[Path]) -> int:
    """Rerun the blocks of ``paths``, rewrite their outputs and record the versions they
    came from in each page's front matter (not on a page where a block failed)."""
    todo = [(path, b) for path in paths for b in blocks(path)]
    results = run_all([b for _, b in todo])
    failed: set[Path] = set()
    by_path: dict[Path, list[tuple[Block, Result]]] = {path: [] for path in paths}
    for (path, block), result in zip(todo, results, strict=True):
        if result.returncode != 0:
            failed.add(path)
            print(f"FAILED {block.fence.location}\n{result.stderr}", file=sys.stderr)
            continue
        by_path[path].append((block, result))
    versions = installed_versions()
    for path, found in by_path.items():
        changed = _write_expected(path, found)
        if path not in failed:
            prints = any(block.expected for block in blocks(path))
            changed = record_versions(path, versions if prints else None) or changed
        if changed:
            print(f"updated {_display(path)}")
    return 1 if failed else 0


def check(paths: list[Path]) -> int:
    todo = [b for path in paths for b in blocks(path)]
    bad = 0
    for block, result in zip(todo, run_all(todo), strict=True):
        expected = block.expected.code if block.expected else ""
        if result.returncode != 0 or result.stdout != expected:
            bad += 1
            print(
                f"MISMATCH {block.fence.location}\n{result.stdout}{result.stderr}", file=sys.stderr
            )
    print(f"{len(todo) - bad} passed, {bad} failed")
    return 1 if bad else 0


def _block_files(paths: list[Path], tmp: Path) -> dict[Path, Fence]:
    files = {}
    for path in paths:
        for block in blocks(path):
            if block.fence.runnable:
                name = f"{path.stem.replace('-', '_')}_L{block.fence.start + 1}.py"
                (tmp / name).write_text(block.fence.code, encoding="utf-8")
                files[tmp / name] = block.fence
    return files


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--config", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
    )


def lint(paths: list[Path]) -> tuple[int, str]:
    """ruff check and ruff format --check on every runnable block; (status, report)."""
    with tempfile.TemporaryDirectory() as tmp:
        files = _block_files(paths, Path(tmp))
        names = [str(f) for f in files]
        # B007: the article's `for epoch in range(100):` loops keep their names
        checked = _ruff(
            "check", "--no-cache", "--output-format", "concise", "--extend-ignore", "B007", *names
        )
        formatted = _ruff("format", "--no-cache", "--check", *names)
    report = checked.stdout + checked.stderr + formatted.stdout + formatted.stderr
    for file, fence in files.items():  # point at the Markdown, not the temporary file
        report = report.replace(str(file), fence.location)
    return (1 if checked.returncode or formatted.returncode else 0), report


def format_blocks(paths: list[Path]) -> int:
    """ruff format every runnable block in place."""
    with tempfile.TemporaryDirectory() as tmp:
        files = _block_files(paths, Path(tmp))
        result = _ruff("format", "--no-cache", *map(str, files))
        if result.returncode:
            print(result.stderr, file=sys.stderr)
            return 1
        by_path: dict[Path, list[tuple[Fence, str]]] = {}
        for file, fence in files.items():
            by_path.setdefault(fence.path, []).append((fence, file.read_text(encoding="utf-8")))
    for path, items in by_path.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        original = list(lines)
        for fence, code in sorted(items, key=lambda item: item[0].start, reverse=True):
            body = [(fence.indent + line) if line else "" for line in code.splitlines()]
            lines[fence.start + 1 : fence.end] = body
        if lines != original:
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            print(f"formatted {_display(path)}")
    return 0


def save_page_runs(paths: list[Path], folder: Path, capability: str | None) -> int:
    """Run each page (:func:`run_page`, one PyTorch thread) and write its results to
    ``folder/<page file name>.json`` as soon as it is done: the test session started this in
    the background and reads each page's file when a test asks for it."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        page_blocks = blocks(path)
        results = run_page(page_blocks, threads=1, capability=capability)
        found = {b.fence.location: vars(r) for b, r in zip(page_blocks, results, strict=True)}
        partial = folder / f"{path.name}.json.tmp"
        partial.write_text(json.dumps(found), encoding="utf-8")
        partial.replace(folder / f"{path.name}.json")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--update", action="store_true", help="rewrite expected outputs")
    mode.add_argument("--check", action="store_true", help="fail on a stale expected output")
    mode.add_argument("--lint", action="store_true", help="ruff check + format check")
    mode.add_argument("--format", action="store_true", help="ruff format the blocks")
    mode.add_argument(
        "--save-runs", type=Path, metavar="FOLDER", help="run each page, results to FOLDER"
    )
    parser.add_argument("--capability", help="ATEN_CPU_CAPABILITY for --save-runs")
    parser.add_argument("files", nargs="*", type=Path, help="Markdown files (default: docs/)")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.files] or markdown_files()
    bad = problems(paths)
    if bad:
        print("\n".join(bad), file=sys.stderr)
        return 1
    if args.update:
        return update(paths)
    if args.check:
        return check(paths)
    if args.format:
        return format_blocks(paths)
    if args.save_runs:
        return save_page_runs(paths, args.save_runs, args.capability)
    status, report = lint(paths)
    print(report, end="")
    return status


if __name__ == "__main__":
    sys.exit(main())
