"""What the tests share: the built site, the page runs, the built distributions; the tiers.

At the repository's root, so that it applies to the docs blocks pytest-codeblocks collects from
``docs/`` and ``README.md`` as much as to ``tests/``.

Nothing starts when pytest collects: a test that needs the site asks for ``built_site``,
which builds it (``docsite.build``: skipped when nothing the build reads has changed since
``site/`` was built); a test of a page's blocks asks ``page_runs`` for that page's run, made
then (or taken from the execution cache, ``docsite.runs.page_results``). Under
pytest-xdist the workers share both through file locks.

Every test is in one tier, a marker given here (:data:`TIERS`): ``unit`` (the package and the
site machinery, in the test process; no build, no page run), ``processes`` (a test that
declares it starts Python processes: torchrun, a run resumed in a fresh interpreter, a figure
build), ``docs`` (the pages: their blocks, run by
pytest-codeblocks and by ``page_runs``, and their prose), ``site`` (the built HTML),
``browser`` (the built site in Chromium), ``packaging`` (the wheel, the workflows, lint).
``make check`` runs the unit tier and the blocks of the pages changed since the last commit;
``make page PAGE=...`` one page's tests; ``make test`` everything.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

from docsite import build, runs

ROOT = Path(__file__).resolve().parent
# One PyTorch (OpenMP) thread per process, here and in every process the tests start: a test run
# runs several PyTorch processes at once (the pytest-xdist workers, a build, the page runs), and
# with more threads than cores they spin against each other. The outputs must not depend on it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

# `make page PAGE=losses` (or several, comma-separated: `make check`): the tests of those pages
ONE_PAGE = [name for name in os.environ.get("NNBASICS_PAGE", "").split(",") if name]
LOCKS = ROOT / ".cache" / "locks"


def _lock(name: str) -> FileLock:
    LOCKS.mkdir(parents=True, exist_ok=True)
    return FileLock(str(LOCKS / f"{name}.lock"))


def _about_page(item: pytest.Item, name: str) -> bool:
    """Whether ``item`` tests the page ``docs/<name>.md`` (or the chapter ``docs/<name>/``): its
    blocks, or a test parametrized by that page (its file, its URL, its built HTML file)."""
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


def _uses(item: pytest.Item, fixture: str) -> bool:
    return fixture in getattr(item, "fixturenames", ())


TIERS = ("unit", "processes", "docs", "site", "browser", "packaging")
# modules whose every test is in one tier; the others: by the fixtures a test uses
_MODULE_TIERS = {
    "test_browser": "browser",
    "test_install": "packaging",
    "test_workflows": "packaging",
    "test_lint": "packaging",
    "test_docs": "docs",
    "test_prose_numbers": "docs",
    "test_pages": "docs",
    "test_glossary": "docs",
}


def tier(item: pytest.Item) -> str:
    """The tier of a test (see the module docstring)."""
    if item.nodeid.startswith(("docs/", "README.md")):  # a block, run by pytest-codeblocks
        return "docs"
    if item.get_closest_marker("processes"):  # declared by the test: it starts processes
        return "processes"
    if _uses(item, "built_site"):
        return "browser" if item.path.stem == "test_browser" else "site"
    module = _MODULE_TIERS.get(item.path.stem)
    if module:
        return module
    if _uses(item, "page_runs"):
        return "docs"
    if _uses(item, "built_dists"):
        return "packaging"
    return "unit"


@pytest.hookimpl(tryfirst=True)  # before -m selects by the tiers given here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test's tier as a marker (``pytest -m unit``), the docs blocks of pytest-codeblocks
    included.
    `make page`: only the tests of that page. The order: the one test that builds the site
    first (under pytest-xdist one worker builds while the others run the rest), the tests
    that read the site last."""
    for item in items:
        item.add_marker(tier(item))
    if ONE_PAGE:
        keep = [item for item in items if any(_about_page(item, name) for name in ONE_PAGE)]
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep

    def order(item: pytest.Item) -> int:
        if item.get_closest_marker("builds_site"):
            return 0
        return 2 if _uses(item, "built_site") else 1

    items.sort(key=order)


