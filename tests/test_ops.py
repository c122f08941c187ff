"""nnbasics.functional against PyTorch, driven by the registry testkit.ops.OPS: every
check below runs for every entry, so a new function needs one entry and no new test."""

from __future__ import annotations

import inspect
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import nnbasics.functional as F
from testkit.common import cases, unknown_skips
from testkit.ops import OPS, OpInfo, check_gradients, compare, with_extremes

ROOT = Path(__file__).resolve().parent.parent
# resolve every name now: a misspelt one is a single collection error naming its entry
RESOLVED = [(op.function, op.reference) for op in OPS]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The samples are tiny: on one thread they take microseconds, while handing each one to
    a busy thread pool can take milliseconds."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _ops(test: str, *flags: str) -> list:
    """The entries whose ``flags`` are all set, one pytest parameter each, by name, skipped
    where the entry declares that ``test`` does not apply."""
    return cases([op for op in OPS if all(getattr(op, flag) for flag in flags)], test)


def test_one_entry_per_from_scratch_function():
    names = [op.name for op in OPS]
    assert len(names) == len(set(names)), names
    assert set(names) == {name for name in F.__all__ if not name.endswith("_grad")}


@pytest.mark.parametrize("op", _ops("test_values_and_gradients_float64"))
def test_values_and_gradients_float64(op):
    """Values, gradients and in-place updates equal PyTorch's (by default to rtol 1e-10,
    atol 1e-12) for every combination of options on the first shape and each option alone
    on the others."""
    for sample in op.samples(torch.float64):
        compare(op, sample)


@pytest.mark.parametrize("op", _ops("test_float32"))
def test_float32(op):
    """The same in float32 (gradients too unless the entry says otherwise)."""
    for sample in op.samples(torch.float32, combinations=False):
        compare(op, sample)


@pytest.mark.parametrize("op", _ops("test_gradcheck", "gradcheck"))
def test_gradcheck(op):
    """Our gradients against finite differences, where finite differences apply."""
    for sample in op.samples(torch.float64, shapes=op.shapes[:1], combinations=False):
        if sample.smooth and sample.finite and sample.raises is None:
            check_gradients(op, sample)


@pytest.mark.parametrize("op", _ops("test_gradgradcheck", "gradgradcheck"))
def test_gradgradcheck(op):
    """The backward of each activation is its *_grad function, itself differentiable."""
    for sample in op.samples(torch.float64, shapes=op.shapes[:1], combinations=False):
        if sample.smooth and sample.finite and sample.raises is None:
            check_gradients(op, sample, order=2)


@pytest.mark.parametrize(
    ("op", "dtype"),
    cases(OPS, "test_extreme_values_are_finite_and_equal", lambda op: op.extremes),
)
def test_extreme_values_are_finite_and_equal(op, dtype):
    """±1e4, ±50, ±1e-300 and 0 as input: finite values and gradients, equal to PyTorch's."""
    for sample in op.samples(dtype, shapes=op.shapes[:1], combinations=False):
        if sample.raises is None:
            compare(op, with_extremes(sample))


@pytest.mark.parametrize("op", _ops("test_empty_batch", "empty"))
def test_empty_batch(op):
    """Same shapes and values (a mean over nothing is NaN, as PyTorch's)."""
    for sample in op.samples(torch.float64, shapes=[op.empty], combinations=False):
        compare(op, replace(sample, finite=False))


