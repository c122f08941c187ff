"""``nnbasics`` on the command line: :func:`nnbasics.cli.main` called in-process (its output
through capsys, its exit codes as ``SystemExit``); one subprocess test that the installed
console script starts, and one that ``python -m nnbasics`` trains under torchrun."""

import os
import shutil
import subprocess
import sys

import pytest
import torch

from nnbasics.cli import main
from testkit.article import article_run


def _article_output(epochs, seed=0, batch_size=64, lr=1e-3):
    return article_run(epochs, seed, batch_size=batch_size, lr=lr)[1]


def _exit(args, capsys):
    """``main(args)``'s exit code and its stdout and stderr (it must exit, not raise)."""
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


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
def test_bad_input_is_one_line_and_exit_2(args, needle, capsys):
    code, out, err = _exit(args, capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert needle in lines[0] and "error" in lines[0]
    assert "Traceback" not in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_unavailable_device_is_exit_2(capsys):
    code, out, err = _exit(["train", "--device", "cuda"], capsys)
    assert code == 2
    assert out == ""
    assert err.strip() == (
        "nnbasics: error: argument --device: device 'cuda' is not available: no CUDA GPU found"
    )


@pytest.mark.processes
def test_console_script_is_installed():
    """The entry point itself: the installed ``nnbasics`` script starts and prints its help
    (what it prints when training is tested in-process above)."""
    exe = shutil.which(
        "nnbasics",
        path=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]),
    )
    assert exe, "the nnbasics console script is not installed"
    result = subprocess.run(
        [exe, "--help"],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONIOENCODING="utf-8"),
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("usage: nnbasics ")
    assert "神经网络基础：文章配套代码。" in result.stdout
    assert "运行文章的完整训练示例" in result.stdout  # the train command's help


def test_train_checkpoint_and_resume_print_the_articles_lines(tmp_path, capsys):
    path = tmp_path / "run.pt"
    assert main(["train", "--epochs", "10", "--checkpoint", str(path)]) == 0
    first = capsys.readouterr().out.splitlines()
    assert main(["train", "--epochs", "20", "--checkpoint", str(path), "--resume"]) == 0
    second = capsys.readouterr().out.splitlines()
    assert first + second == _article_output(20)


def test_resume_without_checkpoint_or_with_a_missing_file_is_one_line(tmp_path, capsys):
    code, _, err = _exit(["train", "--resume"], capsys)
    assert code == 2
    assert err == "nnbasics: error: argument --resume: needs --checkpoint PATH\n"
    missing = tmp_path / "missing.pt"
    code, _, err = _exit(["train", "--checkpoint", str(missing), "--resume"], capsys)
    assert code == 1
    assert err == f"nnbasics: error: checkpoint {str(missing)!r} does not exist\n"


@pytest.mark.processes
def test_train_under_torchrun_with_two_processes(tmp_path):
    """``python -m nnbasics`` (nnbasics/__main__.py) under torchrun: a subprocess by nature."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node=2",
            "-m",
            "nnbasics",
            "train",
            "--epochs",
            "10",
            "--checkpoint",
            str(tmp_path / "run.pt"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("Epoch")]
    assert lines == [lines[0]] and lines[0].startswith("Epoch 10, Loss: ")  # rank 0 prints
    assert (tmp_path / "run.pt").is_file()
