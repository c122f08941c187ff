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
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

__all__ = ["FORMAT", "load", "rng_state", "save", "set_rng_state"]

FORMAT = "nnbasics.fit/1"


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
