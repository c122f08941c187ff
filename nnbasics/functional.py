"""From-scratch twins of ``torch.nn.functional``.

Every function has the signature, defaults and semantics of its PyTorch namesake and is
built only from elementary tensor operations (arithmetic, ``exp``, ``log``, ``log1p``,
``expm1``, ``erf``, ``sqrt``, ``where``, ``amax``, ``sum``, ``gather`` ...): none calls the
function it re-implements, nor its ``torch.nn.functional`` / ``torch.special`` twin.

Gradients come from two places:

- The activations ``relu``, ``leaky_relu``, ``sigmoid``, ``tanh``, ``gelu``, ``silu`` and
  ``prelu`` have hand-written backward passes: ``torch.autograd.Function`` subclasses
  (``_Pointwise``, ``_PReLU``) whose ``backward`` multiplies the incoming gradient by the
  derivative (``relu_grad``, ``leaky_relu_grad``, ``sigmoid_grad``, ``tanh_grad``,
  ``gelu_grad``, ``silu_grad``, ``prelu_grad``; for PReLU's slope, ``min(x, 0)``). These
  derivatives are public functions too, used on the activations and backpropagation pages;
  the backward is made of tensor operations, so autograd differentiates it again for second
  derivatives.
- Every other function (``softmax``, ``log_softmax``, the losses, the normalisations,
  ``dropout``) has no backward of its own: autograd differentiates its elementary
  operations.

Either way values *and* gradients can be checked against PyTorch: the repository's test kit
(``testkit/ops.py``, not part of the installed package) registers each function with its
PyTorch reference and sample inputs, and ``tests/test_ops.py`` compares them in float64 and
float32 (``ctc_loss`` after a ``log_softmax``, since PyTorch's own gradient with respect to
``log_probs`` is defined differently; see its docstring).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any, cast

import torch
from torch import Tensor

__all__ = [
    "batch_norm",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "ctc_loss",
    "dropout",
    "gelu",
    "gelu_grad",
    "group_norm",
    "huber_loss",
    "layer_norm",
    "leaky_relu",
    "leaky_relu_grad",
    "log_softmax",
    "mse_loss",
    "prelu",
    "prelu_grad",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "silu",
    "silu_grad",
    "softmax",
    "tanh",
    "tanh_grad",
]

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{reduction!r} is not a valid value for reduction: use one of {_REDUCTIONS}"
        )


def _legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """The deprecated ``size_average`` / ``reduce`` pair, mapped as PyTorch maps it."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# ----------------------------------------------------------------------------- activations
# --8<-- [start:pointwise]
class _Pointwise(torch.autograd.Function):
    """``y = f(x)`` whose backward is the hand-written derivative: ``dL/dx = dL/dy · f'(x)``.

    The forward formula only has to give the right *values*; the gradient is ``f'`` itself
    (``relu_grad``, ``sigmoid_grad`` ...), so it is exact at kinks (ReLU at 0) and never
    multiplies an overflowed ``inf`` by ``0``.
    """

    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,
        f: Callable[..., Tensor],
        f_grad: Callable[..., Tensor],
        kwargs: dict[str, Any],
    ) -> Tensor:
        ctx.save_for_backward(input)
        ctx.f_grad, ctx.kwargs = f_grad, kwargs
        return f(input, **kwargs)

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor, None, None, None]:
        (input,) = ctx.saved_tensors
        return grad_output * ctx.f_grad(input, **ctx.kwargs), None, None, None


def _pointwise(
    f: Callable[..., Tensor], f_grad: Callable[..., Tensor], input: Tensor, **kwargs: Any
) -> Tensor:
    if torch.is_grad_enabled() and input.requires_grad:
        output: Tensor = _Pointwise.apply(input, f, f_grad, kwargs)
        return output
    return f(input, **kwargs)  # nothing to differentiate: skip the bookkeeping


# --8<-- [end:pointwise]


# --8<-- [start:relu]
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    r"""``ReLU(x) = max(0, x)``."""
    out = _pointwise(lambda x: x.clamp(min=0), relu_grad, input)
    return input.copy_(out) if inplace else out


def relu_grad(input: Tensor) -> Tensor:
    """d ReLU / dx: 1 where x > 0, else 0 (PyTorch's choice at x = 0)."""
    return (input > 0).to(input.dtype)


# --8<-- [end:relu]


