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
    """
    _check_fit(epochs, loader, val_loader, max_grad_norm, log_every)
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=PATH, the file to resume from")
    if early_stopping is not None:
        _check_int("early_stopping", early_stopping, 1)
        if val_loader is None:
            raise ValueError("early_stopping needs a val_loader: it watches the validation loss")
    dev = resolve_device(device)
    ctx = _distributed.setup(dev) if _distributed.requested(distributed) else None
    try:
        return _fit(
            model,
            loader,
            criterion,
            optimizer,
            epochs,
            scheduler,
            max_grad_norm,
            dev if ctx is None or ctx.device is None else ctx.device,
            val_loader,
            progress,
            log_every,
            checkpoint,
            resume,
            early_stopping,
            restore_best,
            amp,
            ctx,
        )
    finally:
        if ctx is not None and ctx.owns_group:
            torch.distributed.destroy_process_group()


def _fit(
    model: nn.Module,
    loader: Iterable[Any],
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    scheduler: Any,
    max_grad_norm: float | None,
    dev: torch.device | None,
    val_loader: Iterable[Any] | None,
    progress: bool | None,
    log_every: int | None,
    checkpoint: str | os.PathLike[str] | None,
    resume: bool,
    early_stopping: int | None,
    restore_best: bool,
    amp: bool,
    ctx: _distributed.Context | None,
) -> History:
    """fit once its arguments are checked and its process group (if any) is set up."""
    if dev is not None:
        model.to(dev)
    plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    params = list(model.parameters())  # what the article passes to clip_grad_norm_
    history = History()
    stopper = _EarlyStopping(early_stopping)
    scaler = _grad_scaler(amp, model)
    start = 0
    if resume:
        assert checkpoint is not None
        start = _resume(checkpoint, model, optimizer, scheduler, loader, history, stopper, scaler)
    trained: nn.Module = model
    main = ctx is None or ctx.main
    if ctx is not None:
        loader = _distributed.shard(loader, ctx)
        if val_loader is not None:
            val_loader = _distributed.shard_for_evaluation(val_loader, ctx)
        on_gpu = dev is not None and dev.type == "cuda"
        trained = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[dev] if on_gpu else None
        )
    with _progress_bar(progress if main else False, epochs, start) as bar:
        write = bar.write if bar is not None else print
        for epoch in range(start, epochs):
            if history.stopped_epoch is not None:
                break
            sampler = getattr(loader, "sampler", None)
            if ctx is not None and isinstance(sampler, DistributedSampler):
                sampler.set_epoch(epoch)
            history.lr.append(float(optimizer.param_groups[0]["lr"]))
            if scaler is None:
                train_loss = train_epoch(
                    trained, loader, criterion, optimizer, max_grad_norm, dev, params=params
                )
            else:
                train_loss = train_epoch_amp(
                    trained, loader, criterion, optimizer, scaler, max_grad_norm, dev, params=params
                )
            if ctx is not None:
                train_loss = _distributed.mean(train_loss, ctx)
            history.train_loss.append(train_loss)
            message = f"Epoch {epoch + 1}, Loss: {train_loss:.4f}"
            monitored = train_loss
            if val_loader is not None:
                result = evaluate(model, val_loader, criterion, device=dev)
                if ctx is not None:
                    result = _combined(result, ctx)
                assert result.loss is not None
                history.val_loss.append(result.loss)
                history.val_accuracy.append(result.accuracy)
                monitored = result.loss
                message += f", Val Loss: {result.loss:.4f}, Val Acc: {result.accuracy:.4f}"
            if scheduler is not None:
                if plateau:
                    scheduler.step(monitored)
                else:
                    scheduler.step()
            if stopper.patience is not None:
                stopper.update(model, history, epoch + 1, restore_best)
            if checkpoint is not None and main:
                _save(
                    checkpoint,
                    model,
                    optimizer,
                    scheduler,
                    loader,
                    history,
                    stopper,
                    epoch + 1,
                    scaler,
                )
            if bar is not None:
                bar.update()
                bar.set_postfix(loss=f"{train_loss:.4f}")
            if main and log_every is not None and (epoch + 1) % log_every == 0:
                write(message)
            if main and history.stop_reason is not None and log_every is not None:
                write(history.stop_reason)
    if ctx is not None and checkpoint is not None:
        torch.distributed.barrier()  # no rank returns before rank 0's last checkpoint is on disk
    return history


def _combined(result: Evaluation, ctx: _distributed.Context) -> Evaluation:
    """The evaluation of the whole validation set from each rank's share of it."""
    assert result.loss is not None
    loss, correct, seen = _distributed.total(
        [result.loss * result.samples, round(result.accuracy * result.samples), result.samples],
        ctx,
    )
    return Evaluation(loss=loss / seen, accuracy=correct / seen, samples=round(seen))


