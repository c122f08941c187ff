"""The site's figures, computed with ``nnbasics`` and drawn with matplotlib.

Each function returns a ``matplotlib.figure.Figure``; :func:`to_svg` turns one into an SVG
whose text is drawn as paths, so Chinese labels look the same for every reader whatever
fonts they have, and ``to_svg(fig, dark=True)`` draws the same figure for a dark page
(:func:`darken`). The site draws the figures its pages show: a page's
``![alt](figures/activation-curves.svg){ title="caption" }`` is :func:`activation_curves`
(the file name is the function's name with hyphens), drawn at build time in both variants;
nothing is a hand-made or committed image, and the alt text and caption are written once, on
the page. The figures are sized for a phone's column (:data:`WIDTH`, :data:`FONT_SIZE`), with
panels stacked. Needs the ``plot`` extra (matplotlib) and, for Chinese labels, a CJK font
such as Noto Sans CJK SC (Debian: ``fonts-noto-cjk``).

    >>> from nnbasics import plot
    >>> fig = plot.activation_curves()
    >>> light = plot.to_svg(fig, close=False)
    >>> dark = plot.to_svg(fig, dark=True)
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
    "dark_color",
    "darken",
    "dropout_gap",
    "dropout_thinned_networks",
    "init_rms_by_layer",
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


# The figures are drawn for a page column about 358 CSS px wide on a 390 px phone, where a
# figure WIDTH inches wide (WIDTH · 96 CSS px) is shown at 358 / (WIDTH · 96) of its size:
# 4.8 in at 11 pt gives text of 11.4 CSS px there, and 14.7 px at its natural size on a
# desktop. tests/test_plot.py measures every text of every figure the site shows.
WIDTH = 4.8
FONT_SIZE = 11

# the dark variant (Material's "slate" scheme): its page background and text colour
DARK_BACKGROUND = "#1e2129"
DARK_INK = "#dcdee4"


def _figure(nrows: int = 1, height: float = 3.6, width: float = WIDTH) -> tuple[Figure, Any]:
    """A figure of ``nrows`` panels stacked one above the other (a phone's column is too
    narrow for panels side by side), with the site's font and sizes."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    mpl.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [cjk_font(), "DejaVu Sans"],
            "font.size": FONT_SIZE,
            "axes.titlesize": FONT_SIZE + 1,
            "axes.labelsize": FONT_SIZE,
            "xtick.labelsize": FONT_SIZE,
            "ytick.labelsize": FONT_SIZE,
            "legend.fontsize": FONT_SIZE,
            "legend.title_fontsize": FONT_SIZE,
            "legend.handlelength": 1.6,
            "lines.linewidth": 1.8,
            "axes.unicode_minus": False,
            "svg.fonttype": "path",  # text as outlines: no font needed to view the SVG
            "svg.hashsalt": "nnbasics",  # stable ids: the same figure gives the same file
            "axes.grid": True,
            "grid.alpha": 0.3,
        }
    )
    if nrows == 0:  # no axes: the caller lays the figure out (e.g. in subfigures)
        return plt.figure(figsize=(width, height), layout="constrained"), None
    fig, axes = plt.subplots(nrows, 1, figsize=(width, height), layout="constrained")
    return fig, axes


def to_svg(fig: Figure, *, dark: bool = False, close: bool = True) -> str:
    """The figure as SVG text (no date in its metadata, so rebuilding changes nothing).

    ``dark=True`` recolours the figure for a dark page first (:func:`darken`, in place);
    ``close=False`` keeps it open, to draw the dark variant of the same figure next
    without computing it again."""
    import matplotlib.pyplot as plt

    if dark:
        darken(fig)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    if close:
        plt.close(fig)
    return buf.getvalue()


