"""The networks of the article, written exactly as the article writes them.

Each class keeps the article's attribute names (``linear``, ``fc1``, ``bn``,
``net`` ...), so that code written against the article works unchanged.

``perceptron_rule`` is not the article's: it is Rosenblatt's learning rule for a single
perceptron (no gradient), shown on the perceptron page.
"""

from __future__ import annotations

# --8<-- [start:imports]
import torch
import torch.nn as nn

# --8<-- [end:imports]

__all__ = [
    "MLP",
    "ConvBlock",
    "Perceptron",
    "RegularizedMLP",
    "make_classifier",
    "perceptron_rule",
]


# --8<-- [start:perceptron]
# 单个感知机
class Perceptron(nn.Module):
    """单个感知机：加权求和（``nn.Linear``）后接 Sigmoid 激活函数。

    Args:
        input_dim: 输入特征的个数。

    Shape:
        输入 ``(*, input_dim)``，输出 ``(*, 1)``，取值在 (0, 1) 之间。
    """

    def __init__(self, input_dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(input_dim, 1)
        self.activation = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.linear(x))


# --8<-- [end:perceptron]


def _check_perceptron_rule_args(X: torch.Tensor, y: torch.Tensor, epochs: int, lr: float) -> None:
    if not isinstance(X, torch.Tensor) or X.ndim != 2 or not X.is_floating_point():
        got = f"shape {tuple(X.shape)}, {X.dtype}" if isinstance(X, torch.Tensor) else repr(X)
        raise ValueError(f"X must be a 2-D floating-point tensor (N, d), got {got}")
    if X.shape[0] == 0:
        raise ValueError(f"X must hold at least one sample, got shape {tuple(X.shape)}")
    if not bool(torch.isfinite(X).all()):
        bad = int((~torch.isfinite(X)).sum())
        raise ValueError(f"X must be finite, got {bad} NaN or infinite values")
    if not isinstance(y, torch.Tensor) or tuple(y.shape) != (X.shape[0],):
        what = f"shape {tuple(y.shape)}" if isinstance(y, torch.Tensor) else repr(y)
        raise ValueError(f"y must be a tensor of shape ({X.shape[0]},) like X's rows, got {what}")
    labels = sorted(set(y.tolist()))
    if not set(labels) <= {-1, 1}:
        raise ValueError(f"y must hold the labels -1 and 1 only, got the values {labels}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < float("inf"):
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")


# --8<-- [start:perceptron_rule]
def perceptron_rule(
    X: torch.Tensor, y: torch.Tensor, epochs: int = 100, lr: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Rosenblatt 的感知机学习规则：不求梯度，只在分错时更新。

    从 ``w = 0``、``b = 0`` 开始，每轮按顺序查看每个样本；``y_i (w·x_i + b) <= 0``
    （分错，或恰好落在决策边界上）时更新 ``w ← w + lr·y_i·x_i``、``b ← b + lr·y_i``。
    某一轮一次也没有分错时停止：再遍历下去也不会有任何更新。

    Args:
        X: 形状 ``(N, d)`` 的浮点张量，每行一个样本。
        y: 形状 ``(N,)`` 的标签，只能取 -1 或 1。
        epochs: 最多遍历训练集的轮数（正整数）。
        lr: 学习率 η（正数）。

    Returns:
        ``(w, b, mistakes)``：权重（形状 ``(d,)``）、偏置（0 维张量）和每一轮分错
        （也就是更新）的次数。收敛时 ``mistakes`` 以第一个 0 结尾，否则长度为 ``epochs``。

    Raises:
        ValueError: 参数不合法时，信息里写明参数名和值。
    """
    _check_perceptron_rule_args(X, y, epochs, lr)
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    b = torch.zeros((), dtype=X.dtype, device=X.device)
    labels = y.to(X.dtype)
    mistakes: list[int] = []
    with torch.no_grad():
        for _ in range(epochs):
            count = 0
            for x_i, y_i in zip(X, labels, strict=True):
                if y_i * (w @ x_i + b) <= 0:  # 分错（或落在边界上）才更新
                    w += lr * y_i * x_i
                    b += lr * y_i
                    count += 1
            mistakes.append(count)
            if count == 0:  # 全部分对：已经收敛
                break
    return w, b, mistakes


# --8<-- [end:perceptron_rule]


# --8<-- [start:mlp]
class MLP(nn.Module):
    """两层感知机：``fc1`` → GELU → ``fc2``，输出层不加激活函数（输出 logits）。

    Args:
        input_dim: 输入特征数。
        hidden_dim: 隐藏层宽度。
        output_dim: 输出维度。
    """

    def __init__(self, input_dim: int, hidden_dim: int, output_dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(input_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, output_dim)
        self.gelu = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.gelu(self.fc1(x))
        return self.fc2(x)


# --8<-- [end:mlp]


# --8<-- [start:convblock]
class ConvBlock(nn.Module):
    """卷积块：3×3 卷积（``padding=1``，保持空间尺寸）→ BatchNorm2d → ReLU。

    Args:
        in_channels: 输入通道数。
        out_channels: 输出通道数。

    Shape:
        输入 ``(N, in_channels, H, W)``，输出 ``(N, out_channels, H, W)``。
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


# --8<-- [end:convblock]


# --8<-- [start:regularizedmlp]
class RegularizedMLP(nn.Module):
    """带 Dropout 的三层感知机。

    Args:
        input_dim: 输入特征数。
        hidden_dim: 两个隐藏层的宽度。
        output_dim: 输出维度（类别数）。
        dropout_rate: 训练时每个隐藏单元被置零的概率 p，取值 [0, 1]。
    """

    def __init__(
        self,
        input_dim: int,
        hidden_dim: int,
        output_dim: int,
        dropout_rate: float = 0.5,
    ) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(input_dim, hidden_dim),
            nn.ReLU(),
            nn.Dropout(dropout_rate),
            nn.Linear(hidden_dim, hidden_dim),
            nn.ReLU(),
            nn.Dropout(dropout_rate),
            nn.Linear(hidden_dim, output_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


# --8<-- [end:regularizedmlp]


# --8<-- [start:classifier]
def make_classifier(
    input_dim: int = 20,
    hidden_dims: tuple[int, ...] | list[int] = (128, 64),
    num_classes: int = 5,
    dropout: float = 0.3,
) -> nn.Sequential:
    """完整训练示例中的分类网络：每个隐藏层为 Linear → BatchNorm1d → GELU → Dropout。

    默认参数给出与文章完全相同的 ``nn.Sequential``（20 → 128 → 64 → 5，Dropout 0.3）。

    Args:
        input_dim: 输入特征数。
        hidden_dims: 各隐藏层宽度，至少一个。
        num_classes: 类别数（输出 logits 的维度）。
        dropout: 每个 Dropout 层的置零概率，取值 [0, 1]。
    """
    if not hidden_dims:
        raise ValueError(f"hidden_dims must name at least one layer, got {hidden_dims!r}")
    if not 0.0 <= dropout <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout}")
    layers: list[nn.Module] = []
    width = input_dim
    for hidden in hidden_dims:
        layers += [
            nn.Linear(width, hidden),
            nn.BatchNorm1d(hidden),
            nn.GELU(),
            nn.Dropout(dropout),
        ]
        width = hidden
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


# --8<-- [end:classifier]
