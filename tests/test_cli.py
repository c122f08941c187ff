import os
import shutil
import subprocess
import sys

import pytest
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from nnbasics.cli import main


def _article_output(epochs, seed=0, batch_size=64, lr=1e-3):
    """The article's 完整训练示例, verbatim but for the seed and the settings."""
    torch.manual_seed(seed)
    X_train = torch.randn(1000, 20)
    y_train = torch.randint(0, 5, (1000,))
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True)
    model = nn.Sequential(
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
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    lines = []
    for epoch in range(epochs):
        model.train()
        total_loss = 0
        for batch_x, batch_y in loader:
            optimizer.zero_grad()
            loss = criterion(model(batch_x), batch_y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            total_loss += loss.item()
        if (epoch + 1) % 10 == 0:
            lines.append(f"Epoch {epoch + 1}, Loss: {total_loss / len(loader):.4f}")
    return lines


def test_train_prints_the_articles_lines(capsys):
    assert main(["train", "--epochs", "20"]) == 0
    assert capsys.readouterr().out.splitlines() == _article_output(20)


def test_train_options_are_used(capsys):
    main(
        [
            "train",
            "--epochs",
            "10",
            "--seed",
            "3",
            "--batch-size",
            "100",
            "--lr",
            "0.01",
            "--device",
            "cpu",
        ]
    )
    assert capsys.readouterr().out.splitlines() == _article_output(10, 3, 100, 0.01)


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "nnbasics", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONIOENCODING="utf-8"),
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["train", "--epochs", "0"], "--epochs"),
        (["train", "--epochs", "-2"], "--epochs"),
        (["train", "--epochs", "ten"], "'ten'"),
        (["train", "--bogus"], "--bogus"),
        (["train", "--device", "tpu9"], "tpu9"),
        (["train", "--lr", "-1"], "--lr"),
        (["train", "--batch-size", "0"], "--batch-size"),
        (["fly"], "fly"),
        ([], "command"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, needle):
    result = _run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0] and "error" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_unavailable_device_is_exit_2():
    result = _run("train", "--device", "cuda")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "nnbasics: error: argument --device: device 'cuda' is not available: no CUDA GPU found"
    )


def test_console_script_is_installed():
    exe = shutil.which(
        "nnbasics",
        path=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]),
    )
    assert exe, "the nnbasics console script is not installed"
    result = subprocess.run(
        [exe, "train", "--epochs", "10"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0
    assert result.stdout.splitlines() == _article_output(10)
