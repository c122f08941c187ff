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

    python tools/docblocks.py --update   # sweep every block, rewrite expected outputs
    python tools/docblocks.py --check    # sweep every block, fail on a difference

The sweep (:func:`sweep`) runs each page's blocks under every configuration this machine can
produce (PyTorch's AVX-512, AVX2 and default kernels, MKL and oneDNN capped to match, with 1
and 2 threads), both top to bottom in the page's run and each block alone, and refuses an
output that differs between them.
    python tools/docblocks.py --lint     # ruff check + ruff format --check every block
    python tools/docblocks.py --format   # ruff format every block in place
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
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


_INCLUDE = re.compile(r"""--8<--\s+(["'])(?P<file>[^"':]+)(?::(?P<section>[\w-]+))?\1""")


def included_lines(line: str) -> list[str]:
    """The lines a ``--8<-- "file:section"`` include line brings in (pymdownx.snippets: the
    lines between ``--8<-- [start:section]`` and ``--8<-- [end:section]``, the marker lines
    left out, or the whole file without a section).

    Raises:
        ValueError: for a line that is not an include, a missing file or section.
    """
    m = _INCLUDE.search(line)
    if not m:
        raise ValueError(f"not a snippet include: {line!r}")
    source = (ROOT / m.group("file")).read_text(encoding="utf-8").splitlines()
    section = m.group("section")
    if section is None:
        return [s for s in source if "--8<-- [" not in s]
    try:
        start = source.index(next(s for s in source if s.strip().endswith(f"[start:{section}]")))
        end = source.index(next(s for s in source if s.strip().endswith(f"[end:{section}]")))
    except StopIteration:
        raise ValueError(f"{m.group('file')} has no section {section!r}") from None
    return [s for s in source[start + 1 : end] if "--8<-- [" not in s]


def markdown_files() -> list[Path]:
    """Every page of the site, and the README (its example is code a reader copies too)."""
    pages = sorted(p for p in DOCS.rglob("*.md") if "_plugins" not in p.parts)
    return [*pages, ROOT / "README.md"]


def pages_with_output() -> list[Path]:
    """The site's pages that show at least one block's output."""
    pages = [p for p in markdown_files() if p.is_relative_to(DOCS)]
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