def dark_color(color: Any) -> tuple[float, float, float, float]:
    """The colour that plays the same part on a dark page as ``color`` on a white one.

    Greys map linearly from white (the background) to :data:`DARK_BACKGROUND` and from black
    (text, axes) to :data:`DARK_INK`; a colour keeps its hue and saturation, and its
    lightness L (0 to 1) is mirrored about 0.6: pale fills (L > 0.6) become dark (from 0.15
    for L = 1) and half as saturated, and the line colours (L <= 0.6) become lighter (from
    0.6 up to 0.9 for L = 0), so that they stand out on the dark background; the alpha is
    kept."""
    import colorsys

    from matplotlib.colors import to_rgb, to_rgba

    r, g, b, alpha = to_rgba(color)
    hue, lightness, saturation = colorsys.rgb_to_hls(r, g, b)
    if saturation < 0.1 or max(r, g, b) - min(r, g, b) < 0.05:  # a grey
        t = 1 - lightness
        background, ink = to_rgb(DARK_BACKGROUND), to_rgb(DARK_INK)
        rgb = tuple(bg + t * (fg - bg) for bg, fg in zip(background, ink, strict=True))
    else:
        if lightness > 0.6:
            lightness, saturation = 0.15 + 1.125 * (1 - lightness), saturation / 2
        else:
            lightness = 0.6 + 0.5 * (0.6 - lightness)
        rgb = colorsys.hls_to_rgb(hue, lightness, saturation)
    red, green, blue = (min(1.0, max(0.0, c)) for c in rgb)
    return red, green, blue, alpha


def darken(fig: Figure) -> None:
    """Recolour a drawn figure, in place, for a dark page (every colour by
    :func:`dark_color`): backgrounds, text, axes, lines, markers, filled and mapped colours."""
    import matplotlib.colors as mcolors
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.text import Text

    def dark_all(colors: Any) -> Any:
        array = mcolors.to_rgba_array(colors)
        return [dark_color(c) for c in array]

    def dark_cmap(cmap: mcolors.Colormap) -> mcolors.Colormap:
        import numpy as np

        colors = [dark_color(c) for c in cmap(np.linspace(0, 1, cmap.N))]
        return mcolors.ListedColormap(colors, name=f"{cmap.name}_dark").with_extremes(
            bad=dark_color(cmap.get_bad()),
            under=dark_color(cmap.get_under()),
            over=dark_color(cmap.get_over()),
        )

    seen: set[int] = set()
    for artist in fig.findobj():
        if id(artist) in seen:
            continue
        seen.add(id(artist))
        if isinstance(artist, ScalarMappable) and artist.get_array() is not None:
            artist.set_cmap(dark_cmap(artist.get_cmap()))
        if isinstance(artist, Text):
            artist.set_color(dark_color(artist.get_color()))
            patch = artist.get_bbox_patch()
            if patch is not None:
                patch.set_facecolor(dark_color(patch.get_facecolor()))
                patch.set_edgecolor(dark_color(patch.get_edgecolor()))
        elif isinstance(artist, Line2D):
            marker_face, marker_edge = artist.get_markerfacecolor(), artist.get_markeredgecolor()
            artist.set_color(dark_color(artist.get_color()))
            artist.set_markerfacecolor(dark_color(marker_face))
            artist.set_markeredgecolor(dark_color(marker_edge))
        elif isinstance(artist, Patch):
            artist.set_facecolor(dark_color(artist.get_facecolor()))
            artist.set_edgecolor(dark_color(artist.get_edgecolor()))
        elif isinstance(artist, Collection):
            mapped = isinstance(artist, ScalarMappable) and artist.get_array() is not None
            if not mapped and len(artist.get_facecolor()):
                artist.set_facecolor(dark_all(artist.get_facecolor()))
            # edges that follow the faces or the colour map are recoloured with them
            edge = getattr(artist, "_original_edgecolor", None)
            follows = (isinstance(edge, str) and edge == "face") or (
                mapped and getattr(artist, "_edge_is_mapped", False)
            )
            if not follows and len(artist.get_edgecolor()):
                artist.set_edgecolor(dark_all(artist.get_edgecolor()))
    # ticks made after this (a redraw) take their colours from the axis, not from these
    for ax in fig.get_axes():
        for axis, which in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            ticks = axis.get_major_ticks()
            if ticks:
                tick = ticks[0]
                ax.tick_params(
                    axis=which,  # type: ignore[arg-type]
                    which="both",
                    color=tick.tick1line.get_color(),
                    labelcolor=tick.label1.get_color(),
                    grid_color=tick.gridline.get_color(),
                    grid_alpha=tick.gridline.get_alpha(),
                )


