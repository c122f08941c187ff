"""What :func:`nnbasics.training.fit` needs to train data-parallel on ``torch.distributed``.

Launched by ``torchrun --nproc-per-node N script.py``, every process (rank) runs the same
script and the same ``fit`` call. :func:`setup` joins the default process group (gloo on the
CPU, NCCL on CUDA, each rank on its local GPU), :func:`shard` gives each rank its part of the
data with a ``DistributedSampler``, ``DistributedDataParallel`` averages the gradients, and
:func:`mean` / :func:`total` combine the ranks' numbers so that every rank returns the same
History. Nothing here is home-made communication: it is PyTorch's engine, set up.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, IterableDataset, RandomSampler, Sampler
from torch.utils.data.distributed import DistributedSampler

__all__ = ["Context", "mean", "requested", "setup", "shard", "shard_for_evaluation", "total"]

# the variables torchrun sets for every rank (torch.distributed's env:// initialisation)
TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
TIMEOUT_S = 120  # a collective that waits this long for a rank that died raises instead


@dataclass(frozen=True)
class Context:
    """This process's place in the group: ``rank`` of ``world_size``, and its ``device``.
    ``owns_group`` is true when :func:`setup` created the process group (and ``fit`` ends it)."""

    rank: int
    world_size: int
    device: torch.device | None
    owns_group: bool

    @property
    def main(self) -> bool:
        """Rank 0: the process that prints and writes checkpoints."""
        return self.rank == 0


def requested(distributed: bool | None) -> bool:
    """Whether ``fit`` trains data-parallel: ``None`` means when launched with
    ``WORLD_SIZE`` > 1 (torchrun) or inside an initialised process group.

    Raises:
        TypeError: if ``distributed`` is not ``None``, ``True`` or ``False``.
        ValueError: if ``WORLD_SIZE`` is not an integer.
    """
    if distributed is not None and not isinstance(distributed, bool):
        raise TypeError(f"distributed must be None, True or False, got {distributed!r}")
    if distributed is not None:
        return distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size() > 1
    world = os.environ.get("WORLD_SIZE", "1")
    try:
        return int(world) > 1
    except ValueError:
        raise ValueError(f"WORLD_SIZE must be an integer, got {world!r}") from None


def setup(device: torch.device | None, timeout_s: float = TIMEOUT_S) -> Context:
    """Join (or create) the default process group and pick this rank's device.

    Raises:
        RuntimeError: if ``torch.distributed`` is not available in this PyTorch build.
        ValueError: if the group must be created and torchrun's variables are missing or
            ``MASTER_PORT`` is taken; if ``device`` is a GPU other than this rank's.
    """
    if not dist.is_available():
        raise RuntimeError("distributed=True needs a PyTorch built with torch.distributed")
    owns = not dist.is_initialized()
    cuda = torch.cuda.is_available() and (device is None or device.type == "cuda")
    if owns:
        missing = [name for name in TORCHRUN_VARIABLES if name not in os.environ]
        if missing:
            raise ValueError(
                f"distributed training needs the variables torchrun sets; missing: "
                f"{', '.join(missing)} (launch with: torchrun --nproc-per-node N script.py)"
            )
        try:
            dist.init_process_group(
                backend="nccl" if cuda else "gloo",
                timeout=datetime.timedelta(seconds=timeout_s),
            )
        except (RuntimeError, dist.DistNetworkError) as exc:
            where = f"{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}"
            raise ValueError(
                f"cannot start the process group at {where} (port in use, or the other ranks "
                f"did not start?): {str(exc).splitlines()[0]}"
            ) from exc
    rank, world = dist.get_rank(), dist.get_world_size()
    if cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        mine = torch.device("cuda", local)
        if device is not None and device.index is not None and device != mine:
            raise ValueError(f"device {str(device)!r} is not this rank's GPU ({mine})")
        torch.cuda.set_device(mine)
        device = mine
    return Context(rank, world, device, owns)


def _dataset(loader: Iterable[Any], name: str) -> Any:
    dataset = getattr(loader, "dataset", None)
    if not isinstance(loader, DataLoader) or dataset is None:
        raise ValueError(
            f"{name} cannot be split between ranks: distributed training needs a "
            f"torch.utils.data.DataLoader over a map-style dataset, got {type(loader).__name__}"
        )
    if isinstance(dataset, IterableDataset):
        raise ValueError(
            f"{name} cannot be split between ranks: its dataset is an IterableDataset "
            "(no length, no indices); shard it yourself, or use a map-style dataset"
        )
    return dataset


def _like(loader: DataLoader[Any], sampler: Sampler[int]) -> DataLoader[Any]:
    """``loader`` with another sampler: same batch size, collate, workers and generator."""
    return DataLoader(
        loader.dataset,
        batch_size=loader.batch_size,
        sampler=sampler,
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        drop_last=loader.drop_last,
        timeout=loader.timeout,
        worker_init_fn=loader.worker_init_fn,
        generator=loader.generator,
        persistent_workers=loader.persistent_workers,
    )


def shard(loader: Iterable[Any], ctx: Context, seed: int = 0) -> DataLoader[Any]:
    """The training loader of this rank: a ``DistributedSampler`` over the same dataset
    (shuffled when ``loader`` shuffles; call ``loader.sampler.set_epoch(epoch)`` every epoch),
    each rank with ``loader``'s batch size.

    Raises:
        ValueError: for a loader that cannot be split (not a ``DataLoader``, or over an
            ``IterableDataset``) or with fewer samples than ranks.
    """
    dataset = _dataset(loader, "loader")
    assert isinstance(loader, DataLoader)
    if len(dataset) < ctx.world_size:
        raise ValueError(
            f"loader has {len(dataset)} samples for {ctx.world_size} ranks: every rank needs "
            "at least one"
        )
    shuffle = isinstance(loader.sampler, RandomSampler)
    sampler: DistributedSampler[int] = DistributedSampler(
        dataset, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=shuffle, seed=seed
    )
    return _like(loader, sampler)


class _Strided(Sampler[int]):
    """Indices ``rank, rank + world, rank + 2 world, …``: every sample on exactly one rank."""

    def __init__(self, n: int, rank: int, world: int) -> None:
        self.indices = list(range(rank, n, world))

    def __iter__(self) -> Any:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def shard_for_evaluation(loader: Iterable[Any], ctx: Context) -> DataLoader[Any]:
    """The validation loader of this rank: every sample on exactly one rank (no padding, so
    the combined loss and accuracy are those of the whole set)."""
    dataset = _dataset(loader, "val_loader")
    assert isinstance(loader, DataLoader)
    if len(dataset) < ctx.world_size:
        raise ValueError(
            f"val_loader has {len(dataset)} samples for {ctx.world_size} ranks: every rank "
            "needs at least one"
        )
    return _like(loader, _Strided(len(dataset), ctx.rank, ctx.world_size))


def _reduce(values: list[float], ctx: Context) -> list[float]:
    device = ctx.device if ctx.device is not None and ctx.device.type == "cuda" else None
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return [float(v) for v in tensor.tolist()]


def total(values: list[float], ctx: Context) -> list[float]:
    """The sums of ``values`` over all ranks (the same list on every rank)."""
    return _reduce(values, ctx)


def mean(value: float, ctx: Context) -> float:
    """The mean of ``value`` over all ranks (the same on every rank)."""
    return _reduce([value], ctx)[0] / ctx.world_size