def pytest_configure(config: pytest.Config) -> None:
    for name in TIERS:
        config.addinivalue_line("markers", f"{name}: a test of the {name} tier (tests/conftest.py)")
    config.addinivalue_line(
        "markers", "builds_site: the test that builds the site (runs first: see conftest.py)"
    )


# --- what each tier costs: CPU seconds per test (its own and its finished child processes'),
# summed per tier at the end of the run and written to test-artifacts/tier-cpu.json ----------

_CPU = "cpu_seconds"
_started = pytest.StashKey[float]()
_spent: dict[str, list[float]] = {}


def _cpu_now() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _kind(item: pytest.Item) -> str:
    """The tier, and for the docs tier what ran: a block in the test process
    (pytest-codeblocks), a block's page run, or another test."""
    name = next((m.name for m in item.iter_markers() if m.name in TIERS), "unit")
    if name != "docs":
        return name
    if item.nodeid.startswith(("docs/", "README.md")):
        return "docs: blocks in the test process"
    return "docs: page runs" if _uses(item, "page_runs") else "docs: other"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_started] = _cpu_now()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    if call.when == "teardown" and _started in item.stash:
        report.user_properties.append((_CPU, (_kind(item), _cpu_now() - item.stash[_started])))
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Where the reports arrive (the controller, under pytest-xdist): add up the seconds."""
    for name, value in report.user_properties:
        if name == _CPU:
            kind, seconds = value
            _spent.setdefault(kind, []).append(seconds)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _spent:
        return
    summary = {
        kind: {
            "tests": len(values),
            "cpu_seconds": round(sum(values), 1),
            "per_test": round(sum(values) / len(values), 3),
        }
        for kind, values in sorted(_spent.items())
    }
    terminalreporter.write_sep("-", "CPU seconds (tests and their finished child processes)")
    for kind, row in summary.items():
        terminalreporter.write_line(
            f"{kind}: {row['cpu_seconds']:.0f} s in {row['tests']} tests "
            f"({row['per_test']:.2f} s each)"
        )
    out = ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "tier-cpu.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site ``make build`` builds in ``site/`` (built now unless nothing it reads changed
    since), or, under ``make page``, that page alone with the home page."""
    if ONE_PAGE:
        dest = tmp_path_factory.getbasetemp()
        if os.environ.get("PYTEST_XDIST_WORKER"):
            dest = dest.parent  # the workers' common temporary folder
        config = build.one_page_config(ONE_PAGE[0])
        dest = dest / f"site-{ONE_PAGE[0].replace('/', '-')}"
    else:
        dest, config = build.SITE, ROOT / "mkdocs.yml"
    with _lock(f"build-{dest.name}"):
        done = build.build(dest, config)
    assert done is None or done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr}"
    return dest


@pytest.fixture(scope="session")
def page_runs() -> Callable[[Path], dict[str, runs.Result]]:
    """Each page's blocks run top to bottom in a fresh interpreter under
    ``runs.TEST_CONFIG`` (PyTorch's plain kernels, two threads): made when a test first asks
    for that page, at most once per page even under pytest-xdist, and kept in the execution
    cache (``docsite.runs.page_results``)."""
    done: dict[Path, dict[str, runs.Result]] = {}

    def results(path: Path) -> dict[str, runs.Result]:
        if path not in done:
            with _lock("page-" + runs.display(path).replace("/", "-")):
                done[path], _ = runs.page_results(path)
        return done[path]

    return results


@pytest.fixture(scope="session")
def built_dists(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The sdist and the wheel, built once per test run: ``[*.tar.gz, *.whl]``."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    dest = base / "dist"
    with FileLock(str(base / "dist.lock")):
        if not dest.exists():
            done = subprocess.run(
                [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dest), str(ROOT)],
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert done.returncode == 0, done.stdout + done.stderr
    dists = sorted(dest.iterdir(), key=lambda p: p.suffix)
    assert [p.suffix for p in dists] == [".gz", ".whl"]
    return dists
