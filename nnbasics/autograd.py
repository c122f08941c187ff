"""Backpropagation by hand.

* :class:`TwoLayerMLP` -- ``Linear → activation → Linear`` with a cached forward pass and
  an explicit ``backward`` that writes the chain rule out layer by layer; its gradients
  equal ``loss.backward()``'s.
* :func:`numerical_gradient` -- central differences, the classic gradient checker.
* :class:`Value` -- a scalar autograd engine in the spirit of micrograd: each operation
  records its inputs and its local derivative, and ``backward`` applies the chain rule
  in reverse topological order -- what ``loss.backward()`` does for tensors.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from nnbasics import functional as F

if TYPE_CHECKING:  # pragma: no cover
    from nnbasics.models import MLP

__all__ = ["MLPGradients", "TwoLayerMLP", "Value", "ValueMLP", "numerical_gradient"]

_ACTIVATIONS: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]] = {
    "relu": (F.relu, F.relu_grad),
    "sigmoid": (F.sigmoid, F.sigmoid_grad),
    "tanh": (F.tanh, F.tanh_grad),
    "gelu": (F.gelu, F.gelu_grad),
}


class MLPGradients(dict[str, Tensor]):
    """Gradients from :meth:`TwoLayerMLP.backward`, keyed like ``MLP.named_parameters()``."""


# --8<-- [start:manual_mlp]
class TwoLayerMLP:
    r"""``Ŷ = φ(X W₁ᵀ + b₁) W₂ᵀ + b₂`` with hand-written backpropagation, batched and
    row-major as ``nn.Linear`` computes it (``x @ W.T + b``, one sample per row of ``X``).

    Forward caches ``X``, ``H = X W₁ᵀ + b₁`` and ``A = φ(H)``. Given ``∂L/∂Ŷ`` (for a mean
    loss already divided by the number of elements), backward applies the chain rule
    (``1ᵀ G``: the sum of the rows of ``G``, over the samples)::

        ∂L/∂W₂ = (∂L/∂Ŷ)ᵀ A        ∂L/∂b₂ = 1ᵀ ∂L/∂Ŷ
        ∂L/∂A  = (∂L/∂Ŷ) W₂
        ∂L/∂H  = ∂L/∂A ⊙ φ'(H)
        ∂L/∂W₁ = (∂L/∂H)ᵀ X        ∂L/∂b₁ = 1ᵀ ∂L/∂H
        ∂L/∂X  = (∂L/∂H) W₁
    """

    def __init__(self, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, activation: str = "gelu"):
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}"
            )
        self.w1, self.b1, self.w2, self.b2 = w1.detach(), b1.detach(), w2.detach(), b2.detach()
        self.act, self.act_grad = _ACTIVATIONS[activation]
        self._cache: tuple[Tensor, Tensor, Tensor] | None = None

    @classmethod
    def from_module(cls, model: MLP, activation: str = "gelu") -> TwoLayerMLP:
        """Copy the weights of a module with ``fc1`` and ``fc2`` (``nnbasics.models.MLP``)."""
        return cls(model.fc1.weight, model.fc1.bias, model.fc2.weight, model.fc2.bias, activation)

    def forward(self, x: Tensor) -> Tensor:
        h = x @ self.w1.T + self.b1
        a = self.act(h)
        self._cache = (x, h, a)
        return a @ self.w2.T + self.b2

    __call__ = forward

    def backward(self, grad_output: Tensor) -> MLPGradients:
        """Gradients of the loss for every parameter and the input, given ``∂L/∂Ŷ``."""
        if self._cache is None:
            raise RuntimeError("call forward before backward")
        x, h, a = self._cache
        grad_a = grad_output @ self.w2
        grad_h = grad_a * self.act_grad(h)
        return MLPGradients(
            {
                "fc1.weight": grad_h.T @ x,
                "fc1.bias": grad_h.sum(dim=0),
                "fc2.weight": grad_output.T @ a,
                "fc2.bias": grad_output.sum(dim=0),
                "input": grad_h @ self.w1,
            }
        )


# --8<-- [end:manual_mlp]


# --8<-- [start:numerical_gradient]
def numerical_gradient(f: Callable[[Tensor], Tensor], x: Tensor, eps: float = 1e-6) -> Tensor:
    r"""Central differences ``∂f/∂x_i ≈ (f(x + ε e_i) - f(x - ε e_i)) / 2ε`` of a scalar
    function; use float64 (the error is O(ε²) plus rounding of order 1e-16/ε)."""
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    x = x.detach().clone()
    grad = torch.zeros_like(x)
    flat, gflat = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        up = float(f(x))
        flat[i] = old - eps
        down = float(f(x))
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


# --8<-- [end:numerical_gradient]


# --8<-- [start:value]
class Value:
    """A scalar that remembers how it was computed, so ``backward()`` can apply the
    chain rule: each operation stores its inputs and a function that adds its local
    derivative times the output's gradient to each input's gradient."""

    def __init__(self, data: float, _children: tuple[Value, ...] = (), _op: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self._backward: Callable[[], None] = lambda: None
        self._prev = _children
        self._op = _op

    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, k: float) -> Value:
        if not isinstance(k, (int, float)):
            raise TypeError(f"only int/float powers are supported, got {type(k).__name__}")
        out = Value(self.data**k, (self,), f"**{k}")

        def _backward() -> None:
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward() -> None:
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward() -> None:
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward() -> None:
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

        out._backward = _backward
        return out

    def backward(self) -> None:
        """Reverse-mode autodiff: visit nodes in reverse topological order."""
        order: list[Value] = []
        seen: set[int] = set()

        def visit(v: Value) -> None:
            if id(v) not in seen:
                seen.add(id(v))
                for child in v._prev:
                    visit(child)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            v._backward()

    def __neg__(self) -> Value:
        return self * -1

    def __radd__(self, other: float) -> Value:
        return self + other

    def __sub__(self, other: Value | float) -> Value:
        return self + (-other)

    def __rsub__(self, other: float) -> Value:
        return other + (-self)

    def __rmul__(self, other: float) -> Value:
        return self * other

    def __truediv__(self, other: Value | float) -> Value:
        return self * other**-1

    def __rtruediv__(self, other: float) -> Value:
        return other * self**-1

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"


# --8<-- [end:value]


class ValueMLP:
    """A tiny MLP of :class:`Value` scalars (tanh hidden layer, linear output)."""

    def __init__(self, n_in: int, n_hidden: int, seed: int = 0) -> None:
        rng = random.Random(seed)
        self.w1 = [[Value(rng.uniform(-1, 1)) for _ in range(n_in)] for _ in range(n_hidden)]
        self.b1 = [Value(0.0) for _ in range(n_hidden)]
        self.w2 = [Value(rng.uniform(-1, 1)) for _ in range(n_hidden)]
        self.b2 = Value(0.0)

    def parameters(self) -> list[Value]:
        return [w for row in self.w1 for w in row] + self.b1 + self.w2 + [self.b2]

    def __call__(self, x: Iterable[float]) -> Value:
        x = list(x)
        hidden = [
            sum((w * xi for w, xi in zip(row, x, strict=True)), b).tanh()
            for row, b in zip(self.w1, self.b1, strict=True)
        ]
        return sum((w * h for w, h in zip(self.w2, hidden, strict=True)), self.b2)
