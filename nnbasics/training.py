"""The article's training loop as a reusable function.

``fit`` runs exactly the loop of the article's 完整训练示例 -- ``zero_grad``,
forward, loss, ``backward``, optional ``clip_grad_norm_``, ``step`` for every
batch, then ``scheduler.step()`` once per epoch -- and records a :class:`History`.
:func:`article_example` builds that example's data, model and optimizer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import math
import os
import random
import sys
from collections.abc import Iterable, Iterator, Sized
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

from nnbasics import checkpoint as _checkpoint
from nnbasics import distributed as _distributed

__all__ = [
    "ArticleExample",
    "Evaluation",
    "History",
    "article_example",
    "evaluate",
    "fit",
    "resolve_device",
    "set_seed",
    "train_epoch",
    "train_epoch_amp",
]


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy (if installed) and PyTorch (CPU and every GPU)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is optional
        return
    np.random.seed(seed % 2**32)


def resolve_device(device: str | torch.device | None) -> torch.device | None:
    """Turn ``device`` into a ``torch.device`` and check that it exists here.

    Raises:
        ValueError: if ``device`` is not a device name or is not available.
    """
    if device is None:
        return None
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device {device!r} is not a valid device: {exc}") from None
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"device {device!r} is not available: no CUDA GPU found")
        if dev.index is not None and dev.index >= count:
            raise ValueError(f"device {device!r} is not available: only {count} CUDA GPU(s)")
    elif dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"device {device!r} is not available: MPS is not supported here")
    elif dev.type != "cpu":
        raise ValueError(f"device {device!r} is not supported: use 'cpu', 'cuda' or 'mps'")
    return dev


@dataclass
class History:
    """Per-epoch records of :func:`fit`.

    Attributes:
        train_loss: mean of the batch losses of each epoch (the article's
            ``total_loss / len(loader)``).
        val_loss: per-sample mean loss on ``val_loader`` after each epoch
            (empty without a ``val_loader``).
        val_accuracy: accuracy on ``val_loader`` after each epoch.
        lr: the first parameter group's learning rate used in each epoch.
        best_epoch: with ``early_stopping``, the epoch (from 1) of the lowest validation loss.
        stopped_epoch: the epoch after which early stopping ended training (``None`` when
            training ran all its epochs).
        stop_reason: why training stopped early, in words (``None`` when it did not).
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_epoch: int | None = None
    stop_reason: str | None = None

    @property
    def epochs(self) -> int:
        """Number of epochs recorded."""
        return len(self.train_loss)


@dataclass(frozen=True)
class Evaluation:
    """Result of :func:`evaluate`: per-sample mean ``loss`` (``None`` without a
    criterion), ``accuracy`` in [0, 1] and the number of ``samples`` seen."""

    loss: float | None
    accuracy: float
    samples: int


@dataclass
class ArticleExample:
    """The article's 完整训练示例, set up and ready to train: see :func:`article_example`.

    Attributes:
        model: the article's network, :func:`nnbasics.models.make_classifier`.
        loader: the shuffled training batches of random samples and labels.
        criterion: ``nn.CrossEntropyLoss()``.
        optimizer: ``torch.optim.AdamW`` over the model's parameters, weight decay 0.01.
        max_grad_norm: the gradient norm the article clips to before every step (1.0).
    """

    model: nn.Module
    loader: DataLoader[tuple[torch.Tensor, ...]]
    criterion: nn.Module
    optimizer: torch.optim.Optimizer
    max_grad_norm: float = 1.0

    def fit(self, epochs: int, **kwargs: Any) -> History:
        """Train with :func:`fit` as the article does (clipping included).

        Args:
            epochs: number of passes over ``loader``.
            **kwargs: further keyword arguments of :func:`fit` (``device``,
                ``val_loader``, ``log_every`` ...).
        """
        return fit(
            self.model,
            self.loader,
            self.criterion,
            self.optimizer,
            epochs,
            max_grad_norm=self.max_grad_norm,
            **kwargs,
        )


