"""From-scratch twins of ``torch.nn.init``: gains, fans, Xavier and Kaiming initialisation.

Every function has the signature, defaults, errors and warnings of its PyTorch namesake and
fills the tensor in place (under ``torch.no_grad()``) from one random primitive,
``Tensor.uniform_`` or ``Tensor.normal_``, called with the same bounds as PyTorch computes
them: for the same seed (a ``torch.Generator`` passed as ``generator``, or the global one
after ``torch.manual_seed``) the result is bit for bit PyTorch's (``tests/test_init.py``
checks ``torch.equal`` in float32 and float64 for every mode and nonlinearity). Nothing here
calls ``torch.nn.init``.

Bit-exact equality needs the same floating-point arithmetic, not only the same formula: the
Xavier bound is computed as ``sqrt(3) * (gain * sqrt(2 / (fan_in + fan_out)))``, as PyTorch
does; the algebraically equal ``gain * sqrt(6 / (fan_in + fan_out))`` differs in the last
bit for many shapes, and a one-ulp different bound moves every sample.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal, get_args

import torch
from torch import Tensor

__all__ = [
    "calculate_gain",
    "kaiming_normal_",
    "kaiming_uniform_",
    "xavier_normal_",
    "xavier_uniform_",
]

# the layers whose gain is 1, then the activations calculate_gain knows
_Linear = Literal[
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
]
Nonlinearity = Literal[_Linear, "sigmoid", "tanh", "relu", "leaky_relu", "selu"]
FanMode = Literal["fan_in", "fan_out"]

_LINEAR_FNS: tuple[str, ...] = get_args(_Linear)
_NONLINEARITIES: tuple[str, ...] = get_args(Nonlinearity)
_MODES = ["fan_in", "fan_out"]


def _check_nonlinearity(nonlinearity: str) -> None:
    if nonlinearity not in _NONLINEARITIES:
        raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _negative_slope(param: float | None) -> float:
    """LeakyReLU's slope from ``calculate_gain``'s ``param``: 0.01 when None, else a real
    ``int`` or ``float`` (``True`` is an ``int`` to Python, but not a slope)."""
    if param is None:
        return 0.01
    if isinstance(param, bool) or not isinstance(param, (int, float)):
        raise ValueError(f"negative_slope {param} not a valid number")
    return param


def _check_fan_dims(tensor: Tensor) -> None:
    if tensor.dim() < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )


def _check_mode(mode: str) -> str:
    """``mode`` in lower case (PyTorch accepts ``"FAN_IN"``); anything else is an error."""
    lowered = mode.lower() if isinstance(mode, str) else mode
    if lowered not in _MODES:
        raise ValueError(f"Mode {lowered} not supported, please use one of {_MODES}")
    return lowered


def _is_zero_element(tensor: Tensor) -> bool:
    """Kaiming's early exit: a tensor with a zero-length dimension is left alone, with
    PyTorch's warning (pointing at the caller of ``kaiming_*_``)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


# --8<-- [start:gain]
def calculate_gain(nonlinearity: Nonlinearity, param: int | float | None = None) -> float:
    r"""The recommended gain for a nonlinearity, as ``torch.nn.init.calculate_gain``.

    The gain ``g`` scales the weights' standard deviation so that the activation after the
    layer keeps the variance of its input: ``1`` for the linear functions (``linear``,
    ``conv*``, ``conv_transpose*``) and ``sigmoid``, ``5/3`` for ``tanh``, ``√2`` for
    ``relu`` (it zeroes half the inputs, halving the second moment),
    ``√(2 / (1 + slope²))`` for ``leaky_relu`` and ``3/4`` for ``selu``.

    Args:
        nonlinearity: the activation's ``torch.nn.functional`` name.
        param: ``leaky_relu``'s negative slope (default 0.01); ignored by the others.

    Returns:
        The gain (the ``int`` 1 for the linear functions and ``sigmoid``, as PyTorch
        returns it).

    Raises:
        ValueError: for an unsupported ``nonlinearity``, or a ``param`` of
            ``leaky_relu`` that is not an ``int`` or ``float`` (``bool`` included).
    """
    _check_nonlinearity(nonlinearity)
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1 + _negative_slope(param) ** 2))
    return 3.0 / 4  # selu: found empirically (PyTorch PR #50664)


# --8<-- [end:gain]


