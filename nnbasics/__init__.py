"""nnbasics: the code behind the Chinese wiki 神经网络基础.

The package mirrors PyTorch's layout so that a reader can map one onto the other:

* :mod:`nnbasics.models` -- the article's networks (``Perceptron``, ``MLP``, ...).
* :mod:`nnbasics.data` -- the article's toy data, deterministic for a seed.
* :mod:`nnbasics.training` -- ``set_seed``, ``fit`` and ``evaluate``.

Submodules are imported on first use, so ``import nnbasics`` costs little more
than ``import torch``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_SUBMODULES = (
    "autograd",
    "cli",
    "data",
    "functional",
    "models",
    "nn",
    "optim",
    "plot",
    "testing",
    "training",
)

__all__ = ["__version__", *_SUBMODULES]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from nnbasics import (  # noqa: F401
        autograd,
        cli,
        data,
        functional,
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
