"""Checkpoints of :func:`nnbasics.training.fit`: written atomically, read without running code.

A checkpoint holds everything that decides the rest of a run: the model's, optimizer's and
scheduler's ``state_dict``, the number of finished epochs, the :class:`~nnbasics.training.History`
so far, the early-stopping state, and the random number generators that shuffle the next epoch
and draw its Dropout masks -- PyTorch's global CPU generator, every CUDA device's, and the data
loader's own ``generator`` when it has one. (Python's ``random`` and NumPy's generators are not
saved: neither ``fit`` nor PyTorch's ``DataLoader`` draws from them in the main process.)

* :func:`save` writes to a temporary file in the same folder, flushes it to disk and renames it
  over the old checkpoint: a crash while writing leaves the previous checkpoint whole.
* :func:`load` reads with ``torch.load(..., weights_only=True)``, so opening a file never runs
  code from it, and turns every way a file can be unreadable into one ``ValueError`` naming it.
* :func:`save_run` lays the state of a run's objects (a :class:`Run`) out in a checkpoint after
  an epoch; :func:`load_run` checks that a checkpoint fits them and loads it into them. ``fit``
  calls only these two.

A checkpoint of ``fit`` is a dictionary with ``"format": FORMAT`` and the keys :data:`KEYS`:

* ``epoch``: the number of finished epochs;
* ``classes``: the class names of the ``model``, ``optimizer`` and ``scheduler`` (``None``
  without one), so that resuming another run is an error naming the difference;
* ``model``, ``optimizer``, ``scheduler``: their ``state_dict`` (``None`` without a scheduler);
* ``history``: the :class:`~nnbasics.training.History` so far, as a dictionary;
* ``early_stopping``: the lowest validation loss, the epochs since then and the best weights;
* ``grad_scaler``: the ``GradScaler``'s ``state_dict`` of an ``amp=True`` run (else ``None``);
* ``rng``: the generators' states, :func:`rng_state`.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import torch
from torch import nn

if TYPE_CHECKING:
    from nnbasics.training import History

__all__ = [
    "FORMAT",
    "KEYS",
    "Run",
    "Stateful",
    "load",
    "load_run",
    "rng_state",
    "save",
    "save_run",
    "set_rng_state",
]

FORMAT = "nnbasics.fit/1"
"""The layout's name and version, stored under ``"format"``: :func:`load` accepts no other."""

KEYS = (
    "epoch",
    "classes",
    "model",
    "optimizer",
    "scheduler",
    "history",
    "early_stopping",
    "grad_scaler",
    "rng",
)
"""The keys of a checkpoint of ``fit`` besides ``"format"``, in the order :func:`save_run`
writes them (see the module docstring)."""


class Stateful(Protocol):
    """What has its state in a ``state_dict`` and takes it back (the early-stopping state,
    a ``GradScaler``)."""

    def state_dict(self) -> dict[str, Any]:
        """The object's state."""

    def load_state_dict(self, state: dict[str, Any], /) -> None:
        """Put the object back in ``state``."""


def _loader_generator(loader: object) -> torch.Generator | None:
    generator = getattr(loader, "generator", None)
    return generator if isinstance(generator, torch.Generator) else None


def rng_state(loader: object = None) -> dict[str, Any]:
    """The states of the generators that decide the next epoch (see the module docstring)."""
    generator = _loader_generator(loader)
    return {
        "cpu": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "loader": generator.get_state() if generator is not None else None,
    }


def set_rng_state(state: dict[str, Any], loader: object = None) -> None:
    """Put the generators back in the states :func:`rng_state` returned.

    Raises:
        ValueError: if the checkpoint was saved with a loader generator and ``loader`` has
            none, or the other way round, or on a different number of CUDA devices.
    """
    torch.set_rng_state(state["cpu"])
    cuda = state["cuda"]
    if cuda:
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count != len(cuda):
            raise ValueError(
                f"the checkpoint holds the generators of {len(cuda)} CUDA device(s), "
                f"this process sees {count}"
            )
        torch.cuda.set_rng_state_all(cuda)
    generator = _loader_generator(loader)
    if (state["loader"] is None) != (generator is None):
        saved = "with" if state["loader"] is not None else "without"
        now = "has" if generator is not None else "has no"
        raise ValueError(
            f"the checkpoint was saved {saved} a loader generator, and this loader {now} "
            "generator (DataLoader(..., generator=...))"
        )
    if generator is not None:
        generator.set_state(state["loader"])