# --8<-- [start:activation_curves]
def activation_curves() -> Figure:
    """ReLU, Leaky ReLU, Sigmoid, Tanh, GELU and SiLU (top) and their derivatives (bottom),
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
    fig, (top, bottom) = _figure(nrows=2, height=6.8)
    for name, y, dy in curves:
        top.plot(x, y, label=name)
        bottom.plot(x, dy, label=name)
    top.set(title="激活函数 $f(x)$", xlabel="$x$", ylim=(-1.5, 4))
    bottom.set(title="导数 $f'(x)$", xlabel="$x$", ylim=(-0.2, 1.2))
    top.legend(loc="upper left")
    return fig


# --8<-- [end:activation_curves]


# --8<-- [start:perceptron_vs_mlp]
def perceptron_vs_mlp(epochs: int = 2000, seed: int = 0) -> Figure:
    """Decision regions on XOR: one perceptron (a straight line, it cannot separate the
    classes) above an MLP with one hidden layer (it can).

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
    fig, axes = _figure(nrows=2, height=8.4)
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
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=16, edgecolors="k", linewidths=0.4)
        ax.set(
            title=f"{title}：准确率 {accuracy:.0%}", xlabel="$x_1$", ylabel="$x_2$", aspect="equal"
        )
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
    fig, ax = _figure(height=4.0)
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
        title=f"{depth} 层 MLP 各层权重的梯度范数",
        xlabel="层（1 = 最靠近输入）",
        ylabel="‖∂L/∂W‖",
    )
    ax.legend()
    return fig


# --8<-- [end:vanishing_gradients]


# --8<-- [start:init_rms_by_layer]
def init_rms_by_layer(depth: int = 10, width: int = 256, seed: int = 0) -> Figure:
    """The measurement of the page on initialization, drawn: a ReLU network of ``depth``
    bias-free layers of ``width`` units, 1024 inputs from N(0, 1), the weights left as
    ``nn.Linear`` makes them or refilled by ``nnbasics.init`` (Xavier, He). Top: the RMS of
    each layer's output over the RMS of the input (forward). Bottom: the same network's
    backward pass from a random N(0, 1) gradient at its output: the RMS of the gradient
    with respect to each layer's output over that of the output's (backward). Dashed: the
    factors per layer derived on the page, √(1/6), √(1/2) and 1."""
    from matplotlib.lines import Line2D

    from nnbasics import init

    def rms(t: torch.Tensor) -> float:
        return t.pow(2).mean().sqrt().item()

    setups: tuple[tuple[str, Callable[[torch.Tensor], Any], float], ...] = (
        ("默认", lambda w: None, math.sqrt(1 / 6)),
        ("Xavier", init.xavier_uniform_, math.sqrt(1 / 2)),
        ("He", lambda w: init.kaiming_normal_(w, nonlinearity="relu"), 1.0),
    )
    fig, (forward, backward) = _figure(nrows=2, height=7.6)
    layers = range(depth + 1)
    for (name, fill, factor), color in zip(setups, ("C0", "C1", "C2"), strict=True):
        torch.manual_seed(seed)  # the page's code: the same inputs and weights
        outputs = [torch.randn(1024, width)]
        for _ in range(depth):
            linear = nn.Linear(width, width, bias=False)  # 默认初始化
            fill(linear.weight)
            outputs.append(torch.relu(linear(outputs[-1])))
            outputs[-1].retain_grad()
        upstream = torch.randn(outputs[-1].shape, generator=torch.Generator().manual_seed(seed))
        outputs[-1].backward(upstream)
        activations = [rms(a) / rms(outputs[0]) for a in outputs]
        gradients = [rms(a.grad) / rms(upstream) for a in outputs[1:] if a.grad is not None]
        forward.semilogy(
            layers, activations, marker="o", color=color, label=f"{name}：{activations[-1]:.1e}"
        )
        forward.semilogy(layers, [factor**k for k in layers], "--", color=color, linewidth=1)
        backward.semilogy(
            layers[1:], gradients, marker="o", color=color, label=f"{name}：{gradients[0]:.1e}"
        )
        backward.semilogy(
            layers[1:], [factor ** (depth - k) for k in layers[1:]], "--", color=color, linewidth=1
        )
    forward.set(title="前向：各层输出的均方根（相对输入）", xlabel="层（0 = 输入）")
    backward.set(title="反向：对各层输出的梯度的均方根（相对输出端）", xlabel="层")
    theory = Line2D([], [], color="0.4", linestyle="--", linewidth=1, label="理论（虚线）")
    forward.legend(title=f"第 {depth} 层", loc="lower left")
    handles = [*backward.get_legend_handles_labels()[0], theory]
    backward.legend(handles=handles, title="第 1 层", loc="lower right")
    return fig


