"""From-scratch optimizers and learning-rate schedules, as subclasses of PyTorch's bases.

They take the arguments of ``torch.optim.SGD`` / ``RMSprop`` / ``Adam`` / ``AdamW`` and of
``torch.optim.lr_scheduler.CosineAnnealingLR`` / ``LinearLR`` / ``SequentialLR`` with the same
defaults (not the implementation
switches ``foreach``, ``fused``, ``capturable``, ``differentiable``, nor Adam's
``decoupled_weight_decay``), support param groups and ``state_dict``
round trips, and follow the same trajectories (tests compare >= 20 steps for every option
combination against PyTorch's single-tensor ``foreach=False`` implementation; the schedules'
rates for every step). :func:`weight_decay_groups` builds the parameter groups that keep biases
and normalization parameters out of weight decay.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from typing import Any, overload

import torch
from torch import Tensor
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "LinearLR",
    "RMSprop",
    "SequentialLR",
    "weight_decay_groups",
]


def _evaluate(closure: Callable[[], float] | None) -> float | None:
    """Re-evaluate the loss with gradients enabled, as torch's optimizers do in ``step``."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


def _check_lr(lr: float) -> None:
    if isinstance(lr, Tensor) or not lr >= 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_non_negative(name: str, value: float) -> None:
    if not value >= 0.0:
        raise ValueError(f"Invalid {name} value: {value}")


