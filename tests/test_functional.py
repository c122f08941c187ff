"""nnbasics.functional: the behaviour that is not equivalence with PyTorch (warnings, bad
arguments and their messages, dropout's statistics, the hand-written derivatives, legacy
arguments). Values and gradients against PyTorch, and the invalid values of an option, are
checked from the registry testkit.ops.OPS by tests/test_ops.py."""

from __future__ import annotations

import ast
import inspect

import pytest
import torch
import torch.nn.functional as TF

import nnbasics.functional as F

D = torch.float64


def _close(ours, theirs, **kw):
    torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12, equal_nan=True, **kw)


@pytest.mark.parametrize(
    ("grad", "fn", "kwargs"),
    [
        (F.relu_grad, F.relu, {}),
        (F.leaky_relu_grad, F.leaky_relu, {"negative_slope": 0.1}),
        (F.sigmoid_grad, F.sigmoid, {}),
        (F.tanh_grad, F.tanh, {}),
        (F.gelu_grad, F.gelu, {}),
        (F.gelu_grad, F.gelu, {"approximate": "tanh"}),
        (F.silu_grad, F.silu, {}),
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


def test_prelu_weight_of_the_wrong_size():
    with pytest.raises(RuntimeError, match="weight has 2 elements"):
        F.prelu(torch.randn(4, 3, 5, dtype=D), torch.rand(2, dtype=D))
    # as PyTorch: a 1-D input is one channel, so one slope per element is refused
    x, w = torch.randn(3, dtype=D), torch.rand(3, dtype=D)
    with pytest.raises(RuntimeError, match="channel size"):
        TF.prelu(x, w)
    with pytest.raises(RuntimeError, match=r"weight has 3 elements.*channel size.*is 1"):
        F.prelu(x, w)


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


def test_mse_legacy_arguments_and_broadcast_warning():
    x, y = torch.randn(3, 2, dtype=D), torch.randn(3, 2, dtype=D)
    _close(F.mse_loss(x, y, size_average=False), TF.mse_loss(x, y, size_average=False))
    _close(F.mse_loss(x, y, reduce=False), TF.mse_loss(x, y, reduce=False))
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(x, y[:1])
    with pytest.raises(RuntimeError, match="cannot be broadcast"), pytest.warns(UserWarning):
        F.mse_loss(x, torch.randn(4, 2, dtype=D))


def test_cross_entropy_bad_input():
    x = torch.randn(2, 3)
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F.cross_entropy(x, torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="target shape"):
        F.cross_entropy(x, torch.tensor([0, 1, 2]))


def test_bce_with_logits_bad_target_size():
    x, t = torch.randn(5, 3, dtype=D), torch.rand(5, 3, dtype=D)
    with pytest.raises(ValueError, match="Target size"):
        F.binary_cross_entropy_with_logits(x, t[:2])


def test_ctc_loss_bad_input():
    g = torch.Generator().manual_seed(1)
    log_probs = torch.randn(30, 5, 7, generator=g, dtype=D).log_softmax(2)
    targets = torch.randint(1, 7, (5, 6), generator=g)
    input_lengths, target_lengths = torch.full((5,), 30), torch.full((5,), 6)
    with pytest.raises(RuntimeError, match="input_lengths"):
        F.ctc_loss(log_probs, targets, input_lengths + 100, target_lengths)
    with pytest.raises(ValueError, match="other than blank=5"):
        F.ctc_loss(log_probs, torch.full_like(targets, 5), input_lengths, target_lengths, blank=5)


def test_batch_norm_one_value_per_channel_in_training():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(torch.randn(1, 3), torch.zeros(3), torch.ones(3), training=True)
    # evaluation mode handles a single sample
    F.batch_norm(torch.randn(1, 3), torch.zeros(3), torch.ones(3), training=False)


def test_layer_and_group_norm_bad_input():
    x = torch.randn(3, 6, 4, dtype=D)
    with pytest.raises(RuntimeError, match=r"channels \(6\).*num_groups \(4\)"):
        F.group_norm(x, 4)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(x, (5,))
    for fn in (F.group_norm, TF.group_norm):  # one value per group in the whole batch
        with pytest.raises(ValueError, match="more than 1 value"):
            fn(torch.randn(1, 2, dtype=D), 2)


def test_dropout_is_inverted():
    torch.manual_seed(0)
    out = F.dropout(torch.ones(100_000), 0.25)
    kept = out[out != 0]
    assert torch.allclose(kept, torch.full_like(kept, 1 / 0.75))
    assert abs(out.mean().item() - 1) < 0.01
    x = torch.randn(1000, dtype=D)
    assert torch.equal(F.dropout(x, 0.5, training=False), x)


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


def test_batch_norm_refuses_a_momentum_that_is_not_a_number():
    """nn.BatchNorm's momentum=None (a cumulative average) is not a factor: torch's
    F.batch_norm refuses it too (TypeError), rather than silently using 0.1."""
    x = torch.randn(4, 3)
    with pytest.raises(TypeError, match=r"batch_norm: momentum must be a float, got None"):
        F.batch_norm(x, torch.zeros(3), torch.ones(3), training=True, momentum=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        TF.batch_norm(x, torch.zeros(3), torch.ones(3), training=True, momentum=None)