def _shapes(op: OpInfo) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes of every rank from len(min_shape) to len(max_shape), each size in its bounds."""
    low, high = op.min_shape, op.max_shape
    return st.integers(len(low), len(high)).flatmap(
        lambda rank: st.tuples(
            *(st.integers(low[i] if i < len(low) else 1, high[i]) for i in range(rank))
        )
    )


@pytest.mark.parametrize("op", _ops("test_property"))
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_property(op, data):
    """Any seed, shape (within the entry's bounds), dtype and combination of options."""
    shape = data.draw(_shapes(op), label="shape")
    dtype = data.draw(st.sampled_from([torch.float32, torch.float64]), label="dtype")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    options = {
        key: data.draw(st.sampled_from(values), label=key) for key, values in op.options.items()
    }
    compare(op, op.sample(shape, dtype, seed, **options))


@pytest.mark.parametrize(("op", "bad"), cases(OPS, "test_bad_arguments", lambda op: op.errors))
def test_bad_arguments(op, bad):
    """An invalid keyword argument, on the entry's default sample, is refused naming it."""
    sample = op.sample(op.shapes[0])
    with pytest.raises(bad.error, match=bad.match):
        op.function(*sample.args, **{**sample.kwargs, **bad.keywords()})


# ----------------------------------------------------------------------------- the registry
def test_declared_skips_name_tests_of_this_file():
    tests = [name for name, _ in inspect.getmembers(sys.modules[__name__]) if name[:5] == "test_"]
    assert unknown_skips(OPS, tests) == []


def test_registry_entries_know_their_line():
    lines = (ROOT / "testkit" / "ops.py").read_text(encoding="utf-8").splitlines()
    for op in OPS:
        path, line = op.where.rsplit(":", 1)
        assert path == "testkit/ops.py"
        assert lines[int(line) - 1].lstrip().startswith("OpInfo("), op.where


def test_a_missing_reference_is_one_error_naming_the_entry():
    line = inspect.currentframe().f_lineno + 1
    bad = OpInfo("gelu", "torch.nn.functional.gelux", OPS[0].make, shapes=((2,),))
    with pytest.raises(LookupError) as info:
        bad.reference  # noqa: B018 - resolving is what fails
    assert str(info.value) == (
        f"tests/test_ops.py:{line}: OpInfo 'gelu': reference 'torch.nn.functional.gelux' "
        "does not exist"
    )
    assert info.value.__cause__ is None and info.value.__context__ is None  # nothing chained
    assert bad.function is F.gelu  # the function itself resolves


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"name": "gelux", "ref": "torch.nn.functional.gelu"},
            "function 'nnbasics.functional.gelux'",
        ),
        ({"name": "gelu", "ref": "torchx.gelu"}, "reference 'torchx.gelu'"),
        (
            {"name": "gelu", "ref": "torch.nn.functional.gelu", "op": "math.pi"},
            "function 'math.pi'",
        ),
    ],
)
def test_names_that_resolve_to_nothing_callable(kwargs, message):
    bad = OpInfo(make=OPS[0].make, shapes=((2,),), **kwargs)
    with pytest.raises(
        LookupError, match=f"^tests/test_ops.py:[0-9]+: OpInfo .*{message} does not exist$"
    ):
        bad.function, bad.reference  # noqa: B018


def test_an_unknown_option_names_the_entry():
    relu = OPS[0]
    with pytest.raises(
        ValueError, match=r"^testkit/ops\.py:\d+: OpInfo 'relu' has no option \['scal'\]"
    ):
        relu.sample((2,), scal=3.0)


def test_a_wrong_function_fails_naming_the_sample():
    wrong = replace(OPS[0], op=lambda x: F.relu(x) * (1 + 1e-9))
    with pytest.raises(
        AssertionError, match=r"relu \(7, 5\) float64 seed=0, zeros=True, scale=3.0: value"
    ):
        compare(wrong, wrong.sample((7, 5)))


def test_a_function_that_forgets_an_in_place_update_fails():
    batch_norm = next(op for op in OPS if op.name == "batch_norm")
    forgets = replace(
        batch_norm,
        op=lambda x, mean, var, *args, **kw: F.batch_norm(x, mean.clone(), var, *args, **kw),
    )
    sample = forgets.sample((8, 3), training=True)
    with pytest.raises(AssertionError, match=r"batch_norm \(8, 3\) .*: argument 1 after the call"):
        compare(forgets, sample)
