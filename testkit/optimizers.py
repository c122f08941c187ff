"""The registries of optimizers and learning-rate schedules: one ``OptimizerInfo`` per
optimizer of ``nnbasics.optim`` and one ``SchedulerInfo`` per schedule (after PyTorch's
``OptimizerInfo`` in ``torch/testing/_internal/common_optimizers.py``), with its PyTorch
namesake, the arguments whose trajectories to compare, the arguments it must refuse, and the
tests it skips, with why. ``tests/test_optim.py`` runs every check on every entry, so adding an
optimizer or a schedule to the tests is adding one entry to ``OPTIMIZERS`` or ``SCHEDULERS``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, ClassVar

import torch
from torch import Tensor
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from testkit.common import ErrorInput, Namesake

__all__ = [
    "OPTIMIZERS",
    "SCHEDULERS",
    "OptimizerInfo",
    "OptimizerInput",
    "ScheduleInput",
    "SchedulerInfo",
    "rates",
    "trajectory",
]

LS = torch.optim.lr_scheduler


@dataclass(frozen=True)
class OptimizerInput:
    """The keyword arguments of one optimizer (both sides), whose trajectories are compared."""

    kwargs: Mapping[str, Any]

    @property
    def id(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.kwargs.items())


def grid(
    fixed: Mapping[str, Any],
    exclude: Callable[[dict[str, Any]], bool] | None = None,
    **options: tuple[Any, ...],
) -> tuple[OptimizerInput, ...]:
    """``fixed`` with every combination of the values of ``options``, but those that
    ``exclude`` rejects (invalid ones, which are error inputs)."""
    combinations = (
        dict(zip(options, v, strict=True)) for v in itertools.product(*options.values())
    )
    return tuple(
        OptimizerInput({**fixed, **c}) for c in combinations if exclude is None or not exclude(c)
    )


@dataclass(frozen=True, eq=False)
class OptimizerInfo(Namesake[Optimizer]):
    """An optimizer of ``nnbasics.optim`` and how to compare it with ``torch.optim``.

    Attributes:
        name: the class's name in ``nnbasics.optim``.
        inputs: the arguments to compare: each runs ``steps`` steps on two parameter groups
            (the second with its own ``lr``) on both sides; the parameters, the state's keys
            and the groups' keys are compared, and a run that saves its ``state_dict``
            halfway and continues in a fresh optimizer ends exactly where the plain one does.
        errors: arguments that must be refused, and how.
        ref: PyTorch's class, a dotted name resolved on first use or the class; by default
            ``torch.optim.<name>``.
        ref_kwargs: what PyTorch's also gets: its single-tensor implementation.
        steps: the steps per trajectory.
        tol: ``(rtol, atol)`` of the final parameters (float64).
        skips: test name -> why that test does not apply to this entry.
        where: ``file:line`` of the entry, set when it is made; errors about it name it.
    """

    name: str
    inputs: tuple[OptimizerInput, ...]
    errors: tuple[ErrorInput, ...] = ()
    ref: str | type[Optimizer] | None = None
    ref_kwargs: Mapping[str, Any] = field(default_factory=lambda: {"foreach": False})
    steps: int = 25
    tol: tuple[float, float] = (1e-12, 1e-12)
    skips: Mapping[str, str] = field(default_factory=dict)
    where: str = field(init=False, default="")

    OURS: ClassVar[str] = "nnbasics.optim"
    THEIRS: ClassVar[str] = "torch.optim"


@dataclass(frozen=True)
class ScheduleInput:
    """One schedule to build on both sides and run.

    Attributes:
        kwargs: its keyword arguments (after the optimizer), or a function
            ``kwargs(lib, optimizer)`` of the module that builds the schedules it is made of
            (``nnbasics.optim`` for ours, ``torch.optim.lr_scheduler`` for PyTorch's).
        steps: the steps to run.
        rates: step -> the rate expected of the first group (base rate 0.1) at that step.
        desc: what it is, for the test's id (by default its keyword arguments).
    """

    kwargs: Mapping[str, Any] | Callable[[ModuleType, Optimizer], Mapping[str, Any]]
    steps: int = 40
    rates: Mapping[int, float] = field(default_factory=dict)
    desc: str = ""

    def keywords(self, lib: ModuleType, optimizer: Optimizer) -> dict[str, Any]:
        """The keyword arguments, built with ``lib`` for ``optimizer`` if they depend on it."""
        return dict(self.kwargs(lib, optimizer) if callable(self.kwargs) else self.kwargs)

    @property
    def id(self) -> str:
        if self.desc or callable(self.kwargs):
            return self.desc
        return ",".join(f"{k}={v}" for k, v in self.kwargs.items())


@dataclass(frozen=True, eq=False)
class SchedulerInfo(Namesake[LRScheduler]):
    """A learning-rate schedule of ``nnbasics.optim`` and how to compare it with PyTorch's.

    Attributes:
        name: the class's name in ``nnbasics.optim``.
        inputs: the schedules to compare: the rates of two parameter groups at every step
            equal PyTorch's, and a run that saves the optimizer's and the schedule's
            ``state_dict`` halfway and continues in fresh ones gives the same rates.
        errors: arguments that must be refused, and how.
        ref: PyTorch's class, a dotted name or the class; by default
            ``torch.optim.lr_scheduler.<name>``.
        skips: test name -> why that test does not apply to this entry.
        where: ``file:line`` of the entry, set when it is made; errors about it name it.
    """

    name: str
    inputs: tuple[ScheduleInput, ...]
    errors: tuple[ErrorInput, ...] = ()
    ref: str | type[LRScheduler] | None = None
    skips: Mapping[str, str] = field(default_factory=dict)
    where: str = field(init=False, default="")

    OURS: ClassVar[str] = "nnbasics.optim"
    THEIRS: ClassVar[str] = "torch.optim.lr_scheduler"


# ----------------------------------------------------------------------------- the runners
def trajectory(
    make: Callable[[list[dict[str, Any]]], Optimizer], steps: int, split: int = -1
) -> tuple[Tensor, Optimizer]:
    """The parameters after ``steps`` steps of ``make(param_groups)`` on a fixed float64
    problem with two groups (the second with ``lr=0.05``), and the optimizer. At step
    ``split`` the optimizer is replaced by a fresh one that loads its ``state_dict``."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(5, 3, generator=g, dtype=torch.float64).requires_grad_()
    b = torch.randn(3, generator=g, dtype=torch.float64).requires_grad_()
    x = torch.randn(20, 5, generator=g, dtype=torch.float64)

    def fresh() -> Optimizer:
        return make([{"params": [w]}, {"params": [b], "lr": 0.05}])

    optimizer = fresh()
    for step in range(steps):
        if step == split:
            saved = optimizer.state_dict()
            optimizer = fresh()
            optimizer.load_state_dict(saved)
        optimizer.zero_grad()
        ((x @ w + b).tanh() ** 2).sum().backward()
        optimizer.step()
    return torch.cat([w.detach().flatten(), b.detach()]), optimizer


def rates(
    make: Callable[[Optimizer], LRScheduler], steps: int, split: int = -1
) -> list[list[float]]:
    """The learning rate of each of two parameter groups (base rates 0.1 and 0.03) before each
    of ``steps`` steps of the schedule ``make(optimizer)``. At step ``split`` the optimizer and
    the schedule are replaced by fresh ones that load their ``state_dict``."""
    a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))

    def fresh() -> tuple[Optimizer, LRScheduler]:
        opt = torch.optim.SGD([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.03}], lr=1.0)
        return opt, make(opt)

    optimizer, scheduler = fresh()
    seen = []
    for step in range(steps):
        if step == split:
            saved = optimizer.state_dict(), scheduler.state_dict()
            optimizer, scheduler = fresh()
            optimizer.load_state_dict(saved[0])
            scheduler.load_state_dict(saved[1])
        seen.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return seen


