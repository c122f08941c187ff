"""nnbasics.init against torch.nn.init: bit-equal fills for the same seed, same errors."""

from __future__ import annotations

import inspect
import math
import re
import typing
import warnings

import pytest
import torch
import torch.nn as tnn
import torch.nn.init as tinit

from nnbasics import init

# every name torch's calculate_gain accepts (the tests compare each with torch's answer)
NONLINEARITIES = list(typing.get_args(init.Nonlinearity))
SHAPES = [(3, 5), (64, 32), (8, 3, 3, 3), (4, 2, 5)]
DTYPES = [torch.float32, torch.float64]
FUNCTIONS = ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]

XAVIER_OPTIONS = [{}, {"gain": tinit.calculate_gain("relu")}, {"gain": 0.5}]
KAIMING_OPTIONS = [
    {},  # the defaults: fan_in, leaky_relu with a = 0 (ReLU's gain)
    *(
        {"mode": mode, "nonlinearity": nonlinearity, **extra}
        for mode in ("fan_in", "fan_out")
        for nonlinearity, extra in [
            ("relu", {}),
            ("leaky_relu", {"a": 0.2}),
            ("leaky_relu", {"a": math.sqrt(5)}),  # nn.Linear's and nn.Conv*d's default
            ("leaky_relu", {"a": 3}),  # an int slope
            ("linear", {}),
            ("conv2d", {}),
            ("sigmoid", {}),
            ("tanh", {}),
            ("selu", {}),
            ("relu", {"a": 0.7}),  # a is ignored by every nonlinearity but leaky_relu
        ]
    ),
    {"mode": "FAN_OUT"},  # torch lower-cases the mode
]
CASES = [
    (name, options)
    for name in FUNCTIONS
    for options in (XAVIER_OPTIONS if name.startswith("xavier") else KAIMING_OPTIONS)
]


def _fill(fn, shape, dtype, options, seed, use_generator):
    tensor = torch.empty(shape, dtype=dtype)
    if use_generator:
        out = fn(tensor, generator=torch.Generator().manual_seed(seed), **options)
    else:
        torch.manual_seed(seed)
        out = fn(tensor, **options)
    assert out is tensor
    return tensor


@pytest.mark.parametrize("use_generator", [True, False], ids=["generator", "manual_seed"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize(("name", "options"), CASES, ids=str)
def test_same_values_as_torch(name, options, shape, dtype, use_generator):
    seed = 1000 + len(CASES) * SHAPES.index(shape) + CASES.index((name, options))
    ours = _fill(getattr(init, name), shape, dtype, options, seed, use_generator)
    theirs = _fill(getattr(tinit, name), shape, dtype, options, seed, use_generator)
    assert torch.equal(ours, theirs)
    assert ours.unique().numel() > ours.numel() // 2  # really drawn, not a constant


@pytest.mark.parametrize("name", FUNCTIONS)
def test_signatures_match_torch(name):
    ours = inspect.signature(getattr(init, name)).parameters
    theirs = inspect.signature(getattr(tinit, name)).parameters
    assert [(p.name, p.kind, p.default) for p in ours.values()] == [
        (p.name, p.kind, p.default) for p in theirs.values()
    ]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_fills_a_parameter_in_place_without_recording_it(name):
    weight = tnn.Parameter(torch.zeros(6, 4))
    out = getattr(init, name)(weight)
    assert out is weight and weight.requires_grad and weight.grad_fn is None
    assert (weight != 0).all()


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (tnn.Linear, (32, 64)),  # Linear(in, out): weight (out, in)
        (tnn.Linear, (5, 3)),
        (tnn.Conv2d, (3, 8, 3)),
        (tnn.Conv1d, (2, 4, 5)),
    ],
)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_layer_default_is_kaiming_uniform_with_a_sqrt5(layer, shape, dtype):
    torch.manual_seed(7)
    module = layer(*shape, dtype=dtype)  # the weight is drawn first, then the bias
    torch.manual_seed(7)
    ours = init.kaiming_uniform_(torch.empty_like(module.weight), a=math.sqrt(5))
    assert torch.equal(ours, module.weight.detach())
    fan_in, _ = init._calculate_fan_in_and_fan_out(module.weight)
    assert ours.abs().max() <= 1 / math.sqrt(fan_in)  # U(-1/sqrt(fan_in), 1/sqrt(fan_in))


