"""The site's figures, computed with ``nnbasics`` and drawn with matplotlib.

Each function returns a ``matplotlib.figure.Figure``; :func:`to_svg` turns one into an SVG
whose text is drawn as paths, so Chinese labels look the same for every reader whatever
fonts they have. The site draws the figures its pages show: a page's
``![alt](figures/activation-curves.svg)`` is :func:`activation_curves` (the file name is the
function's name with hyphens), drawn at build time; nothing is a hand-made or committed
image, and the alt text is written once, on the page. Needs the ``plot`` extra (matplotlib)
and, for Chinese labels, a CJK font such as Noto Sans CJK SC (Debian: ``fonts-noto-cjk``).

    >>> from nnbasics import plot
    >>> fig = plot.activation_curves()
    >>> svg = plot.to_svg(fig)
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "activation_curves",
    "batchnorm_statistics",
    "cjk_font",
    "cosine_schedule",
    "dropout_gap",
    "mse_vs_huber",
    "optimizer_paths",
    "overfitting_curves",
    "perceptron_vs_mlp",
    "to_svg",
    "training_loss_curve",
    "vanishing_gradients",
]

# fonts that carry the simplified Chinese glyphs, most common first
_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
)


def cjk_font() -> str:
    """The first installed font of a list of fonts with simplified Chinese glyphs.

    matplotlib keeps its font list in a cache (``fontlist-*.json`` in its cache folder,
    shared by every environment). A cache written before the CJK font was installed does not
    name it; then the font files on disk (those fontconfig knows, and matplotlib's usual
    folders) are read again, the missing ones added, and the cache rewritten.

    Raises:
        RuntimeError: when none is installed (the labels would come out as boxes).
    """
    name = _first_cjk_font()
    if name is None and _add_fonts_from_disk():
        name = _first_cjk_font()
    if name is None:
        raise RuntimeError(
            "no font with Chinese glyphs found for matplotlib in its font cache or on disk "
            f"(tried {', '.join(_CJK_FONTS)}); install one, e.g. "
            "`apt-get install fonts-noto-cjk`"
        )
    return name


def _first_cjk_font() -> str | None:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in _CJK_FONTS if name in installed), None)


def _add_fonts_from_disk() -> bool:
    """Add the font files on disk that matplotlib's (stale) list lacks; True if any were added.

    Uses only public matplotlib API (``findSystemFonts``, ``FontManager.addfont``,
    ``json_dump``); the cache file name is the one matplotlib reads
    (``fontlist-v<FontManager.__version__>.json`` in ``get_cachedir()``).
    """
    from pathlib import Path

    import matplotlib as mpl
    from matplotlib import font_manager

    manager = font_manager.fontManager
    known = {f.fname for f in manager.ttflist} | {f.fname for f in manager.afmlist}
    added = 0
    for path in font_manager.findSystemFonts():
        if path in known:
            continue
        try:
            manager.addfont(path)
        except (OSError, RuntimeError, ValueError):  # unreadable or unsupported file
            continue
        added += 1
    if added:
        cache = Path(mpl.get_cachedir(), f"fontlist-v{font_manager.FontManager.__version__}.json")
        # a read-only cache folder: the list is still right in this process
        with contextlib.suppress(OSError):
            font_manager.json_dump(manager, str(cache))
    return added > 0


def _figure(ncols: int = 1, width: float = 6.4, height: float = 3.6) -> tuple[Figure, Any]:
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    mpl.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [cjk_font(), "DejaVu Sans"],
            "axes.unicode_minus": False,
            "svg.fonttype": "path",  # text as outlines: no font needed to view the SVG
            "svg.hashsalt": "nnbasics",  # stable ids: the same figure gives the same file
            "axes.grid": True,
            "grid.alpha": 0.3,
        }
    )
    fig, axes = plt.subplots(1, ncols, figsize=(width, height), layout="constrained")
    return fig, axes


def to_svg(fig: Figure) -> str:
    """The figure as SVG text (no date in its metadata, so rebuilding changes nothing),
    and the figure closed."""
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


# --8<-- [start:activation_curves]
def activation_curves() -> Figure:
    """ReLU, Leaky ReLU, Sigmoid, Tanh, GELU and SiLU (left) and their derivatives (right),
    computed by ``nnbasics.functional``."""
    from nnbasics import functional as F

    x = torch.linspace(-4, 4, 401)
    curves = [
        ("ReLU", F.relu(x), F.relu_grad(x)),
        ("Leaky ReLU (a=0.1)", F.leaky_relu(x, 0.1), F.leaky_relu_grad(x, 0.1)),
        ("Sigmoid", F.sigmoid(x), F.sigmoid_grad(x)),
        ("Tanh", F.tanh(x), F.tanh_grad(x)),
        ("GELU", F.gelu(x), F.gelu_grad(x)),
        ("SiLU", F.silu(x), F.silu_grad(x)),
    ]
    fig, (left, right) = _figure(ncols=2, width=8.0)
    for name, y, dy in curves:
        left.plot(x, y, label=name)
        right.plot(x, dy, label=name)
    left.set(title="激活函数 f(x)", xlabel="x", ylim=(-1.5, 4))
    right.set(title="导数 f'(x)", xlabel="x", ylim=(-0.2, 1.2))
    left.legend(fontsize=8)
    return fig


# --8<-- [end:activation_curves]


# --8<-- [start:perceptron_vs_mlp]
def perceptron_vs_mlp(epochs: int = 2000, seed: int = 0) -> Figure:
    """Decision regions on XOR: one perceptron (a straight line, it cannot separate the
    classes) next to an MLP with one hidden layer (it can).

    Both are trained on logits with ``BCEWithLogitsLoss``: the perceptron's logit is
    ``perceptron.linear(x)`` (``w·x + b``, before its Sigmoid), the MLP outputs logits. The
    Sigmoid is applied only to draw the predicted probability."""
    from nnbasics.data import make_xor
    from nnbasics.models import MLP, Perceptron

    torch.manual_seed(seed)
    X, y = make_xor(200, noise=0.15, seed=seed)
    perceptron = Perceptron(input_dim=2)
    mlp = MLP(input_dim=2, hidden_dim=8, output_dim=1)
    grid = torch.stack(
        torch.meshgrid(
            torch.linspace(-0.5, 1.5, 121), torch.linspace(-0.5, 1.5, 121), indexing="xy"
        ),
        dim=-1,
    )
    fig, axes = _figure(ncols=2, width=8.0, height=3.8)
    # 两个模型都输出 logit：感知机取 Sigmoid 之前的 perceptron.linear
    for ax, logit_model, title in zip(
        axes, (perceptron.linear, mlp), ("单个感知机", "MLP（8 个隐藏单元）"), strict=True
    ):
        optimizer = torch.optim.Adam(logit_model.parameters(), lr=0.05)
        for _ in range(epochs):
            optimizer.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(logit_model(X).squeeze(1), y)
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            p = torch.sigmoid(logit_model(grid.reshape(-1, 2))).reshape(grid.shape[:2])
            accuracy = ((logit_model(X).squeeze(1) > 0).float() == y).float().mean().item()
        ax.contourf(
            grid[..., 0], grid[..., 1], p, levels=[0, 0.5, 1], colors=["#c6dbef", "#fdd0a2"]
        )
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=12, edgecolors="k", linewidths=0.3)
        ax.set(title=f"{title}：准确率 {accuracy:.0%}", xlabel="$x_1$", ylabel="$x_2$")
    return fig


# --8<-- [end:perceptron_vs_mlp]


# --8<-- [start:vanishing_gradients]
def vanishing_gradients(depth: int = 10, width: int = 64, seed: int = 0) -> Figure:
    """Gradient norm of each layer's weight in a deep MLP (``depth`` hidden layers of
    ``width`` units, loss ``mean(out²)``), for three setups: Sigmoid and ReLU with
    ``nn.Linear``'s default initialization (U(-1/√n, 1/√n), variance 1/(3n) for n inputs),
    and ReLU with He initialization (``kaiming_normal_``, std √(2/n)).

    Every layer here has n inputs and n outputs; backpropagation through one layer
    multiplies the gradient's mean square by about ``n · Var(w) · E[φ'(h)²]``: at most
    1/3 · 1/16 for Sigmoid and 1/3 · 1/2 = 1/6 for ReLU with the default initialization,
    so both shrink towards the input (vanishing gradients, Sigmoid far faster); He
    initialization makes it 2 · 1/2 = 1 for ReLU.
    """
    fig, ax = _figure()
    setups = (
        ("Sigmoid，默认初始化", nn.Sigmoid, False),
        ("ReLU，默认初始化", nn.ReLU, False),
        ("ReLU，He 初始化", nn.ReLU, True),
    )
    for name, activation, he_init in setups:
        torch.manual_seed(seed)
        layers: list[nn.Module] = []
        for _ in range(depth):
            linear = nn.Linear(width, width)
            if he_init:
                nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            layers += [linear, activation()]
        model = nn.Sequential(*layers, nn.Linear(width, 1))
        x = torch.randn(256, width)
        model(x).pow(2).mean().backward()
        norms = [
            m.weight.grad.norm().item()
            for m in model
            if isinstance(m, nn.Linear) and m.weight.grad is not None
        ][:-1]
        ax.semilogy(range(1, depth + 1), norms, marker="o", label=name)
    ax.set(
        title=f"{depth} 层 MLP 各层权重的梯度范数", xlabel="层（1 = 最靠近输入）", ylabel="‖∂L/∂W‖"
    )
    ax.legend()
    return fig


# --8<-- [end:vanishing_gradients]


# --8<-- [start:optimizer_paths]
def optimizer_paths(steps: int = 60) -> Figure:
    """Paths of nnbasics' SGD, SGD with momentum, Adam and AdamW on the ill-conditioned
    bowl ``f(x, y) = x²/50 + y²`` (steep in y, flat in x), all from (-9, 2.5)."""
    from nnbasics import optim

    def f(p: torch.Tensor) -> torch.Tensor:
        return p[0] ** 2 / 50 + p[1] ** 2

    runs: dict[str, Callable[[torch.Tensor], torch.optim.Optimizer]] = {
        "SGD (lr=0.9)": lambda p: optim.SGD([p], lr=0.9),
        "SGD + 动量（lr=0.3，μ=0.9）": lambda p: optim.SGD([p], lr=0.3, momentum=0.9),
        "Adam (lr=0.5)": lambda p: optim.Adam([p], lr=0.5),
        "AdamW (lr=0.5, λ=0.1)": lambda p: optim.AdamW([p], lr=0.5, weight_decay=0.1),
    }
    fig, ax = _figure(width=7.0, height=3.8)
    xs, ys = torch.meshgrid(torch.linspace(-10, 2, 200), torch.linspace(-3, 3, 200), indexing="xy")
    ax.contour(xs, ys, xs**2 / 50 + ys**2, levels=15, colors="0.75", linewidths=0.6)
    for name, make in runs.items():
        p = torch.tensor([-9.0, 2.5], requires_grad=True)
        optimizer = make(p)
        path = [p.detach().clone()]
        for _ in range(steps):
            optimizer.zero_grad()
            f(p).backward()
            optimizer.step()
            path.append(p.detach().clone())
        track = torch.stack(path)
        ax.plot(
            track[:, 0],
            track[:, 1],
            marker=".",
            markersize=3,
            label=f"{name}：f = {f(p).item():.1e}",
        )
    ax.plot([0], [0], marker="*", color="k", markersize=10)
    ax.set(title=f"{steps} 步之后", xlabel="x", ylabel="y", xlim=(-10, 2), ylim=(-3, 3))
    ax.legend(fontsize=8, loc="lower right")
    return fig


# --8<-- [end:optimizer_paths]


# --8<-- [start:cosine_schedule]
def cosine_schedule(
    epochs: int = 100, lr: float = 0.1, eta_min: float = 0.001, warmup: int = 10
) -> Figure:
    """The learning rate of nnbasics' ``CosineAnnealingLR`` over ``epochs`` epochs, and of
    ``warmup`` epochs of linear warmup (``LinearLR`` from 0.1 ``lr``) then cosine decay over
    the remaining epochs, joined by ``SequentialLR``."""
    from nnbasics import optim

    def rates(make: Callable[[torch.optim.Optimizer], Any]) -> list[float]:
        optimizer = optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
        scheduler = make(optimizer)
        lrs = []
        for _ in range(epochs + 1):
            lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
        return lrs

    curves = {
        f"余弦退火（T_max={epochs}）": lambda o: optim.CosineAnnealingLR(
            o, T_max=epochs, eta_min=eta_min
        ),
        f"{warmup} 轮线性预热 + 余弦退火（T_max={epochs - warmup}）": lambda o: optim.SequentialLR(
            o,
            [
                optim.LinearLR(o, start_factor=0.1, total_iters=warmup),
                optim.CosineAnnealingLR(o, T_max=epochs - warmup, eta_min=eta_min),
            ],
            milestones=[warmup],
        ),
    }
    fig, ax = _figure(height=3.2)
    for label, make in curves.items():
        ax.plot(range(epochs + 1), rates(make), label=label)
    ax.set(
        title=f"余弦退火与线性预热：η_max={lr}，η_min={eta_min}",
        xlabel="轮（epoch）",
        ylabel="学习率",
    )
    ax.legend(fontsize=8)
    return fig


# --8<-- [end:cosine_schedule]


# --8<-- [start:mse_vs_huber]
def mse_vs_huber(steps: int = 500, seed: int = 0) -> Figure:
    """A straight line fitted to points on y = 2x + 1 with three outliers, once with MSE
    and once with Huber loss (nnbasics.functional): the outliers drag the MSE line."""
    from nnbasics import functional as F

    g = torch.Generator().manual_seed(seed)
    x = torch.linspace(0, 5, 30)
    y = 2 * x + 1 + 0.3 * torch.randn(30, generator=g)
    y[[24, 26, 28]] -= torch.tensor([12.0, 14.0, 13.0])  # three outliers
    fig, ax = _figure()
    ax.scatter(x, y, s=14, color="0.3", label="数据（含 3 个离群点）")
    ax.plot(x, 2 * x + 1, "k--", linewidth=1, label="真实直线 y = 2x + 1")
    for name, loss_fn in (("MSE", F.mse_loss), ("Huber (δ=1)", F.huber_loss)):
        w = torch.zeros(2, requires_grad=True)
        optimizer = torch.optim.Adam([w], lr=0.05)
        for _ in range(steps):
            optimizer.zero_grad()
            loss_fn(w[0] * x + w[1], y).backward()
            optimizer.step()
        a, b = w.tolist()
        ax.plot(x, a * x + b, label=f"{name}：y = {a:.2f}x + {b:.2f}")
    ax.set(title="离群点对拟合的影响", xlabel="x", ylabel="y")
    ax.legend(fontsize=8)
    return fig


# --8<-- [end:mse_vs_huber]


# --8<-- [start:batchnorm_statistics]
def batchnorm_statistics(steps: int = 100, batch_size: int = 16, seed: int = 0) -> Figure:
    """Training mode normalises with each batch's mean (noisy); the running mean that
    evaluation mode uses converges to the data's mean (3.0) at rate ``momentum``."""
    from nnbasics.nn import BatchNorm1d

    g = torch.Generator().manual_seed(seed)
    bn = BatchNorm1d(1, momentum=0.1)
    assert bn.running_mean is not None  # tracked by default
    batch_means, running = [], []
    for _ in range(steps):
        x = 3.0 + 2.0 * torch.randn(batch_size, 1, generator=g)
        bn(x)  # training mode: normalise with this batch, update running stats
        batch_means.append(x.mean().item())
        running.append(bn.running_mean.item())
    fig, ax = _figure()
    ax.plot(
        batch_means,
        ".",
        markersize=4,
        label=f"每个 batch 的均值（训练模式使用，batch={batch_size}）",
    )
    ax.plot(running, label="running_mean（评估模式使用，momentum=0.1）")
    ax.axhline(3.0, color="k", linestyle="--", linewidth=1, label="数据的真实均值 3.0")
    ax.set(title="BatchNorm：训练模式与评估模式用的均值", xlabel="训练步数", ylabel="均值")
    ax.legend(fontsize=8)
    return fig