# ----------------------------------------------------------------------------- the entries
_ADAM = {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-6}
_ADAM_GRID = grid(_ADAM, weight_decay=(0.0, 0.1), amsgrad=(False, True), maximize=(False, True))


def _nesterov_without_momentum(kwargs: dict[str, Any]) -> bool:
    """SGD refuses Nesterov momentum without momentum or with dampening."""
    return bool(kwargs["nesterov"] and (kwargs["momentum"] == 0 or kwargs["dampening"] != 0))


OPTIMIZERS: tuple[OptimizerInfo, ...] = (
    OptimizerInfo(
        "SGD",
        grid(
            {"lr": 0.01},
            _nesterov_without_momentum,
            momentum=(0.0, 0.9),
            dampening=(0.0, 0.3),
            weight_decay=(0.0, 0.1),
            nesterov=(False, True),
            maximize=(False, True),
        ),
        errors=(
            ErrorInput({"lr": -1.0}, match=r"learning rate: -1\.0"),
            ErrorInput({"momentum": -0.5}, match=r"momentum value: -0\.5"),
            ErrorInput({"weight_decay": -1}, match="weight_decay value: -1"),
            ErrorInput({"nesterov": True}, match="Nesterov"),
            ErrorInput(
                {"momentum": 0.9, "dampening": 0.1, "nesterov": True}, match=r"dampening=0\.1"
            ),
        ),
    ),
    OptimizerInfo(
        "Adam",
        _ADAM_GRID,
        errors=(
            ErrorInput({"eps": -1e-8}, match="epsilon value: -1e-08"),
            ErrorInput({"betas": (1.0, 0.9)}, match=r"index 0: 1\.0"),
        ),
    ),
    OptimizerInfo(
        "AdamW",
        _ADAM_GRID,
        errors=(
            ErrorInput({"betas": (0.9, -0.1)}, match=r"index 1: -0\.1"),
            ErrorInput({"weight_decay": -0.01}, match=r"weight_decay value: -0\.01"),
        ),
    ),
    OptimizerInfo(
        "RMSprop",
        grid(
            {"lr": 0.01, "eps": 1e-6},
            alpha=(0.99, 0.5),
            weight_decay=(0.0, 0.1),
            momentum=(0.0, 0.9),
            centered=(False, True),
            maximize=(False, True),
        ),
        errors=(
            ErrorInput({"alpha": -0.1}, match=r"alpha value: -0\.1"),
            ErrorInput({"eps": -1.0}, match=r"epsilon value: -1\.0"),
            ErrorInput({"momentum": -1.0}, match=r"momentum value: -1\.0"),
            ErrorInput({"weight_decay": -1.0}, match=r"weight_decay value: -1\.0"),
        ),
    ),
)
"""The registry of optimizers: one ``OptimizerInfo`` per optimizer of ``nnbasics.optim``."""