# ----------------------------------------------------------------------------- gain and fans
@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_matches_torch(nonlinearity):
    ours, theirs = init.calculate_gain(nonlinearity), tinit.calculate_gain(nonlinearity)
    assert ours == theirs and type(ours) is type(theirs)  # the int 1 for linear and sigmoid


@pytest.mark.parametrize("param", [None, 0, 0.01, 0.2, 1, 10, math.sqrt(5), -0.5])
def test_calculate_gain_leaky_relu_slopes(param):
    assert init.calculate_gain("leaky_relu", param) == tinit.calculate_gain("leaky_relu", param)


def test_calculate_gain_values():
    assert init.calculate_gain("leaky_relu") == 1.4141428569978354  # slope 0.01
    assert init.calculate_gain("leaky_relu", 0) == math.sqrt(2) == init.calculate_gain("relu")
    assert init.calculate_gain("tanh") == 5 / 3 and init.calculate_gain("selu") == 0.75


def _torch_error(call):
    with pytest.raises(Exception) as info:
        call(tinit)
    return info.type, str(info.value)


def _assert_same_error(call):
    kind, message = _torch_error(call)
    with pytest.raises(kind, match=f"^{re.escape(message)}$"):
        call(init)


@pytest.mark.parametrize("param", [True, False, [1], {"a": "b"}, "0.1", torch.tensor(0.1)])
def test_calculate_gain_rejects_a_non_numeric_slope(param):
    _assert_same_error(lambda m: m.calculate_gain("leaky_relu", param))


@pytest.mark.parametrize("nonlinearity", ["gelu", "Relu", "", "softmax", "xyzzy", "conv4d"])
def test_calculate_gain_rejects_unknown_nonlinearities(nonlinearity):
    _assert_same_error(lambda m: m.calculate_gain(nonlinearity))


def test_calculate_gain_ignores_param_of_other_nonlinearities():
    assert init.calculate_gain("relu", True) == tinit.calculate_gain("relu", True)


@pytest.mark.parametrize(
    "shape", [(3, 5), (64, 32), (8, 3, 3, 3), (4, 2, 5), (2, 3, 4, 5, 6), (1, 1), (0, 5), (5, 0)]
)
def test_fans_match_torch(shape):
    tensor = torch.empty(shape)
    ours = init._calculate_fan_in_and_fan_out(tensor)
    assert ours == tinit._calculate_fan_in_and_fan_out(tensor)


@pytest.mark.parametrize("shape", [(), (1,), (5,), (0,)])
def test_fans_need_two_dimensions(shape):
    _assert_same_error(lambda m: m._calculate_fan_in_and_fan_out(torch.empty(shape)))


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("shape", [(), (1,), (5,)])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_fewer_than_two_dimensions(name, shape):
    _assert_same_error(lambda m: getattr(m, name)(torch.empty(shape)))


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": "fan_avg"},
        {"mode": "FAN_AVG"},  # reported lower-cased, as torch does
        {"mode": ""},
        {"nonlinearity": "gelu"},
        {"mode": "fan_avg", "nonlinearity": "gelu"},  # the mode is checked first
        {"a": True},  # leaky_relu's slope must be a number
        {"a": "0.2"},
    ],
    ids=str,
)
@pytest.mark.parametrize("shape", [(3, 4), (5,)])  # mode before the dimensions, too
def test_kaiming_bad_arguments(name, kwargs, shape):
    _assert_same_error(lambda m: getattr(m, name)(torch.empty(shape), **kwargs))


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 0), (3, 0, 2), (0,)])
@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_warns_on_zero_element_tensors(name, shape):
    for module in (init, tinit):
        tensor = torch.empty(shape)
        # even a 1-D tensor or a bad mode: the emptiness check comes first
        with pytest.warns(UserWarning, match="^Initializing zero-element tensors is a no-op$") as w:
            out = getattr(module, name)(tensor, mode="fan_avg")
        assert out is tensor
        assert w[0].filename == __file__  # attributed to the caller


@pytest.mark.parametrize("name", ["xavier_uniform_", "xavier_normal_"])
def test_xavier_on_zero_element_tensors(name):
    for module in (init, tinit):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no warning, unlike kaiming
            tensor = torch.empty(0, 5)
            assert getattr(module, name)(tensor) is tensor
    # both fans zero: the bound divides by zero
    _assert_same_error(lambda m: getattr(m, name)(torch.empty(0, 0)))