# --8<-- [end:batchnorm_statistics]


# --8<-- [start:dropout_gap]
def dropout_gap(epochs: int = 300, seed: int = 0) -> Figure:
    """Train and validation loss of the same wide MLP with and without Dropout (p=0.5) on a
    small noisy set (60 training samples, 500 validation samples); the legend gives each
    run's lowest validation loss."""
    from nnbasics.data import make_blobs

    X, y = make_blobs(560, n_features=20, n_classes=3, spread=6.0, seed=seed)
    X_train, y_train, X_val, y_val = X[:60], y[:60], X[60:], y[60:]
    fig, ax = _figure()
    for p, color in ((0.0, "tab:red"), (0.5, "tab:blue")):
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(20, 256), nn.ReLU(), nn.Dropout(p), nn.Linear(256, 3))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        train, val = [], []
        for _ in range(epochs):
            model.train()
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(X_train), y_train)
            loss.backward()
            optimizer.step()
            model.eval()
            with torch.no_grad():
                train.append(nn.functional.cross_entropy(model(X_train), y_train).item())
                val.append(nn.functional.cross_entropy(model(X_val), y_val).item())
        ax.plot(train, color=color, linestyle="--", label=f"p={p}：训练集")
        ax.plot(val, color=color, label=f"p={p}：验证集（最低 {min(val):.3f}）")
    ax.set(
        title="训练集与验证集损失之差：有无 Dropout",
        xlabel="轮（epoch）",
        ylabel="交叉熵损失",
        ylim=(0, None),
    )
    ax.legend(fontsize=8)
    return fig


