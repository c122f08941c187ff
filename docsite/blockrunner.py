"""Run docs blocks in this fresh interpreter; :func:`docsite.runs.run_page` starts it.

``python docsite/blockrunner.py RESULTS`` (run as a file: it imports nothing of docsite)
reads a request on stdin, JSON
``{"mode": "page" | "alone", "blocks": [[kind, code, location], ...]}`` with ``kind``
``"python"`` or ``"shell"``, and writes one ``[stdout, stderr, status]`` per block, in order,
to the file ``RESULTS`` (not to stdout, which the blocks' own C-level writes could reach).

* ``page``: the blocks top to bottom in one namespace, as the page's notebook runs them, each
  block's output caught on its own; a block that changes PyTorch's or NumPy's global settings
  (default dtype, print options, grad mode, threads, ...) fails, since it would change what every
  block after it prints.
* ``alone``: each block in a process of its own, forked from this one before any block ran (only
  PyTorch and NumPy imported, no operation run yet: the state of a fresh interpreter, without
  paying for the import once per block), its file descriptors 1 and 2 caught, so that what C++
  prints is caught too.

The environment (``ATEN_CPU_CAPABILITY``, ``OMP_NUM_THREADS``, ...) is the caller's.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

BLOCK_TIMEOUT = 300  # seconds for one block


def _uses_torch(blocks: list[list[str]]) -> bool:
    return any(re.search(r"\b(torch|nnbasics)\b", code) for _, code, _ in blocks)


def global_state(uses_torch: bool) -> dict[str, Any]:
    """What a block could change for every block after it: PyTorch's and NumPy's settings."""
    if not uses_torch:  # a page without PyTorch: nothing to import, nothing to watch
        return {}
    import numpy
    import torch

    return {
        "default dtype": torch.get_default_dtype(),
        "print options": repr(torch.tensor([1 / 3, 1e8])),
        "grad mode": torch.is_grad_enabled(),
        "deterministic algorithms": torch.are_deterministic_algorithms_enabled(),
        "anomaly detection": torch.is_anomaly_enabled(),
        "threads": torch.get_num_threads(),
        "numpy print options": numpy.get_printoptions(),
    }


def _shell(code: str) -> tuple[str, str, int]:
    proc = subprocess.run(["bash", "-c", code], capture_output=True, text=True)
    return proc.stdout, proc.stderr, proc.returncode


def _exec(code: str, location: str, namespace: dict[str, Any]) -> int:
    """Execute one block in ``namespace``; its exit status (a traceback goes to stderr)."""
    try:
        exec(compile(code, location, "exec"), namespace)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def _fresh_namespace() -> dict[str, Any]:
    return {"__name__": "__main__", "__builtins__": __builtins__}


def run_page(blocks: list[list[str]]) -> list[tuple[str, str, int]]:
    uses_torch = _uses_torch(blocks)
    namespace = _fresh_namespace()
    before = global_state(uses_torch)
    results = []
    for kind, code, location in blocks:
        if kind == "shell":
            results.append(_shell(code))
            continue
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = _exec(code, location, namespace)
        after = global_state(uses_torch)
        for what in (k for k in before if after[k] != before[k]):
            err.write(
                f"{location}: the block changes {what} for every block after it "
                f"({before[what]!r} -> {after[what]!r}); restore it in the block\n"
            )
            status = status or 1
        before = after
        results.append((out.getvalue(), err.getvalue(), status))
    return results


def _forked(code: str, location: str, folder: str) -> tuple[str, str, int]:
    """Run one block in a child forked from this process; what it wrote to fds 1 and 2."""
    paths = [os.path.join(folder, name) for name in ("out", "err")]
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        status = 1
        try:
            signal.alarm(BLOCK_TIMEOUT)  # its default action ends the child
            for fd, path in zip((1, 2), paths, strict=True):
                target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                os.dup2(target, fd)
                os.close(target)
            sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), encoding="utf-8")
            sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), encoding="utf-8")
            status = _exec(code, location, _fresh_namespace())
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)
    _, wait_status = os.waitpid(pid, 0)
    out, err = (Path(p).read_text(encoding="utf-8", errors="replace") for p in paths)
    if os.WIFSIGNALED(wait_status):
        sig = os.WTERMSIG(wait_status)
        why = f"timed out after {BLOCK_TIMEOUT} s" if sig == signal.SIGALRM else f"signal {sig}"
        return out, err + f"{location}: the block was killed ({why})\n", 1
    return out, err, os.WEXITSTATUS(wait_status)


def run_alone(blocks: list[list[str]]) -> list[tuple[str, str, int]]:
    if _uses_torch(blocks):
        import numpy  # noqa: F401
        import torch  # noqa: F401
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for kind, code, location in blocks:
            if kind == "shell":
                results.append(_shell(code))
            else:
                results.append(_forked(code, location, folder))
    return results


def main() -> None:
    request = json.load(sys.stdin)
    run = {"page": run_page, "alone": run_alone}[request["mode"]]
    results = run(request["blocks"])
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        json.dump(results, out)


if __name__ == "__main__":
    main()