# --8<-- [start:leaky_relu]
def _leaky(x: Tensor, negative_slope: float) -> Tensor:
    # a slope <= 1 makes x the larger of (x, a·x) exactly when x > 0; a slope > 1, the smaller
    pick = torch.maximum if negative_slope <= 1 else torch.minimum
    return pick(x, x * negative_slope)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    r"""``LeakyReLU(x) = x`` for x > 0, ``negative_slope * x`` otherwise."""
    out = _pointwise(_leaky, leaky_relu_grad, input, negative_slope=negative_slope)
    return input.copy_(out) if inplace else out


def leaky_relu_grad(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """d LeakyReLU / dx: 1 where x > 0, else ``negative_slope``."""
    positive = (input > 0).to(input.dtype)
    return positive + (1 - positive) * negative_slope


# --8<-- [end:leaky_relu]


def _prelu_weight(input: Tensor, weight: Tensor) -> Tensor:
    if weight.ndim > 1:
        raise RuntimeError(
            f"prelu: weight must be a 0-D or 1-D tensor, got shape {tuple(weight.shape)}"
        )
    n = weight.numel()
    if n == 1:
        return weight.reshape(())
    # as in PyTorch: the channels are dimension 1; an input of fewer dimensions has one channel
    channels = input.shape[1] if input.ndim >= 2 else 1
    if n != channels:
        raise RuntimeError(
            f"prelu: weight has {n} elements but the input's channel size (dimension 1; 1 "
            f"below 2 dimensions) is {channels} (input shape {tuple(input.shape)})"
        )
    return weight.reshape([1, n] + [1] * (input.ndim - 2))


# --8<-- [start:prelu]
class _PReLU(torch.autograd.Function):
    """PReLU with its hand-written gradients: ``dy/dx = prelu_grad``, ``dy/da = min(x, 0)``."""

    @staticmethod
    def forward(ctx: Any, input: Tensor, a: Tensor) -> Tensor:
        ctx.save_for_backward(input, a)
        return _prelu(input, a)

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor, Tensor]:
        input, a = ctx.saved_tensors
        grad_input = grad_output * _prelu_grad(input, a)
        grad_a = grad_output * input.clamp(max=0)
        # a was broadcast over every dim but the channels: sum the gradient back to its shape
        dims = [d for d in range(grad_a.ndim) if d >= a.ndim or a.shape[d] == 1]
        grad_a = grad_a.sum(dim=dims, keepdim=True) if dims else grad_a
        return grad_input, grad_a.reshape(a.shape)


def _prelu(x: Tensor, a: Tensor) -> Tensor:
    # max(x, 0) + a·min(x, 0) = x + (a - 1)·min(x, 0)
    return x.clamp(max=0).mul_(a - 1).add_(x)


def _prelu_grad(x: Tensor, a: Tensor) -> Tensor:
    positive = (x > 0).to(x.dtype)
    return positive + (1 - positive) * a


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    r"""``PReLU(x) = x`` for x > 0, ``a * x`` otherwise, with a learnable slope ``a``
    (one value, or one per channel on dim 1)."""
    a = _prelu_weight(input, weight)
    if torch.is_grad_enabled() and (input.requires_grad or weight.requires_grad):
        output: Tensor = _PReLU.apply(input, a)
        return output
    return _prelu(input, a)


def prelu_grad(input: Tensor, weight: Tensor) -> Tensor:
    """d PReLU / dx: 1 where x > 0, else the slope ``a``."""
    return _prelu_grad(input, _prelu_weight(input, weight))


# --8<-- [end:prelu]


# --8<-- [start:sigmoid]
def _sigmoid(x: Tensor) -> Tensor:
    # for x < -88.72 in float32 (ln of its largest finite value, 3.4e38) e^{-x} overflows to
    # inf and 1 / (1 + inf) = 0: the right limit
    return torch.neg(x).exp_().add_(1).reciprocal_()  # in place: one new tensor


def sigmoid(input: Tensor) -> Tensor:
    r"""``σ(x) = 1 / (1 + e^{-x})``."""
    return _pointwise(_sigmoid, sigmoid_grad, input)


def sigmoid_grad(input: Tensor) -> Tensor:
    """dσ/dx = σ(x)(1 - σ(x)), at most 1/4."""
    s = sigmoid(input)
    return s * (1 - s)


# --8<-- [end:sigmoid]