# --8<-- [end:init_rms_by_layer]


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
    fig, ax = _figure(height=4.6)
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
    ax.plot([0], [0], marker="*", color="k", markersize=12)
    ax.set(title=f"{steps} 步之后", xlabel="$x$", ylabel="$y$", xlim=(-10, 2), ylim=(-3, 3))
    fig.legend(loc="outside lower center")
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

    # η_max and T_max as PyTorch's documentation writes them (mathtext, subscripts in italics)
    cosine = f"余弦退火（$T_{{max}}$ = {epochs}）"
    warmup_cosine = f"{warmup} 轮线性预热 + 余弦退火（$T_{{max}}$ = {epochs - warmup}）"
    curves = {
        cosine: lambda o: optim.CosineAnnealingLR(o, T_max=epochs, eta_min=eta_min),
        warmup_cosine: lambda o: optim.SequentialLR(
            o,
            [
                optim.LinearLR(o, start_factor=0.1, total_iters=warmup),
                optim.CosineAnnealingLR(o, T_max=epochs - warmup, eta_min=eta_min),
            ],
            milestones=[warmup],
        ),
    }
    fig, ax = _figure(height=3.8)
    for label, make in curves.items():
        ax.plot(range(epochs + 1), rates(make), label=label)
    ax.set(
        title=f"学习率：$η_{{max}}$ = {lr}，$η_{{min}}$ = {eta_min}",
        xlabel="轮（epoch）",
        ylabel="学习率",
    )
    fig.legend(loc="outside lower center")
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
    fig, ax = _figure(height=4.6)
    ax.scatter(x, y, s=16, color="0.3", label="数据（含 3 个离群点）")
    ax.plot(x, 2 * x + 1, "k--", linewidth=1.2, label="真实直线 $y = 2x + 1$")
    for name, loss_fn in (("MSE", F.mse_loss), ("Huber (δ=1)", F.huber_loss)):
        w = torch.zeros(2, requires_grad=True)
        optimizer = torch.optim.Adam([w], lr=0.05)
        for _ in range(steps):
            optimizer.zero_grad()
            loss_fn(w[0] * x + w[1], y).backward()
            optimizer.step()
        a, b = w.tolist()
        ax.plot(x, a * x + b, label=f"{name}：$y = {a:.2f}x + {b:.2f}$")
    ax.set(title="离群点对拟合的影响", xlabel="$x$", ylabel="$y$")
    fig.legend(loc="outside lower center")
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
    fig, ax = _figure(height=4.4)
    ax.plot(
        batch_means,
        ".",
        markersize=6,
        label=f"每个 batch 的均值（训练模式用，batch={batch_size}）",
    )
    ax.plot(running, label="running_mean（评估模式用，momentum=0.1）")
    ax.axhline(3.0, color="k", linestyle="--", linewidth=1.2, label="数据的真实均值 3.0")
    ax.set(title="BatchNorm：训练模式与评估模式用的均值", xlabel="训练步数", ylabel="均值")
    fig.legend(loc="outside lower center")
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
    fig, ax = _figure(height=4.4)
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
        title="训练集与验证集损失：有无 Dropout",
        xlabel="轮（epoch）",
        ylabel="交叉熵损失",
        ylim=(0, None),
    )
    fig.legend(loc="outside lower center")
    return fig


# --8<-- [end:dropout_gap]


