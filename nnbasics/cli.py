"""``python -m nnbasics train``: the article's 完整训练示例 from the command line."""

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
        description="在随机分类数据上运行文章的完整训练示例，每 10 个 epoch 打印一次平均损失。",
    )
    train.add_argument("--epochs", type=_positive_int, default=50, help="训练轮数（默认 50）")
    train.add_argument("--seed", type=int, default=0, help="随机种子（默认 0）")
    train.add_argument("--device", default="cpu", help="cpu、cuda、cuda:N 或 mps（默认 cpu）")
    train.add_argument("--batch-size", type=_positive_int, default=64, help="批大小（默认 64）")
    train.add_argument("--lr", type=_positive_float, default=1e-3, help="AdamW 学习率（默认 1e-3）")
    return parser


def _train(args: argparse.Namespace) -> None:
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from nnbasics.data import make_random_classification
    from nnbasics.models import make_classifier
    from nnbasics.training import fit, set_seed

    set_seed(args.seed)
    # seed=None draws from the global generator, as the article's torch.randn does:
    # the run prints the same numbers as the article's code after torch.manual_seed(seed).
    X_train, y_train = make_random_classification(1000, 20, 5, seed=None)
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=args.batch_size, shuffle=True)
    model = make_classifier()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    fit(
        model,
        loader,
        criterion,
        optimizer,
        args.epochs,
        max_grad_norm=1.0,
        device=args.device,
        log_every=10,
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
        _train(args)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