def article_example(
    seed: int = 0, n_samples: int = 1000, batch_size: int = 64, lr: float = 1e-3
) -> ArticleExample:
    """The article's 完整训练示例 up to its training loop, drawn as the article draws it.

    Seeds every generator with :func:`set_seed`, then, in the article's order, draws
    ``n_samples`` random samples (20 features, 5 classes) from PyTorch's global generator
    and builds the loader, the network, the loss and AdamW (``weight_decay=0.01``).
    With the defaults, ``article_example().fit(50, log_every=10)`` prints the article's lines.

    Args:
        seed: the seed the article passes to ``torch.manual_seed``.
        n_samples: number of training samples (the article: 1000).
        batch_size: the loader's batch size (the article: 64).
        lr: AdamW's learning rate (the article: 1e-3).

    Raises:
        TypeError: if ``seed`` is not an int.
        ValueError: if ``n_samples`` or ``batch_size`` is not a positive int, or ``lr``
            is negative.
    """
    from nnbasics.data import make_random_classification
    from nnbasics.models import make_classifier

    set_seed(seed)
    X_train, y_train = make_random_classification(n_samples, 20, 5, seed=None)
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True)
    model = make_classifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    return ArticleExample(model, loader, nn.CrossEntropyLoss(), optimizer)


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")


def _check_loader(name: str, loader: Iterable[Any]) -> None:
    if isinstance(loader, Sized) and len(loader) == 0:
        raise ValueError(f"{name} is empty: it yields no batches (len({name}) == 0)")


def _correct(output: torch.Tensor, target: torch.Tensor) -> int:
    """Number of correct predictions in a batch of logits."""
    if output.ndim >= 2 and output.shape[1] > 1:
        pred = output.argmax(dim=1)
        if target.is_floating_point() and target.shape == output.shape:
            target = target.argmax(dim=1)  # one-hot or probability targets
        return int((pred == target).sum())
    # one logit per sample: binary classification, the positive class when logit > 0
    pred = (output > 0).reshape(-1)
    return int((pred == (target.reshape(-1) > 0.5)).sum())


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable[Any],
    criterion: nn.Module | None = None,
    *,
    device: str | torch.device | None = None,
) -> Evaluation:
    """Loss and accuracy of ``model`` on ``loader``, in eval mode and without gradients.

    The model's train/eval mode is restored afterwards. For multi-class logits
    ``(N, C)`` a prediction is ``argmax``; for one logit per sample it is ``logit > 0``.

    Args:
        model: the network.
        loader: yields ``(inputs, targets)`` batches.
        criterion: a loss with ``reduction="mean"``; the returned loss is its
            per-sample mean over the whole loader.
        device: where to run; ``None`` keeps tensors where they are.
    """
    _check_loader("loader", loader)
    dev = resolve_device(device)
    was_training = model.training
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    try:
        for inputs, targets in loader:
            if dev is not None:
                inputs, targets = inputs.to(dev), targets.to(dev)
            output = model(inputs)
            n = len(targets)
            if criterion is not None:
                total_loss += criterion(output, targets).item() * n
            correct += _correct(output, targets)
            seen += n
    finally:
        model.train(was_training)
    if seen == 0:
        raise ValueError("loader is empty: it yielded no samples")
    return Evaluation(
        loss=total_loss / seen if criterion is not None else None,
        accuracy=correct / seen,
        samples=seen,
    )


