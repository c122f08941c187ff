"""nnbasics (from scratch) versus PyTorch on the CPU: time ratios, median of repeats.

Targets (issue "nnbasics from scratch"): activations and losses <= 3x; optimizer steps
<= 3x torch's foreach=False step; ctc_loss <= 20x at T=50, N=16, C=20, S=30;
``import nnbasics`` <= 50 ms over ``import torch``. The functions, their inputs and their
targets are the ``bench`` rows of the registry ``testkit.ops.OPS`` (the test kit beside the
tests, not in the wheel: run this from the repository root, as a module).

    python -m benchmarks.bench_functional [--repeats 21] [--threads 1] [--markdown]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as TF

from nnbasics import optim
from testkit.ops import OPS


def _median_times(ours, theirs, repeats: int, inner: int = 20) -> tuple[float, float]:
    """Median seconds per call of each, timed in alternating rounds so that a noisy
    neighbour slows both sides alike."""
    ours(), theirs()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, out in ((ours, times[0]), (theirs, times[1])):
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            out.append((time.perf_counter() - start) / inner)
    return statistics.median(times[0]), statistics.median(times[1])


def _added_import_ms(modules: str) -> float:
    """Milliseconds that importing ``modules`` adds once torch is imported (median of 7
    fresh interpreters)."""
    code = (
        "import time, torch; t = time.perf_counter(); "
        f"import {modules}; print(time.perf_counter() - t)"
    )
    runs = [float(subprocess.check_output([sys.executable, "-c", code])) for _ in range(7)]
    return 1000 * statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (default 1: steadier ratios)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cases = {}
    targets = {}
    for op in OPS:
        for label, ours, theirs in op.benchmarks():
            cases[label] = (ours, theirs)
            targets[label] = op.bench_target
    params = [torch.randn(256, 256, requires_grad=True) for _ in range(4)]
    for p in params:
        p.grad = torch.randn_like(p)

    def step_case(ours_cls, torch_cls, **kw):
        ours = ours_cls([p.detach().clone().requires_grad_() for p in params], **kw)
        theirs = torch_cls(
            [p.detach().clone().requires_grad_() for p in params], foreach=False, **kw
        )
        for opt in (ours, theirs):
            for q, p in zip(opt.param_groups[0]["params"], params, strict=True):
                q.grad = p.grad.clone()
        return ours.step, theirs.step

    cases["SGD step (momentum, nesterov)"] = step_case(
        optim.SGD, torch.optim.SGD, lr=0.01, momentum=0.9, nesterov=True
    )
    cases["Adam step"] = step_case(optim.Adam, torch.optim.Adam, lr=1e-3)
    cases["AdamW step (amsgrad)"] = step_case(optim.AdamW, torch.optim.AdamW, lr=1e-3, amsgrad=True)
    rows = []
    for name, (ours, theirs) in cases.items():
        a, b = _median_times(ours, theirs, args.repeats)
        target = targets.get(name, 3.0)
        rows.append((name, f"{a * 1e6:.1f}", f"{b * 1e6:.1f}", a / b, target))
    threads = torch.get_num_threads()
    header = f"torch {torch.__version__}, {threads} threads, median of {args.repeats}"
    if args.markdown:
        print(f"{header}\n\n| | nnbasics (µs) | torch (µs) | ratio | target |")
        print("|---|--:|--:|--:|--:|")
        for name, a, b, ratio, target in rows:
            print(f"| {name} | {a} | {b} | {ratio:.2f} | <= {target:g} |")
    else:
        print(header)
        print(f"{'function':34} {'nnbasics':>10} {'torch':>10} {'ratio':>7} target")
        for name, a, b, ratio, target in rows:
            flag = "" if ratio <= target else "  over"
            print(f"{name:34} {a:>8}us {b:>8}us {ratio:7.2f} <= {target:g}{flag}")
    # the one elementary operation a from-scratch sigmoid / GELU cannot avoid, against torch's
    # fused kernel: a lower bound on their ratios whatever the rest of the formula costs
    x = torch.randn(256, 512)
    floors = {
        "torch.exp alone / torch.sigmoid": (lambda: torch.exp(x), lambda: torch.sigmoid(x)),
        "torch.erf alone / F.gelu": (lambda: torch.erf(x), lambda: TF.gelu(x)),
    }
    print()
    for name, (one_op, fused) in floors.items():
        a, b = _median_times(one_op, fused, args.repeats)
        print(f"floor: {name} = {a / b:.2f}")
    lazy = _added_import_ms("nnbasics")
    full = _added_import_ms("nnbasics.functional, nnbasics.nn, nnbasics.optim, nnbasics.training")
    print(
        f"\nimport nnbasics after torch: +{lazy:.1f} ms; with functional, nn, optim and "
        f"training: +{full:.1f} ms (target <= 50 ms)"
    )


if __name__ == "__main__":
    main()
