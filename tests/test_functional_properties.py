"""Property tests (hypothesis) and edge cases for nnbasics.functional against torch:
random shapes, dtypes and options; second derivatives; empty batches; ±1e4 logits."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import nnbasics.functional as F

D = torch.float64
TOL = {torch.float32: {"rtol": 2e-5, "atol": 2e-6}, torch.float64: {"rtol": 1e-10, "atol": 1e-12}}
SETTINGS = settings(max_examples=30, deadline=None)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _value_and_grads(ours, theirs, inputs, tol, grads=True):
    """Same value and (unless ``grads`` is false) the same gradient for every floating input."""
    a = [x.detach().clone().requires_grad_(x.is_floating_point()) for x in inputs]
    b = [x.detach().clone().requires_grad_(x.is_floating_point()) for x in inputs]
    out_a, out_b = ours(*a), theirs(*b)
    torch.testing.assert_close(out_a, out_b, equal_nan=True, **tol)
    if out_b.numel() == 0 or not grads:
        return
    up = torch.randn(out_b.shape, generator=_gen(1), dtype=out_b.dtype)
    wrt_a = [x for x in a if x.requires_grad]
    wrt_b = [x for x in b if x.requires_grad]
    ga = torch.autograd.grad((out_a * up).sum(), wrt_a, allow_unused=True)
    gb = torch.autograd.grad((out_b * up).sum(), wrt_b, allow_unused=True)
    for x, y in zip(ga, gb, strict=True):
        if y is not None:
            torch.testing.assert_close(x, y, equal_nan=True, **tol)


shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3)
dtypes = st.sampled_from([torch.float32, torch.float64])
reductions = st.sampled_from(["none", "mean", "sum"])
seeds = st.integers(0, 2**16)


@SETTINGS
@given(
    shape=shapes,
    dtype=dtypes,
    reduction=reductions,
    seed=seeds,
    delta=st.sampled_from([0.1, 1.0, 2.5]),
    weighted=st.booleans(),
)
def test_regression_losses_property(shape, dtype, reduction, seed, delta, weighted):
    g = _gen(seed)
    x = torch.randn(shape, generator=g, dtype=dtype) * 2
    y = torch.randn(shape, generator=g, dtype=dtype) * 2
    w = torch.rand(shape, generator=g, dtype=dtype) if weighted else None
    tol = TOL[dtype]
    _value_and_grads(
        lambda a, b: F.mse_loss(a, b, reduction=reduction, weight=w),
        lambda a, b: TF.mse_loss(a, b, reduction=reduction, weight=w),
        (x, y),
        tol,
    )
    _value_and_grads(
        lambda a, b: F.huber_loss(a, b, reduction, delta, w),
        lambda a, b: TF.huber_loss(a, b, reduction, delta, w),
        (x, y),
        tol,
    )


@SETTINGS
@given(
    shape=shapes,
    dtype=dtypes,
    reduction=reductions,
    seed=seeds,
    weighted=st.booleans(),
    pos_weighted=st.booleans(),
    scale=st.sampled_from([1.0, 30.0]),
)
def test_bce_with_logits_property(shape, dtype, reduction, seed, weighted, pos_weighted, scale):
    g = _gen(seed)
    x = torch.randn(shape, generator=g, dtype=dtype) * scale
    y = torch.rand(shape, generator=g, dtype=dtype)
    kw = {}
    if weighted:
        kw["weight"] = torch.rand(shape, generator=g, dtype=dtype)
    if pos_weighted:
        kw["pos_weight"] = torch.rand(shape[-1:], generator=g, dtype=dtype) * 3
    _value_and_grads(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction, **kw),
        lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction, **kw),
        (x, y),
        TOL[dtype],
    )


@SETTINGS
@given(
    batch=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    classes=st.integers(1, 6),
    dtype=dtypes,
    reduction=reductions,
    seed=seeds,
    smoothing=st.sampled_from([0.0, 0.1, 1.0]),
    weighted=st.booleans(),
    probabilities=st.booleans(),
    ignore=st.booleans(),
)
def test_cross_entropy_property(
    batch, classes, dtype, reduction, seed, smoothing, weighted, probabilities, ignore
):
    g = _gen(seed)
    # (C), (N, C) or (N, C, d1, ...): the class dimension is 1 when there is a batch
    shape = [batch[0], classes, *batch[1:]] if batch else [classes]
    x = torch.randn(shape, generator=g, dtype=dtype) * 3
    target_shape = [batch[0], *batch[1:]] if batch else []
    if probabilities:
        y = torch.rand(shape, generator=g, dtype=dtype)
        y = y / y.sum(dim=1 if batch else 0, keepdim=True)
    else:
        y = torch.randint(0, classes, target_shape, generator=g)
        if ignore and y.numel():
            y.view(-1)[0] = -100
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    if weighted:
        kw["weight"] = torch.rand(classes, generator=g, dtype=dtype)
    _value_and_grads(
        lambda a, b: F.cross_entropy(a, b, **kw),
        lambda a, b: TF.cross_entropy(a, b, **kw),
        (x, y),
        TOL[dtype],
    )


@SETTINGS
@given(
    n=st.integers(2, 6),
    c=st.sampled_from([1, 2, 4, 6]),
    spatial=st.integers(0, 2),
    dtype=dtypes,
    seed=seeds,
    affine=st.booleans(),
    training=st.booleans(),
    momentum=st.sampled_from([0.1, 0.9]),
)
def test_batch_norm_property(n, c, spatial, dtype, seed, affine, training, momentum):
    g = _gen(seed)
    x = torch.randn([n, c] + [3] * spatial, generator=g, dtype=dtype) * 2 + 1
    w = torch.rand(c, generator=g, dtype=dtype) if affine else None
    b = torch.rand(c, generator=g, dtype=dtype) if affine else None
    rm_a, rv_a = (
        torch.rand(c, generator=g, dtype=dtype),
        torch.rand(c, generator=g, dtype=dtype) + 0.5,
    )
    rm_b, rv_b = rm_a.clone(), rv_a.clone()
    _value_and_grads(
        lambda a: F.batch_norm(a, rm_a, rv_a, w, b, training, momentum),
        lambda a: TF.batch_norm(a, rm_b, rv_b, w, b, training, momentum),
        (x,),
        TOL[dtype],
    )
    torch.testing.assert_close(rm_a, rm_b, **TOL[dtype])
    torch.testing.assert_close(rv_a, rv_b, **TOL[dtype])


@SETTINGS
@given(
    n=st.integers(1, 4),
    groups=st.sampled_from([1, 2, 3]),
    per_group=st.integers(1, 3),
    spatial=st.integers(0, 2),
    dtype=dtypes,
    seed=seeds,
    affine=st.booleans(),
    eps=st.sampled_from([1e-5, 1e-2]),
)
def test_layer_and_group_norm_property(n, groups, per_group, spatial, dtype, seed, affine, eps):
    g = _gen(seed)
    c = groups * per_group
    x = torch.randn([n, c] + [2] * spatial, generator=g, dtype=dtype) * 3
    normalized = x.shape[1:]
    lw = torch.rand(normalized, generator=g, dtype=dtype) if affine else None
    lb = torch.rand(normalized, generator=g, dtype=dtype) if affine else None
    _value_and_grads(
        lambda a: F.layer_norm(a, normalized, lw, lb, eps),
        lambda a: TF.layer_norm(a, normalized, lw, lb, eps),
        (x,),
        TOL[dtype],
        grads=dtype == torch.float64,  # float32 gradients of tiny groups are ill-conditioned
    )
    gw = torch.rand(c, generator=g, dtype=dtype) if affine else None
    gb = torch.rand(c, generator=g, dtype=dtype) if affine else None
    if n * per_group * 2**spatial == 1:  # one value per group: torch refuses, so do we
        for fn in (F.group_norm, TF.group_norm):
            with pytest.raises(ValueError, match="more than 1 value"):
                fn(x, groups)
        return
    tol = TOL[dtype]
    if per_group * 2**spatial == 1 and dtype == torch.float32:
        # one value per group: x - mean is exactly 0 here; torch's float32 mean is off by
        # an ulp, which 1/sqrt(eps) then magnifies
        tol = {"rtol": 2e-5, "atol": 1e-6 / eps**0.5}
    _value_and_grads(
        lambda a: F.group_norm(a, groups, gw, gb, eps),
        lambda a: TF.group_norm(a, groups, gw, gb, eps),
        (x,),
        tol,
        grads=dtype == torch.float64,
    )


@SETTINGS
@given(
    shape=shapes, dtype=dtypes, seed=seeds, slope=st.sampled_from([0.0, 0.01, 0.5, 1.0, 1.5, -0.3])
)
def test_leaky_relu_any_slope(shape, dtype, seed, slope):
    x = torch.randn(shape, generator=_gen(seed), dtype=dtype)
    x.view(-1)[0] = 0.0  # the kink: both sides must pick PyTorch's one-sided gradient
    _value_and_grads(
        lambda a: F.leaky_relu(a, slope), lambda a: TF.leaky_relu(a, slope), (x,), TOL[dtype]
    )


SECOND_ORDER = [
    ("relu", F.relu),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1)),
    ("sigmoid", F.sigmoid),
    ("tanh", F.tanh),
    ("gelu", F.gelu),
    ("gelu_tanh", lambda x: F.gelu(x, "tanh")),
    ("prelu", lambda x: F.prelu(x, torch.tensor([0.25], dtype=D))),
]


@pytest.mark.parametrize(("name", "fn"), SECOND_ORDER, ids=[s[0] for s in SECOND_ORDER])
def test_hand_written_derivatives_have_second_derivatives(name, fn):
    """The backward of each activation is its *_grad function, itself differentiable:
    gradgradcheck compares the Hessian-vector products with finite differences."""
    x = torch.tensor([-2.5, -0.7, 0.3, 1.9], dtype=D, requires_grad=True)
    assert torch.autograd.gradgradcheck(fn, (x,))


def test_prelu_slope_gets_torch_s_gradient_at_zero_and_per_channel():
    x = torch.tensor([[0.0, -1.0, 2.0], [-3.0, 0.0, 1.0]], dtype=D)
    for w in (torch.tensor([0.2], dtype=D), torch.tensor([0.1, -0.5, 2.0], dtype=D)):
        _value_and_grads(F.prelu, TF.prelu, (x, w), TOL[D])


EMPTY_LOSSES = [
    ("mse_loss", F.mse_loss, TF.mse_loss),
    ("huber_loss", F.huber_loss, TF.huber_loss),
    (
        "bce_with_logits",
        F.binary_cross_entropy_with_logits,
        TF.binary_cross_entropy_with_logits,
    ),
]


@pytest.mark.parametrize(("name", "ours", "theirs"), EMPTY_LOSSES, ids=[e[0] for e in EMPTY_LOSSES])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_losses_of_an_empty_batch_match_torch(name, ours, theirs, reduction):
    x = torch.empty(0, 3, dtype=D)
    out_a, out_b = ours(x, x, reduction=reduction), theirs(x, x, reduction=reduction)
    torch.testing.assert_close(out_a, out_b, equal_nan=True)  # none: (0, 3); mean: nan; sum: 0


EMPTY = [
    ("layer_norm", lambda x: F.layer_norm(x, (3,)), lambda x: TF.layer_norm(x, (3,)), (0, 3)),
    ("group_norm", lambda x: F.group_norm(x, 2), lambda x: TF.group_norm(x, 2), (0, 4, 2)),
    ("dropout", lambda x: F.dropout(x, 0.5), lambda x: TF.dropout(x, 0.5), (0, 3)),
    (
        "prelu",
        lambda x: F.prelu(x, torch.ones(3, dtype=D)),
        lambda x: TF.prelu(x, torch.ones(3, dtype=D)),
        (0, 3),
    ),
    ("softmax", lambda x: F.softmax(x, 1), lambda x: TF.softmax(x, 1), (0, 3)),
]


@pytest.mark.parametrize(("name", "ours", "theirs", "shape"), EMPTY, ids=[e[0] for e in EMPTY])
def test_functions_of_an_empty_batch_match_torch(name, ours, theirs, shape):
    x = torch.empty(shape, dtype=D)
    out_a, out_b = ours(x), theirs(x)
    assert out_a.shape == out_b.shape == shape


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_losses_at_plus_minus_1e4_are_finite_and_equal(reduction):
    x = torch.tensor([[-1e4, 1e4], [1e4, -1e4], [0.0, 1e4]], dtype=D)
    probs = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.3, 0.7]], dtype=D)
    idx = torch.tensor([0, 1, 1])
    cases = [
        (
            lambda a: F.cross_entropy(a, idx, reduction=reduction),
            lambda a: TF.cross_entropy(a, idx, reduction=reduction),
        ),
        (
            lambda a: F.cross_entropy(a, probs, reduction=reduction, label_smoothing=0.1),
            lambda a: TF.cross_entropy(a, probs, reduction=reduction, label_smoothing=0.1),
        ),
        (
            lambda a: F.binary_cross_entropy_with_logits(a, probs, reduction=reduction),
            lambda a: TF.binary_cross_entropy_with_logits(a, probs, reduction=reduction),
        ),
    ]
    for ours, theirs in cases:
        a = x.clone().requires_grad_()
        out = ours(a)
        out.sum().backward()
        assert torch.isfinite(out).all() and torch.isfinite(a.grad).all()
        _value_and_grads(ours, theirs, (x,), TOL[D])
