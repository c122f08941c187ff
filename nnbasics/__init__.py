"""nnbasics: the code behind the Chinese wiki 神经网络基础.

The package mirrors PyTorch's layout so that a reader can map one onto the other:

* :mod:`nnbasics.models` -- the article's networks (``Perceptron``, ``MLP``, ...).
* :mod:`nnbasics.data` -- the article's toy data, deterministic for a seed.
* :mod:`nnbasics.training` -- ``set_seed``, ``fit`` and ``evaluate``.

Submodules are imported on first use, so ``import nnbasics`` costs little more
than ``import torch``; it refuses a PyTorch older than :data:`MIN_TORCH`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import torch

__version__ = "0.1.0"

# the oldest PyTorch whose tests pass (pyproject.toml's `torch>=` says the same; a test checks)
MIN_TORCH = (2, 6)


def _check_torch(version: str) -> None:
    """Refuse a PyTorch older than :data:`MIN_TORCH` with one line saying what to install."""
    release = tuple(int(part) for part in version.split("+")[0].split(".")[:2] if part.isdigit())
    if release < MIN_TORCH:
        floor = ".".join(map(str, MIN_TORCH))
        raise ImportError(
            f"nnbasics needs PyTorch >= {floor}, found {version}: "
            f'pip install --upgrade "torch>={floor}"'
        )


_check_torch(torch.__version__)

_SUBMODULES = (
    "autograd",
    "checkpoint",
    "cli",
    "data",
    "distributed",
    "functional",
    "init",
    "models",
    "nn",
    "optim",
    "plot",
    "testing",
    "training",
)

__all__ = ["MIN_TORCH", "__version__", *_SUBMODULES]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from nnbasics import (  # noqa: F401
        autograd,
        checkpoint,
        cli,
        data,
        distributed,
        functional,
        init,
        models,
        nn,
        optim,
        plot,
        testing,
        training,
    )


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
