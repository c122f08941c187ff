"""Comparing with PyTorch: the bounds that the pages print.

PyTorch picks its CPU kernels by instruction set (on x86-64: AVX-512, AVX2 or neither), so the
last digits of a float64 difference such as ``6.5e-16`` change from one machine to the next.
What does not change is the bound it stays under: the pages print ``< 1e-13``, not the digits.

    >>> import torch
    >>> from nnbasics.testing import below, max_abs_diff
    >>> a = torch.tensor([0.1 + 0.2], dtype=torch.float64)
    >>> b = torch.tensor([0.3], dtype=torch.float64)
    >>> below(max_abs_diff(a, b), 1e-15)
    '< 1e-15'
"""

import math

from torch import Tensor

__all__ = ["below", "max_abs_diff"]


def max_abs_diff(actual: Tensor, expected: Tensor) -> float:
    """``max |actual - expected|`` over all elements, as a Python float (0.0 when empty).

    Raises:
        ValueError: when the shapes differ (broadcasting would hide a wrong shape).
    """
    if actual.shape != expected.shape:
        raise ValueError(
            f"actual and expected must have the same shape, got {tuple(actual.shape)} "
            f"and {tuple(expected.shape)}"
        )
    if actual.numel() == 0:
        return 0.0
    return (actual.detach() - expected.detach()).abs().max().item()


def below(value: float, bound: float) -> str:
    """``"< 1e-13"`` when ``value < bound``; otherwise the value itself, e.g. ``"3.2e-09"``.

    The verdict is what a page prints: it is the same on every CPU, while the digits of a
    rounding-level difference are not. A value at or above the bound (or NaN) is printed
    as it is, so the page's expected output no longer matches and its test fails.

    Raises:
        ValueError: when ``bound`` is not a positive finite number.
    """
    if not (math.isfinite(bound) and bound > 0):
        raise ValueError(f"bound must be a positive finite number, got {bound!r}")
    if value < bound:
        mantissa, exponent = f"{bound:.0e}".split("e")
        return f"< {mantissa}e{int(exponent)}"
    return f"{value:.1e}"