# --8<-- [start:tanh]
def _tanh(x: Tensor) -> Tensor:
    # tanh is odd: tanh(x) = sign(x) tanh(|x|), and for z = |x| >= 0
    # tanh(z) = (1 - e^{-2z}) / (1 + e^{-2z}) = -m / (2 + m) with m = e^{-2z} - 1 in (-1, 0]:
    # nothing overflows, and expm1 keeps full precision near 0
    m = torch.expm1(x.abs().mul_(-2))
    return m.div_(m + 2).neg_().mul_(torch.sign(x))  # in place: fewer temporaries


def tanh(input: Tensor) -> Tensor:
    r"""``tanh(x) = (e^{x} - e^{-x}) / (e^{x} + e^{-x})``."""
    return _pointwise(_tanh, tanh_grad, input)


def tanh_grad(input: Tensor) -> Tensor:
    """d tanh / dx = 1 - tanh²(x)."""
    return 1 - tanh(input) ** 2


# --8<-- [end:tanh]


_SQRT_1_2 = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _check_approximate(approximate: str) -> None:
    if approximate not in ("none", "tanh"):
        raise ValueError(
            f"approximate argument must be either 'none' or 'tanh', got {approximate!r}"
        )


# --8<-- [start:gelu]
def _gelu(x: Tensor, approximate: str) -> Tensor:
    if approximate == "tanh":
        # ½ (1 + tanh(u)) = σ(2u), so x/2 (1 + tanh(u)) = x / (1 + e^{-2u})
        u = (x**3).mul_(0.044715).add_(x).mul_(_SQRT_2_OVER_PI)  # √(2/π) (x + 0.044715 x³)
        return x / torch.exp(u.mul_(-2)).add_(1)
    return (x * _SQRT_1_2).erf_().add_(1).mul_(x).mul_(0.5)  # x · ½ (1 + erf(x/√2))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    r"""``GELU(x) = x Φ(x) = x/2 (1 + erf(x/√2))``; with ``approximate="tanh"``,
    ``x/2 (1 + tanh(√(2/π) (x + 0.044715 x³)))``."""
    _check_approximate(approximate)
    return _pointwise(_gelu, gelu_grad, input, approximate=approximate)


def gelu_grad(input: Tensor, approximate: str = "none") -> Tensor:
    """d GELU / dx = Φ(x) + x φ(x) (exact), or the derivative of the tanh form."""
    _check_approximate(approximate)
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (input + 0.044715 * input**3)
        t = tanh(inner)
        d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * input**2)
        return 0.5 * (1 + t) + 0.5 * input * (1 - t**2) * d_inner
    cdf = 0.5 * (1 + torch.erf(input * _SQRT_1_2))
    pdf = torch.exp(-0.5 * input**2) / math.sqrt(2 * math.pi)
    return cdf + input * pdf


# --8<-- [end:gelu]


# --8<-- [start:silu]
def _silu(x: Tensor) -> Tensor:
    # x · σ(x); σ underflows to 0 for x < -88.72 in float32, and x · 0 = -0.0: the right limit
    return x * _sigmoid(x)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    r"""``SiLU(x) = x σ(x) = x / (1 + e^{-x})``, also called Swish (with β = 1)."""
    out = _pointwise(_silu, silu_grad, input)
    return input.copy_(out) if inplace else out


def silu_grad(input: Tensor) -> Tensor:
    """d SiLU / dx = σ(x) + x σ(x)(1 - σ(x)) = σ(x)(1 + x(1 - σ(x)))."""
    s = sigmoid(input)
    return s * (1 + input * (1 - s))


# --8<-- [end:silu]


# ----------------------------------------------------------------------------- softmax
# --8<-- [start:shifted]
def _shifted(
    input: Tensor, dim: int | None, dtype: torch.dtype | None, name: str
) -> tuple[Tensor, int]:
    """``x - max(x)`` along the softmax dimension (PyTorch's implicit choice when ``dim`` is
    None, with its deprecation warning), after the optional cast to ``dtype``."""
    if dim is None:
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. "
            "Change the call to include dim=X as an argument.",
            stacklevel=4,
        )
        dim = 0 if input.ndim in (0, 1, 3) else 1
    if dtype is not None:
        input = input.to(dtype)
    if input.numel() == 0:
        return input.clone(), dim
    return input - input.amax(dim=dim, keepdim=True).detach(), dim


# --8<-- [end:shifted]


# --8<-- [start:softmax]
def softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: torch.dtype | None = None
) -> Tensor:
    r"""``softmax(x)_i = e^{x_i - m} / Σ_j e^{x_j - m}`` with ``m = max_j x_j``: the shift
    changes nothing mathematically and keeps every exponent <= 0 (no overflow)."""
    shifted, dim = _shifted(input, dim, dtype, "softmax")
    e = torch.exp(shifted)
    return e / e.sum(dim=dim, keepdim=True)


def log_softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: torch.dtype | None = None
) -> Tensor:
    r"""``log_softmax(x)_i = x_i - m - log Σ_j e^{x_j - m}`` (max-shifted log-sum-exp)."""
    shifted, dim = _shifted(input, dim, dtype, "log_softmax")
    return shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))


# --8<-- [end:softmax]


# ----------------------------------------------------------------------------- losses
def _broadcast_pair(input: Tensor, target: Tensor, name: str) -> tuple[Tensor, Tensor]:
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )
    try:
        x, y = torch.broadcast_tensors(input, target)
    except RuntimeError:
        raise RuntimeError(
            f"{name}: target shape {tuple(target.shape)} cannot be broadcast to input shape "
            f"{tuple(input.shape)}"
        ) from None
    return x, y


def _check_weight_shape(weight: Tensor | None, input: Tensor) -> None:
    if weight is not None and weight.shape != input.shape:
        raise ValueError(
            f"Weights and input must have the same size: weight {tuple(weight.shape)}, "
            f"input {tuple(input.shape)}"
        )


# --8<-- [start:mse_loss]
def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    r"""``(x - y)²``, reduced; with ``weight``, the mean is ``Σ w (x - y)² / Σ w``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    x, y = _broadcast_pair(input, target, "mse_loss")
    loss = (x - y) ** 2
    if weight is not None:
        _check_weight_shape(weight, input)
        loss = loss * weight
        if reduction == "mean":
            return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


