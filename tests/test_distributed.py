"""fit on torch.distributed: two CPU ranks (gloo, launched by torchrun) return the same
History and weights, their sharded validation equals one pass over the whole validation set; a
rank that dies ends the run instead of hanging; every bad input is one clear error.

That two ranks with batch B train as one process with batch 2B (the losses and the weights) is
proven once, by the block of docs/training-advanced/ddp.md (run by pytest-codeblocks)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.nn as tnn
from torch.utils.data import DataLoader, IterableDataset, TensorDataset

from nnbasics import distributed as ndist
from nnbasics.training import fit

pytestmark = [
    pytest.mark.skipif(
        not torch.distributed.is_available(), reason="this PyTorch has no torch.distributed"
    ),
    # the processes tier (conftest.py): most of these start torchrun's ranks
    pytest.mark.processes,
]

# The same fit call on every rank: 64 samples, no shuffling, batch size argv[2] per rank,
# a validation set, a cosine schedule and a checkpoint; rank r writes out-r.json, with the
# trained model's loss and accuracy on the whole validation set in one plain pass.
SCRIPT = r"""
import json, os, sys
import torch, torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from nnbasics.training import fit

out, batch, die_after = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rank = int(os.environ.get("RANK", "0"))
g = torch.Generator().manual_seed(0)
X, y = torch.randn(64, 6, generator=g), torch.randint(0, 3, (64,), generator=g)
Xv, yv = torch.randn(21, 6, generator=g), torch.randint(0, 3, (21,), generator=g)
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)


class Dying(nn.CrossEntropyLoss):
    calls = 0

    def forward(self, a, b):
        Dying.calls += 1
        if die_after and rank == 1 and Dying.calls > die_after:
            os.kill(os.getpid(), 9)  # the rank dies mid-training, as a crashed machine would
        return super().forward(a, b)


h = fit(model, DataLoader(TensorDataset(X, y), batch_size=batch), Dying(), opt, 4,
        scheduler=sched, val_loader=DataLoader(TensorDataset(Xv, yv), batch_size=8),
        log_every=1, checkpoint=os.path.join(os.path.dirname(out), "ckpt.pt"))
with torch.no_grad():
    logits = model(Xv)
full = {"loss": nn.functional.cross_entropy(logits, yv).item(),
        "accuracy": (logits.argmax(1) == yv).float().mean().item()}
json.dump({"history": h.__dict__, "weights": [p.detach().flatten().tolist()
           for p in model.parameters()], "full_val": full}, open(f"{out}-{rank}.json", "w"))