def fit(
    model: nn.Module,
    loader: Iterable[Any],
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    *,
    scheduler: Any = None,
    max_grad_norm: float | None = None,
    device: str | torch.device | None = None,
    val_loader: Iterable[Any] | None = None,
    progress: bool | None = None,
    log_every: int | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    resume: bool = False,
    early_stopping: int | None = None,
    restore_best: bool = True,
    amp: bool = False,
    distributed: bool | None = None,
) -> History:
    """Train ``model`` with the article's loop and return its :class:`History`.

    For every epoch: ``model.train()``; for every batch ``zero_grad`` → forward →
    ``criterion`` → ``backward`` → ``clip_grad_norm_`` (if ``max_grad_norm``) →
    ``optimizer.step()``; then ``scheduler.step()`` (``ReduceLROnPlateau`` gets
    the validation loss, or the training loss without a ``val_loader``).

    With ``checkpoint``, the state of the run is saved there after every epoch
    (:mod:`nnbasics.checkpoint`: model, optimizer, scheduler, History, early-stopping state and
    the random generators, written atomically); ``resume=True`` continues from it. ``epochs``
    stays the total: a run resumed after epoch k trains epochs k+1 … ``epochs``, and the
    returned History covers all of them. Resumed with fresh objects in a new process, the run
    ends with the same weights and History as one that was never interrupted.

    With ``early_stopping=patience``, training stops once the validation loss has not gone
    below its lowest value for ``patience`` epochs in a row; ``restore_best`` then loads the
    weights of the best epoch back into ``model``. History records ``best_epoch``,
    ``stopped_epoch`` and ``stop_reason``.

    With ``amp=True`` the forward pass and the loss run under ``torch.autocast`` (mixed
    precision): bfloat16 on the CPU; float16 on CUDA, with a ``torch.amp.GradScaler`` that
    scales the loss before ``backward`` and unscales the gradients before clipping and the step
    (:func:`train_epoch_amp`). The parameters and the optimizer stay in float32.

    Launched by ``torchrun --nproc-per-node N``, the same call trains data-parallel on
    ``torch.distributed`` (:mod:`nnbasics.distributed`): it joins the default process group
    (gloo on the CPU, NCCL on CUDA, each rank on its local GPU), wraps the model in
    ``DistributedDataParallel``, gives each rank its shard of ``loader`` through a
    ``DistributedSampler`` (each rank with the loader's batch size, ``set_epoch`` every epoch)
    and of ``val_loader``, averages the logged losses and combines the validation metrics over
    all ranks, prints and writes checkpoints on rank 0 only, and returns the same History on
    every rank. ``model`` itself (not the wrapper) holds the trained weights afterwards.

    Args:
        model: the network; moved to ``device`` when one is given.
        loader: yields ``(inputs, targets)`` batches.
        criterion: the loss, e.g. ``nn.CrossEntropyLoss()``.
        optimizer: any ``torch.optim.Optimizer`` over the model's parameters.
        epochs: number of passes over ``loader`` (>= 1).
        scheduler: an LR scheduler stepped once per epoch.
        max_grad_norm: clip the global gradient norm to this value (> 0).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` ...; ``None``
            leaves model and data where they are.
        val_loader: evaluated with :func:`evaluate` after each epoch.
        progress: show a tqdm bar (needs the ``progress`` extra); ``None`` shows
            it only when stderr is a terminal and tqdm is installed.
        log_every: print ``Epoch N, Loss: ...`` every ``log_every`` epochs, as
            the article does with 10.
        checkpoint: a file to save the run's state to after every epoch.
        resume: continue from ``checkpoint`` (which must exist).
        early_stopping: the patience, in epochs (>= 1); needs ``val_loader``.
        restore_best: with ``early_stopping``, end with the best epoch's weights.
        amp: train with automatic mixed precision (see above).
        distributed: ``None`` trains data-parallel when launched with ``WORLD_SIZE`` > 1 (or in
            an initialised process group); ``True`` / ``False`` force it on or off.

    Raises:
        ValueError: ``epochs < 1``, an empty ``loader`` or ``val_loader``,
            ``max_grad_norm <= 0``, ``log_every < 1``, an unavailable ``device``,
            ``resume`` without ``checkpoint``, ``early_stopping`` without ``val_loader``
            or < 1, or a checkpoint that is unreadable or was saved from another model,
            optimizer or scheduler (nothing is overwritten then).
        FileNotFoundError: ``resume=True`` and ``checkpoint`` does not exist.
        TypeError: ``amp`` is not ``True`` or ``False``, or ``distributed`` is not ``None``,
            ``True`` or ``False``.
    """
    _check_fit(
        loader,
        val_loader,
        epochs=epochs,
        max_grad_norm=max_grad_norm,
        log_every=log_every,
        checkpoint=checkpoint,
        resume=resume,
        early_stopping=early_stopping,
    )
    settings = _Settings(
        epochs=epochs,
        max_grad_norm=max_grad_norm,
        device=resolve_device(device),
        progress=progress,
        log_every=log_every,
        checkpoint=checkpoint,
        resume=resume,
        early_stopping=early_stopping,
        restore_best=restore_best,
        amp=amp,
    )
    with _process_group(distributed, settings.device) as ranks:
        if ranks.device is not None:  # under torchrun on GPUs: this rank's own GPU
            settings = dataclasses.replace(settings, device=ranks.device)
        return _train(model, loader, criterion, optimizer, scheduler, val_loader, settings, ranks)