def save(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically: a temporary file in the same folder, flushed to
    disk, then renamed over ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format": FORMAT, **state}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save` (on the CPU).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file is truncated or corrupt, holds anything but tensors and plain
            data (``weights_only=True`` refuses it without running it), or is not a checkpoint
            of ``fit``.
    """
    target = Path(path)
    if not target.is_file():
        raise FileNotFoundError(f"checkpoint {str(target)!r} does not exist")
    try:
        state = torch.load(target, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"checkpoint {str(target)!r} cannot be read (truncated, corrupt, or not a "
            f"checkpoint of nnbasics.training.fit): {first}"
        ) from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise ValueError(
            f"checkpoint {str(target)!r} is not a checkpoint of nnbasics.training.fit "
            f"(format {found!r}, expected {FORMAT!r})"
        )
    return state


@dataclasses.dataclass(frozen=True)
class Run:
    """The objects of a ``fit`` run whose state a checkpoint holds.

    Attributes:
        model: the network (not a ``DistributedDataParallel`` wrapper).
        optimizer: the run's optimizer.
        scheduler: the run's LR scheduler, or ``None``.
        history: the run's :class:`~nnbasics.training.History` so far.
        early_stopping: the run's early-stopping state.
        grad_scaler: the ``GradScaler`` of an ``amp=True`` run, or ``None``.
    """

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    history: History
    early_stopping: Stateful
    grad_scaler: torch.amp.GradScaler | None = None


def save_run(path: str | os.PathLike[str], epoch: int, run: Run, loader: object = None) -> None:
    """Save the state of ``run`` after ``epoch`` finished epochs to ``path`` (atomically, with
    :func:`save`), laid out as the module docstring describes.

    Args:
        path: the checkpoint file.
        epoch: the number of finished epochs.
        run: the run's objects.
        loader: the training loader, whose own ``generator`` (if any) is saved too.
    """
    save(
        path,
        {
            "epoch": epoch,
            "classes": _classes(run),
            "model": run.model.state_dict(),
            "optimizer": run.optimizer.state_dict(),
            "scheduler": run.scheduler.state_dict() if run.scheduler is not None else None,
            "history": dataclasses.asdict(run.history),
            "early_stopping": run.early_stopping.state_dict(),
            "grad_scaler": run.grad_scaler.state_dict() if run.grad_scaler is not None else None,
            "rng": rng_state(loader),
        },
    )


def load_run(path: str | os.PathLike[str], run: Run, loader: object = None) -> int:
    """Load the checkpoint at ``path`` into ``run``'s objects and the generators (``loader``'s
    own included); return its number of finished epochs.

    The checkpoint is checked against ``run`` before anything is loaded: a checkpoint of another
    model, optimizer or scheduler is one ``ValueError`` naming the difference.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file cannot be read (see :func:`load`), lacks one of :data:`KEYS`,
            was saved from another model (class, parameter names or shapes), optimizer (class
            or parameter groups) or scheduler, or with other generators
            (see :func:`set_rng_state`).
    """
    state = load(path)
    where = f"checkpoint {str(path)!r}"
    missing = [key for key in KEYS if key not in state]
    if missing:
        raise ValueError(f"{where} lacks the keys {missing} of a checkpoint of {FORMAT}")
    saved, now = state["classes"], _classes(run)
    for role in ("model", "optimizer", "scheduler"):
        if saved[role] != now[role]:
            raise ValueError(
                f"{where} was saved with {role} {saved[role]}, this run has {now[role]}"
            )
    _check_same_tensors(where, state["model"], run.model.state_dict())
    saved_groups = [len(g["params"]) for g in state["optimizer"]["param_groups"]]
    groups = [len(g["params"]) for g in run.optimizer.param_groups]
    if saved_groups != groups:
        raise ValueError(
            f"{where} holds an optimizer with parameter groups of sizes {saved_groups}, "
            f"this optimizer has {groups}"
        )
    run.model.load_state_dict(state["model"])
    run.optimizer.load_state_dict(state["optimizer"])
    if run.scheduler is not None:
        run.scheduler.load_state_dict(state["scheduler"])
    for name, value in state["history"].items():
        setattr(run.history, name, value)
    run.early_stopping.load_state_dict(state["early_stopping"])
    if run.grad_scaler is not None and state["grad_scaler"]:
        run.grad_scaler.load_state_dict(state["grad_scaler"])
    set_rng_state(state["rng"], loader)
    epoch: int = state["epoch"]
    return epoch


def _classes(run: Run) -> dict[str, str | None]:
    """The class names a checkpoint records, ``None`` for a missing scheduler."""
    return {
        "model": type(run.model).__name__,
        "optimizer": type(run.optimizer).__name__,
        "scheduler": type(run.scheduler).__name__ if run.scheduler is not None else None,
    }


def _check_same_tensors(
    where: str, saved: dict[str, torch.Tensor], current: dict[str, torch.Tensor]
) -> None:
    """A ValueError unless ``saved`` has the names and shapes of ``current``."""
    missing = sorted(current.keys() - saved.keys())
    unexpected = sorted(saved.keys() - current.keys())
    if missing or unexpected:
        raise ValueError(
            f"{where} does not fit this model: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    for name, tensor in current.items():
        if saved[name].shape != tensor.shape:
            raise ValueError(
                f"{where} does not fit this model: {name} has shape "
                f"{tuple(saved[name].shape)} there, {tuple(tensor.shape)} here"
            )