# --8<-- [end:mse_loss]


# --8<-- [start:huber_loss]
def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    r"""``½ r²`` for ``|r| < δ`` and ``δ (|r| - ½ δ)`` otherwise, with ``r = x - y``."""
    _check_reduction(reduction)
    if not delta > 0:
        raise RuntimeError(
            f"huber_loss does not support non-positive values for delta, got {delta}"
        )
    x, y = _broadcast_pair(input, target, "huber_loss")
    r = torch.abs(x - y)
    q = r.clamp(max=delta)  # min(r, δ)
    loss = q * torch.add(r, q, alpha=-0.5)  # q (r - q/2): ½r² if r < δ, else δ(r - ½δ)
    if weight is not None:
        _check_weight_shape(weight, input)
        loss = loss * weight
    return _reduce(loss, reduction)


# --8<-- [end:huber_loss]


# --8<-- [start:bce_with_logits]
def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    r"""``-w [p y log σ(x) + (1 - y) log(1 - σ(x))]`` computed from the logit ``x`` as
    ``(1 - y) x + (1 + (p - 1) y) softplus(-x)``, with
    ``softplus(-x) = log(1 + e^{-x}) = max(-x, 0) + log1p(e^{-|x|})``: finite for any x."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Target size ({target.size()}) must be the same as input size ({input.size()})"
        )
    # at x = 0, maximum sends half the gradient to each side and |x|' = 0: softplus'(0) = ½
    zero = torch.zeros((), dtype=input.dtype, device=input.device)
    log1p_exp = torch.log1p(input.abs().neg_().exp_())  # log(1 + e^{-|x|}) in (0, log 2]
    if pos_weight is not None:
        softplus_neg = torch.maximum(-input, zero) + log1p_exp
        loss = (1 - target) * input + ((pos_weight - 1) * target + 1) * softplus_neg
    else:  # (1 - y) x + max(-x, 0) = max(x, 0) - x y
        loss = torch.maximum(input, zero) - input * target + log1p_exp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# --8<-- [end:bce_with_logits]


def _weighted_mean(loss: Tensor, denominator: Tensor | int) -> Tensor:
    """``Σ loss / denominator``. With nothing counted (every target ignored, or zero weights)
    PyTorch returns NaN with a zero gradient, not a NaN gradient: so do we."""
    if float(denominator) == 0:
        return loss.sum() * 0 + float("nan")
    return loss.sum() / denominator


_INDEX_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)


def _check_cross_entropy_args(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
) -> None:
    """cross_entropy's argument checks, kept apart so that its snippet shows the computation."""
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have at least one dimension (the classes)")
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    if weight is not None and (weight.ndim != 1 or weight.numel() != n_classes):
        raise RuntimeError(
            f"cross_entropy: weight must be a 1-D tensor of {n_classes} elements (one per "
            f"class), got shape {tuple(weight.shape)}"
        )
    if target.is_floating_point():  # class probabilities
        if target.shape != input.shape:
            raise RuntimeError(
                f"cross_entropy: probability target shape {tuple(target.shape)} must match "
                f"input shape {tuple(input.shape)}"
            )
        return
    expected = input.shape[:class_dim] + input.shape[class_dim + 1 :]
    if target.shape != expected:
        raise ValueError(
            f"cross_entropy: class-index target shape {tuple(target.shape)} does not match the "
            f"input shape {tuple(input.shape)} (expected {tuple(expected)})"
        )
    if target.dtype not in _INDEX_DTYPES:
        raise RuntimeError(f"cross_entropy: class-index target must be integer, got {target.dtype}")
    target = target.long()
    lo, hi = (int(v) for v in target.aminmax()) if target.numel() else (0, 0)
    if lo < 0 or hi >= n_classes:  # out of range, unless it is ignore_index
        bad = (target != ignore_index) & ((target < 0) | (target >= n_classes))
        if bool(bad.any()):
            value = int(target[bad].flatten()[0])
            raise IndexError(f"Target {value} is out of bounds: classes are 0 to {n_classes - 1}")