@dataclass(frozen=True)
class _Settings:
    """The settings of one :func:`fit` call, checked (``amp`` is checked by
    :func:`_grad_scaler`); see :func:`fit` for each one."""

    epochs: int
    max_grad_norm: float | None
    device: torch.device | None
    progress: bool | None
    log_every: int | None
    checkpoint: str | os.PathLike[str] | None
    resume: bool
    early_stopping: int | None
    restore_best: bool
    amp: bool


def _check_fit(
    loader: Iterable[Any],
    val_loader: Iterable[Any] | None,
    *,
    epochs: int,
    max_grad_norm: float | None,
    log_every: int | None,
    checkpoint: str | os.PathLike[str] | None,
    resume: bool,
    early_stopping: int | None,
) -> None:
    """fit's argument checks: a ValueError naming the argument and its value."""
    _check_int("epochs", epochs, 1)
    _check_loader("loader", loader)
    if val_loader is not None:
        _check_loader("val_loader", val_loader)
    if max_grad_norm is not None and not (
        isinstance(max_grad_norm, (int, float))
        and max_grad_norm > 0
        and math.isfinite(max_grad_norm)
    ):
        raise ValueError(f"max_grad_norm must be a finite number > 0, got {max_grad_norm!r}")
    if log_every is not None:
        _check_int("log_every", log_every, 1)
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=PATH, the file to resume from")
    if early_stopping is not None:
        _check_int("early_stopping", early_stopping, 1)
        if val_loader is None:
            raise ValueError("early_stopping needs a val_loader: it watches the validation loss")


def _train(
    model: nn.Module,
    loader: Iterable[Any],
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    val_loader: Iterable[Any] | None,
    settings: _Settings,
    ranks: _Ranks,
) -> History:
    """fit once its arguments are checked and its process group (if any) is joined: the
    article's epochs, each followed by validation, the scheduler, early stopping, the
    checkpoint and the printed line."""
    if settings.device is not None:
        model.to(settings.device)
    params = list(model.parameters())  # what the article passes to clip_grad_norm_
    history = History()
    stopper = _EarlyStopping(settings.early_stopping, settings.restore_best)
    scaler = _grad_scaler(settings.amp, model)
    saved = _checkpoint.Run(model, optimizer, scheduler, history, stopper, scaler)
    start = 0
    if settings.resume:
        assert settings.checkpoint is not None
        start = _checkpoint.load_run(settings.checkpoint, saved, loader)
    trained, loader, val_loader = ranks.split(model, loader, val_loader, settings.device)
    with _reporting(settings, start, ranks.main) as report:
        for epoch in range(start, settings.epochs):
            if history.stopped_epoch is not None:
                break  # stopped early (in this call, or in the run it resumed)
            ranks.set_epoch(loader, epoch)
            history.lr.append(float(optimizer.param_groups[0]["lr"]))
            train_loss = _train_one_epoch(
                trained, loader, criterion, optimizer, scaler, settings, params=params
            )
            train_loss = ranks.mean(train_loss)
            history.train_loss.append(train_loss)
            monitored = train_loss  # what ReduceLROnPlateau watches without a val_loader
            val = None
            if val_loader is not None:
                val = ranks.combined(evaluate(model, val_loader, criterion, device=settings.device))
                assert val.loss is not None
                history.val_loss.append(val.loss)
                history.val_accuracy.append(val.accuracy)
                monitored = val.loss
            _step_scheduler(scheduler, monitored)
            stopper.update(model, history, epoch + 1)
            if settings.checkpoint is not None and ranks.main:
                _checkpoint.save_run(settings.checkpoint, epoch + 1, saved, loader)
            report.epoch_done(epoch + 1, train_loss, val, history.stop_reason)
    if settings.checkpoint is not None:
        ranks.wait_for_main()  # no rank returns before rank 0's last checkpoint is on disk
    return history