# --8<-- [end:dropout_gap]


# --8<-- [start:training_loss_curve]
def training_loss_curve(epochs: int = 50) -> Figure:
    """The article's full example run by ``nnbasics.training.fit`` (seed 0, the article's
    data, model, AdamW and gradient clipping): training loss per epoch, and the loss on 200
    fresh samples with random labels of their own. Evaluating after each epoch iterates a
    DataLoader, which draws its base seed from the global generator: from epoch 2 on the
    shuffling and the dropout masks differ from the article's run, so the training curve
    follows the article's printed losses in trend, not digit for digit."""
    from torch.utils.data import DataLoader, TensorDataset

    from nnbasics.data import make_random_classification
    from nnbasics.training import article_example

    example = article_example(seed=0)  # the article's data, model, AdamW and clipping
    X_val, y_val = make_random_classification(200, 20, 5, seed=1)  # its own generator
    val_loader = DataLoader(TensorDataset(X_val, y_val), batch_size=200)
    history = example.fit(epochs, val_loader=val_loader)
    fig, ax = _figure()
    ax.plot(range(1, epochs + 1), history.train_loss, label="训练集损失（每轮各批量损失的平均）")
    ax.plot(range(1, epochs + 1), history.val_loss, label="验证集损失（新样本，随机标签）")
    ax.axhline(
        math.log(5), color="k", linestyle="--", linewidth=1, label="ln 5：5 类随机猜测的损失"
    )
    ax.set(
        title="完整训练示例：训练损失下降，验证损失上升", xlabel="轮（epoch）", ylabel="交叉熵损失"
    )
    ax.legend(fontsize=8)
    return fig


