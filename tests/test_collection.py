"""Collecting the tests starts nothing: ``pytest --collect-only`` (what an IDE runs to discover
the tests) returns with no process of its own left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _processes_with(marker: str) -> list[str]:
    """The processes whose environment holds ``marker`` (every process a command starts
    inherits its environment, even one started in a session of its own)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if marker.encode() in environ:
            found.append(f"{entry.name}: {command}")
    return found


@pytest.mark.processes
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux's /proc")
def test_collecting_every_test_starts_no_process(tmp_path: Path):
    marker = f"NNBASICS_COLLECT_PROBE={uuid.uuid4().hex}"
    name, value = marker.split("=")
    log = tmp_path / "collect.log"
    with log.open("w") as out:  # a file, not a pipe: a process left behind would hold a pipe open
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--collect-only",
                "-q",
                "--codeblocks",
                "tests",
                "docs",
            ],
            cwd=ROOT,
            env=dict(os.environ, **{name: value}),
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=300,
        )
    text = log.read_text(encoding="utf-8")
    assert done.returncode == 0, text[-3000:]
    assert " tests collected" in text
    time.sleep(1)  # a process started in the background would be running now
    assert _processes_with(marker) == []
