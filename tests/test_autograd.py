"""nnbasics.autograd: backpropagation written out by hand, the finite-difference gradient and
the scalar engine, against PyTorch's autograd."""

from __future__ import annotations

import pytest
import torch
import torch.nn as tnn

from nnbasics import autograd
from nnbasics.models import MLP

D = torch.float64


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "gelu"])
def test_manual_backprop_equals_loss_backward(activation):
    torch.manual_seed(0)
    model = MLP(10, 16, 3).double()
    if activation != "gelu":
        model.gelu = {"relu": tnn.ReLU(), "sigmoid": tnn.Sigmoid(), "tanh": tnn.Tanh()}[activation]
    x = torch.randn(8, 10, dtype=D, requires_grad=True)
    y = torch.randint(0, 3, (8,))
    out = model(x)
    loss = tnn.functional.cross_entropy(out, y)
    loss.backward()
    manual = autograd.TwoLayerMLP.from_module(model, activation)
    out2 = manual(x.detach())
    torch.testing.assert_close(out2, out.detach())
    grad_out = (torch.softmax(out2, 1) - tnn.functional.one_hot(y, 3)) / len(y)
    grads = manual.backward(grad_out)
    for name, p in model.named_parameters():
        torch.testing.assert_close(grads[name], p.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grads["input"], x.grad, rtol=1e-10, atol=1e-12)


def test_numerical_gradient_checks_autograd():
    x = torch.randn(3, 2, dtype=D, requires_grad=True)

    def f(t):
        return (t.sin() * t.exp()).sum()

    (auto,) = torch.autograd.grad(f(x), x)
    torch.testing.assert_close(autograd.numerical_gradient(f, x), auto, rtol=1e-7, atol=1e-8)
    with pytest.raises(ValueError, match="eps"):
        autograd.numerical_gradient(f, x, eps=0)


def test_value_engine_matches_torch():
    a, b = autograd.Value(1.5), autograd.Value(-0.7)
    out = (a * b + a**2).tanh() + (b * 3).exp() - a / b + (a - 4).relu() * 2
    out.backward()
    ta = torch.tensor(1.5, dtype=D, requires_grad=True)
    tb = torch.tensor(-0.7, dtype=D, requires_grad=True)
    tout = (ta * tb + ta**2).tanh() + (tb * 3).exp() - ta / tb + torch.relu(ta - 4) * 2
    tout.backward()
    assert out.data == pytest.approx(tout.item(), rel=1e-12)
    assert a.grad == pytest.approx(ta.grad.item(), rel=1e-12)
    assert b.grad == pytest.approx(tb.grad.item(), rel=1e-12)


def test_value_mlp_learns_xor():
    mlp = autograd.ValueMLP(2, 4, seed=0)
    data = [((0.0, 0.0), -1.0), ((0.0, 1.0), 1.0), ((1.0, 0.0), 1.0), ((1.0, 1.0), -1.0)]
    first = None
    for _ in range(200):
        loss = sum(((mlp(x) - y) ** 2 for x, y in data), autograd.Value(0.0))
        first = first if first is not None else loss.data
        for p in mlp.parameters():
            p.grad = 0.0
        loss.backward()
        for p in mlp.parameters():
            p.data -= 0.05 * p.grad
    assert loss.data < 0.05 < first
    assert all((mlp(x).data > 0) == (y > 0) for x, y in data)
