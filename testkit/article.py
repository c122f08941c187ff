"""The article's 完整训练示例, verbatim (indentation restored), as the tests' reference.

Only the seed, the sizes and the settings are parameters; everything else is the
article's code, so tests comparing nnbasics against it compare against the article.
It deliberately imports nothing from nnbasics, not even ``nnbasics.training.article_example``
(which builds this same setup): the helper, ``make_classifier`` and ``fit`` are checked
against it (tests/test_training.py, tests/test_cli.py, tests/test_models.py), and
benchmarks/bench_fit.py times ``fit`` against its loop.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def article_model() -> nn.Sequential:
    """The article's ``nn.Sequential``."""
    return nn.Sequential(
        nn.Linear(20, 128),
        nn.BatchNorm1d(128),
        nn.GELU(),
        nn.Dropout(0.3),
        nn.Linear(128, 64),
        nn.BatchNorm1d(64),
        nn.GELU(),
        nn.Dropout(0.3),
        nn.Linear(64, 5),
    )


def article_run(epochs, seed=0, n_samples=1000, batch_size=64, lr=1e-3):
    """Run the article's example; returns (per-epoch mean losses, printed lines, model)."""
    torch.manual_seed(seed)
    X_train = torch.randn(n_samples, 20)
    y_train = torch.randint(0, 5, (n_samples,))
    dataset = TensorDataset(X_train, y_train)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
    model = article_model()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    losses, lines = [], []
    for epoch in range(epochs):
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
        losses.append(total_loss / len(loader))
        if (epoch + 1) % 10 == 0:
            lines.append(f"Epoch {epoch + 1}, Loss: {total_loss / len(loader):.4f}")
    return losses, lines, model