def _step_scheduler(scheduler: Any, monitored: float) -> None:
    """``scheduler.step()`` once per epoch; ``ReduceLROnPlateau`` gets the monitored loss."""
    if scheduler is None:
        return
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(monitored)
    else:
        scheduler.step()


# --- the article's loop, and the same in mixed precision (AMP) ---------------------------------


def train_epoch(
    model: nn.Module,
    loader: Iterable[Any],
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    max_grad_norm: float | None = None,
    device: torch.device | None = None,
    *,
    params: list[nn.Parameter] | None = None,
) -> float:
    """One pass of the article's loop over ``loader``; returns the mean batch loss.

    ``params`` are the parameters whose gradient norm is clipped (default: the model's).

    Raises:
        ValueError: when ``loader`` yields no batch.
    """
    params = list(model.parameters()) if params is None else params
    # --8<-- [start:loop]
    model.train()
    total_loss = 0.0
    batches = 0
    for batch_x, batch_y in loader:
        if device is not None:
            batch_x, batch_y = batch_x.to(device), batch_y.to(device)
        optimizer.zero_grad()
        pred = model(batch_x)
        loss = criterion(pred, batch_y)
        loss.backward()
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, max_norm=max_grad_norm)
        optimizer.step()
        total_loss += loss.item()
        batches += 1
    # --8<-- [end:loop]
    if batches == 0:
        raise ValueError("loader is empty: it yielded no batches")
    return total_loss / batches


def _grad_scaler(amp: bool, model: nn.Module) -> torch.amp.GradScaler | None:
    """The gradient scaler of an ``amp`` run (``None`` without ``amp``): active on CUDA, where
    float16 gradients can underflow; a pass-through elsewhere (bfloat16 has float32's range).

    Raises:
        TypeError: if ``amp`` is not ``True`` or ``False``.
    """
    if not isinstance(amp, bool):
        raise TypeError(f"amp must be True or False, got {amp!r}")
    if not amp:
        return None
    device = next((p.device.type for p in model.parameters()), "cpu")
    return torch.amp.GradScaler(device, enabled=device == "cuda")


def train_epoch_amp(
    model: nn.Module,
    loader: Iterable[Any],
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    max_grad_norm: float | None = None,
    device: torch.device | None = None,
    *,
    params: list[nn.Parameter] | None = None,
) -> float:
    """:func:`train_epoch` in mixed precision: the forward pass and the loss under
    ``torch.autocast`` (float16 on CUDA, bfloat16 elsewhere), the loss scaled by ``scaler``
    before ``backward``, the gradients unscaled before clipping, ``scaler.step`` and
    ``scaler.update`` instead of ``optimizer.step()``.

    Raises:
        ValueError: when ``loader`` yields no batch.
    """
    params = list(model.parameters()) if params is None else params
    device_type = next((p.device.type for p in params), "cpu")
    dtype = torch.float16 if device_type == "cuda" else torch.bfloat16
    # --8<-- [start:amp]
    model.train()
    total_loss = 0.0
    batches = 0
    for batch_x, batch_y in loader:
        if device is not None:
            batch_x, batch_y = batch_x.to(device), batch_y.to(device)
        optimizer.zero_grad()
        with torch.autocast(device_type, dtype=dtype):
            pred = model(batch_x)
            loss = criterion(pred, batch_y)
        scaler.scale(loss).backward()
        if max_grad_norm is not None:
            scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
            torch.nn.utils.clip_grad_norm_(params, max_norm=max_grad_norm)
        scaler.step(optimizer)  # skips the step when a gradient is inf or nan
        scaler.update()
        total_loss += loss.item()
        batches += 1
    # --8<-- [end:amp]
    if batches == 0:
        raise ValueError("loader is empty: it yielded no batches")
    return total_loss / batches