@dataclass(frozen=True)
class Config:
    """One configuration a reader's machine may run a block under: PyTorch's kernels for an
    instruction set (``isa``: ``"avx512"``, ``"avx2"`` or ``"default"``, the plain x86-64 kernels
    without AVX) and a number of threads.

    PyTorch's own element-wise and reduction kernels follow ``ATEN_CPU_CAPABILITY``; the matrix
    products and convolutions go through MKL and oneDNN, which pick their own kernels, so they are
    capped to the same instruction set (``MKL_ENABLE_INSTRUCTIONS``, ``ONEDNN_MAX_CPU_ISA``): on an
    AVX-512 machine, ``avx2`` then stands for GitHub's AVX2 runners, ``default`` for a CPU without
    AVX. The thread count changes how reductions are split, hence their last digits.
    """

    isa: str
    threads: int

    _LIBRARY_CAPS = {  # noqa: RUF012 (a class constant, not a field)
        "avx2": {"MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
        "default": {"MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "ONEDNN_MAX_CPU_ISA": "SSE41"},
    }

    def env(self) -> dict[str, str]:
        threads = str(self.threads)
        return {
            "ATEN_CPU_CAPABILITY": self.isa,
            **self._LIBRARY_CAPS.get(self.isa, {}),
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
        }

    def __str__(self) -> str:
        return f"{self.isa}, {self.threads} thread{'s' if self.threads > 1 else ''}"


ISAS = ("avx512", "avx2", "default")
THREADS = (1, 2)
# the configuration the test command runs each page under (tests/test_docs.py), top to bottom in
# a fresh interpreter; pytest-codeblocks runs every block again under this machine's own kernels
# with one thread (tests/conftest.py), so both the instruction set and the thread count vary
TEST_CONFIG = Config("default", 2)


def _run_env(config: Config | None) -> dict[str, str]:
    env = dict(os.environ, PYTHONIOENCODING="utf-8", PYTHONWARNINGS="default")
    for name in ("PYTHONPATH", *Config("default", 1).env()):
        env.pop(name, None)  # nothing of the caller's leaks into the configuration
    if config is not None:
        env.update(config.env())
    # the interpreter's own bin/ (a virtual environment's) first: console scripts such as `nnbasics`
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _todo(page_blocks: list[Block]) -> list[list[str]]:
    return [
        ["python" if b.fence.runnable else "shell", b.fence.code, b.fence.location]
        for b in page_blocks
    ]


def run_page(
    page_blocks: list[Block], config: Config | None = None, *, mode: str = "page"
) -> list[Result]:
    """Run blocks in one fresh interpreter (``tools/blockrunner.py``) under ``config`` (None:
    this machine's kernels, the caller's threads): with ``mode="page"`` top to bottom in one
    namespace, as the page's notebook runs them (a block that changes PyTorch's or NumPy's global
    settings fails); with ``mode="alone"`` each block on its own, as a reader who pastes only it
    into a fresh interpreter. Each block's stdout, stderr and status."""
    todo = _todo(page_blocks)
    # run from an empty folder so that `nnbasics` comes from the installed package
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.json"
        proc = subprocess.run(
            [sys.executable, str(RUNNER), str(out)],
            input=json.dumps({"mode": mode, "blocks": todo}),
            cwd=tmp,
            env=_run_env(config),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=RUN_TIMEOUT * max(1, len(todo)),
        )
        if proc.returncode != 0 or not out.exists():  # the runner itself failed
            return [Result("", proc.stderr or proc.stdout, proc.returncode or 1) for _ in todo]
        return [Result(*found) for found in json.loads(out.read_text(encoding="utf-8"))]


def run_block(fence: Fence, config: Config | None = None) -> Result:
    """Run one block alone in a fresh interpreter (:func:`run_page` with one block)."""
    (result,) = run_page([Block(fence, None)], config)
    return result


RUNNER = ROOT / "tools" / "blockrunner.py"
CACHE = ROOT / ".cache" / "docblocks"


def _fingerprint() -> str:
    """What every block's output depends on besides its own code and configuration: the
    package's source, the runner, the installed versions and this CPU."""
    digest = hashlib.sha256()
    for path in sorted([*(ROOT / "nnbasics").rglob("*.py"), RUNNER, ROOT / "pyproject.toml"]):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    from importlib.metadata import version

    digest.update(json.dumps([installed_versions(), version("numpy"), _cpu()]).encode())
    return digest.hexdigest()


def _cpu() -> str:
    """This CPU's model and instruction-set flags (a cached result belongs to one CPU)."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        import platform

        return platform.processor() or platform.machine()
    keep = [line for line in info.splitlines() if line.startswith(("model name", "flags"))]
    return "\n".join(dict.fromkeys(keep))


def producible(config: Config) -> str | None:
    """None if this machine can run ``config``; else why not (one line)."""
    env = _run_env(config)
    probe = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    got = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    chosen = got.stdout.strip()
    if got.returncode != 0 or chosen.lower() != config.isa:
        return f"this CPU cannot run PyTorch's {config.isa} kernels (it chose {chosen or '?'})"
    return None


@dataclass(frozen=True)
class Run:
    """One run in a sweep: a page's blocks under one configuration, top to bottom or each alone."""

    path: Path
    config: Config
    mode: str  # "page" or "alone"

    def __str__(self) -> str:
        return f"{self.config}, {'page run' if self.mode == 'page' else 'block alone'}"


def _run_cached(run: Run, page_blocks: list[Block], fingerprint: str) -> tuple[list[Result], bool]:
    """:func:`run_page`, its successful result kept in ``.cache/docblocks/``; (results, cached)."""
    key = hashlib.sha256(
        json.dumps([fingerprint, str(run.config), run.mode, _todo(page_blocks)]).encode()
    ).hexdigest()
    stored = CACHE / f"{key}.json"
    if stored.exists():
        return [Result(**r) for r in json.loads(stored.read_text(encoding="utf-8"))], True
    results = run_page(page_blocks, run.config, mode=run.mode)
    if all(r.returncode == 0 for r in results):
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = stored.with_suffix(".tmp")
        partial.write_text(json.dumps([vars(r) for r in results]), encoding="utf-8")
        partial.replace(stored)
    return results, False


@dataclass
class Sweep:
    """Every block's results under every configuration this machine can produce."""

    results: dict[str, dict[Run, Result]]  # block location -> run -> result
    skipped: dict[Config, str]  # configurations this machine cannot produce, and why
    seconds: float
    runs: int
    cached: int

    def problems(self, block: Block) -> list[str]:
        """Why ``block``'s output cannot be written: it failed, wrote to stderr, or printed
        different lines under different configurations (the differing lines named)."""
        found = self.results[block.fence.location]
        where = block.fence.location
        for run, result in found.items():
            if result.returncode != 0 or result.stderr:
                what = "failed" if result.returncode != 0 else "wrote to stderr"
                return [f"{where}: {what} under {run}:\n{textwrap.indent(result.stderr, '    ')}"]
        variants: dict[str, list[Run]] = {}
        for run, result in found.items():
            variants.setdefault(result.stdout, []).append(run)
        if len(variants) == 1:
            return []
        (first, first_runs), *others = variants.items()
        report = [f"{where}: the output differs between configurations:"]
        for stdout, runs in others:
            a, b = first.splitlines(), stdout.splitlines()
            for k in range(max(len(a), len(b))):
                left = a[k] if k < len(a) else "(no line)"
                right = b[k] if k < len(b) else "(no line)"
                if left != right:
                    report.append(f"    output line {k + 1}:")
                    report.append(f"      {left!r}  under {'; '.join(map(str, first_runs))}")
                    report.append(f"      {right!r}  under {'; '.join(map(str, runs))}")
        return ["\n".join(report)]


def sweep(paths: list[Path], jobs: int | None = None, *, quiet: bool = False) -> Sweep:
    """Run every block of ``paths`` under every configuration of :data:`ISAS` x :data:`THREADS`
    that this machine can produce, both in its page's top-to-bottom run and alone in a fresh
    interpreter; runs in parallel (as many threads in flight as cores) and cached."""
    start = time.monotonic()
    jobs = jobs or max(1, os.cpu_count() or 1)
    candidates = [Config(isa, threads) for isa in ISAS for threads in THREADS]
    with ThreadPoolExecutor(max_workers=len(ISAS)) as pool:
        why_not = dict(
            zip(ISAS, pool.map(lambda isa: producible(Config(isa, 1)), ISAS), strict=True)
        )
    configs = [c for c in candidates if why_not[c.isa] is None]
    skipped = {c: str(why_not[c.isa]) for c in candidates if why_not[c.isa] is not None}
    if not quiet:
        for config, why in skipped.items():
            print(f"skipped {config}: {why}", file=sys.stderr)
    fingerprint = _fingerprint()
    by_page = {path: blocks(path) for path in paths}
    runs = [
        Run(path, config, mode)
        for path, page_blocks in by_page.items()
        if page_blocks
        for config in configs
        for mode in ("page", "alone")
    ]
    # as many PyTorch threads in flight as there are cores: a 2-thread run takes two slots,
    # taken at once (one at a time, two such runs could each hold one and wait forever)
    free = [jobs]
    change = threading.Condition()

    def one(run: Run) -> tuple[list[Result], bool]:
        need = min(run.config.threads, jobs)
        with change:
            change.wait_for(lambda: free[0] >= need)
            free[0] -= need
        try:
            return _run_cached(run, by_page[run.path], fingerprint)
        finally:
            with change:
                free[0] += need
                change.notify_all()

    results: dict[str, dict[Run, Result]] = {}
    cached = 0
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for run, (found, hit) in zip(runs, pool.map(one, runs), strict=True):
            cached += hit
            for block, result in zip(by_page[run.path], found, strict=True):
                results.setdefault(block.fence.location, {})[run] = result
    return Sweep(results, skipped, time.monotonic() - start, len(runs), cached)


def _summary(found: Sweep) -> str:
    configs = sorted({run.config for runs in found.results.values() for run in runs}, key=str)
    return (
        f"swept {len(found.results)} blocks under {len(configs)} configurations "
        f"({'; '.join(map(str, configs))}), each in its page's run and alone: {found.runs} runs, "
        f"{found.cached} from the cache, {found.seconds:.0f} s"
    )


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


def update(paths: list[Path], jobs: int | None = None) -> int:
    """Sweep the blocks of ``paths`` (:func:`sweep`), then rewrite each page's outputs and
    record the versions they came from in its front matter. A page any of whose blocks failed,
    wrote to stderr or printed differently under two configurations is not touched at all;
    each such block is reported (page, line, the differing lines and where)."""
    found = sweep(paths, jobs)
    bad = 0
    versions = installed_versions()
    for path in paths:
        page_blocks = blocks(path)
        reports = [line for block in page_blocks for line in found.problems(block)]
        if reports:
            bad += len(reports)
            print("\n".join(reports), file=sys.stderr)
            print(f"NOT UPDATED {_display(path)}: fix the blocks above first", file=sys.stderr)
            continue
        stable = [
            (block, next(iter(found.results[block.fence.location].values())))
            for block in page_blocks
        ]
        changed = _write_expected(path, stable)
        prints = any(block.expected for block in blocks(path))
        changed = record_versions(path, versions if prints else None) or changed
        if changed:
            print(f"updated {_display(path)}")
    print(_summary(found))
    return 1 if bad else 0


def check(paths: list[Path], jobs: int | None = None) -> int:
    """Sweep the blocks of ``paths`` and fail on any problem :func:`update` would refuse, and
    on an output the page does not show."""
    found = sweep(paths, jobs)
    bad = 0
    total = 0
    for path in paths:
        for block in blocks(path):
            total += 1
            reports = found.problems(block)
            result = next(iter(found.results[block.fence.location].values()))
            expected = block.expected.code if block.expected else ""
            if not reports and result.stdout != expected:
                where = block.fence.location
                reports = [f"{where}: stale output; the block prints:\n{result.stdout}"]
            if reports:
                bad += 1
                print("\n".join(reports), file=sys.stderr)
    print(_summary(found))
    print(f"{total - bad} passed, {bad} failed")
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


def save_page_runs(paths: list[Path], folder: Path, config: Config = TEST_CONFIG) -> int:
    """Run each page top to bottom under ``config`` (:func:`run_page`) and write its results to
    ``folder/``:func:`run_file` as soon as it is done: the test session started this in
    the background and reads each page's file when a test asks for it."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        page_blocks = blocks(path)
        results = run_page(page_blocks, config)
        found = {b.fence.location: vars(r) for b, r in zip(page_blocks, results, strict=True)}
        partial = folder / f"{run_file(path)}.tmp"
        partial.write_text(json.dumps(found), encoding="utf-8")
        partial.replace(folder / run_file(path))
    return 0


def run_file(path: Path) -> str:
    """The name of the file :func:`save_page_runs` writes ``path``'s results to: its path,
    ``losses/scratch.md`` -> ``losses--scratch.md.json`` (two chapters may have a lesson of the
    same name)."""
    return _display(path).removeprefix("docs/").replace("/", "--") + ".json"


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
    parser.add_argument("--jobs", type=int, help="parallel runs (default: one per core)")
    parser.add_argument("files", nargs="*", type=Path, help="Markdown files (default: docs/)")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.files] or markdown_files()
    bad = problems(paths)
    if bad:
        print("\n".join(bad), file=sys.stderr)
        return 1
    if args.update:
        return update(paths, args.jobs)
    if args.check:
        return check(paths, args.jobs)
    if args.format:
        return format_blocks(paths)
    if args.save_runs:
        return save_page_runs(paths, args.save_runs)
    status, report = lint(paths)
    print(report, end="")
    return status


if __name__ == "__main__":
    sys.exit(main())
