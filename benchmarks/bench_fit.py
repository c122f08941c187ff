"""fit() versus the article's hand-written loop on the article's full example.

Runs both alternately in one process with the same seed (so both do identical work)
and prints the median wall time of each and their ratio. Target: ratio <= 1.05.

    python benchmarks/bench_fit.py [--repeats 7] [--epochs 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from nnbasics.data import make_random_classification
from nnbasics.models import make_classifier
from nnbasics.training import fit


def _setup(seed: int):
    torch.manual_seed(seed)
    X_train, y_train = make_random_classification(1000, 20, 5, seed=None)
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=64, shuffle=True)
    model = make_classifier()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    return loader, model, criterion, optimizer


def hand_written(epochs: int, seed: int = 0) -> float:
    loader, model, criterion, optimizer = _setup(seed)
    for _ in range(epochs):
        model.train()
        total_loss = 0
        for batch_x, batch_y in loader:
            optimizer.zero_grad()
            pred = model(batch_x)
            loss = criterion(pred, batch_y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            total_loss += loss.item()
    return total_loss / len(loader)


def with_fit(epochs: int, seed: int = 0) -> float:
    loader, model, criterion, optimizer = _setup(seed)
    history = fit(model, loader, criterion, optimizer, epochs, max_grad_norm=1.0, progress=False)
    return history.train_loss[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"hand-written loop": [], "nnbasics.training.fit": []}
    results = {}
    hand_written(2)  # warm-up
    with_fit(2)
    for _ in range(args.repeats):
        for name, fn in (("hand-written loop", hand_written), ("nnbasics.training.fit", with_fit)):
            start = time.perf_counter()
            results[name] = fn(args.epochs)
            times[name].append(time.perf_counter() - start)
    assert results["hand-written loop"] == results["nnbasics.training.fit"], results
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{args.epochs} epochs, median of {args.repeats}"
    )
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"{name:24} {median:7.3f} s")
    ratio = medians["nnbasics.training.fit"] / medians["hand-written loop"]
    print(f"ratio fit / hand-written  {ratio:7.3f}  (target <= 1.05)")


if __name__ == "__main__":
    main()
