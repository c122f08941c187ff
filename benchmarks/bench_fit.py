"""fit() versus the article's hand-written loop on the article's full example.

Runs both alternately in one process with the same seed (so both do identical work)
and prints the median wall time of each and their ratio. Target: ratio <= 1.05.
The hand-written side is the article's own code, as the tests hold it
(``testkit/article.py``); the fit side is ``nnbasics.training.article_example``.

    python -m benchmarks.bench_fit [--repeats 7] [--epochs 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from nnbasics.training import article_example

# the hand-written loop: the article's code, verbatim, as the tests hold it (testkit/article.py)
from testkit.article import article_run


def hand_written(epochs: int, seed: int = 0) -> float:
    losses, _, _ = article_run(epochs, seed)
    return losses[-1]


def with_fit(epochs: int, seed: int = 0) -> float:
    history = article_example(seed).fit(epochs, progress=False)
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
