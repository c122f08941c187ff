"""nnbasics.optim against torch.optim, driven by the registries testkit.optimizers.OPTIMIZERS
and SCHEDULERS: every check below runs for every entry, so a new optimizer or schedule needs
one entry and no new test. At the end, what is not equivalence with PyTorch: a schedule in
nnbasics.training.fit, and weight_decay_groups."""

from __future__ import annotations

import inspect
import math
import sys

import pytest
import torch
import torch.nn as tnn

import nnbasics.optim
from nnbasics import optim
from nnbasics.models import MLP
from nnbasics.training import fit
from testkit.common import cases, signature_differences, unknown_skips
from testkit.optimizers import (
    OPTIMIZERS,
    SCHEDULERS,
    OptimizerInfo,
    OptimizerInput,
    ScheduleInput,
    SchedulerInfo,
    rates,
    trajectory,
)

LS = torch.optim.lr_scheduler


def _inputs(info):
    return info.inputs


def _errors(info):
    return info.errors


# ----------------------------------------------------------------------------- optimizers
def _ours(info: OptimizerInfo, spec: OptimizerInput):
    return lambda groups: info.cls(groups, **spec.kwargs)


@pytest.mark.parametrize(
    ("info", "spec"), cases(OPTIMIZERS, "test_trajectory_equals_torch", _inputs)
)
def test_trajectory_equals_torch(info: OptimizerInfo, spec: OptimizerInput):
    """The same parameters after ``steps`` steps as PyTorch's single-tensor implementation,
    the same keys in each parameter's state, and no group setting PyTorch does not have."""
    ours, opt = trajectory(_ours(info, spec), info.steps)
    theirs, topt = trajectory(
        lambda groups: info.reference(groups, **spec.kwargs, **info.ref_kwargs), info.steps
    )
    torch.testing.assert_close(ours, theirs, rtol=info.tol[0], atol=info.tol[1])
    state, expected = opt.state_dict(), topt.state_dict()
    assert state["state"].keys() == expected["state"].keys()
    for i, saved in state["state"].items():
        assert saved.keys() == expected["state"][i].keys(), i
    assert state["param_groups"][0].keys() <= expected["param_groups"][0].keys()


