"""nnbasics.nn against torch.nn, driven by the registry testkit.modules.MODULES: every check
below runs for every entry, so a new layer needs one entry and no new test."""

from __future__ import annotations

import inspect
import sys

import pytest
import torch
from torch import nn

import nnbasics.nn
from testkit.common import cases, signature_differences, unknown_skips
from testkit.modules import MODULES, ModuleInfo, ModuleInput, inputs, run

D = torch.float64


def _inputs(info: ModuleInfo) -> tuple[ModuleInput, ...]:
    return info.inputs


def _build(info: ModuleInfo, spec: ModuleInput, dtype: torch.dtype) -> tuple[nn.Module, nn.Module]:
    """Ours and PyTorch's, built from the same arguments, in ``dtype``."""
    ours = info.cls(*spec.args, **spec.kwargs).to(dtype)
    theirs = info.reference(*spec.args, **spec.kwargs).to(dtype)
    return ours, theirs


def _same_state(ours: nn.Module, theirs: nn.Module, tol: tuple[float, float]) -> None:
    """The same parameters and buffers registered (None where PyTorch's is None), the same
    ``state_dict`` keys and values."""
    for kind in ("_parameters", "_buffers"):
        mine = {k: v is None for k, v in getattr(ours, kind).items()}
        assert mine == {k: v is None for k, v in getattr(theirs, kind).items()}, kind
    expected = theirs.state_dict()
    assert ours.state_dict().keys() == expected.keys()
    for key, value in ours.state_dict().items():
        torch.testing.assert_close(value, expected[key], rtol=tol[0], atol=tol[1], msg=key)


def _same_run(ours: nn.Module, theirs: nn.Module, x: torch.Tensor, tol: tuple[float, float]):
    """The same output and the same gradients (input and parameters) on ``x``; the outputs."""
    out, grads = run(ours, x)
    expected, expected_grads = run(theirs, x)
    torch.testing.assert_close(out, expected, rtol=tol[0], atol=tol[1])
    assert grads.keys() == expected_grads.keys()
    for name, grad in grads.items():
        theirs_grad = expected_grads[name]
        if theirs_grad is None:
            assert grad is None or not grad.any(), name
        else:
            torch.testing.assert_close(grad, theirs_grad, rtol=tol[0], atol=tol[1], msg=name)
    return out, expected


@pytest.mark.parametrize(("info", "spec"), cases(MODULES, "test_train_eval_and_state", _inputs))
def test_train_eval_and_state(info: ModuleInfo, spec: ModuleInput):
    """Built from the same arguments: the same parameters, buffers and initial values; in
    training mode, ``steps`` calls with the same outputs and gradients and the same state
    after them (running statistics); then the same in eval mode, where a layer that PyTorch
    makes the identity (dropout) returns its input exactly."""
    ours, theirs = _build(info, spec, D)
    _same_state(ours, theirs, info.tol)
    for x in inputs(spec.shape, D, info.steps):
        _same_run(ours, theirs, x, info.tol)
    _same_state(ours, theirs, info.tol)
    ours.eval()
    theirs.eval()
    x = next(inputs(spec.shape, D, 1, seed=1))
    out, expected = _same_run(ours, theirs, x, info.tol)
    if torch.equal(expected, x):
        assert torch.equal(out, x)


@pytest.mark.parametrize(("info", "spec"), cases(MODULES, "test_loads_torch_state_dict", _inputs))
def test_loads_torch_state_dict(info: ModuleInfo, spec: ModuleInput):
    """A fresh module of ours loads the state_dict of PyTorch's after training and then
    gives its eval outputs."""
    _, theirs = _build(info, spec, D)
    for x in inputs(spec.shape, D, info.steps):
        theirs(x)
    fresh, _ = _build(info, spec, D)
    fresh.load_state_dict(theirs.state_dict())
    fresh.eval()
    theirs.eval()
    _same_run(fresh, theirs, next(inputs(spec.shape, D, 1, seed=1)), info.tol)


@pytest.mark.parametrize(("info", "spec"), cases(MODULES, "test_float32", _inputs))
def test_float32(info: ModuleInfo, spec: ModuleInput):
    """The same outputs and gradients in float32, in training and in eval mode."""
    ours, theirs = _build(info, spec, torch.float32)
    x = next(inputs(spec.shape, torch.float32, 1))
    _same_run(ours, theirs, x, info.tol32)
    ours.eval()
    theirs.eval()
    _same_run(ours, theirs, x, info.tol32)


@pytest.mark.parametrize("info", cases(MODULES, "test_constructor_arguments_are_torchs"))
def test_constructor_arguments_are_torchs(info: ModuleInfo):
    """Every constructor argument is one of torch.nn's, with its default."""
    assert signature_differences(info.cls, info.reference) == []


def _errors(info: ModuleInfo):
    return info.errors


@pytest.mark.parametrize(("info", "bad"), cases(MODULES, "test_bad_arguments", _errors))
def test_bad_arguments(info: ModuleInfo, bad):
    """An invalid argument (or input) is refused, with a message naming it."""
    with pytest.raises(bad.error, match=bad.match):
        module = info.cls(*bad.args, **bad.keywords())
        if bad.shape is not None:
            module(torch.zeros(bad.shape))


# ----------------------------------------------------------------------------- the registry
def test_one_entry_per_module():
    names = [info.name for info in MODULES]
    assert len(names) == len(set(names)), names
    exported = {n for n in nnbasics.nn.__all__ if isinstance(getattr(nnbasics.nn, n), type)}
    assert set(names) == exported


def test_declared_skips_name_tests_of_this_file():
    tests = [name for name, _ in inspect.getmembers(sys.modules[__name__]) if name[:5] == "test_"]
    assert unknown_skips(MODULES, tests) == []


def test_a_misspelt_entry_is_one_error_naming_it():
    line = inspect.currentframe().f_lineno + 1
    bad = ModuleInfo("Relu", (ModuleInput(),), ref="torch.nn.Relu")
    for what, role in (
        (lambda: bad.cls, "class 'nnbasics.nn.Relu'"),
        (lambda: bad.reference, "reference 'torch.nn.Relu'"),
    ):
        with pytest.raises(LookupError) as info:
            what()
        assert (
            str(info.value) == f"tests/test_nn.py:{line}: ModuleInfo 'Relu': {role} does not exist"
        )


def test_a_declared_skip_skips_that_test_only():
    info = ModuleInfo("ReLU", (ModuleInput(),), skips={"test_float32": "a reason"})
    (skipped,) = cases([info], "test_float32", _inputs)
    assert [(m.name, m.kwargs) for m in skipped.marks] == [("skip", {"reason": "a reason"})]
    (run,) = cases([info], "test_train_eval_and_state", _inputs)
    assert not run.marks
