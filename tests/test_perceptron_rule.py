"""nnbasics.models.perceptron_rule: Rosenblatt's rule converges on a linearly separable set
within Novikoff's bound (R/γ)², never stops on XOR, and refuses invalid arguments by name."""

from __future__ import annotations

import pytest
import torch

from nnbasics.data import make_blobs, make_xor
from nnbasics.models import perceptron_rule


def _blobs(seed: int, spread: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    X, y = make_blobs(n_samples=100, n_features=2, n_classes=2, spread=spread, seed=seed)
    return X.double(), 2 * y - 1


def _novikoff_bound(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> float:
    """(R/γ)² for the separator (w, b), on the augmented vectors (x, 1)."""
    X1 = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)
    u = torch.cat([w, b.reshape(1)])
    u = u / u.norm()
    gamma = (y.to(X.dtype) * (X1 @ u)).min().item()
    assert gamma > 0, "(w, b) does not separate the set"
    return (X1.norm(dim=1).max().item() / gamma) ** 2


@pytest.mark.parametrize("seed", [0, 2, 4, 5])
def test_converges_on_a_separable_set_within_the_novikoff_bound(seed):
    X, y = _blobs(seed)
    w, b, mistakes = perceptron_rule(X, y, epochs=100)
    assert mistakes[-1] == 0 and all(m > 0 for m in mistakes[:-1]), mistakes
    assert bool(((X @ w + b) * y > 0).all())
    assert sum(mistakes) <= _novikoff_bound(X, y, w, b)


def test_a_given_separator_bounds_the_number_of_updates():
    """Any separator gives a bound, here one of a known margin: x1 = 0 between ±2-shifted points."""
    g = torch.Generator().manual_seed(0)
    X = torch.rand(60, 2, generator=g, dtype=torch.float64) * 4 - 2
    y = torch.where(X[:, 0] > 0, 1, -1)
    X[:, 0] += y * 0.5  # a margin of 0.5 around x1 = 0, in the original space
    w, b, mistakes = perceptron_rule(X, y, epochs=1000)
    assert bool(((X @ w + b) * y > 0).all())
    assert mistakes[-1] == 0
    bound = _novikoff_bound(
        X, y, torch.tensor([1.0, 0.0], dtype=X.dtype), torch.zeros((), dtype=X.dtype)
    )
    assert sum(mistakes) <= bound


def test_the_learning_rate_only_scales_the_weights():
    X, y = _blobs(2)
    w1, b1, m1 = perceptron_rule(X, y, lr=1.0)
    w2, b2, m2 = perceptron_rule(X, y, lr=0.01)
    assert m1 == m2
    # (not torch.testing.assert_close: its first call imports torch.distributed, seconds)
    assert torch.allclose(w2, 0.01 * w1, rtol=1e-12, atol=0)
    assert torch.allclose(b2, 0.01 * b1, rtol=1e-12, atol=0)


def test_never_stops_on_xor():
    X, y = make_xor()
    w, b, mistakes = perceptron_rule(X, 2 * y - 1, epochs=50)
    assert len(mistakes) == 50 and min(mistakes) >= 1
    # the four updates of an epoch cancel: (w, b) is back at 0 after every epoch
    assert mistakes == [4] * 50
    assert w.tolist() == [0.0, 0.0] and b.item() == 0.0


def test_never_stops_on_noisy_xor():
    X, y = make_xor(200, noise=0.1, seed=0)
    _, _, mistakes = perceptron_rule(X, 2 * y - 1, epochs=30)
    assert len(mistakes) == 30 and min(mistakes) >= 1


def test_stops_after_the_first_epoch_without_a_mistake():
    X = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])
    y = torch.tensor([1, -1])
    w, b, mistakes = perceptron_rule(X, y, epochs=10)
    assert mistakes == [1, 0]
    assert w.dtype == X.dtype and w.shape == (2,) and b.shape == ()


def test_does_not_touch_its_inputs_or_need_their_gradients():
    X, y = _blobs(0)
    X.requires_grad_()
    before = X.detach().clone()
    w, b, _ = perceptron_rule(X, y.double())
    assert torch.equal(X.detach(), before)
    assert not w.requires_grad and not b.requires_grad


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"X": torch.zeros(4)}, r"X must be a 2-D floating-point tensor.*got shape \(4,\)"),
        ({"X": torch.zeros(4, 2, dtype=torch.long)}, r"X must be .*torch\.int64"),
        ({"X": [[0.0, 1.0]]}, r"X must be .*got \[\[0\.0, 1\.0\]\]"),
        ({"X": torch.zeros(0, 2), "y": torch.zeros(0)}, r"at least one sample.*\(0, 2\)"),
        ({"X": torch.tensor([[0.0, float("nan")]] * 4)}, r"X must be finite, got 4 NaN"),
        ({"y": torch.tensor([1, -1, 1])}, r"y must be a tensor of shape \(4,\).*got shape \(3,\)"),
        ({"y": torch.tensor([0, 1, 1, 0])}, r"labels -1 and 1 only, got the values \[0, 1\]"),
        ({"epochs": 0}, r"epochs must be a positive int, got 0"),
        ({"epochs": 2.5}, r"epochs must be a positive int, got 2\.5"),
        ({"epochs": True}, r"epochs must be a positive int, got True"),
        ({"lr": 0.0}, r"lr must be a positive finite number, got 0\.0"),
        ({"lr": -1}, r"lr must be a positive finite number, got -1"),
        ({"lr": float("inf")}, r"lr must be a positive finite number, got inf"),
    ],
)
def test_invalid_arguments_name_the_argument_and_value(kwargs, message):
    X, y = make_xor()
    arguments = {"X": X, "y": 2 * y - 1, "epochs": 3, "lr": 1.0} | kwargs
    with pytest.raises(ValueError, match=message):
        perceptron_rule(**arguments)
