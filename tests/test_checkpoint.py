"""fit's checkpoints (resume equals an uninterrupted run, in a new process), early stopping,
and every way a checkpoint can be wrong."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn as tnn
from torch.utils.data import DataLoader, TensorDataset

from nnbasics import checkpoint as ckpt
from nnbasics.training import fit

# One run of fit in a fresh interpreter: the data come from their own generator, the model,
# the loader's shuffling and Dropout from the global one (seeded with argv[2]); a Dropout layer,
# AdamW, a cosine schedule, a validation set. argv: out.json, seed, epochs, checkpoint or "",
# resume (0/1), loader generator (0/1), early-stopping patience (0 = none), the schedule's
# T_max (the total epochs: an interrupted run is one that stops after fewer).
RUN = r"""
import json, sys
import torch, torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from nnbasics.training import fit

out, seed, epochs, path, resume, own_generator, patience, t_max = sys.argv[1:]
g = torch.Generator().manual_seed(1234)
X, y = torch.randn(96, 6, generator=g), torch.randint(0, 3, (96,), generator=g)
Xv, yv = torch.randn(32, 6, generator=g), torch.randint(0, 3, (32,), generator=g)
torch.manual_seed(int(seed))
model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 3))
opt = torch.optim.AdamW(model.parameters(), lr=0.05)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(t_max))
gen = torch.Generator().manual_seed(int(seed) + 7) if own_generator == "1" else None
loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True, generator=gen)
val = DataLoader(TensorDataset(Xv, yv), batch_size=32)
h = fit(model, loader, nn.CrossEntropyLoss(), opt, int(epochs), scheduler=sched,
        val_loader=val, checkpoint=path or None, resume=resume == "1",
        early_stopping=int(patience) or None)
json.dump({"history": h.__dict__,
           "weights": [p.detach().flatten().tolist() for p in model.parameters()]},
          open(out, "w"))
"""


def _run(tmp_path: Path, name: str, *args: object) -> dict:
    out = tmp_path / f"{name}.json"
    subprocess.run(
        [sys.executable, "-c", RUN, str(out), *map(str, args)],
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=120,
    )
    return json.loads(out.read_text())


@pytest.mark.parametrize(
    ("own_generator", "patience", "total", "split"),
    [(0, 0, 6, 3), (1, 2, 8, 2)],
    ids=["global-generator", "loader-generator-early-stopping"],
)
@pytest.mark.processes
def test_a_resumed_run_in_a_new_process_equals_the_uninterrupted_run(
    tmp_path: Path, own_generator: int, patience: int, total: int, split: int
):
    whole = _run(tmp_path, "whole", 0, total, "", 0, own_generator, patience, total)
    path = tmp_path / "run.pt"
    _run(tmp_path, "first", 0, split, path, 0, own_generator, patience, total)
    # fresh objects, another global seed: everything that matters comes from the checkpoint
    resumed = _run(tmp_path, "resumed", 99, total, path, 1, own_generator, patience, total)
    assert resumed["history"] == whole["history"]
    assert resumed["weights"] == whole["weights"]
    assert len(whole["history"]["train_loss"]) > split


def _setup(hidden: int = 8, seed: int = 0):
    torch.manual_seed(seed)
    X, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    model = tnn.Sequential(tnn.Linear(4, hidden), tnn.ReLU(), tnn.Linear(hidden, 2))
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)
    return model, loader


def test_a_checkpoint_of_another_model_optimizer_or_scheduler_is_one_clear_error(
    tmp_path: Path,
):
    path = tmp_path / "run.pt"
    model, loader = _setup()
    opt = torch.optim.AdamW(model.parameters())
    fit(model, loader, tnn.CrossEntropyLoss(), opt, 1, checkpoint=path)
    saved = path.read_bytes()

    other, loader = _setup(hidden=16)
    with pytest.raises(ValueError, match=r"does not fit this model: 0\.weight has shape \(8, 4\)"):
        fit(
            other,
            loader,
            tnn.CrossEntropyLoss(),
            torch.optim.AdamW(other.parameters()),
            2,
            checkpoint=path,
            resume=True,
        )
    model, loader = _setup()
    with pytest.raises(ValueError, match="saved with optimizer AdamW, this run has SGD"):
        fit(
            model,
            loader,
            tnn.CrossEntropyLoss(),
            torch.optim.SGD(model.parameters(), lr=0.1),
            2,
            checkpoint=path,
            resume=True,
        )
    opt = torch.optim.AdamW(model.parameters())
    sched = torch.optim.lr_scheduler.StepLR(opt, 1)
    with pytest.raises(ValueError, match="saved with scheduler None, this run has StepLR"):
        fit(
            model,
            loader,
            tnn.CrossEntropyLoss(),
            opt,
            2,
            scheduler=sched,
            checkpoint=path,
            resume=True,
        )
    groups = [{"params": [model[0].weight]}, {"params": [model[0].bias, *model[2].parameters()]}]
    with pytest.raises(ValueError, match=r"groups of sizes \[4\], this optimizer has \[1, 3\]"):
        fit(
            model,
            loader,
            tnn.CrossEntropyLoss(),
            torch.optim.AdamW(groups),
            2,
            checkpoint=path,
            resume=True,
        )
    assert path.read_bytes() == saved  # nothing overwritten


def test_a_truncated_or_foreign_file_is_a_clear_error_and_is_not_overwritten(tmp_path: Path):
    path = tmp_path / "run.pt"
    model, loader = _setup()
    fit(
        model,
        loader,
        tnn.CrossEntropyLoss(),
        torch.optim.AdamW(model.parameters()),
        1,
        checkpoint=path,
    )
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    cut = path.read_bytes()
    with pytest.raises(ValueError, match="cannot be read"):
        fit(
            model,
            loader,
            tnn.CrossEntropyLoss(),
            torch.optim.AdamW(model.parameters()),
            2,
            checkpoint=path,
            resume=True,
        )
    assert path.read_bytes() == cut
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match=r"not a checkpoint of nnbasics\.training\.fit"):
        ckpt.load(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ckpt.load(tmp_path / "missing.pt")


def test_a_checkpoint_holds_its_keys_and_one_without_them_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "run.pt"
    model, loader = _setup()
    opt = torch.optim.AdamW(model.parameters())
    fit(model, loader, tnn.CrossEntropyLoss(), opt, 1, checkpoint=path)
    state = ckpt.load(path)
    assert list(state) == ["format", *ckpt.KEYS]
    del state["format"], state["rng"], state["history"]
    ckpt.save(path, state)
    with pytest.raises(ValueError, match=r"lacks the keys \['history', 'rng'\]"):
        fit(model, loader, tnn.CrossEntropyLoss(), opt, 2, checkpoint=path, resume=True)


class _Payload:
    """Unpickling this would create a file: what a malicious checkpoint could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("how", ["pickle", "torch.save"])