# --8<-- [start:cross_entropy]
def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    r"""Cross entropy of logits ``input`` (``(C)``, ``(N, C)`` or ``(N, C, d1, ..., dk)``).

    * class-index ``target`` (integers, the input's shape without C):
      ``-w_y log softmax(x)_y``; entries equal to ``ignore_index`` count for nothing, and
      ``mean`` divides by the summed weights of the counted entries;
    * probability ``target`` (floats, the input's shape): ``-Σ_c w_c y_c log softmax(x)_c``,
      ``mean`` divides by the number of entries;
    * ``label_smoothing`` ε mixes the target with the uniform distribution:
      ``(1 - ε) · loss + ε/C · Σ_c (-w_c log softmax(x)_c)``.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_cross_entropy_args(input, target, weight, ignore_index, reduction, label_smoothing)
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    # log softmax(x)_c = (x_c - m) - log Σ_j e^{x_j - m}, m = max_j x_j
    shifted, _ = _shifted(input, class_dim, None, "cross_entropy")
    lse = torch.log(torch.exp(shifted).sum(dim=class_dim, keepdim=True))
    w_shape = [1] * input.ndim
    w_shape[class_dim] = n_classes
    w = weight.reshape(w_shape) if weight is not None else None

    if target.is_floating_point():  # class probabilities
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        per_class = (lse - shifted) * target
        if w is not None:
            per_class = per_class * w
        loss = per_class.sum(dim=class_dim)
        if reduction == "mean":
            return loss.sum() / (loss.numel() if loss.ndim else 1)
        return _reduce(loss, reduction)

    # class indices
    target = target.long()
    kept = None  # 1 for counted entries, 0 for ignore_index; None when nothing is ignored
    mask = target != ignore_index
    if not bool(mask.all()):
        target, kept = target * mask, mask.to(input.dtype)  # ignored entries point at class 0
    # -log softmax(x)_y = lse - (x_y - m)
    nll = (lse - shifted.gather(class_dim, target.unsqueeze(class_dim))).squeeze(class_dim)
    sample_w = weight[target] if weight is not None else None
    if kept is not None:
        sample_w = kept if sample_w is None else sample_w * kept
    if sample_w is not None:
        nll = nll * sample_w
        denominator: Tensor | int = sample_w.sum()
    else:
        denominator = nll.numel()
    loss = _weighted_mean(nll, denominator) if reduction == "mean" else _reduce(nll, reduction)
    if label_smoothing > 0:
        per_class = (lse - shifted) * w if w is not None else lse - shifted
        smooth = per_class.sum(dim=class_dim)
        if kept is not None:
            smooth = smooth * kept
        if reduction == "mean":
            smooth = _weighted_mean(smooth, denominator)
        else:
            smooth = _reduce(smooth, reduction)
        loss = (1 - label_smoothing) * loss + smooth * (label_smoothing / n_classes)
    return loss


# --8<-- [end:cross_entropy]


def _logsumexp(*terms: Tensor) -> Tensor:
    """log Σ e^{t_i} elementwise, exact at -inf: all -inf gives -inf with zero gradient."""
    m = terms[0]
    for t in terms[1:]:
        m = torch.maximum(m, t)
    m = m.detach()
    finite = torch.isfinite(m)
    m_safe = torch.where(finite, m, torch.zeros_like(m))
    total = cast(Tensor, sum(torch.exp(t - m_safe) for t in terms))  # terms is not empty
    positive = total > 0
    out = torch.log(torch.where(positive, total, torch.ones_like(total))) + m_safe
    return torch.where(positive, out, torch.full_like(out, -math.inf))


def _check_ctc_args(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Tensor | Sequence[int],
    target_lengths: Tensor | Sequence[int],
    blank: int,
    reduction: str,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """ctc_loss's argument checks, kept apart so that its snippet shows the computation.

    Returns:
        The arguments in batched form: ``log_probs`` ``(T, N, C)``; the targets as an int64
        ``(N, S)`` matrix padded with ``blank``, ``S`` the longest target length; the input
        and the target lengths as int64 tensors of ``N`` entries.
    """
    _check_reduction(reduction)
    if log_probs.ndim == 2:  # unbatched
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0) if targets.ndim == 1 else targets
    if log_probs.ndim != 3:
        raise ValueError(
            f"ctc_loss: log_probs must be (T, N, C) or (T, C), got {tuple(log_probs.shape)}"
        )
    T, N, C = log_probs.shape
    device = log_probs.device
    in_len = torch.as_tensor(input_lengths, dtype=torch.long, device=device).reshape(-1)
    tg_len = torch.as_tensor(target_lengths, dtype=torch.long, device=device).reshape(-1)
    if in_len.numel() != N or tg_len.numel() != N:
        raise ValueError(
            f"ctc_loss: input_lengths and target_lengths must have {N} entries (the batch), "
            f"got {in_len.numel()} and {tg_len.numel()}"
        )
    if N and (int(in_len.max()) > T or int(in_len.min()) < 0):
        raise RuntimeError(f"ctc_loss: input_lengths must be in [0, {T}], got {in_len.tolist()}")
    if not 0 <= blank < C:
        raise ValueError(f"ctc_loss: blank must be in [0, {C}), got {blank}")
    if N and int(tg_len.min()) < 0:
        raise RuntimeError(f"ctc_loss: target_lengths must be >= 0, got {tg_len.tolist()}")

    S = int(tg_len.max()) if N else 0
    if targets.ndim == 1:  # concatenated targets: cut them into a padded (N, S) matrix
        if int(tg_len.sum()) != targets.numel():
            raise RuntimeError(
                f"ctc_loss: 1-D targets have {targets.numel()} labels but target_lengths sum "
                f"to {int(tg_len.sum())}"
            )
        padded = torch.full((N, S), blank, dtype=torch.long, device=device)
        offsets = torch.cumsum(tg_len, 0) - tg_len
        pos = torch.arange(S, device=device)
        valid = pos < tg_len[:, None]
        index = (offsets[:, None] + pos).clamp(max=max(targets.numel() - 1, 0))
        if targets.numel():
            padded = torch.where(valid, targets.long()[index], padded)
        labels = padded
    else:
        if targets.shape[0] != N or (S and targets.shape[1] < S):
            raise RuntimeError(
                f"ctc_loss: targets of shape {tuple(targets.shape)} do not hold batch {N} with "
                f"target lengths {tg_len.tolist()}"
            )
        labels = targets[:, :S].long()

    in_target = torch.arange(S, device=device)[None, :] < tg_len[:, None]
    if bool(((labels == blank) & in_target).any()) or bool(
        ((labels < 0) | (labels >= C))[in_target].any()
    ):
        raise ValueError(
            f"ctc_loss: targets must be class indices in [0, {C}) other than blank={blank}"
        )
    return log_probs, labels, in_len, tg_len


# --8<-- [start:ctc_loss]
def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Tensor | Sequence[int],
    target_lengths: Tensor | Sequence[int],
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    r"""Connectionist Temporal Classification loss ``-log Σ_{π ∈ B⁻¹(y)} Π_t p_t(π_t)``.

    The sum over alignments is the forward (alpha) recursion over the extended label
    ``y' = (blank, y_1, blank, y_2, ..., blank)`` in log space:
    ``α_t(s) = log p_t(y'_s) + logsumexp(α_{t-1}(s), α_{t-1}(s-1), α_{t-1}(s-2))``, the
    last term only when ``y'_s`` is not blank and differs from ``y'_{s-2}``. It is
    vectorised over the batch and the label positions and loops only over time.

    ``log_probs`` is ``(T, N, C)`` (or ``(T, C)`` unbatched); ``targets`` is ``(N, S)``
    padded or the 1-D concatenation of all targets. ``mean`` divides each loss by its
    target length, then averages over the batch. ``zero_infinity`` replaces infinite
    losses (impossible alignments) and their gradients by zero.

    PyTorch's native backward returns ``exp(log_probs) - γ`` rather than ``-γ`` (γ the
    alignment occupancy); both give the same gradient with respect to the logits when
    ``log_probs = log_softmax(logits)``, which is how the loss is meant to be used.
    A target that contains the blank is rejected (PyTorch returns a meaningless number).
    """
    unbatched = log_probs.ndim == 2
    # log_probs (T, N, C); labels (N, S), padded with blank; in_len, tg_len: N lengths each
    log_probs, labels, in_len, tg_len = _check_ctc_args(
        log_probs, targets, input_lengths, target_lengths, blank, reduction
    )
    T, N, _ = log_probs.shape
    S = labels.shape[1]
    device = log_probs.device
    L = 2 * S + 1  # extended label: blank, y1, blank, y2, ..., blank
    ext = torch.full((N, L), blank, dtype=torch.long, device=device)
    ext[:, 1::2] = labels
    neg_inf = torch.tensor(-math.inf, dtype=log_probs.dtype, device=device)
    # the skip s-2 -> s is allowed when y'_s is a label that differs from y'_{s-2}
    can_skip = torch.zeros((N, L), dtype=torch.bool, device=device)
    if L > 2:
        can_skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])

    emit = log_probs.gather(2, ext.unsqueeze(0).expand(T, N, L))  # (T, N, L): log p_t(y'_s)
    s_idx = torch.arange(L, device=device)
    # α_0: the path starts with a blank or with the first label (if there is one)
    start = torch.clamp(2 * tg_len + 1, max=2)
    alpha = torch.where(s_idx[None, :] < start[:, None], emit[0], neg_inf)
    for t in range(1, T):
        stay = alpha
        step = torch.cat([neg_inf.expand(N, 1), alpha[:, :-1]], dim=1)
        skip = torch.cat([neg_inf.expand(N, 2), alpha[:, :-2]], dim=1)[:, :L]
        skip = torch.where(can_skip, skip, neg_inf)
        new = _logsumexp(stay, step, skip) + emit[t]
        alpha = torch.where((t < in_len)[:, None], new, alpha)  # finished sequences stay put

    end = (2 * tg_len).clamp(max=L - 1)
    last = alpha.gather(1, end[:, None]).squeeze(1)
    before = alpha.gather(1, (end - 1).clamp(min=0)[:, None]).squeeze(1)
    before = torch.where(tg_len > 0, before, neg_inf)
    loss = -_logsumexp(last, before)
    loss = torch.where(in_len > 0, loss, torch.where(tg_len > 0, -neg_inf, torch.zeros_like(loss)))
    if zero_infinity:
        loss = torch.where(torch.isinf(loss), torch.zeros_like(loss), loss)
    if reduction == "mean":
        return (loss / tg_len.clamp(min=1).to(loss.dtype)).mean()
    if reduction == "sum":
        return loss.sum()
    return loss.squeeze(0) if unbatched else loss


# --8<-- [end:ctc_loss]


# ----------------------------------------------------------------------------- normalisation
def _channel_shape(input: Tensor) -> list[int]:
    return [1, input.shape[1]] + [1] * (input.ndim - 2)


def _check_batch_norm_args(input: Tensor, training: bool, momentum: object = 0.1) -> None:
    """batch_norm's argument checks, kept apart so that its snippet shows the computation."""
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
        # None means a cumulative average in nn.BatchNorm*, which passes the factor it computes
        raise TypeError(f"batch_norm: momentum must be a float, got {momentum!r}")
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm: expected input (N, C, ...) of at least 2 dimensions, "
            f"got {tuple(input.shape)}"
        )
    n = input.numel() // input.shape[1] if input.shape[1] else 0
    if training and n <= 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {input.size()}"
        )


