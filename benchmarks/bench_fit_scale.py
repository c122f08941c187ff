"""What fit's checkpoints and its data-parallel mode cost, on this machine's CPUs.

1. Checkpointing every epoch: the article's full example (50 epochs), ``fit`` with and without
   ``checkpoint=``, run alternately; median wall time of each and their ratio (target <= 1.05).
2. ``fit`` under DistributedDataParallel against a hand-written DDP loop doing the same work
   (``DistributedSampler``, ``DistributedDataParallel``, the article's loop), both launched by
   ``torchrun --nproc-per-node 2`` on the CPU (gloo); ratio of the medians (target <= 1.05).
3. Samples per second of ``fit`` in one process and in two (torchrun, one thread each).

    python benchmarks/bench_fit_scale.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from nnbasics.training import article_example

# One rank's work: the article's network on 8192 random samples of 20 features, 5 classes,
# batch 64 per rank, 3 epochs; argv: "fit" or "hand". Rank 0 prints the seconds it took.
RANK_SCRIPT = r"""
import os, sys, time
import torch, torch.distributed as dist, torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler
from nnbasics.models import make_classifier
from nnbasics.training import fit

mode, epochs = sys.argv[1], 3
g = torch.Generator().manual_seed(0)
X, y = torch.randn(8192, 20, generator=g), torch.randint(0, 5, (8192,), generator=g)
torch.manual_seed(0)
model = make_classifier()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
criterion = nn.CrossEntropyLoss()
loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)
start = time.perf_counter()
if mode == "fit":
    fit(model, loader, criterion, optimizer, epochs, max_grad_norm=1.0, progress=False)
else:
    dist.init_process_group("gloo")
    ddp = nn.parallel.DistributedDataParallel(model)
    sampler = DistributedSampler(loader.dataset, shuffle=True)
    shard = DataLoader(loader.dataset, batch_size=64, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        ddp.train()
        total = 0.0
        for batch_x, batch_y in shard:
            optimizer.zero_grad()
            loss = criterion(ddp(batch_x), batch_y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            total += loss.item()
        mean = torch.tensor([total / len(shard)])
        dist.all_reduce(mean)
    dist.destroy_process_group()
if int(os.environ.get("RANK", "0")) == 0:
    print(f"seconds {time.perf_counter() - start:.4f}")
"""


def _torchrun(script: Path, nproc: int, mode: str) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += [f"--nproc-per-node={nproc}", str(script), mode]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    return float(next(line for line in out.splitlines() if line.startswith("seconds")).split()[1])


def _checkpoint_cost(repeats: int) -> None:
    times: dict[str, list[float]] = {"without": [], "with": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            for name in times:
                kwargs = {"checkpoint": Path(tmp) / "run.pt"} if name == "with" else {}
                example = article_example(0)
                start = time.perf_counter()
                example.fit(50, progress=False, **kwargs)
                times[name].append(time.perf_counter() - start)
    without, with_ = statistics.median(times["without"]), statistics.median(times["with"])
    print(f"article example, 50 epochs: without checkpoints {without:.3f} s, with {with_:.3f} s")
    print(f"ratio with / without checkpoints  {with_ / without:.3f}  (target <= 1.05)")


def _distributed(repeats: int) -> None:
    samples = 8192 * 3
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "rank.py"
        script.write_text(RANK_SCRIPT, encoding="utf-8")
        runs: dict[tuple[int, str], list[float]] = {(2, "fit"): [], (2, "hand"): [], (1, "fit"): []}
        for _ in range(repeats):
            for nproc, mode in runs:
                runs[nproc, mode].append(_torchrun(script, nproc, mode))
    med = {key: statistics.median(values) for key, values in runs.items()}
    print(
        f"2 ranks (gloo, 1 thread each): fit {med[2, 'fit']:.3f} s, "
        f"hand-written DDP loop {med[2, 'hand']:.3f} s"
    )
    print(f"ratio fit / hand-written DDP  {med[2, 'fit'] / med[2, 'hand']:.3f}  (target <= 1.05)")
    for nproc in (1, 2):
        print(f"{nproc} process(es): {samples / med[nproc, 'fit']:,.0f} samples/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, median of {args.repeats}")
    _checkpoint_cost(args.repeats)
    _distributed(args.repeats)


if __name__ == "__main__":
    main()
