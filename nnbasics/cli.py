"""``python -m nnbasics train``: the article's 完整训练示例 from the command line.

Under ``torchrun --nproc-per-node N -m nnbasics train`` it trains data-parallel
(:func:`nnbasics.training.fit` on ``torch.distributed``); ``--checkpoint PATH`` saves the run
after every epoch and ``--resume`` continues it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

__all__ = ["build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nnbasics", description="神经网络基础：文章配套代码。")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = sub.add_parser(
        "train",
        help="运行文章的完整训练示例",
        description="在随机分类数据上运行文章的完整训练示例，每 10 轮（epoch）打印一次平均损失。",
    )
    train.add_argument("--epochs", type=_positive_int, default=50, help="训练轮数（默认 50）")
    train.add_argument("--seed", type=int, default=0, help="随机种子（默认 0）")
    train.add_argument("--device", default="cpu", help="cpu、cuda、cuda:N 或 mps（默认 cpu）")
    train.add_argument("--batch-size", type=_positive_int, default=64, help="批量大小（默认 64）")
    train.add_argument("--lr", type=_positive_float, default=1e-3, help="AdamW 学习率（默认 1e-3）")
    train.add_argument("--checkpoint", metavar="PATH", help="每轮结束后把训练状态保存到这个文件")
    train.add_argument(
        "--resume", action="store_true", help="从 --checkpoint 的文件继续训练（--epochs 是总轮数）"
    )
    return parser


def _train(args: argparse.Namespace) -> None:
    from nnbasics.training import article_example

    # seeded as the article's torch.manual_seed(seed), its data drawn from the global generator
    # as its torch.randn does: the run prints the same numbers as the article's code
    example = article_example(args.seed, batch_size=args.batch_size, lr=args.lr)
    example.fit(
        args.epochs,
        device=args.device,
        log_every=10,
        checkpoint=args.checkpoint,
        resume=args.resume,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "train":
        from nnbasics.training import resolve_device

        try:
            resolve_device(args.device)
        except ValueError as exc:
            parser.exit(2, f"nnbasics: error: argument --device: {exc}\n")
        if args.resume and args.checkpoint is None:
            parser.exit(2, "nnbasics: error: argument --resume: needs --checkpoint PATH\n")
        try:
            _train(args)
        except (FileNotFoundError, ValueError) as exc:
            if args.checkpoint is None:
                raise
            parser.exit(1, f"nnbasics: error: {exc}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
