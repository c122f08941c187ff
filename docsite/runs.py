"""Run, check, lint and update the runnable blocks of the docs.

The sweep (:func:`sweep`) runs each page's blocks under every configuration this machine can
produce (PyTorch's AVX-512, AVX2 and default kernels, MKL and oneDNN capped to match, with 1
and 2 threads), both top to bottom in the page's run and each block alone, and refuses an
output that differs between them; :func:`update` then rewrites the outputs the pages show.
The blocks themselves run in a fresh interpreter (``docsite/blockrunner.py``). The command
line is ``python -m docsite`` (:mod:`docsite.__main__`).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from docsite.markdown import MARKER, Block, Fence, blocks, display, front_matter_bounds

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RUN_TIMEOUT = 300  # seconds for one block


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


def recorded_versions(path: Path) -> dict[str, str] | None:
    """The versions ``path``'s front matter says its outputs came from (None if it says none)."""
    import yaml

    lines = path.read_text(encoding="utf-8").splitlines()
    bounds = front_matter_bounds(lines)
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
    bounds = front_matter_bounds(lines)
    if bounds is None:
        if versions is not None and path.parent == DOCS:
            raise ValueError(f"{display(path)}: a page with outputs needs front matter")
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
# with one thread (conftest.py), so both the instruction set and the thread count vary
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
    """Run blocks in one fresh interpreter (``docsite/blockrunner.py``) under ``config`` (None:
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


RUNNER = Path(__file__).resolve().parent / "blockrunner.py"
CACHE = ROOT / ".cache" / "docblocks"


def _fingerprint() -> str:
    """What every block's output depends on besides its own code and configuration: the
    package's source, the runner, the locked dependencies, the installed versions and this
    CPU."""
    digest = hashlib.sha256()
    locked = [RUNNER, ROOT / "pyproject.toml", ROOT / "constraints.txt"]
    for path in sorted([*(ROOT / "nnbasics").rglob("*.py"), *locked]):
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
            print(f"NOT UPDATED {display(path)}: fix the blocks above first", file=sys.stderr)
            continue
        stable = [
            (block, next(iter(found.results[block.fence.location].values())))
            for block in page_blocks
        ]
        changed = _write_expected(path, stable)
        prints = any(block.expected for block in blocks(path))
        changed = record_versions(path, versions if prints else None) or changed
        if changed:
            print(f"updated {display(path)}")
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
            print(f"formatted {display(path)}")
    return 0


def page_results(
    path: Path, config: Config = TEST_CONFIG, *, use_cache: bool = True
) -> tuple[dict[str, Result], bool]:
    """Each block of ``path`` (by location) run top to bottom in a fresh interpreter under
    ``config``, and whether the results came from the cache.

    The execution cache (``.cache/docblocks/``, :func:`_run_cached`) keys a page's run by the
    blocks' code, the package's source, the runner, the locked dependencies, the installed
    versions, the configuration and this CPU: an unchanged page is not run again. Only a run
    whose every block succeeded is kept. The expected outputs are not part of the key: the
    cached result is what the blocks print, compared with the page each time."""
    page_blocks = blocks(path)
    run = Run(path, config, "page")
    if use_cache:
        results, hit = _run_cached(run, page_blocks, _fingerprint())
    else:
        results, hit = run_page(page_blocks, config), False
    found = {b.fence.location: r for b, r in zip(page_blocks, results, strict=True)}
    return found, hit