# --8<-- [start:step]
class _ParameterwiseOptimizer(Optimizer):
    """What SGD and Adam share: ``step`` updates every parameter that has a gradient, one at
    a time, with the subclass's ``_update``."""

    # as torch.optim.Optimizer.step: None without a closure, the closure's loss with one
    @overload
    def step(self, closure: None = None) -> None: ...
    @overload
    def step(self, closure: Callable[[], float]) -> float: ...

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = _evaluate(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    g = -p.grad if group["maximize"] else p.grad
                    self._update(p, g, group)
        return loss

    def _update(self, p: Tensor, g: Tensor, group: dict[str, Any]) -> None:
        """Update parameter ``p`` in place from its gradient ``g``, with ``group``'s settings."""
        raise NotImplementedError


# --8<-- [end:step]


# --8<-- [start:sgd]
class SGD(_ParameterwiseOptimizer):
    r"""Stochastic gradient descent with momentum, as ``torch.optim.SGD``.

    For each parameter θ with gradient g (negated when ``maximize``)::

        g ← g + λ θ                                  (weight_decay λ)
        b ← g                 at the first step,     (momentum μ > 0)
        b ← μ b + (1 - τ) g   afterwards             (dampening τ)
        g ← g + μ b  if nesterov, else  g ← b
        θ ← θ - η g                                   (lr η)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check_lr(lr)
        _check_non_negative("momentum", momentum)
        _check_non_negative("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening, got "
                f"momentum={momentum}, dampening={dampening}"
            )
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update(self, p: Tensor, g: Tensor, group: dict[str, Any]) -> None:
        mu, tau = group["momentum"], group["dampening"]
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        if mu != 0:
            state = self.state[p]
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = g.clone()
                state["momentum_buffer"] = buf
            else:
                buf.mul_(mu).add_(g, alpha=1 - tau)
            g = g + mu * buf if group["nesterov"] else buf
        p.add_(g, alpha=-group["lr"])


# --8<-- [end:sgd]


# --8<-- [start:rmsprop]
class RMSprop(_ParameterwiseOptimizer):
    r"""RMSprop, as ``torch.optim.RMSprop``: each parameter's step is divided by a running
    root mean square of its gradients.

    For each parameter θ with gradient g (negated when ``maximize``)::

        g ← g + λ θ                                   (weight_decay λ)
        v ← α v + (1 - α) g²                          (square_avg)
        ḡ ← α ḡ + (1 - α) g,  r = √(v - ḡ²) + ε        (centered)
        r = √v + ε                                    (otherwise)
        b ← μ b + g / r,  θ ← θ - η b                 (momentum μ > 0)
        θ ← θ - η g / r                               (otherwise)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check_lr(lr)
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_non_negative("momentum", momentum)
        _check_non_negative("weight_decay", weight_decay)
        if not alpha >= 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update(self, p: Tensor, g: Tensor, group: dict[str, Any]) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        state = self.state[p]
        if not state:
            state["step"] = torch.tensor(0.0)
            state["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            if group["momentum"] > 0:
                state["momentum_buffer"] = torch.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = torch.zeros_like(p)
        state["step"] += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        v = state["square_avg"]
        v.mul_(alpha).addcmul_(g, g, value=1 - alpha)
        if group["centered"]:
            mean = state["grad_avg"]
            mean.lerp_(g, 1 - alpha)
            r = v.addcmul(mean, mean, value=-1).sqrt_().add_(eps)
        else:
            r = v.sqrt().add_(eps)
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf.mul_(group["momentum"]).addcdiv_(g, r)
            p.add_(buf, alpha=-lr)
        else:
            p.addcdiv_(g, r, value=-lr)


# --8<-- [end:rmsprop]


# --8<-- [start:adam]
class Adam(_ParameterwiseOptimizer):
    r"""Adam, as ``torch.optim.Adam`` (L2 ``weight_decay`` added to the gradient).

    For each parameter θ with gradient g (negated when ``maximize``), at step t::

        g ← g + λ θ                     (weight_decay λ; AdamW instead: θ ← θ (1 - ηλ))
        m ← β1 m + (1 - β1) g
        v ← β2 v + (1 - β2) g²
        v_max ← max(v_max, v), then v_max in place of v below       (amsgrad only)
        m̂ = m / (1 - β1^t),  v̂ = v / (1 - β2^t)                     (bias correction)
        θ ← θ - η m̂ / (√v̂ + ε)
    """

    _decoupled = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check_lr(lr)
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        _check_non_negative("weight_decay", weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update(self, p: Tensor, g: Tensor, group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        state = self.state[p]
        if not state:
            state["step"] = torch.tensor(0.0)
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = torch.zeros_like(p)
        state["step"] += 1
        t = float(state["step"])
        if wd != 0:
            if self._decoupled:
                p.mul_(1 - lr * wd)
            else:
                g = g + wd * p
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(g, 1 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        bias1 = 1 - beta1**t
        bias2 = 1 - beta2**t
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denom = (v.sqrt() / math.sqrt(bias2)).add_(eps)
        p.addcdiv_(m, denom, value=-lr / bias1)


# --8<-- [end:adam]


# --8<-- [start:adamw]
class AdamW(Adam):
    r"""AdamW, as ``torch.optim.AdamW``: Adam with *decoupled* weight decay, applied to
    the parameter before the Adam step (``θ ← θ (1 - ηλ)``) instead of to the gradient."""

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


# --8<-- [end:adamw]


# --8<-- [start:cosine]
class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing, as ``torch.optim.lr_scheduler.CosineAnnealingLR``:

    ``η_t = η_min + (η_0 - η_min) (1 + cos(π t / T_max)) / 2``

    (past ``T_max`` the cosine continues, as PyTorch's does: the rate rises again and is
    back at ``η_0`` at ``t = 2 T_max``).
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"T_max must be a positive int, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | Tensor]:
        t = self.last_epoch
        return [
            self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2
            for base in self.base_lrs
        ]

    _get_closed_form_lr = get_lr


# --8<-- [end:cosine]


# --8<-- [start:linear]
class LinearLR(LRScheduler):
    r"""Linear change of the rate, as ``torch.optim.lr_scheduler.LinearLR`` (used for warmup):

    ``η_t = η_0 (s + (e - s) min(t, T) / T)`` with ``s = start_factor``, ``e = end_factor``,
    ``T = total_iters``; constant at ``e η_0`` from step ``T`` on.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0.0 < start_factor <= 1.0:
            raise ValueError(f"start_factor must be in (0, 1], got {start_factor!r}")
        if not 0.0 <= end_factor <= 1.0:
            raise ValueError(f"end_factor must be in [0, 1], got {end_factor!r}")
        if isinstance(total_iters, bool) or not isinstance(total_iters, int) or total_iters < 1:
            raise ValueError(f"total_iters must be a positive int, got {total_iters!r}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | Tensor]:
        t = min(self.last_epoch, self.total_iters)
        factor = self.start_factor + (self.end_factor - self.start_factor) * t / self.total_iters
        return [base * factor for base in self.base_lrs]

    _get_closed_form_lr = get_lr


# --8<-- [end:linear]


# --8<-- [start:sequential]
class SequentialLR(LRScheduler):
    """One schedule after another, as ``torch.optim.lr_scheduler.SequentialLR``: step ``t``
    uses ``schedulers[i]``, where ``i`` is the number of ``milestones`` ``<= t``, at its own step
    ``t - milestones[i - 1]`` (each schedule starts again from its step 0). Linear warmup then
    cosine decay: ``SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=w),
    CosineAnnealingLR(opt, T_max=n - w)], milestones=[w])``.

    Each schedule is evaluated in closed form (``_get_closed_form_lr``, which ours and most of
    PyTorch's have), so the rate at a step does not depend on the rates before it.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ) -> None:
        if len(schedulers) == 0:
            raise ValueError("schedulers must not be empty")
        for i, scheduler in enumerate(schedulers):
            if getattr(scheduler, "optimizer", None) is not optimizer:
                raise ValueError(f"schedulers[{i}] does not belong to this optimizer")
            if not hasattr(scheduler, "_get_closed_form_lr"):
                raise TypeError(
                    f"schedulers[{i}] ({type(scheduler).__name__}) has no closed form"
                    " (_get_closed_form_lr)"
                )
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"milestones must have len(schedulers) - 1 = {len(schedulers) - 1} entries,"
                f" got {len(milestones)}: {list(milestones)!r}"
            )
        if any(isinstance(m, bool) or not isinstance(m, int) or m < 1 for m in milestones) or list(
            milestones
        ) != sorted(set(milestones)):
            raise ValueError(
                f"milestones must be increasing positive ints, got {list(milestones)!r}"
            )
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | Tensor]:
        i = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        scheduler.last_epoch = self.last_epoch - (self._milestones[i - 1] if i else 0)
        rates: list[float | Tensor] = scheduler._get_closed_form_lr()  # type: ignore[attr-defined]
        scheduler._last_lr = rates
        return rates

    _get_closed_form_lr = get_lr

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        for scheduler, saved in zip(self._schedulers, state.pop("_schedulers"), strict=True):
            scheduler.load_state_dict(saved)
        self.__dict__.update(state)


# --8<-- [end:sequential]


# --8<-- [start:groups]
def weight_decay_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Parameter groups for an optimizer: weight decay on the weight matrices (and kernels) of
    ``model``, none on biases and normalization parameters.

    A parameter with 2 or more dimensions (``nn.Linear``'s or a convolution's weight) is
    decayed; one with fewer (a bias, BatchNorm's or LayerNorm's scale and shift) is not:
    shrinking a bias or a normalization scale toward 0 does not make the function simpler.
    Parameters with ``requires_grad=False`` are left out. Empty groups are dropped.

    Use: ``AdamW(weight_decay_groups(model, 0.01), lr=1e-3)``.

    Raises:
        ValueError: if ``weight_decay`` is negative or not a finite number.
    """
    if isinstance(weight_decay, bool) or not (
        isinstance(weight_decay, (int, float)) and 0 <= weight_decay < math.inf
    ):
        raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}")
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return [g for g in groups if g["params"]]


# --8<-- [end:groups]