# --8<-- [start:fan]
def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``: each output sums
    ``in × kernel`` inputs, each input feeds ``out × kernel`` outputs.

    A ``Linear`` weight ``(out, in)`` gives ``(in, out)``; a ``Conv2d`` weight
    ``(out, in, kh, kw)`` gives ``(in·kh·kw, out·kh·kw)``.

    Raises:
        ValueError: for a tensor with fewer than 2 dimensions.
    """
    _check_fan_dims(tensor)
    receptive_field_size = math.prod(tensor.shape[2:])  # 1 for a matrix
    return tensor.size(1) * receptive_field_size, tensor.size(0) * receptive_field_size


# --8<-- [end:fan]


# --8<-- [start:xavier]
def xavier_uniform_(
    tensor: Tensor, gain: float = 1.0, generator: torch.Generator | None = None
) -> Tensor:
    r"""Glorot & Bengio (2010): fill ``tensor`` in place from ``U(-b, b)``, as
    ``torch.nn.init.xavier_uniform_``.

    ``std = gain · √(2 / (fan_in + fan_out))`` balances the forward and backward variances;
    ``U(-b, b)`` has variance ``b² / 3``, so ``b = √3 · std``.

    Args:
        tensor: the weight to fill, at least 2-D.
        gain: scale factor, e.g. ``calculate_gain("tanh")``.
        generator: the ``torch.Generator`` to draw from (default: the global one).

    Returns:
        ``tensor`` itself.

    Raises:
        ValueError: for a tensor with fewer than 2 dimensions.
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std  # in PyTorch's order, for bit-equal bounds
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


def xavier_normal_(
    tensor: Tensor, gain: float = 1.0, generator: torch.Generator | None = None
) -> Tensor:
    r"""Glorot & Bengio (2010): fill ``tensor`` in place from ``N(0, std²)`` with
    ``std = gain · √(2 / (fan_in + fan_out))``, as ``torch.nn.init.xavier_normal_``.
    Arguments, return value and errors are those of :func:`xavier_uniform_`.
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)


# --8<-- [end:xavier]


# --8<-- [start:kaiming]
def _kaiming_std(tensor: Tensor, a: float, mode: FanMode, nonlinearity: Nonlinearity) -> float:
    """``std = gain / √fan``, with ``fan`` = ``fan_in`` (keeps the forward pass's variance)
    or ``fan_out`` (the backward pass's)."""
    lowered = _check_mode(mode)  # before the fans, as PyTorch checks
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    fan = fan_in if lowered == "fan_in" else fan_out
    gain = calculate_gain(nonlinearity, a)
    return gain / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: FanMode = "fan_in",
    nonlinearity: Nonlinearity = "leaky_relu",
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""He et al. (2015): fill ``tensor`` in place from ``U(-b, b)`` with
    ``b = √3 · gain / √fan``, as ``torch.nn.init.kaiming_uniform_``.

    The defaults (``leaky_relu`` with slope ``a = 0``) give ReLU's gain ``√2``.
    ``torch.nn.Linear`` and ``Conv*d`` initialise their weights with ``a = √5``:
    ``gain = √(2 / 6)``, so ``b = √3 · √(1/3) / √fan_in = 1 / √fan_in``, mathematically;
    in float64 arithmetic the two differ in the last bit for many ``fan_in`` (32 among
    them), so only this formula reproduces ``Linear``'s weights exactly.

    Args:
        tensor: the weight to fill, at least 2-D.
        a: the negative slope of the LeakyReLU after the layer (used with
            ``"leaky_relu"`` only).
        mode: ``"fan_in"`` (default) or ``"fan_out"``, in any case.
        nonlinearity: the activation's ``torch.nn.functional`` name.
        generator: the ``torch.Generator`` to draw from (default: the global one).

    Returns:
        ``tensor`` itself; a tensor with a zero-length dimension is returned unchanged,
        with a ``UserWarning``.

    Raises:
        ValueError: for a tensor with fewer than 2 dimensions, an invalid ``mode`` or
            ``nonlinearity``, or a non-numeric ``a`` with ``"leaky_relu"``.
    """
    if _is_zero_element(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: FanMode = "fan_in",
    nonlinearity: Nonlinearity = "leaky_relu",
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""He et al. (2015): fill ``tensor`` in place from ``N(0, std²)`` with
    ``std = gain / √fan``, as ``torch.nn.init.kaiming_normal_``. Arguments, return value and
    errors are those of :func:`kaiming_uniform_`.
    """
    if _is_zero_element(tensor):
        return tensor
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)


# --8<-- [end:kaiming]
