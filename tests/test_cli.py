import os
import shutil
import subprocess
import sys

import pytest
import torch
from article_reference import article_run

from nnbasics.cli import main


def _article_output(epochs, seed=0, batch_size=64, lr=1e-3):
    return article_run(epochs, seed, batch_size=batch_size, lr=lr)[1]


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