# --8<-- [start:dropout_thinned_networks]
def dropout_thinned_networks(
    sizes: tuple[int, ...] = (4, 6, 6, 3), p: float = 0.5, seed: int = 0
) -> Figure:
    """Two thinned networks of the same MLP (``sizes`` units per layer): Dropout with
    probability ``p`` after each hidden layer, each panel one random mask. A dropped unit
    is crossed out and its connections are gone; the connections that remain are the same
    weights in both panels."""
    g = torch.Generator().manual_seed(seed)
    fig, axes = _figure(nrows=2, height=6.6)
    for k, ax in enumerate(axes, 1):
        # one mask per hidden layer (input and output units are never dropped), at least
        # one unit kept in each
        masks = [torch.ones(sizes[0])]
        for n in sizes[1:-1]:
            m = torch.bernoulli(torch.full((n,), 1 - p), generator=g)
            while m.sum() == 0:
                m = torch.bernoulli(torch.full((n,), 1 - p), generator=g)
            masks.append(m)
        masks.append(torch.ones(sizes[-1]))
        xs = [i * 1.6 for i in range(len(sizes))]
        ys = [[(n - 1) / 2 - j for j in range(n)] for n in sizes]
        for i in range(len(sizes) - 1):  # connections between two kept units only
            for j, y0 in enumerate(ys[i]):
                for q, y1 in enumerate(ys[i + 1]):
                    if masks[i][j] and masks[i + 1][q]:
                        ax.plot([xs[i], xs[i + 1]], [y0, y1], color="0.55", lw=0.8, zorder=1)
        for i, (x, m) in enumerate(zip(xs, masks, strict=True)):
            for y, kept in zip(ys[i], m.tolist(), strict=True):
                if kept:
                    ax.scatter(x, y, s=260, color="#c6dbef", edgecolors="k", zorder=2)
                else:
                    ax.scatter(x, y, s=260, color="white", edgecolors="0.6", zorder=2)
                    ax.plot(x, y, marker="x", ms=15, mew=2.4, color="tab:red", zorder=3)
        dropped = int(sum((1 - m).sum().item() for m in masks))
        hidden = sum(sizes[1:-1])
        ax.set_title(f"子网络 {k}：丢弃 {dropped}/{hidden} 个隐藏单元")
        top = (max(sizes) - 1) / 2
        for x, name in zip(xs, ("输入", "隐藏层 1", "隐藏层 2", "输出"), strict=False):
            ax.text(x, -top - 0.8, name, ha="center", va="top")
        ax.set(xlim=(xs[0] - 0.8, xs[-1] + 0.8), ylim=(-top - 1.6, top + 0.5))
        ax.axis("off")
    return fig


# --8<-- [end:dropout_thinned_networks]


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
    fig, ax = _figure(height=4.2)
    ax.plot(range(1, epochs + 1), history.train_loss, label="训练集损失（每轮各批量损失的平均）")
    ax.plot(range(1, epochs + 1), history.val_loss, label="验证集损失（新样本，随机标签）")
    ax.axhline(
        math.log(5), color="k", linestyle="--", linewidth=1.2, label="ln 5：5 类随机猜测的损失"
    )
    ax.set(title="训练损失下降，验证损失上升", xlabel="轮（epoch）", ylabel="交叉熵损失")
    fig.legend(loc="outside lower center")
    return fig


# --8<-- [end:training_loss_curve]


# --8<-- [start:overfitting_curves]
def overfitting_curves(epochs: int = 300, seed: int = 1) -> Figure:
    """A too-large MLP (1 -> 64 -> 64 -> 1, Tanh) fitted by Adam to 15 noisy points of
    ``sin(3x)``, one full-batch step per epoch: the points and the fit at the epoch of the
    lowest validation loss and at the last epoch (top); training and validation loss per
    epoch, that epoch marked (bottom)."""
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

    fig, _ = _figure(nrows=0, height=8.6)
    panels: Any = fig.subfigures(2, 1, height_ratios=[1, 1.05])  # a panel and its legend each
    ax_fit, ax_loss = (panel.subplots() for panel in panels)
    ax_fit.plot(grid, torch.sin(3 * grid), color="k", linestyle=":", label="真实函数 sin(3$x$)")
    ax_fit.plot(grid, best_fit, color="tab:blue", label=f"第 {best} 轮（验证损失最低）")
    ax_fit.plot(grid, last_fit, color="tab:red", label=f"第 {epochs} 轮")
    ax_fit.scatter(x_train, y_train, color="k", s=14, zorder=3, label="15 个训练样本")
    ax_fit.set(title="模型的拟合", xlabel="$x$", ylabel="$y$")
    panels[0].legend(loc="outside lower center", ncols=2)
    epoch_axis = range(1, epochs + 1)
    ax_loss.plot(epoch_axis, train, color="tab:orange", linestyle="--", label="训练集")
    ax_loss.plot(epoch_axis, val, color="tab:green", label="验证集（200 个样本）")
    ax_loss.axvline(best, color="tab:blue", linewidth=1, label=f"第 {best} 轮：验证损失最低")
    ax_loss.axhline(0.09, color="k", linestyle=":", linewidth=1.2, label="噪声的方差 0.3² = 0.09")
    ax_loss.set(
        title="训练集与验证集的损失",
        xlabel="轮（epoch）",
        ylabel="均方误差（MSE）",
        yscale="log",
    )
    ax_loss.set_yticks([0.05, 0.1, 0.2, 0.5], labels=["0.05", "0.1", "0.2", "0.5"])
    ax_loss.yaxis.set_minor_formatter("")
    panels[1].legend(loc="outside lower center", ncols=2)
    return fig


# --8<-- [end:overfitting_curves]