def test_opening_a_checkpoint_never_runs_code_from_it(tmp_path: Path, how: str):
    marker, path = tmp_path / "ran", tmp_path / "evil.pt"
    if how == "pickle":
        path.write_bytes(pickle.dumps({"format": ckpt.FORMAT, "x": _Payload(marker)}, protocol=2))
    else:
        torch.save({"format": ckpt.FORMAT, "x": _Payload(marker)}, path)
    with pytest.raises(ValueError, match="cannot be read"):
        ckpt.load(path)
    assert not marker.exists()


def test_a_crash_while_writing_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch):
    path = tmp_path / "run.pt"
    ckpt.save(path, {"epoch": 1})

    def crash(obj, f):
        f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save(path, {"epoch": 2})
    monkeypatch.undo()
    assert ckpt.load(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]  # no temporary file left


def _overfit_setup():
    """Validation labels are the training labels flipped: the better the fit, the worse the
    validation loss, so it only rises after the first epochs."""
    torch.manual_seed(0)
    X, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    model = tnn.Sequential(tnn.Linear(4, 32), tnn.ReLU(), tnn.Linear(32, 2))
    loader = DataLoader(TensorDataset(X, y), batch_size=64)
    val = DataLoader(TensorDataset(X, 1 - y), batch_size=64)
    return model, loader, val


@pytest.mark.parametrize("restore_best", [True, False])
def test_early_stopping_stops_after_patience_and_restores_the_best_weights(restore_best: bool):
    model, loader, val = _overfit_setup()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    h = fit(
        model,
        loader,
        tnn.CrossEntropyLoss(),
        opt,
        50,
        val_loader=val,
        early_stopping=3,
        restore_best=restore_best,
    )
    assert h.best_epoch is not None and h.stopped_epoch == h.best_epoch + 3 < 50
    assert h.epochs == h.stopped_epoch
    assert min(h.val_loss) == h.val_loss[h.best_epoch - 1]
    assert "has not improved for 3 epochs" in (h.stop_reason or "")
    with torch.no_grad():
        X, wrong = val.dataset.tensors
        now = tnn.functional.cross_entropy(model(X), wrong).item()
    expected = h.val_loss[h.best_epoch - 1] if restore_best else h.val_loss[-1]
    assert now == pytest.approx(expected, rel=1e-6)


def test_without_early_stopping_history_has_no_stop():
    model, loader, val = _overfit_setup()
    h = fit(
        model,
        loader,
        tnn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=0.5),
        3,
        val_loader=val,
    )
    assert (h.best_epoch, h.stopped_epoch, h.stop_reason) == (None, None, None)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(resume=True), ValueError, "resume=True needs checkpoint=PATH"),
        (dict(resume=True, checkpoint="nope.pt"), FileNotFoundError, "'nope.pt' does not exist"),
        (dict(early_stopping=3), ValueError, "early_stopping needs a val_loader"),
        (dict(early_stopping=0, val=True), ValueError, "early_stopping must be an int >= 1, got 0"),
    ],
)
def test_fit_checkpoint_and_early_stopping_bad_arguments(
    kwargs, error, match, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    model, loader, val = _overfit_setup()
    if kwargs.pop("val", False):
        kwargs["val_loader"] = val
    with pytest.raises(error, match=match):
        fit(
            model,
            loader,
            tnn.CrossEntropyLoss(),
            torch.optim.SGD(model.parameters(), lr=0.1),
            2,
            **kwargs,
        )
