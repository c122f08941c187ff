"""The GitHub workflows: zizmor and the workflow JSON schema report nothing; structure holds."""

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

import nnbasics
from docsite import markdown, runs

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _tool(module, *args):
    bindir = Path(sys.executable).parent
    return subprocess.run(
        [str(bindir / module), *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_zizmor_reports_nothing():
    result = _tool("zizmor", "--offline", "--no-progress", ".github/workflows")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout


def test_workflows_match_the_github_schema():
    result = _tool(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _load(name):
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))


def test_ci_deploys_the_site_the_tests_checked_main_only():
    """The test job builds the site once (make test) and uploads that folder; the deploy job
    publishes it, after the package jobs passed too. No job builds the site a second time."""
    ci = _load("ci.yml")
    on = ci[True]  # YAML 1.1 reads the key `on` as True
    assert "pull_request" in on and "push" in on and "schedule" in on
    jobs = ci["jobs"]
    assert set(jobs) == {"test", "package", "deploy"}
    assert sorted(jobs["deploy"]["needs"]) == ["package", "test"]
    assert "refs/heads/main" in jobs["deploy"]["if"]
    steps = jobs["test"]["steps"]
    run = next(k for k, step in enumerate(steps) if step.get("run") == "make test PYTHON=python")
    upload = next(k for k, s in enumerate(steps) if "upload-pages-artifact" in s.get("uses", ""))
    assert upload > run and steps[upload]["with"]["path"] == "site"
    assert not any("make build" in str(step.get("run", "")) for job in jobs.values()
                   for step in job.get("steps", []))  # fmt: skip
    # the execution cache is restored, except by the scheduled run, which starts from scratch
    cache = next(s for s in steps if "actions/cache@" in s.get("uses", ""))
    assert cache["if"] == "github.event_name != 'schedule'"
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert ci["permissions"] == {}


def test_ci_checks_outputs_on_their_versions_and_the_package_on_the_torch_range():
    jobs = _load("ci.yml")["jobs"]
    # the docs outputs: on the Python the pages record (the pinned torch is make test's own)
    recorded = [runs.recorded_versions(p) for p in markdown.pages_with_output()]
    python = recorded[0]["python"]
    assert all(r["python"] == python for r in recorded)
    setup = next(s for s in jobs["test"]["steps"] if "setup-python" in s.get("uses", ""))
    assert setup["with"]["python-version"] == python
    # the package: the oldest torch pyproject allows on the oldest Python, the newest on the
    # newest
    rows = jobs["package"]["strategy"]["matrix"]["include"]
    floor = ".".join(map(str, nnbasics.MIN_TORCH))
    assert [row["python-version"] for row in rows] == ["3.10", "3.13"]
    assert rows[0]["torch"] == f"{floor}.0"
    newest = tuple(map(int, rows[1]["torch"].split(".")))
    assert newest > tuple(map(int, runs.installed_versions()["torch"].split(".")))
    step = jobs["package"]["steps"][-1]["run"]
    assert step == "make test-package PYTHON=python TORCH=torch==${{ matrix.torch }}"


def test_every_action_is_pinned_by_commit_with_its_version():
    for wf in WORKFLOWS:
        for line in wf.read_text(encoding="utf-8").splitlines():
            m = re.search(r"uses:\s*([^\s#]+)(.*)", line)
            if m:
                ref = m.group(1).split("@")[1]
                assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{wf.name}: {line.strip()}"
                assert re.search(r"#\s*v\d", m.group(2)), f"{wf.name}: version comment missing"


def test_sdist_and_wheel_build_and_pass_twine_check(built_dists: list[Path]):
    dists = built_dists
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, dists)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    names = zipfile.ZipFile(dists[1]).namelist()
    assert "nnbasics/py.typed" in names and not any(n.startswith("tests/") for n in names)
    metadata = (
        zipfile.ZipFile(dists[1]).read(next(n for n in names if n.endswith("METADATA"))).decode()
    )
    requires = [
        line
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    # torch, and numpy (without which PyTorch warns on stderr): nothing else by default
    assert sorted(r.split()[1].split(">")[0] for r in requires) == ["numpy", "torch"]