def _warmup_cosine(warmup: int, total: int, start: float, eta_min: float) -> ScheduleInput:
    """Linear warmup from ``start`` times the rate for ``warmup`` steps, then a cosine down to
    ``eta_min`` at step ``total``: the rates at step 0, ``warmup`` and ``total`` are known."""

    def kwargs(lib: ModuleType, o: Optimizer) -> dict[str, Any]:
        return {
            "schedulers": [
                lib.LinearLR(o, start_factor=start, total_iters=warmup),
                lib.CosineAnnealingLR(o, T_max=total - warmup, eta_min=eta_min),
            ],
            "milestones": [warmup],
        }

    expected = {0: 0.1 * start, warmup: 0.1, total: eta_min}
    return ScheduleInput(
        kwargs, total + 5, expected, f"warmup{warmup}-cosine{total}-{start:g}-{eta_min:g}"
    )


def _three_torch_schedules(lib: ModuleType, o: Optimizer) -> dict[str, Any]:
    """Three of PyTorch's own schedules, on both sides (ours composes any closed form)."""
    return {
        "schedulers": [
            LS.LinearLR(o, 0.1, total_iters=3),
            LS.ConstantLR(o, 0.5, total_iters=4),
            LS.ExponentialLR(o, gamma=0.9),
        ],
        "milestones": [3, 9],
    }


def _one_sgd() -> torch.optim.SGD:
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)])


SCHEDULERS: tuple[SchedulerInfo, ...] = (
    SchedulerInfo(
        "CosineAnnealingLR",
        (ScheduleInput({"T_max": 10, "eta_min": 0.1}), ScheduleInput({"T_max": 7})),
        errors=(ErrorInput({"T_max": 0}, match="T_max must be a positive int, got 0"),),
    ),
    SchedulerInfo(
        "LinearLR",
        (
            ScheduleInput({}),
            ScheduleInput({"start_factor": 0.1, "total_iters": 10}),
            ScheduleInput({"start_factor": 0.01, "end_factor": 1.0, "total_iters": 1}),
            ScheduleInput({"start_factor": 1.0, "end_factor": 0.0, "total_iters": 25}),
            ScheduleInput({"start_factor": 0.25, "end_factor": 0.5, "total_iters": 7}),
        ),
        errors=(
            ErrorInput({"start_factor": 0.0}, match=r"start_factor .* 0\.0"),
            ErrorInput({"end_factor": 1.5}, match=r"end_factor .* 1\.5"),
            ErrorInput({"total_iters": 0}, match="total_iters .* 0"),
        ),
    ),
    SchedulerInfo(
        "SequentialLR",
        (
            _warmup_cosine(5, 40, 0.1, 0.0),
            _warmup_cosine(1, 10, 0.5, 1e-3),
            _warmup_cosine(10, 30, 0.01, 1e-4),
            _warmup_cosine(3, 4, 1 / 3, 0.0),
            ScheduleInput(_three_torch_schedules, desc="three-torch-schedules"),
        ),
        errors=(
            ErrorInput({"schedulers": [], "milestones": []}, match="schedulers must not be empty"),
            ErrorInput(
                lambda o: {"schedulers": [LS.LinearLR(o), LS.LinearLR(o)], "milestones": [2, 4]},
                match=r"milestones must have .* got 2: \[2, 4\]",
            ),
            ErrorInput(
                lambda o: {"schedulers": [LS.LinearLR(o), LS.LinearLR(o)], "milestones": [0]},
                match=r"increasing positive ints, got \[0\]",
            ),
            ErrorInput(
                lambda o: {
                    "schedulers": [LS.LinearLR(o), LS.LambdaLR(o, lambda t: 1)],
                    "milestones": [2],
                },
                error=TypeError,
                match=r"schedulers\[1\] \(LambdaLR\) has no closed form",
            ),
            ErrorInput(
                lambda o: {"schedulers": [LS.LinearLR(_one_sgd())], "milestones": []},
                match=r"schedulers\[0\] does not belong",
            ),
        ),
    ),
)
"""The registry of learning-rate schedules: one ``SchedulerInfo`` per schedule of
``nnbasics.optim``."""