# --8<-- [end:training_loss_curve]


# --8<-- [start:overfitting_curves]
def overfitting_curves(epochs: int = 300, seed: int = 1) -> Figure:
    """A too-large MLP (1 -> 64 -> 64 -> 1, Tanh) fitted by Adam to 15 noisy points of
    ``sin(3x)``, one full-batch step per epoch: the points and the fit at the epoch of the
    lowest validation loss and at the last epoch (left); training and validation loss per
    epoch, that epoch marked (right)."""
    import copy

    def make_data(n: int, data_seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(data_seed)
        x = torch.rand(n, 1, generator=g) * 2 - 1
        return x, torch.sin(3 * x) + 0.3 * torch.randn(n, 1, generator=g)

    x_train, y_train = make_data(15, seed)
    x_val, y_val = make_data(200, 100)
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    mse = nn.functional.mse_loss
    train, val = [], []
    best_state: dict[str, torch.Tensor] = {}
    for _ in range(epochs):
        optimizer.zero_grad()
        mse(model(x_train), y_train).backward()
        optimizer.step()
        with torch.no_grad():
            train.append(mse(model(x_train), y_train).item())
            val.append(mse(model(x_val), y_val).item())
        if val[-1] == min(val):
            best_state = copy.deepcopy(model.state_dict())
    best = val.index(min(val)) + 1  # epochs count from 1
    grid = torch.linspace(-1, 1, 400).unsqueeze(1)
    with torch.no_grad():
        last_fit = model(grid)
        model.load_state_dict(best_state)
        best_fit = model(grid)

    fig, (ax_fit, ax_loss) = _figure(ncols=2, width=9.0, height=3.8)
    ax_fit.plot(grid, torch.sin(3 * grid), color="k", linestyle=":", label="真实函数 sin(3x)")
    ax_fit.plot(grid, best_fit, color="tab:blue", label=f"第 {best} 轮（验证损失最低）")
    ax_fit.plot(grid, last_fit, color="tab:red", label=f"第 {epochs} 轮")
    ax_fit.scatter(x_train, y_train, color="k", s=14, zorder=3, label="15 个训练样本")
    ax_fit.set(title="模型的拟合", xlabel="x", ylabel="y")
    ax_fit.legend(fontsize=8, loc="lower right")
    epoch_axis = range(1, epochs + 1)
    ax_loss.plot(epoch_axis, train, color="tab:orange", linestyle="--", label="训练集")
    ax_loss.plot(epoch_axis, val, color="tab:green", label="验证集（200 个样本）")
    ax_loss.axvline(best, color="tab:blue", linewidth=1, label=f"第 {best} 轮：验证损失最低")
    ax_loss.axhline(0.09, color="k", linestyle=":", linewidth=1, label="噪声的方差 0.3² = 0.09")
    ax_loss.set(
        title="训练集与验证集的损失",
        xlabel="轮（epoch）",
        ylabel="均方误差（MSE）",
        yscale="log",
    )
    ax_loss.legend(fontsize=8)
    return fig


# --8<-- [end:overfitting_curves]
