"""Toy data sets used on the pages, deterministic for a seed.

Every function takes a ``seed`` and draws from its own ``torch.Generator``, so it
neither touches nor depends on the global random state (``seed=None`` opts into
the global generator instead).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import Subset

__all__ = ["make_blobs", "make_random_classification", "make_xor", "random_split"]


def _generator(seed: int | None) -> torch.Generator | None:
    """A private generator for ``seed``; ``None`` means the global RNG (``torch.manual_seed``)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int or None, got {seed!r}")
    return torch.Generator().manual_seed(seed)


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


# --8<-- [start:random]
def make_random_classification(
    n_samples: int = 1000,
    n_features: int = 20,
    n_classes: int = 5,
    *,
    seed: int | None = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The article's random data: ``X ~ N(0, 1)`` and labels drawn uniformly.

    With ``seed=None`` it draws from PyTorch's global generator exactly as the
    article's ``torch.randn(1000, 20)`` / ``torch.randint(0, 5, (1000,))`` do, so
    after ``torch.manual_seed(s)`` it returns the article's tensors.

    The labels do not depend on ``X``: a network can only memorise them, so the
    training loss falls while accuracy on fresh data stays at ``1 / n_classes``.

    Returns:
        ``X`` of shape ``(n_samples, n_features)`` (float32) and ``y`` of shape
        ``(n_samples,)`` (int64, values in ``[0, n_classes)``).
    """
    _check_positive("n_samples", n_samples)
    _check_positive("n_features", n_features)
    _check_positive("n_classes", n_classes)
    g = _generator(seed)
    X = torch.randn(n_samples, n_features, generator=g)
    y = torch.randint(0, n_classes, (n_samples,), generator=g)
    return X, y


# --8<-- [end:random]


def make_xor(
    n_samples: int | None = None, *, noise: float = 0.1, seed: int | None = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """The XOR problem, which no single perceptron can solve.

    With ``n_samples=None`` it returns the four corners ``(0,0), (0,1), (1,0),
    (1,1)`` with labels ``0, 1, 1, 0``. With ``n_samples=n`` it returns ``n``
    points around those corners (Gaussian ``noise`` as standard deviation).

    Returns:
        ``X`` of shape ``(n, 2)`` (float32) and ``y`` of shape ``(n,)`` (float32,
        0. or 1., ready for ``BCEWithLogitsLoss`` after ``unsqueeze(1)``).
    """
    corners = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = torch.tensor([0.0, 1.0, 1.0, 0.0])
    if n_samples is None:
        return corners, labels
    _check_positive("n_samples", n_samples)
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    g = _generator(seed)
    idx = torch.randint(0, 4, (n_samples,), generator=g)
    X = corners[idx] + noise * torch.randn(n_samples, 2, generator=g)
    return X, labels[idx]


def make_blobs(
    n_samples: int = 500,
    n_features: int = 2,
    n_classes: int = 3,
    *,
    spread: float = 1.0,
    seed: int | None = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A learnable classification set: one Gaussian cluster per class.

    Cluster centres are drawn from ``N(0, 4**2)``; points scatter around them
    with standard deviation ``spread``. Unlike the article's random labels these
    can be learned, so a correct training loop must drive accuracy well above
    chance.

    Returns:
        ``X`` of shape ``(n_samples, n_features)`` (float32) and ``y`` of shape
        ``(n_samples,)`` (int64).
    """
    _check_positive("n_samples", n_samples)
    _check_positive("n_features", n_features)
    _check_positive("n_classes", n_classes)
    if spread <= 0:
        raise ValueError(f"spread must be > 0, got {spread!r}")
    g = _generator(seed)
    centres = 4.0 * torch.randn(n_classes, n_features, generator=g)
    y = torch.randint(0, n_classes, (n_samples,), generator=g)
    X = centres[y] + spread * torch.randn(n_samples, n_features, generator=g)
    return X, y


# --8<-- [start:random_split]
def random_split(
    dataset: Any,
    lengths: Sequence[int | float],
    generator: torch.Generator | None = None,
) -> list[Subset[Any]]:
    """Split ``dataset`` at random into non-overlapping subsets, as
    ``torch.utils.data.random_split`` does: for the same generator state both return subsets
    with the same indices, in the same order.

    ``lengths`` are either the sizes of the subsets (ints summing to ``len(dataset)``) or
    fractions summing to 1. Fractions become ``floor(len(dataset) * fraction)`` items each; the
    items this leaves over are handed out one at a time to the subsets in order (the first
    subset, the second, ..., starting again at the first), PyTorch's rule. As in PyTorch,
    lengths whose sum is 1 are read as fractions, so ``[1]`` or ``[0, 1]`` means the whole set.

    Args:
        dataset: anything with ``len()`` and indexing (a ``Dataset``, a list, a ``range``).
        lengths: subset sizes, or fractions of ``len(dataset)`` summing to 1.
        generator: the ``torch.Generator`` that draws the permutation; ``None`` uses PyTorch's
            global generator (``torch.manual_seed``), like PyTorch's default.

    Returns:
        One ``torch.utils.data.Subset`` per entry of ``lengths``.

    Raises:
        ValueError: a fraction outside [0, 1], a size that is not a non-negative int, or sizes
            that do not add up to ``len(dataset)``.
    """
    lengths = list(lengths)
    for i, length in enumerate(lengths):
        if isinstance(length, bool) or not isinstance(length, numbers.Real):
            raise ValueError(f"lengths[{i}] must be an int or a fraction, got {length!r}")
    n = len(dataset)
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:  # fractions
        sizes = []
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"lengths[{i}] must be a fraction in [0, 1], got {fraction!r}")
            sizes.append(math.floor(n * fraction))
        # the items left over by floor(): one each to the subsets in turn
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"subset {i} of random_split is empty", UserWarning, stacklevel=2)
    else:  # sizes
        if total != n:
            raise ValueError(
                f"lengths must sum to len(dataset) = {n} (or be fractions summing to 1), "
                f"got {lengths!r} with sum {total!r}"
            )
        sizes = []
        for i, length in enumerate(lengths):
            # an int or a numpy int, not a float such as 2.0
            if not isinstance(length, numbers.Integral) or length < 0:
                raise ValueError(
                    f"lengths[{i}] must be an int >= 0 (or all lengths fractions summing to 1), "
                    f"got {length!r}"
                )
            sizes.append(int(length))

    # one random permutation of all indices, cut into consecutive pieces
    indices = torch.randperm(n, generator=generator).tolist()
    subsets: list[Subset[Any]] = []
    start = 0
    for size in sizes:
        subsets.append(Subset(dataset, indices[start : start + size]))
        start += size
    return subsets


# --8<-- [end:random_split]
