"""nnbasics.functional against torch.nn.functional: values and gradients in float64."""

from __future__ import annotations

import ast
import inspect

import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import nnbasics.functional as F

D = torch.float64


def _close(ours, theirs, **kw):
    torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12, equal_nan=True, **kw)


def _same_value_and_grad(ours_fn, torch_fn, *inputs):
    """Same outputs and the same gradients for every floating input."""
    a = [x.detach().clone().requires_grad_(x.is_floating_point()) for x in inputs]
    b = [x.detach().clone().requires_grad_(x.is_floating_point()) for x in inputs]
    out_a, out_b = ours_fn(*a), torch_fn(*b)
    _close(out_a, out_b)
    upstream = torch.randn_like(out_b)
    ga = torch.autograd.grad(
        (out_a * upstream).sum(), [x for x in a if x.requires_grad], allow_unused=True
    )
    gb = torch.autograd.grad(
        (out_b * upstream).sum(), [x for x in b if x.requires_grad], allow_unused=True
    )
    for x, y in zip(ga, gb, strict=True):
        if y is None:
            assert x is None or torch.all(x == 0)
        else:
            _close(x, y)


ACTIVATIONS = [
    ("relu", lambda x: F.relu(x), lambda x: TF.relu(x)),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    ("sigmoid", F.sigmoid, torch.sigmoid),
    ("tanh", F.tanh, torch.tanh),
    ("gelu", F.gelu, TF.gelu),
    ("gelu_tanh", lambda x: F.gelu(x, "tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    ("softmax", lambda x: F.softmax(x, -1), lambda x: TF.softmax(x, -1)),
    ("log_softmax", lambda x: F.log_softmax(x, 0), lambda x: TF.log_softmax(x, 0)),
]


@pytest.mark.parametrize(("name", "ours", "theirs"), ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_values_and_gradients(name, ours, theirs):
    torch.manual_seed(0)
    x = torch.randn(7, 5, dtype=D) * 3
    x[0, :3] = torch.tensor([0.0, 1e-9, -1e-9], dtype=D)
    _same_value_and_grad(ours, theirs, x)
    assert torch.autograd.gradcheck(ours, (x[1:4].clone().requires_grad_(),))  # away from kinks


@pytest.mark.parametrize(("name", "ours", "theirs"), ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_extreme_inputs_are_finite_and_correct(name, ours, theirs):
    x = torch.tensor([[-1e4, -50.0, -1e-300, 0.0, 1e-300, 50.0, 1e4]], dtype=D)
    _same_value_and_grad(ours, theirs, x)
    x32 = x.float().requires_grad_()
    out = ours(x32)
    out.sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(x32.grad).all()


@pytest.mark.parametrize(("name", "ours", "theirs"), ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_empty_batch(name, ours, theirs):
    x = torch.empty(0, 4, dtype=D)
    assert ours(x).shape == theirs(x).shape


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    scale=st.sampled_from([1e-3, 1.0, 30.0]),
    seed=st.integers(0, 2**16),
)
def test_activations_property(shape, dtype, scale, seed):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype) * scale
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == torch.float32 else {"rtol": 1e-10, "atol": 1e-12}
    for _, ours, theirs in ACTIVATIONS:
        torch.testing.assert_close(ours(x), theirs(x), **tol)


def test_prelu_single_and_per_channel():
    torch.manual_seed(0)
    x = torch.randn(4, 3, 5, dtype=D)
    _same_value_and_grad(F.prelu, TF.prelu, x, torch.rand(3, dtype=D))
    _same_value_and_grad(F.prelu, TF.prelu, x, torch.rand(1, dtype=D))
    with pytest.raises(RuntimeError, match="weight has 2 elements"):
        F.prelu(x, torch.rand(2, dtype=D))


@pytest.mark.parametrize(
    ("grad", "fn", "kwargs"),
    [
        (F.relu_grad, F.relu, {}),
        (F.leaky_relu_grad, F.leaky_relu, {"negative_slope": 0.1}),
        (F.sigmoid_grad, F.sigmoid, {}),
        (F.tanh_grad, F.tanh, {}),
        (F.gelu_grad, F.gelu, {}),
        (F.gelu_grad, F.gelu, {"approximate": "tanh"}),
    ],
)
def test_activation_derivatives_equal_autograd(grad, fn, kwargs):
    x = torch.linspace(-6, 6, 101, dtype=D).requires_grad_()
    (auto,) = torch.autograd.grad(fn(x, **kwargs).sum(), x)
    _close(grad(x.detach(), **kwargs), auto)


def test_prelu_grad():
    x = torch.randn(3, 2, dtype=D).requires_grad_()
    w = torch.tensor([0.1, 0.3], dtype=D)
    (auto,) = torch.autograd.grad(F.prelu(x, w).sum(), x)
    _close(F.prelu_grad(x.detach(), w), auto)


def test_softmax_implicit_dim_warns_like_torch():
    x = torch.randn(2, 3, dtype=D)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        ours = F.softmax(x)
    with pytest.warns(UserWarning):
        theirs = TF.softmax(x)
    _close(ours, theirs)
    torch.testing.assert_close(
        F.log_softmax(x, 1, dtype=torch.float32), TF.log_softmax(x, 1, dtype=torch.float32)
    )


def test_bad_activation_arguments():
    with pytest.raises(ValueError, match=r"approximate.*'fast'"):
        F.gelu(torch.zeros(2), approximate="fast")


REDUCTIONS = ["none", "mean", "sum"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_and_huber(reduction):
    torch.manual_seed(0)
    x, y, w = torch.randn(4, 3, dtype=D), torch.randn(4, 3, dtype=D) * 2, torch.rand(4, 3, dtype=D)
    _same_value_and_grad(
        lambda a, b: F.mse_loss(a, b, reduction=reduction),
        lambda a, b: TF.mse_loss(a, b, reduction=reduction),
        x,
        y,
    )
    _same_value_and_grad(
        lambda a, b: F.mse_loss(a, b, reduction=reduction, weight=w),
        lambda a, b: TF.mse_loss(a, b, reduction=reduction, weight=w),
        x,
        y,
    )
    for delta in (0.5, 1.0, 3.0):
        _same_value_and_grad(
            lambda a, b, d=delta: F.huber_loss(a, b, reduction, d),
            lambda a, b, d=delta: TF.huber_loss(a, b, reduction, d),
            x,
            y,
        )
    _same_value_and_grad(
        lambda a, b: F.huber_loss(a, b, reduction, weight=w),
        lambda a, b: TF.huber_loss(a, b, reduction, weight=w),
        x,
        y,
    )


def test_mse_legacy_arguments_and_broadcast_warning():
    x, y = torch.randn(3, 2, dtype=D), torch.randn(3, 2, dtype=D)
    _close(F.mse_loss(x, y, size_average=False), TF.mse_loss(x, y, size_average=False))
    _close(F.mse_loss(x, y, reduce=False), TF.mse_loss(x, y, reduce=False))
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(x, y[:1])
    with pytest.raises(RuntimeError, match="cannot be broadcast"), pytest.warns(UserWarning):
        F.mse_loss(x, torch.randn(4, 2, dtype=D))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
@pytest.mark.parametrize("use_weight", [False, True])
def test_cross_entropy_class_indices(reduction, label_smoothing, use_weight):
    torch.manual_seed(0)
    w = torch.rand(5, dtype=D) if use_weight else None
    for shape, tshape in [((6, 5), (6,)), ((5,), ()), ((2, 5, 3, 4), (2, 3, 4))]:
        x = torch.randn(shape, dtype=D) * 3
        y = torch.randint(0, 5, tshape)
        if y.ndim:
            y.view(-1)[0] = 7  # ignore_index below
        kw = {
            "weight": w,
            "reduction": reduction,
            "label_smoothing": label_smoothing,
            "ignore_index": 7,
        }
        _same_value_and_grad(
            lambda a, b, kw=kw: F.cross_entropy(a, b, **kw),
            lambda a, b, kw=kw: TF.cross_entropy(a, b, **kw),
            x,
            y,
        )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_probability_targets(reduction, label_smoothing):
    torch.manual_seed(1)
    x = torch.randn(3, 4, 2, dtype=D)
    p = torch.softmax(torch.randn(3, 4, 2, dtype=D), dim=1)
    w = torch.rand(4, dtype=D)
    kw = {"weight": w, "reduction": reduction, "label_smoothing": label_smoothing}
    _same_value_and_grad(
        lambda a, b: F.cross_entropy(a, b, **kw), lambda a, b: TF.cross_entropy(a, b, **kw), x, p
    )


def test_cross_entropy_extreme_logits_are_finite():
    x = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], dtype=torch.float32)
    y = torch.tensor([1, 1])
    _same_value_and_grad(F.cross_entropy, TF.cross_entropy, x.double(), y)
    xr = x.clone().requires_grad_()
    loss = F.cross_entropy(xr, y)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(xr.grad).all()
    torch.testing.assert_close(loss, TF.cross_entropy(x, y))


def test_cross_entropy_empty_batch_and_all_ignored_match_torch():
    x, y = torch.randn(0, 3, dtype=D), torch.empty(0, dtype=torch.long)
    for red in REDUCTIONS:
        _close(F.cross_entropy(x, y, reduction=red), TF.cross_entropy(x, y, reduction=red))
    x, y = torch.randn(2, 3, dtype=D), torch.tensor([-100, -100])
    _close(F.cross_entropy(x, y), TF.cross_entropy(x, y))  # nan, as torch


def test_cross_entropy_bad_input():
    x = torch.randn(2, 3)
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F.cross_entropy(x, torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="target shape"):
        F.cross_entropy(x, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="'average'"):
        F.cross_entropy(x, torch.tensor([0, 1]), reduction="average")
    with pytest.raises(ValueError, match=r"label_smoothing.*1\.5"):
        F.cross_entropy(x, torch.tensor([0, 1]), label_smoothing=1.5)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(reduction):
    torch.manual_seed(0)
    x = torch.randn(5, 3, dtype=D) * 4
    x[0] = torch.tensor([0.0, 1e4, -1e4], dtype=D)
    t = torch.rand(5, 3, dtype=D)
    w, pw = torch.rand(5, 3, dtype=D), torch.rand(3, dtype=D) * 3
    for kw in ({}, {"weight": w}, {"pos_weight": pw}, {"weight": w, "pos_weight": pw}):
        _same_value_and_grad(
            lambda a, b, kw=kw: F.binary_cross_entropy_with_logits(a, b, reduction=reduction, **kw),
            lambda a, b, kw=kw: TF.binary_cross_entropy_with_logits(
                a, b, reduction=reduction, **kw
            ),
            x,
            t,
        )
    with pytest.raises(ValueError, match="Target size"):
        F.binary_cross_entropy_with_logits(x, t[:2])


def _ctc_case(seed, T=30, N=5, C=7, S=6, concatenated=False):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(T, N, C, generator=g, dtype=D)
    tl = torch.randint(0, S + 1, (N,), generator=g)
    il = torch.randint(S * 2, T + 1, (N,), generator=g)
    tg = torch.randint(1, C, (N, S), generator=g)
    tg[0, :3] = torch.tensor([2, 2, 3])  # repeated labels need a blank between them
    if concatenated:
        tg = torch.cat([tg[i, : tl[i]] for i in range(N)])
    return logits, tg, il, tl


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("concatenated", [False, True])
def test_ctc_loss_values_and_gradients(reduction, concatenated):
    logits, tg, il, tl = _ctc_case(0, concatenated=concatenated)
    _same_value_and_grad(
        lambda z: F.ctc_loss(z.log_softmax(2), tg, il, tl, reduction=reduction),
        lambda z: TF.ctc_loss(z.log_softmax(2), tg, il, tl, reduction=reduction),
        logits,
    )


def test_ctc_loss_blank_zero_infinity_and_unbatched():
    logits, tg, il, tl = _ctc_case(3, C=6)
    tg = torch.where(tg == 5, torch.zeros_like(tg), tg)  # blank=5 must not appear in targets
    _same_value_and_grad(
        lambda z: F.ctc_loss(z.log_softmax(2), tg, il, tl, blank=5),
        lambda z: TF.ctc_loss(z.log_softmax(2), tg, il, tl, blank=5),
        logits,
    )
    il = il.clone()
    il[1], tl[1] = 3, 6  # impossible: 6 labels in 3 frames -> inf
    for zi in (False, True):
        for red in REDUCTIONS:
            _close(
                F.ctc_loss(
                    logits.log_softmax(2), tg, il, tl, blank=5, reduction=red, zero_infinity=zi
                ),
                TF.ctc_loss(
                    logits.log_softmax(2), tg, il, tl, blank=5, reduction=red, zero_infinity=zi
                ),
            )
    _same_value_and_grad(
        lambda z: F.ctc_loss(z.log_softmax(2), tg, il, tl, blank=5, zero_infinity=True),
        lambda z: TF.ctc_loss(z.log_softmax(2), tg, il, tl, blank=5, zero_infinity=True),
        logits,
    )
    lp = logits[:, 2].log_softmax(1)  # unbatched (T, C) input with a 1-D target
    _close(
        F.ctc_loss(lp, tg[2, : tl[2]], il[2:3], tl[2:3], blank=5, reduction="none"),
        TF.ctc_loss(lp, tg[2, : tl[2]], il[2:3], tl[2:3], blank=5, reduction="none"),
    )
    with pytest.raises(ValueError, match="other than blank=5"):
        F.ctc_loss(logits.log_softmax(2), torch.full_like(tg, 5), il, tl, blank=5)


def test_ctc_loss_bad_input():
    logits, tg, il, tl = _ctc_case(1)
    with pytest.raises(RuntimeError, match="input_lengths"):
        F.ctc_loss(logits.log_softmax(2), tg, il + 100, tl)
    with pytest.raises(ValueError, match="'avg'"):
        F.ctc_loss(logits.log_softmax(2), tg, il, tl, reduction="avg")


@pytest.mark.parametrize("shape", [(8, 3), (6, 3, 5), (4, 3, 2, 2)])
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batch_norm_training_updates_running_stats_in_place(shape, momentum):
    torch.manual_seed(0)
    x = torch.randn(shape, dtype=D) * 2 + 1
    w, b = torch.rand(3, dtype=D), torch.rand(3, dtype=D)
    rm_a, rv_a = torch.zeros(3, dtype=D), torch.ones(3, dtype=D)
    rm_b, rv_b = rm_a.clone(), rv_a.clone()
    _same_value_and_grad(
        lambda a, ww, bb: F.batch_norm(a, rm_a, rv_a, ww, bb, True, momentum),
        lambda a, ww, bb: TF.batch_norm(a, rm_b, rv_b, ww, bb, True, momentum),
        x,
        w,
        b,
    )
    _close(rm_a, rm_b)
    _close(rv_a, rv_b)
    _same_value_and_grad(
        lambda a: F.batch_norm(a, rm_a, rv_a, w, b, False),
        lambda a: TF.batch_norm(a, rm_b, rv_b, w, b, False),
        x,
    )


def test_batch_norm_one_value_per_channel_in_training():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(torch.randn(1, 3), torch.zeros(3), torch.ones(3), training=True)
    # evaluation mode handles a single sample
    F.batch_norm(torch.randn(1, 3), torch.zeros(3), torch.ones(3), training=False)


def test_layer_and_group_norm():
    torch.manual_seed(0)
    x = torch.randn(3, 6, 4, dtype=D)
    w, b = torch.rand(6, 4, dtype=D), torch.rand(6, 4, dtype=D)
    _same_value_and_grad(
        lambda a, ww, bb: F.layer_norm(a, (6, 4), ww, bb),
        lambda a, ww, bb: TF.layer_norm(a, (6, 4), ww, bb),
        x,
        w,
        b,
    )
    _same_value_and_grad(lambda a: F.layer_norm(a, 4), lambda a: TF.layer_norm(a, [4]), x)
    gw, gb = torch.rand(6, dtype=D), torch.rand(6, dtype=D)
    for groups in (1, 2, 3, 6):
        _same_value_and_grad(
            lambda a, ww, bb, g=groups: F.group_norm(a, g, ww, bb),
            lambda a, ww, bb, g=groups: TF.group_norm(a, g, ww, bb),
            x,
            gw,
            gb,
        )
    with pytest.raises(RuntimeError, match=r"channels \(6\).*num_groups \(4\)"):
        F.group_norm(x, 4)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(x, (5,))


def test_dropout_is_inverted_and_draws_torch_s_mask():
    x = torch.randn(1000, dtype=D)
    for p in (0.0, 0.3, 0.9, 1.0):
        torch.manual_seed(7)
        ours = F.dropout(x, p)
        torch.manual_seed(7)
        _close(ours, TF.dropout(x, p))
    torch.manual_seed(0)
    out = F.dropout(torch.ones(100_000), 0.25)
    kept = out[out != 0]
    assert torch.allclose(kept, torch.full_like(kept, 1 / 0.75))
    assert abs(out.mean().item() - 1) < 0.01
    assert torch.equal(F.dropout(x, 0.5, training=False), x)
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"got {p}"):
            F.dropout(x, p)


def test_functions_never_call_what_they_reimplement():
    """The source of each function names neither its torch twin nor torch.special."""
    source = inspect.getsource(F)
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            chain = f"{getattr(node.value.value, 'id', '')}.{node.value.attr}.{node.attr}"
            assert not chain.startswith(("torch.nn.", "torch.special.")), chain
        if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "torch":
            assert node.attr not in {
                "relu",
                "sigmoid",
                "tanh",
                "softmax",
                "log_softmax",
                "logsumexp",
                "dropout",
                "batch_norm",
                "layer_norm",
                "group_norm",
                "ctc_loss",
                "prelu",
                "erfc",
            }, f"torch.{node.attr}"
    assert "import torch.nn.functional" not in source