"""


def _torchrun(tmp_path: Path, nproc: int, batch: int, die_after: int = 0, timeout: int = 120):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT, encoding="utf-8")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += [f"--nproc-per-node={nproc}", str(script), str(tmp_path / "out"), str(batch)]
    command += [str(die_after)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    finally:
        # nothing is left behind, whatever happened
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    return process.returncode, output


def _result(tmp_path: Path, rank: int) -> dict:
    return json.loads((tmp_path / f"out-{rank}.json").read_text())


def test_two_ranks_return_the_same_history_and_validate_on_the_whole_set(tmp_path: Path):
    code, output = _torchrun(tmp_path, 2, 8)
    assert code == 0, output
    rank0, rank1 = _result(tmp_path, 0), _result(tmp_path, 1)
    assert rank0 == rank1  # the same History and weights on every rank
    history = rank0["history"]
    assert len(history["train_loss"]) == len(history["val_loss"]) == 4
    # the validation set, split between the ranks and the results combined, gives the loss and
    # the accuracy of one pass over all 21 samples
    assert history["val_loss"][-1] == pytest.approx(rank0["full_val"]["loss"], rel=1e-5)
    assert history["val_accuracy"][-1] == pytest.approx(rank0["full_val"]["accuracy"])
    # the scheduler steps once per epoch on every rank: CosineAnnealingLR(T_max=4) from lr 0.1
    cosine = [0.05 * (1 + math.cos(math.pi * epoch / 4)) for epoch in range(4)]
    assert history["lr"] == pytest.approx(cosine)
    # rank 0 alone prints (one line per epoch) and writes the checkpoint
    assert output.count("Epoch 1,") == 1 and output.count("Epoch 4,") == 1
    assert (tmp_path / "ckpt.pt").is_file()


def test_a_rank_that_dies_ends_the_run_with_an_error_not_a_hang(tmp_path: Path):
    start = time.monotonic()
    code, output = _torchrun(tmp_path, 2, 8, die_after=5, timeout=150)
    elapsed = time.monotonic() - start
    assert code != 0, output
    assert elapsed < 150
    assert not (tmp_path / "out-0.json").exists()


def test_world_size_without_the_other_variables_is_one_clear_error(monkeypatch):
    for name in ndist.TORCHRUN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WORLD_SIZE", "2")
    model = tnn.Linear(2, 2)
    loader = DataLoader(TensorDataset(torch.randn(4, 2), torch.randint(0, 2, (4,))), batch_size=2)
    with pytest.raises(ValueError, match="missing: RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT"):
        fit(model, loader, tnn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), 1)


def test_a_port_in_use_is_one_clear_error(monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1"}
        for name, value in {**env, "MASTER_PORT": str(port)}.items():
            monkeypatch.setenv(name, value)
        model = tnn.Linear(2, 2)
        data = TensorDataset(torch.randn(4, 2), torch.randint(0, 2, (4,)))
        with pytest.raises(ValueError, match=f"cannot start the process group at 127.0.0.1:{port}"):
            fit(
                model,
                DataLoader(data, batch_size=2),
                tnn.CrossEntropyLoss(),
                torch.optim.SGD(model.parameters(), lr=0.1),
                1,
                distributed=True,
            )
    assert not torch.distributed.is_initialized()


class _Stream(IterableDataset):
    def __iter__(self):
        return iter([(torch.zeros(2), 0)])


def test_loaders_that_cannot_be_split_and_too_few_samples_are_clear_errors():
    ctx = ndist.Context(rank=0, world_size=4, device=None, owns_group=False)
    small = DataLoader(TensorDataset(torch.randn(3, 2), torch.zeros(3)), batch_size=2)
    with pytest.raises(ValueError, match="loader has 3 samples for 4 ranks"):
        ndist.shard(small, ctx)
    with pytest.raises(ValueError, match="val_loader has 3 samples for 4 ranks"):
        ndist.shard_for_evaluation(small, ctx)
    with pytest.raises(ValueError, match="got list"):
        ndist.shard([(torch.zeros(2), 0)], ctx)
    with pytest.raises(ValueError, match="IterableDataset"):
        ndist.shard(DataLoader(_Stream()), ctx)


def test_shards_cover_the_data_with_the_loaders_batch_size():
    data = TensorDataset(torch.arange(10.0), torch.zeros(10))
    loader = DataLoader(data, batch_size=3, shuffle=True)
    seen = []
    for rank in range(2):
        shard = ndist.shard(loader, ndist.Context(rank, 2, None, False))
        assert shard.batch_size == 3 and len(shard.sampler) == 5
        seen += [int(i) for batch, _ in shard for i in batch]
    assert sorted(seen) == list(range(10))
    val = [ndist.shard_for_evaluation(loader, ndist.Context(r, 3, None, False)) for r in range(3)]
    assert sorted(int(i) for v in val for batch, _ in v for i in batch) == list(range(10))


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [(None, "2", True), (None, "1", False), (True, "1", True), (False, "4", False)],
)
def test_distributed_none_follows_world_size(monkeypatch, value, env, expected):
    monkeypatch.setenv("WORLD_SIZE", env)
    assert ndist.requested(value) is expected


def test_distributed_bad_values(monkeypatch):
    with pytest.raises(TypeError, match="distributed must be None, True or False, got 'yes'"):
        ndist.requested("yes")
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ValueError, match="WORLD_SIZE must be an integer, got 'two'"):
        ndist.requested(None)