class _EarlyStopping:
    """The early-stopping state of a run: the lowest validation loss so far, its epoch and
    weights, and how many epochs since then."""

    def __init__(self, patience: int | None) -> None:
        self.patience = patience
        self.best: float | None = None
        self.bad_epochs = 0
        self.best_state: dict[str, torch.Tensor] | None = None

    def update(self, model: nn.Module, history: History, epoch: int, restore: bool) -> None:
        loss = history.val_loss[-1]
        if self.best is None or loss < self.best:
            self.best, self.bad_epochs = loss, 0
            history.best_epoch = epoch
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            return
        self.bad_epochs += 1
        assert self.patience is not None
        if self.bad_epochs >= self.patience:
            history.stopped_epoch = epoch
            history.stop_reason = (
                f"early stopping after epoch {epoch}: the validation loss has not improved "
                f"for {self.patience} epochs (best {self.best:.4f} at epoch {history.best_epoch})"
            )
            if restore and self.best_state is not None:
                model.load_state_dict(self.best_state)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "bad_epochs": self.bad_epochs, "best_state": self.best_state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.bad_epochs = state["best"], state["bad_epochs"]
        self.best_state = state["best_state"]


def _save(
    path: str | os.PathLike[str],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    loader: Iterable[Any],
    history: History,
    stopper: _EarlyStopping,
    epoch: int,
    scaler: torch.amp.GradScaler | None = None,
) -> None:
    from nnbasics import checkpoint

    checkpoint.save(
        path,
        {
            "epoch": epoch,
            "classes": {
                "model": type(model).__name__,
                "optimizer": type(optimizer).__name__,
                "scheduler": type(scheduler).__name__ if scheduler is not None else None,
            },
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "history": dataclasses.asdict(history),
            "early_stopping": stopper.state_dict(),
            "grad_scaler": scaler.state_dict() if scaler is not None else None,
            "rng": checkpoint.rng_state(loader),
        },
    )


def _resume(
    path: str | os.PathLike[str],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    loader: Iterable[Any],
    history: History,
    stopper: _EarlyStopping,
    scaler: torch.amp.GradScaler | None = None,
) -> int:
    """Load the checkpoint at ``path`` into the run's objects; the number of finished epochs.

    Everything is checked before anything is loaded: a checkpoint of another model,
    optimizer or scheduler is one ValueError naming the mismatch.
    """
    from nnbasics import checkpoint

    state = checkpoint.load(path)
    where = f"checkpoint {str(path)!r}"
    classes = state["classes"]
    for role, obj in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
        now = type(obj).__name__ if obj is not None else None
        if classes[role] != now:
            raise ValueError(f"{where} was saved with {role} {classes[role]}, this run has {now}")
    _check_same_tensors(where, state["model"], model.state_dict())
    saved_groups = [len(g["params"]) for g in state["optimizer"]["param_groups"]]
    groups = [len(g["params"]) for g in optimizer.param_groups]
    if saved_groups != groups:
        raise ValueError(
            f"{where} holds an optimizer with parameter groups of sizes {saved_groups}, "
            f"this optimizer has {groups}"
        )
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(state["scheduler"])
    for name, value in state["history"].items():
        setattr(history, name, value)
    stopper.load_state_dict(state["early_stopping"])
    if scaler is not None and state["grad_scaler"]:
        scaler.load_state_dict(state["grad_scaler"])
    checkpoint.set_rng_state(state["rng"], loader)
    epoch: int = state["epoch"]
    return epoch


def _check_same_tensors(
    where: str, saved: dict[str, torch.Tensor], current: dict[str, torch.Tensor]
) -> None:
    missing = sorted(current.keys() - saved.keys())
    unexpected = sorted(saved.keys() - current.keys())
    if missing or unexpected:
        raise ValueError(
            f"{where} does not fit this model: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    for name, tensor in current.items():
        if saved[name].shape != tensor.shape:
            raise ValueError(
                f"{where} does not fit this model: {name} has shape "
                f"{tuple(saved[name].shape)} there, {tuple(tensor.shape)} here"
            )


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
    float16 gradients can underflow; a pass-through elsewhere (bfloat16 has float32's range)."""
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


def _check_fit(
    epochs: int,
    loader: Iterable[Any],
    val_loader: Iterable[Any] | None,
    max_grad_norm: float | None,
    log_every: int | None,
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