def _train_one_epoch(
    model: nn.Module,
    loader: Iterable[Any],
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    settings: _Settings,
    *,
    params: list[nn.Parameter],
) -> float:
    """One epoch of fit: :func:`train_epoch_amp` with a scaler (``amp=True``), else
    :func:`train_epoch`; the mean batch loss of this process."""
    if scaler is None:
        return train_epoch(
            model,
            loader,
            criterion,
            optimizer,
            settings.max_grad_norm,
            settings.device,
            params=params,
        )
    return train_epoch_amp(
        model,
        loader,
        criterion,
        optimizer,
        scaler,
        settings.max_grad_norm,
        settings.device,
        params=params,
    )


# --- early stopping -----------------------------------------------------------------------------


class _EarlyStopping:
    """The early-stopping state of a run: the lowest validation loss so far, its epoch and
    weights, and how many epochs since then. Without a ``patience`` it never stops a run."""

    def __init__(self, patience: int | None, restore_best: bool = True) -> None:
        self.patience = patience
        self.restore_best = restore_best
        self.best: float | None = None
        self.bad_epochs = 0
        self.best_state: dict[str, torch.Tensor] | None = None

    def update(self, model: nn.Module, history: History, epoch: int) -> None:
        """Take the validation loss of ``epoch`` (the last in ``history``); when it has not
        improved for ``patience`` epochs, record the stop in ``history`` and (with
        ``restore_best``) load the best epoch's weights back into ``model``."""
        if self.patience is None:
            return
        loss = history.val_loss[-1]
        if self.best is None or loss < self.best:
            self.best, self.bad_epochs = loss, 0
            history.best_epoch = epoch
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            return
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            history.stopped_epoch = epoch
            history.stop_reason = (
                f"early stopping after epoch {epoch}: the validation loss has not improved "
                f"for {self.patience} epochs (best {self.best:.4f} at epoch {history.best_epoch})"
            )
            if self.restore_best and self.best_state is not None:
                model.load_state_dict(self.best_state)

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint keeps of this state."""
        return {"best": self.best, "bad_epochs": self.bad_epochs, "best_state": self.best_state}

    def load_state_dict(self, state: dict[str, Any], /) -> None:
        """Put back the state :meth:`state_dict` returned."""
        self.best, self.bad_epochs = state["best"], state["bad_epochs"]
        self.best_state = state["best_state"]


# --- data-parallel training (torch.distributed) ------------------------------------------------


@contextlib.contextmanager
def _process_group(distributed: bool | None, device: torch.device | None) -> Iterator[_Ranks]:
    """Join the default process group when data-parallel training is asked for (see
    :func:`nnbasics.distributed.requested`), and end it afterwards if fit created it."""
    ctx = _distributed.setup(device) if _distributed.requested(distributed) else None
    try:
        yield _Ranks(ctx)
    finally:
        if ctx is not None and ctx.owns_group:
            torch.distributed.destroy_process_group()


@dataclass(frozen=True)
class _Ranks:
    """The data-parallel side of a run (:mod:`nnbasics.distributed`). In a single process
    (``ctx`` is ``None``) every method returns what it is given and does nothing else."""

    ctx: _distributed.Context | None

    @property
    def main(self) -> bool:
        """Whether this process prints and writes checkpoints (rank 0, or the only one)."""
        return self.ctx is None or self.ctx.main

    @property
    def device(self) -> torch.device | None:
        """This rank's device as the process group chose it (``None``: fit's own choice)."""
        return None if self.ctx is None else self.ctx.device

    def split(
        self,
        model: nn.Module,
        loader: Iterable[Any],
        val_loader: Iterable[Any] | None,
        device: torch.device | None,
    ) -> tuple[nn.Module, Iterable[Any], Iterable[Any] | None]:
        """This rank's shares of the loaders and the module to train: ``model`` wrapped in
        ``DistributedDataParallel``, which averages the gradients over the ranks."""
        if self.ctx is None:
            return model, loader, val_loader
        loader = _distributed.shard(loader, self.ctx)
        if val_loader is not None:
            val_loader = _distributed.shard_for_evaluation(val_loader, self.ctx)
        on_gpu = device is not None and device.type == "cuda"
        trained = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device] if on_gpu else None
        )
        return trained, loader, val_loader

    def set_epoch(self, loader: Iterable[Any], epoch: int) -> None:
        """Give the ``DistributedSampler`` the epoch: a new shuffle every epoch."""
        sampler = getattr(loader, "sampler", None)
        if self.ctx is not None and isinstance(sampler, DistributedSampler):
            sampler.set_epoch(epoch)

    def mean(self, loss: float) -> float:
        """The mean of the ranks' ``loss``."""
        return loss if self.ctx is None else _distributed.mean(loss, self.ctx)

    def combined(self, result: Evaluation) -> Evaluation:
        """The evaluation of the whole validation set from each rank's share of it."""
        if self.ctx is None:
            return result
        assert result.loss is not None
        loss, correct, seen = _distributed.total(
            [result.loss * result.samples, round(result.accuracy * result.samples), result.samples],
            self.ctx,
        )
        return Evaluation(loss=loss / seen, accuracy=correct / seen, samples=round(seen))

    def wait_for_main(self) -> None:
        """Wait until every rank, rank 0 included, gets here."""
        if self.ctx is not None:
            torch.distributed.barrier()