@pytest.mark.parametrize(("info", "spec"), cases(OPTIMIZERS, "test_state_dict_round_trip", _inputs))
def test_state_dict_round_trip(info: OptimizerInfo, spec: OptimizerInput):
    """Saved halfway and loaded into a fresh optimizer, it continues exactly."""
    plain, _ = trajectory(_ours(info, spec), info.steps)
    resumed, _ = trajectory(_ours(info, spec), info.steps, split=info.steps // 2)
    torch.testing.assert_close(resumed, plain, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("info", "bad"), cases(OPTIMIZERS, "test_optimizer_bad_arguments", _errors)
)
def test_optimizer_bad_arguments(info: OptimizerInfo, bad):
    """An invalid argument is refused, with a message naming it and its value."""
    with pytest.raises(bad.error, match=bad.match):
        info.cls([torch.zeros(2, requires_grad=True)], *bad.args, **bad.keywords())


# ----------------------------------------------------------------------------- schedules
def _schedule(info: SchedulerInfo, spec: ScheduleInput, theirs: bool = False):
    cls, lib = (info.reference, LS) if theirs else (info.cls, nnbasics.optim)
    return lambda o: cls(o, **spec.keywords(lib, o))


@pytest.mark.parametrize(("info", "spec"), cases(SCHEDULERS, "test_rates_equal_torch", _inputs))
def test_rates_equal_torch(info: SchedulerInfo, spec: ScheduleInput):
    """The rate of each of two parameter groups at every step is PyTorch's, and the first
    group's is the one the input expects at the steps it names."""
    ours = rates(_schedule(info, spec), spec.steps)
    torch.testing.assert_close(
        ours, rates(_schedule(info, spec, theirs=True), spec.steps), rtol=1e-12, atol=1e-15
    )
    for step, rate in spec.rates.items():
        assert ours[step][0] == pytest.approx(rate, rel=1e-9, abs=1e-15), step


@pytest.mark.parametrize(
    ("info", "spec"), cases(SCHEDULERS, "test_schedule_state_dict_round_trip", _inputs)
)
def test_schedule_state_dict_round_trip(info: SchedulerInfo, spec: ScheduleInput):
    """Its state_dict holds everything PyTorch's does; saved halfway (with its optimizer) and
    loaded into fresh ones, it continues exactly."""
    make = _schedule(info, spec)
    ours, theirs = (
        m(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1))
        for m in (make, _schedule(info, spec, theirs=True))
    )
    assert ours.state_dict().keys() >= theirs.state_dict().keys()
    assert rates(make, spec.steps, split=spec.steps // 2) == rates(make, spec.steps)


@pytest.mark.parametrize(("info", "bad"), cases(SCHEDULERS, "test_schedule_bad_arguments", _errors))
def test_schedule_bad_arguments(info: SchedulerInfo, bad):
    """An invalid argument is refused, with a message naming it and its value."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(bad.error, match=bad.match):
        info.cls(opt, *bad.args, **bad.keywords(opt))


# ----------------------------------------------------------------------------- both
@pytest.mark.parametrize("info", cases((*OPTIMIZERS, *SCHEDULERS), "test_arguments_are_torchs"))
def test_arguments_are_torchs(info):
    """Every constructor argument is one of PyTorch's, with its default."""
    assert signature_differences(info.cls, info.reference) == []


def test_one_entry_per_optimizer_and_schedule():
    names = [info.name for info in (*OPTIMIZERS, *SCHEDULERS)]
    assert len(names) == len(set(names)), names
    assert set(names) == {n for n in optim.__all__ if isinstance(getattr(optim, n), type)}


def test_declared_skips_name_tests_of_this_file():
    tests = [name for name, _ in inspect.getmembers(sys.modules[__name__]) if name[:5] == "test_"]
    assert unknown_skips((*OPTIMIZERS, *SCHEDULERS), tests) == []


# ----------------------------------------------------------------------------- beyond PyTorch
def test_a_schedule_works_in_fit():
    """Usable wherever PyTorch's are: through nnbasics.training.fit."""
    torch.manual_seed(0)
    X, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16)
    model = MLP(4, 8, 2)
    opt = optim.AdamW(model.parameters(), lr=1e-2)
    history = fit(
        model,
        loader,
        tnn.CrossEntropyLoss(),
        opt,
        4,
        scheduler=optim.CosineAnnealingLR(opt, T_max=4),
    )
    assert history.lr == pytest.approx(
        [1e-2 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(4)]
    )


def test_weight_decay_groups_exempt_biases_and_norm_parameters():
    model = tnn.Sequential(tnn.Linear(4, 8), tnn.BatchNorm1d(8), tnn.ReLU(), tnn.Linear(8, 2))
    model[0].bias.requires_grad_(False)
    groups = optim.weight_decay_groups(model, 0.1)
    decayed, exempt = ({id(p) for p in g["params"]} for g in groups)
    assert decayed == {id(model[0].weight), id(model[3].weight)}
    assert exempt == {id(model[1].weight), id(model[1].bias), id(model[3].bias)}
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]
    # one AdamW step with zero gradients: only the decayed parameters shrink, by lr * wd
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.AdamW(groups, lr=0.5)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    for p, old in zip(model.parameters(), before, strict=True):
        expected = old * (1 - 0.5 * 0.1) if p.ndim >= 2 else old
        torch.testing.assert_close(p.detach(), expected, rtol=0, atol=0)
    # a model with no bias: no empty group
    assert len(optim.weight_decay_groups(tnn.Linear(3, 3, bias=False), 0.01)) == 1


@pytest.mark.parametrize("bad", [-0.1, math.inf, math.nan, True])
def test_weight_decay_groups_bad_weight_decay(bad):
    model = tnn.Linear(3, 3)
    with pytest.raises(ValueError, match=f"weight_decay must be .* got {bad!r}"):
        optim.weight_decay_groups(model, bad)
