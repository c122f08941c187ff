"""The registry of layers: one ``ModuleInfo`` per module of ``nnbasics.nn`` (after PyTorch's
``ModuleInfo`` in ``torch/testing/_internal/common_modules.py``), with its ``torch.nn``
namesake, the constructor arguments and input shapes to compare, the arguments it must refuse,
and the tests it skips, with why. ``tests/test_nn.py`` runs every check on every entry, so
adding a layer to the tests is adding one entry to ``MODULES``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from testkit.common import ErrorInput, Namesake, Shape

__all__ = ["MODULES", "ModuleInfo", "ModuleInput", "inputs", "run"]


@dataclass(frozen=True)
class ModuleInput:
    """One module to build on both sides and the input to run it on.

    Attributes:
        args: the constructor's positional arguments.
        kwargs: the constructor's keyword arguments.
        shape: the input's shape; each call draws ``3 randn(shape) + 1`` from a seeded
            generator.
    """

    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    shape: Shape = (4, 3)

    @property
    def id(self) -> str:
        call = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"({', '.join(call)})-{'x'.join(map(str, self.shape))}"


@dataclass(frozen=True, eq=False)
class ModuleInfo(Namesake[nn.Module]):
    """A layer of ``nnbasics.nn`` and how to compare it with ``torch.nn``.

    Attributes:
        name: the class's name in ``nnbasics.nn``.
        inputs: the modules and inputs to compare: each is built on both sides, checked to
            register the same parameters and buffers with the same initial values, run for
            ``steps`` calls in training mode (outputs, input gradients and parameter
            gradients compared, and the state after them), then in eval mode; a fresh module
            of ours then loads PyTorch's ``state_dict`` and gives PyTorch's eval output.
        errors: arguments (or input shapes) that must be refused, and how.
        ref: PyTorch's class, a dotted name resolved on first use or the class; by default
            ``torch.nn.<name>``.
        steps: the training-mode calls per input.
        tol: ``(rtol, atol)`` in float64; float32 gets ``tol32``.
        tol32: ``(rtol, atol)`` in float32.
        skips: test name -> why that test does not apply to this entry.
        where: ``file:line`` of the entry, set when it is made; errors about it name it.
    """

    name: str
    inputs: tuple[ModuleInput, ...]
    errors: tuple[ErrorInput, ...] = ()
    ref: str | type[nn.Module] | None = None
    steps: int = 3
    tol: tuple[float, float] = (1e-10, 1e-12)
    tol32: tuple[float, float] = (2e-5, 2e-6)
    skips: Mapping[str, str] = field(default_factory=dict)
    where: str = field(init=False, default="")

    OURS: ClassVar[str] = "nnbasics.nn"
    THEIRS: ClassVar[str] = "torch.nn"


def inputs(shape: Shape, dtype: torch.dtype, count: int, seed: int = 0) -> Iterator[Tensor]:
    """``count`` inputs ``3 randn(shape) + 1`` of ``dtype``, drawn from a generator seeded
    with ``seed``."""
    g = torch.Generator().manual_seed(seed)
    for _ in range(count):
        yield torch.randn(shape, generator=g, dtype=dtype) * 3 + 1


def run(module: nn.Module, x: Tensor) -> tuple[Tensor, dict[str, Tensor | None]]:
    """``module(x)``, with the default generator seeded alike for every call (dropout draws
    its mask from it; the caller's generator is left as it was), and the gradients of the
    input and of each parameter (by name) for one fixed random upstream gradient."""
    x = x.detach().clone().requires_grad_()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        out = module(x)
    upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(1), dtype=out.dtype)
    named = [("input", x), *module.named_parameters()]
    grads = torch.autograd.grad((out * upstream).sum(), [t for _, t in named], allow_unused=True)
    return out.detach(), {name: g for (name, _), g in zip(named, grads, strict=True)}


# ----------------------------------------------------------------------------- the entries
_5D = (2, 4, 1, 1, 1)  # an input no batch norm takes

MODULES: tuple[ModuleInfo, ...] = (
    ModuleInfo("ReLU", (ModuleInput(),)),
    ModuleInfo("LeakyReLU", (ModuleInput(), ModuleInput((0.2,)))),
    ModuleInfo(
        "PReLU",
        (ModuleInput(), ModuleInput((3,), shape=(5, 3)), ModuleInput((3,), {"init": -0.5})),
        errors=(ErrorInput(args=(0,), match="num_parameters must be >= 1, got 0"),),
    ),
    ModuleInfo("Sigmoid", (ModuleInput(),)),
    ModuleInfo("Tanh", (ModuleInput(),)),
    ModuleInfo(
        "GELU",
        (ModuleInput(), ModuleInput(("tanh",))),
        errors=(ErrorInput(args=("erf",), match="approximate"),),
    ),
    ModuleInfo("SiLU", (ModuleInput(),)),
    ModuleInfo(
        "Dropout",
        (ModuleInput((0.3,), shape=(2, 6, 5)), ModuleInput(shape=(40, 25))),
        errors=(ErrorInput(args=(1.2,), match=r"got 1\.2"),),
    ),
    ModuleInfo(
        "BatchNorm1d",
        (
            ModuleInput((4,), shape=(8, 4)),
            ModuleInput((4,), shape=(8, 4, 3)),
            ModuleInput((4,), {"momentum": None}, shape=(8, 4)),
            ModuleInput((4,), {"momentum": None}, shape=(8, 4, 3)),
            ModuleInput((3,), {"affine": False, "track_running_stats": False}, shape=(5, 3)),
        ),
        errors=(
            ErrorInput(args=(4,), shape=_5D, match="expected 2 or 3D input, got 5D"),
            ErrorInput(args=(0,), match="num_features must be >= 1, got 0"),
        ),
    ),
    ModuleInfo(
        "BatchNorm2d",
        (
            ModuleInput((4,), shape=(6, 4, 3, 3)),
            ModuleInput((4,), {"momentum": None}, shape=(6, 4, 3, 3)),
        ),
        errors=(ErrorInput(args=(4,), shape=_5D, match="expected 4D input, got 5D"),),
    ),
    ModuleInfo(
        "LayerNorm",
        (
            ModuleInput((5,), shape=(2, 6, 5)),
            ModuleInput(([6, 5],), shape=(2, 6, 5)),
            ModuleInput((5,), {"bias": False}, shape=(2, 6, 5)),
            ModuleInput((5,), {"elementwise_affine": False}, shape=(2, 6, 5)),
        ),
    ),
    ModuleInfo(
        "GroupNorm",
        (
            ModuleInput((3, 6), shape=(2, 6, 5)),
            ModuleInput((1, 4), {"affine": False}, shape=(3, 4)),
        ),
        errors=(ErrorInput(args=(4, 6), match=r"num_channels \(6\).*num_groups \(4\)"),),
    ),
)
"""The registry: one ``ModuleInfo`` per class of ``nnbasics.nn``."""