# --- progress bar and printed lines -------------------------------------------------------------


class _Report:
    """What a run shows after each epoch: the progress bar (``bar``, or ``None``) and, every
    ``log_every`` epochs, the article's ``Epoch N, Loss: ...`` line, then why it stopped early.
    Lines go through the bar when there is one, so that they do not break it."""

    def __init__(self, bar: Any, log_every: int | None) -> None:
        self.bar = bar
        self.log_every = log_every
        self.write = bar.write if bar is not None else print

    def epoch_done(
        self, epoch: int, train_loss: float, val: Evaluation | None, stop_reason: str | None
    ) -> None:
        """Advance the bar and print what is due after ``epoch`` (counted from 1)."""
        if self.bar is not None:
            self.bar.update()
            self.bar.set_postfix(loss=f"{train_loss:.4f}")
        if self.log_every is None:
            return
        if epoch % self.log_every == 0:
            message = f"Epoch {epoch}, Loss: {train_loss:.4f}"
            if val is not None:
                message += f", Val Loss: {val.loss:.4f}, Val Acc: {val.accuracy:.4f}"
            self.write(message)
        if stop_reason is not None:
            self.write(stop_reason)


@contextlib.contextmanager
def _reporting(settings: _Settings, start: int, main: bool) -> Iterator[_Report]:
    """The run's :class:`_Report`, its bar closed however training ends; only the main rank
    shows anything."""
    with _progress_bar(settings.progress if main else False, settings.epochs, start) as bar:
        yield _Report(bar, settings.log_every if main else None)


@contextlib.contextmanager
def _progress_bar(progress: bool | None, epochs: int, start: int = 0) -> Iterator[Any]:
    """A tqdm bar over the epochs (None without one), closed however training ends.

    ``progress=None`` shows it only when stderr is a terminal and tqdm is installed.
    """
    if progress is None:
        progress = sys.stderr.isatty() and importlib.util.find_spec("tqdm") is not None
    if not progress:
        yield None
        return
    try:
        from tqdm import tqdm
    except ImportError:
        raise ImportError(
            "progress=True needs tqdm: pip install 'nnbasics[progress]' (or tqdm)"
        ) from None
    bar = tqdm(total=epochs, initial=start, desc="训练", unit="epoch", file=sys.stderr)
    try:
        yield bar
    finally:
        bar.close()