# --8<-- [start:batch_norm]
def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    r"""Batch normalisation over every dimension but the channels (dim 1).

    Training (or no running statistics): normalise with the batch mean and the biased
    batch variance, and update the running statistics in place:
    ``running ← (1 - momentum) · running + momentum · batch`` (the variance unbiased,
    ``n/(n-1)``). Evaluation: normalise with the running statistics.
    Then the affine step ``γ x̂ + β``.
    """
    _check_batch_norm_args(input, training, momentum)
    dims = [0, *list(range(2, input.ndim))]
    shape = _channel_shape(input)
    if training or running_mean is None or running_var is None:  # use the batch's statistics
        mean = input.mean(dim=dims)
        var = ((input - mean.reshape(shape)) ** 2).mean(dim=dims)
        if training and running_mean is not None and running_var is not None:
            n = input.numel() // input.shape[1]  # values per channel, > 1 (checked)
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(mean.detach() * momentum)
                running_var.mul_(1 - momentum).add_(var.detach() * (n / (n - 1)) * momentum)
    else:
        mean, var = running_mean, running_var
    out = (input - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


# --8<-- [end:batch_norm]


# --8<-- [start:layer_norm]
def layer_norm(
    input: Tensor,
    normalized_shape: Sequence[int] | int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    r"""Normalise over the last ``len(normalized_shape)`` dimensions of each sample
    (biased variance), then ``γ x̂ + β`` elementwise."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape) :]) != shape or len(shape) > input.ndim:
        raise RuntimeError(
            f"layer_norm: normalized_shape {list(shape)} does not match the trailing dimensions "
            f"of input {tuple(input.shape)}"
        )
    dims = list(range(input.ndim - len(shape), input.ndim))
    mean = input.mean(dim=dims, keepdim=True)
    var = ((input - mean) ** 2).mean(dim=dims, keepdim=True)
    out = (input - mean) / torch.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


# --8<-- [end:layer_norm]


def _check_group_norm_args(input: Tensor, num_groups: int) -> None:
    """group_norm's argument checks, kept apart so that its snippet shows the computation."""
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: expected input (N, C, ...), got {tuple(input.shape)}")
    N, C = input.shape[:2]
    if num_groups <= 0 or C % num_groups != 0:
        raise RuntimeError(
            f"group_norm: the number of channels ({C}) must be divisible by num_groups "
            f"({num_groups})"
        )
    per_group = math.prod(input.shape[1:]) // num_groups
    if N * per_group == 1:  # as torch: one sample whose groups hold one value each
        raise ValueError(
            "Expected more than 1 value per channel when training, got input size "
            f"{tuple(input.shape)}: each of the {num_groups} groups holds a single value"
        )


# --8<-- [start:group_norm]
def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    r"""Split the channels of each sample into ``num_groups`` groups and normalise each
    group (biased variance), then a per-channel ``γ x̂ + β``."""
    _check_group_norm_args(input, num_groups)
    N = input.shape[0]
    per_group = math.prod(input.shape[1:]) // num_groups  # values per group in a sample
    grouped = input.reshape(N, num_groups, per_group)
    mean = grouped.mean(dim=-1, keepdim=True)
    var = ((grouped - mean) ** 2).mean(dim=-1, keepdim=True)
    out = ((grouped - mean) / torch.sqrt(var + eps)).reshape(input.shape)
    shape = _channel_shape(input)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


# --8<-- [end:group_norm]


# ----------------------------------------------------------------------------- dropout
def _check_dropout_probability(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


# --8<-- [start:dropout]
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    r"""Inverted dropout: in training, zero each element with probability ``p`` and scale
    the kept ones by ``1 / (1 - p)`` so the expectation is unchanged; otherwise identity.

    The mask is drawn as PyTorch draws it for a CPU tensor (``bernoulli_(1 - p)``), so on
    the CPU, with the same seed, the result equals ``torch.nn.functional.dropout``'s. On
    CUDA PyTorch uses a fused kernel (``native_dropout``) with draws of its own, so the
    masks differ there.
    """
    _check_dropout_probability(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        out = input * torch.zeros_like(input)
    else:
        mask = torch.empty_like(input).bernoulli_(1 - p)
        out = input * mask / (1 - p)
    return input.copy_(out) if inplace else out


# --8<-- [end:dropout]
