"""The registry of from-scratch functions: one ``OpInfo`` per function of
``nnbasics.functional`` (after PyTorch's own ``OpInfo``), with its PyTorch reference, a
deterministic sample generator and what to check. ``compare`` and ``check_gradients`` run one
sample; ``tests/test_ops.py`` runs them all, and ``benchmarks/bench_functional.py`` times each
entry's ``bench`` rows. Adding a function to the tests is adding one entry to ``OPS``.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import Tensor

from testkit.common import ErrorInput, Shape, definition_site, resolve

__all__ = [
    "EXTREMES",
    "OPS",
    "Bench",
    "OpInfo",
    "Sample",
    "check_gradients",
    "compare",
    "with_extremes",
]

EXTREMES = (-1e4, -50.0, -1e-300, 0.0, 1e-300, 50.0, 1e4)
"""The values ``with_extremes`` cycles through: logits that overflow a naive formula
(``exp(1e4)``), and values on both sides of 0."""


@dataclass(frozen=True, eq=False)
class Sample:
    """One call of a function and of its reference, and what to expect of it.

    Attributes:
        args: the positional arguments (each side gets its own clones of the tensors).
        kwargs: the keyword arguments.
        smooth: finite differences apply (no kink such as ReLU's 0 among the inputs), so
            ``gradcheck`` and ``gradgradcheck`` run on it.
        finite: the output is finite by design, and so must ours and its gradients be;
            otherwise (every target ignored, an impossible CTC alignment) only the values
            are compared, NaN equal to NaN.
        raises: the exception that both sides must raise instead of returning.
        tolerance: ``(rtol, atol)`` for this sample, in place of the entry's.
        dtype: the floating dtype of the sample (set by ``OpInfo.sample``).
        desc: what the sample is, for failure messages (set by ``OpInfo.sample``).
    """

    args: tuple[Any, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    smooth: bool = True
    finite: bool = True
    raises: type[Exception] | None = None
    tolerance: tuple[float, float] | None = None
    dtype: torch.dtype = torch.float64
    desc: str = ""


@dataclass(frozen=True)
class Bench:
    """One benchmark row: the entry's float32 sample of ``shape`` with ``options``, labelled
    ``label`` (by default the entry's name)."""

    shape: Shape
    label: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class OpInfo:
    """A from-scratch function of ``nnbasics.functional`` and how to compare it with PyTorch
    (after PyTorch's own ``OpInfo``). Every check of ``tests/test_ops.py`` comes from these
    fields, so adding a function to the tests is adding one entry to ``OPS``.

    Attributes:
        name: the function's name in ``nnbasics.functional``.
        ref: PyTorch's function: a dotted name such as ``"torch.nn.functional.gelu"``,
            resolved on first use, or a callable.
        make: the sample generator, ``make(generator, dtype, shape, **options) -> Sample``.
            It draws every random number from ``generator`` (seeded), so a seed, a dtype,
            a shape and options make one sample. Options it does not take itself go to
            both functions as keyword arguments.
        shapes: the shapes of the fixed samples. The first is crossed with every
            combination of ``options``; each other one takes the defaults and each
            option value alone.
        options: the values of each option (the first is the default).
        min_shape: the smallest shape a property test draws; its length is the lowest rank.
        max_shape: the largest shape a property test draws; its length is the highest rank.
        op: the function under test, a dotted name or a callable; by default
            ``nnbasics.functional.<name>``.
        wrap: ``wrap(function) -> function``, a composition applied to both sides where
            PyTorch's semantics need one.
        differentiable: the positions of the arguments whose gradients are compared (where
            they are floating tensors).
        gradcheck: whether finite differences check the gradients of the smooth samples of
            the first shape (the defaults and each option value alone).
        gradgradcheck: whether they check the second derivatives too.
        float32_gradients: whether float32 gradients are compared too.
        extremes: the dtypes in which the samples of the first shape (the defaults and
            each option value alone) are also run on ``EXTREMES``.
        empty: an empty-batch shape, run with the defaults and each option value alone.
        tol64: ``(rtol, atol)`` in float64.
        tol32: ``(rtol, atol)`` in float32.
        bench: the benchmark rows.
        bench_target: the largest acceptable ratio of our time to PyTorch's.
        errors: keyword arguments that must be refused (on the default sample of the first
            shape), and how.
        skips: test name -> why that test of ``tests/test_ops.py`` does not apply.
        where: ``file:line`` of the entry, set when it is made; errors about it name it.
    """

    name: str
    ref: str | Callable[..., Tensor]
    make: Callable[..., Sample]
    shapes: tuple[Shape, ...]
    options: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    min_shape: Shape = (1,)
    max_shape: Shape = (4, 4, 4, 4)
    op: str | Callable[..., Tensor] | None = None
    wrap: Callable[[Callable[..., Tensor]], Callable[..., Tensor]] | None = None
    differentiable: tuple[int, ...] = (0,)
    gradcheck: bool = True
    gradgradcheck: bool = False
    float32_gradients: bool = True
    extremes: tuple[torch.dtype, ...] = (torch.float64, torch.float32)
    empty: Shape | None = None
    tol64: tuple[float, float] = (1e-10, 1e-12)
    tol32: tuple[float, float] = (2e-5, 2e-6)
    bench: tuple[Bench, ...] = ()
    bench_target: float = 3.0
    errors: tuple[ErrorInput, ...] = ()
    skips: Mapping[str, str] = field(default_factory=dict)
    where: str = field(init=False, default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "where", definition_site())

    def _resolve(self, role: str, target: str | Callable[..., Tensor]) -> Callable[..., Tensor]:
        fn: Callable[..., Tensor] = resolve(self.where, f"OpInfo {self.name!r}: {role}", target)
        return fn if self.wrap is None else self.wrap(fn)

    @property
    def function(self) -> Callable[..., Tensor]:
        """The function under test, wrapped by ``wrap``.

        Raises:
            LookupError: when ``op`` names nothing; the message starts with the entry's
                file and line.
        """
        return self._resolve("function", self.op or f"nnbasics.functional.{self.name}")

    @property
    def reference(self) -> Callable[..., Tensor]:
        """PyTorch's function, wrapped by ``wrap``.

        Raises:
            LookupError: when ``ref`` names nothing; the message starts with the entry's
                file and line.
        """
        return self._resolve("reference", self.ref)

    def sample(
        self, shape: Shape, dtype: torch.dtype = torch.float64, seed: int = 0, **options: Any
    ) -> Sample:
        """The sample of ``shape`` and ``dtype`` drawn from a generator seeded with ``seed``;
        the options left out take their defaults.

        Raises:
            ValueError: for an option that the entry does not declare.
        """
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise ValueError(
                f"{self.where}: OpInfo {self.name!r} has no option {unknown}, only "
                f"{sorted(self.options)}"
            )
        chosen = {key: values[0] for key, values in self.options.items()} | options
        shape = tuple(shape)
        sample = self.make(torch.Generator().manual_seed(seed), dtype, shape, **chosen)
        settings = "".join(f", {key}={value!r}" for key, value in chosen.items())
        desc = f"{self.name} {shape} {str(dtype).removeprefix('torch.')} seed={seed}{settings}"
        return replace(sample, dtype=dtype, desc=desc)

    def samples(
        self,
        dtype: torch.dtype = torch.float64,
        shapes: Iterable[Shape] | None = None,
        *,
        combinations: bool = True,
    ) -> Iterator[Sample]:
        """The fixed samples (seed 0) of ``shapes``, by default the entry's: with
        ``combinations``, every combination of the options on the first shape; on every
        other shape (and on the first without ``combinations``), the defaults and each
        option value alone."""
        for i, shape in enumerate(self.shapes if shapes is None else shapes):
            if i == 0 and combinations:
                for values in itertools.product(*self.options.values()):
                    yield self.sample(shape, dtype, **dict(zip(self.options, values, strict=True)))
                continue
            yield self.sample(shape, dtype)
            for key, values in self.options.items():
                for value in values[1:]:
                    yield self.sample(shape, dtype, **{key: value})

    def benchmarks(self) -> Iterator[tuple[str, Callable[[], Tensor], Callable[[], Tensor]]]:
        """``(label, ours, theirs)`` for each ``bench`` row: calls without arguments on the
        same float32 tensors (no clones and no seeding, so the time is the function's)."""
        ours, theirs = self.function, self.reference
        for row in self.bench:
            s = self.sample(row.shape, torch.float32, **row.options)
            yield (
                row.label or self.name,
                functools.partial(ours, *s.args, **s.kwargs),
                functools.partial(theirs, *s.args, **s.kwargs),
            )


# ----------------------------------------------------------------------------- the runner
def _clone(value: Any, requires_grad: bool = False) -> Any:
    if not isinstance(value, Tensor):
        return value
    copy = value.detach().clone()
    return copy.requires_grad_(requires_grad and copy.is_floating_point())


def _prepare(op: OpInfo, sample: Sample) -> tuple[list[Any], dict[str, Any]]:
    """One side's own clones of the arguments; the differentiable ones require gradients."""
    args = [_clone(a, i in op.differentiable) for i, a in enumerate(sample.args)]
    return args, {key: _clone(value) for key, value in sample.kwargs.items()}


def _differentiable(args: list[Any]) -> list[int]:
    return [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]


def _call(fn: Callable[..., Tensor], args: list[Any], kwargs: dict[str, Any]) -> Tensor:
    """``fn(*args, **kwargs)`` with the generator of the arguments' device seeded alike for
    every call (dropout draws its mask from it), restored afterwards."""
    cuda = next(
        (a.device for a in [*args, *kwargs.values()] if isinstance(a, Tensor) and a.is_cuda), None
    )
    if cuda is not None:
        with torch.random.fork_rng(devices=[cuda]):
            torch.cuda.manual_seed(0)
            return fn(*args, **kwargs)
    generator = torch.default_generator  # torch.manual_seed also queues a seed for every
    state = generator.get_state()  # accelerator, which takes milliseconds
    generator.manual_seed(0)
    try:
        return fn(*args, **kwargs)
    finally:
        generator.set_state(state)


def _assert_close(sample: Sample, what: str, ours: Tensor, theirs: Tensor, op: OpInfo) -> None:
    """``ours`` equals ``theirs`` in dtype and shape and, elementwise, within the sample's
    tolerance, NaN equal to NaN (``torch.testing.assert_close``'s rule, without its import
    of ``torch.distributed`` on first use or its cost per call)."""
    ours, theirs = ours.detach(), theirs.detach()
    if ours.dtype != theirs.dtype or ours.shape != theirs.shape:
        raise AssertionError(
            f"{sample.desc}: {what}: {ours.dtype} of shape {tuple(ours.shape)}, PyTorch's "
            f"{theirs.dtype} of shape {tuple(theirs.shape)}"
        )
    if torch.equal(ours, theirs):  # untouched arguments, mostly
        return
    default = op.tol32 if sample.dtype == torch.float32 else op.tol64
    rtol, atol = sample.tolerance or default
    bad = ~torch.isclose(ours, theirs, rtol=rtol, atol=atol, equal_nan=True)
    if bool(bad.any()):
        first = tuple(int(i) for i in bad.nonzero()[0])
        raise AssertionError(
            f"{sample.desc}: {what}: {int(bad.sum())} of {bad.numel()} elements differ by more "
            f"than rtol={rtol:g}, atol={atol:g}; the first, at {first}: {ours[first].item()!r}, "
            f"PyTorch's {theirs[first].item()!r}"
        )


def _assert_finite(sample: Sample, what: str, tensor: Tensor) -> None:
    if not bool(torch.isfinite(tensor).all()):
        raise AssertionError(f"{sample.desc}: {what} is not finite: {tensor}")


def compare(op: OpInfo, sample: Sample, *, gradients: bool = True) -> None:
    """Run ``sample`` through our function and PyTorch's, each on its own clones, and
    compare the values, the tensor arguments after the call (in-place updates such as
    batch norm's running statistics) and, with ``gradients``, the gradients of the
    differentiable arguments for one random upstream gradient.

    Raises:
        AssertionError: on the first difference, naming the sample.
    """
    ours_args, ours_kwargs = _prepare(op, sample)
    theirs_args, theirs_kwargs = _prepare(op, sample)
    if sample.raises is not None:
        for role, fn, args, kwargs in (
            ("ours", op.function, ours_args, ours_kwargs),
            ("PyTorch's", op.reference, theirs_args, theirs_kwargs),
        ):
            try:
                _call(fn, args, kwargs)
            except sample.raises:
                continue
            raise AssertionError(f"{sample.desc}: {role} did not raise {sample.raises}")
        return
    ours = _call(op.function, ours_args, ours_kwargs)
    theirs = _call(op.reference, theirs_args, theirs_kwargs)
    _assert_close(sample, "value", ours, theirs, op)
    if sample.finite:
        _assert_finite(sample, "value", ours)
    after = zip(
        [*ours_args, *ours_kwargs.values()], [*theirs_args, *theirs_kwargs.values()], strict=True
    )
    for i, (a, b) in enumerate(after):
        if isinstance(a, Tensor):
            _assert_close(sample, f"argument {i} after the call", a, b, op)
    if not gradients or not sample.finite or not theirs.requires_grad:
        return
    if sample.dtype == torch.float32 and not op.float32_gradients:
        return
    positions = _differentiable(theirs_args)
    upstream = torch.randn(
        theirs.shape, generator=torch.Generator().manual_seed(1), dtype=theirs.dtype
    ).to(theirs.device)
    # (out * upstream).sum() rather than grad_outputs=upstream, which imports sympy (~1 s)
    ours_grads = torch.autograd.grad(
        (ours * upstream).sum(), [ours_args[i] for i in positions], allow_unused=True
    )
    theirs_grads = torch.autograd.grad(
        (theirs * upstream).sum(), [theirs_args[i] for i in positions], allow_unused=True
    )
    for i, a, b in zip(positions, ours_grads, theirs_grads, strict=True):
        what = f"gradient of argument {i}"
        if b is None:  # PyTorch's output does not depend on it: ours must not either
            if a is not None and bool(a.any()):
                raise AssertionError(f"{sample.desc}: {what} is {a}, PyTorch's is None")
            continue
        if a is None:
            raise AssertionError(f"{sample.desc}: {what} is None, PyTorch's is {b}")
        _assert_close(sample, what, a, b, op)
        _assert_finite(sample, what, a)


def check_gradients(op: OpInfo, sample: Sample, *, order: int = 1) -> None:
    """``torch.autograd.gradcheck`` (``order=1``) or ``gradgradcheck`` (``order=2``) of our
    function with respect to the differentiable arguments of a float64 ``sample``, in fast
    mode; every evaluation gets fresh clones of the other arguments and the same seed.

    Raises:
        AssertionError: when the derivatives differ from finite differences.
    """
    args, kwargs = _prepare(op, sample)
    positions = _differentiable(args)
    fn = op.function

    def call(*inputs: Tensor) -> Tensor:
        fresh = [_clone(a) for a in args]
        for i, x in zip(positions, inputs, strict=True):
            fresh[i] = x
        return _call(fn, fresh, {key: _clone(value) for key, value in kwargs.items()})

    check = torch.autograd.gradcheck if order == 1 else torch.autograd.gradgradcheck
    try:
        check(call, tuple(args[i] for i in positions), fast_mode=True)
    except RuntimeError as error:
        raise AssertionError(f"{sample.desc}: {check.__name__}: {error}") from None


def with_extremes(sample: Sample) -> Sample:
    """``sample`` with its first argument's values replaced by ``EXTREMES``, repeated
    to its shape (1e-300 is 0 in float32). Not smooth any more."""
    x = sample.args[0]
    values = torch.tensor(EXTREMES, dtype=x.dtype).repeat(x.numel() // len(EXTREMES) + 1)
    x = values[: x.numel()].reshape(x.shape)
    return replace(
        sample, args=(x, *sample.args[1:]), smooth=False, desc=f"{sample.desc}, extremes"
    )


# ----------------------------------------------------------------------------- sample makers
# make(generator, dtype, shape, **options) -> Sample; options not named here go to the function
def _pointwise(
    g: torch.Generator,
    dtype: torch.dtype,
    shape: Shape,
    *,
    scale: float = 3.0,
    zeros: bool = False,
    **kwargs: Any,
) -> Sample:
    """``randn(shape) * scale``; with ``zeros``, its first elements are 0 and ±1e-9 (a kink
    and its two sides), and the sample is not smooth."""
    x = torch.randn(shape, generator=g, dtype=dtype) * scale
    if zeros:
        near = torch.tensor([0.0, 1e-9, -1e-9], dtype=dtype)[: x.numel()]
        x.view(-1)[: near.numel()] = near
    return Sample((x,), kwargs, smooth=not zeros)


def _prelu(
    g: torch.Generator, dtype: torch.dtype, shape: Shape, *, slopes: str, **options: Any
) -> Sample:
    """A ``_pointwise`` input and one slope per channel (dim 1; a vector has one channel) or
    one in all (``slopes="single"``), of either sign and beyond 1."""
    sample = _pointwise(g, dtype, shape, **options)
    channels = shape[1] if len(shape) >= 2 else 1
    weight = torch.randn(channels if slopes == "channels" else 1, generator=g, dtype=dtype)
    return replace(sample, args=(*sample.args, weight))


def _regression(
    g: torch.Generator, dtype: torch.dtype, shape: Shape, *, weighted: bool, **kwargs: Any
) -> Sample:
    """Input and target ``2 randn(shape)``; with ``weighted``, ``weight=rand(shape)``."""
    x = torch.randn(shape, generator=g, dtype=dtype) * 2
    y = torch.randn(shape, generator=g, dtype=dtype) * 2
    if weighted:
        kwargs["weight"] = torch.rand(shape, generator=g, dtype=dtype)
    return Sample((x, y), kwargs)


def _bce(
    g: torch.Generator,
    dtype: torch.dtype,
    shape: Shape,
    *,
    scale: float,
    weighted: bool,
    pos_weighted: bool,
    **kwargs: Any,
) -> Sample:
    """Logits ``scale randn(shape)``, targets in [0, 1]; ``weight`` of the input's shape,
    ``pos_weight`` in [0, 3] per entry of the last dimension."""
    x = torch.randn(shape, generator=g, dtype=dtype) * scale
    y = torch.rand(shape, generator=g, dtype=dtype)
    if weighted:
        kwargs["weight"] = torch.rand(shape, generator=g, dtype=dtype)
    if pos_weighted:
        kwargs["pos_weight"] = torch.rand(shape[-1:], generator=g, dtype=dtype) * 3
    return Sample((x, y), kwargs)


def _cross_entropy(
    g: torch.Generator,
    dtype: torch.dtype,
    shape: Shape,
    *,
    target: str,
    ignore: int | None,
    weighted: bool,
    **kwargs: Any,
) -> Sample:
    """Logits of ``shape`` (``(C)``, ``(N, C)`` or ``(N, C, d1, ...)``) and class-index or
    probability targets; with ``ignore``, the first class index is that value, passed as
    ``ignore_index``. A mean over no counted target is NaN (as PyTorch's)."""
    class_dim = 0 if len(shape) == 1 else 1
    classes = shape[class_dim]
    x = torch.randn(shape, generator=g, dtype=dtype) * 3
    if weighted:
        kwargs["weight"] = torch.rand(classes, generator=g, dtype=dtype)
    if target == "probabilities":
        y = torch.rand(shape, generator=g, dtype=dtype)
        return Sample((x, y / y.sum(dim=class_dim, keepdim=True)), kwargs)
    y = torch.randint(0, classes, shape[:class_dim] + shape[class_dim + 1 :], generator=g)
    if ignore is not None:
        kwargs["ignore_index"] = ignore
        y.view(-1)[: min(1, y.numel())] = ignore
    counted = bool((y != kwargs.get("ignore_index", -100)).any())
    return Sample((x, y), kwargs, finite=counted or kwargs.get("reduction") != "mean")


def _ctc(
    g: torch.Generator,
    dtype: torch.dtype,
    shape: Shape,
    *,
    layout: str,
    blank: str,
    infinity: str,
    **kwargs: Any,
) -> Sample:
    """``shape = (T, N, C, S)``: logits ``(T, N, C)`` and targets of up to S labels, with a
    repeated label (it needs a blank between) when S >= 3. ``layout``: padded ``(N, S)``,
    concatenated 1-D, or ``unbatched`` (the first sequence alone); ``blank``: class 0 or
    C - 1; ``infinity``: ``"none"``, or the first sequence has S labels in S - 1 frames,
    an infinite loss (``"inf"``) or zeroed by ``zero_infinity=True`` (``"zeroed"``)."""
    T, N, C, S = shape
    logits = torch.randn(T, N, C, generator=g, dtype=dtype)
    low = 1 if blank == "first" else 0  # labels avoid the blank
    labels = torch.randint(low, low + C - 1, (N, S), generator=g)
    if N and S >= 3:
        labels[0, 1] = labels[0, 0]  # a repeated label
    target_lengths = torch.randint(0, S + 1, (N,), generator=g)
    input_lengths = torch.randint(min(2 * S, T), T + 1, (N,), generator=g)
    impossible = infinity != "none" and N > 0 and S > 0
    if impossible:
        target_lengths[0], input_lengths[0] = S, S - 1
    targets = labels
    if layout == "concatenated":  # each row cut to its length, the rows one after the other
        targets = labels[torch.arange(S) < target_lengths[:, None]]
    elif layout == "unbatched":
        logits, targets = logits[:, 0], labels[0, : int(target_lengths[0])]
        input_lengths, target_lengths = input_lengths[:1], target_lengths[:1]
    kwargs["blank"] = 0 if blank == "first" else C - 1
    kwargs["zero_infinity"] = infinity == "zeroed"
    finite = not impossible or infinity == "zeroed"
    return Sample((logits, targets, input_lengths, target_lengths), kwargs, finite=finite)


def _log_softmax_first(ctc_loss: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``ctc_loss(log_softmax(logits), ...)``: PyTorch's CTC gradient assumes normalised
    log-probabilities (see the docstring of ``nnbasics.functional.ctc_loss``)."""

    def from_logits(logits: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return ctc_loss(logits.log_softmax(-1), *args, **kwargs)

    return from_logits


def _affine(
    g: torch.Generator, dtype: torch.dtype, shape: int | Shape, affine: bool
) -> tuple[Tensor | None, Tensor | None]:
    """A normalisation's weight and bias, in [0, 1) (None and None without ``affine``)."""
    if not affine:
        return None, None
    return torch.rand(shape, generator=g, dtype=dtype), torch.rand(shape, generator=g, dtype=dtype)


def _batch_norm(
    g: torch.Generator, dtype: torch.dtype, shape: Shape, *, affine: bool, **kwargs: Any
) -> Sample:
    """Input ``(N, C, ...)`` of mean 1 and standard deviation 2, running statistics (which
    training updates in place), and with ``affine`` a weight and a bias per channel."""
    channels = shape[1]
    x = torch.randn(shape, generator=g, dtype=dtype) * 2 + 1
    running_mean = torch.rand(channels, generator=g, dtype=dtype)
    running_var = torch.rand(channels, generator=g, dtype=dtype) + 0.5
    return Sample((x, running_mean, running_var, *_affine(g, dtype, channels, affine)), kwargs)


def _layer_norm(
    g: torch.Generator,
    dtype: torch.dtype,
    shape: Shape,
    *,
    normalized: str,
    affine: bool,
    **kwargs: Any,
) -> Sample:
    """Normalised over every dimension but the first (``normalized="all but first"``; all
    of a vector) or over the last one, given as an int (``"last"``)."""
    x = torch.randn(shape, generator=g, dtype=dtype) * 3
    dims = shape[-1:] if normalized == "last" or len(shape) == 1 else shape[1:]
    normalized_shape = shape[-1] if normalized == "last" else dims
    return Sample((x, normalized_shape, *_affine(g, dtype, dims, affine)), kwargs)


def _torch_layer_norm(input: Tensor, normalized_shape: Any, *args: Any, **kwargs: Any) -> Tensor:
    """``torch.nn.functional.layer_norm``, reading an int ``normalized_shape`` as a 1-tuple
    as ``torch.nn.LayerNorm`` does (the functional form takes only sequences; ours both)."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    return torch.nn.functional.layer_norm(input, normalized_shape, *args, **kwargs)


def _group_norm(
    g: torch.Generator,
    dtype: torch.dtype,
    shape: Shape,
    *,
    num_groups: int,
    affine: bool,
    **kwargs: Any,
) -> Sample:
    """``shape = (N, channels per group, *spatial)``: the input has ``num_groups`` times as
    many channels. Where the batch holds one value per group, both sides raise ValueError;
    where each group holds one value, ``x - mean`` is 0 for us while PyTorch's float32 mean
    is an ulp off, magnified by ``1 / sqrt(eps)``."""
    n, per_group, *spatial = shape
    channels = num_groups * per_group
    x = torch.randn((n, channels, *spatial), generator=g, dtype=dtype) * 3
    group_size = per_group * math.prod(spatial)
    tolerance = None
    if group_size == 1 and dtype == torch.float32:
        tolerance = (2e-5, 1e-6 / kwargs.get("eps", 1e-5) ** 0.5)
    raises = ValueError if n * group_size == 1 else None
    weight, bias = _affine(g, dtype, channels, affine)
    return Sample((x, num_groups, weight, bias), kwargs, raises=raises, tolerance=tolerance)


# ----------------------------------------------------------------------------- the entries
_REDUCTION = ("mean", "none", "sum")
_ROW = (256, 512)  # the benchmark's float32 input: 256 samples of 512 features or classes
_IMAGES = (64, 32, 8, 8)  # ... and the normalisations' (N, C, H, W)
_SCALES = (3.0, 1e-3, 30.0)
# what the activations share, and the losses of an input and a target of the same shape
_ACTIVATION: dict[str, Any] = {
    "make": _pointwise,
    "shapes": ((7, 5), (2, 3, 4)),
    "gradgradcheck": True,
    "empty": (0, 4),
}
_KINKS = {"zeros": (True, False), "scale": _SCALES}
_SOFTMAX = {"dim": (-1, 0), "scale": _SCALES}
_BENCH = (Bench(_ROW),)
_PAIR: dict[str, Any] = {
    "shapes": ((4, 3), (5,)),
    "max_shape": (5, 5, 5),
    "differentiable": (0, 1),
    "empty": (0, 3),
}


def _registry() -> tuple[OpInfo, ...]:
    """The entries, in the order of the benchmark's table."""
    return (
        OpInfo("relu", "torch.nn.functional.relu", options=_KINKS, bench=_BENCH, **_ACTIVATION),
        OpInfo(
            "leaky_relu",
            "torch.nn.functional.leaky_relu",
            options=_KINKS | {"negative_slope": (0.01, 0.2, 0.0, 0.5, 1.0, 1.5, -0.3)},
            bench=_BENCH,
            **_ACTIVATION,
        ),
        OpInfo(
            "prelu",
            "torch.nn.functional.prelu",
            _prelu,
            shapes=((4, 3, 5), (2, 3), (6,)),
            options={"slopes": ("channels", "single"), **_KINKS},
            differentiable=(0, 1),
            gradgradcheck=True,
            empty=(0, 3),
            bench=_BENCH,
        ),
        OpInfo("sigmoid", "torch.sigmoid", options=_KINKS, bench=_BENCH, **_ACTIVATION),
        OpInfo("tanh", "torch.tanh", options=_KINKS, bench=_BENCH, **_ACTIVATION),
        OpInfo(
            "gelu",
            "torch.nn.functional.gelu",
            options={"approximate": ("none", "tanh"), **_KINKS},
            bench=(Bench(_ROW), Bench(_ROW, "gelu (tanh)", {"approximate": "tanh"})),
            **_ACTIVATION,
            errors=(ErrorInput({"approximate": "fast"}, match=r"approximate.*'fast'"),),
        ),
        OpInfo("silu", "torch.nn.functional.silu", options=_KINKS, bench=_BENCH, **_ACTIVATION),
        OpInfo(
            "softmax",
            "torch.nn.functional.softmax",
            options=_SOFTMAX,
            bench=_BENCH,
            **_ACTIVATION,
        ),
        OpInfo(
            "log_softmax",
            "torch.nn.functional.log_softmax",
            options=_SOFTMAX,
            bench=_BENCH,
            **_ACTIVATION,
        ),
        OpInfo(
            "mse_loss",
            "torch.nn.functional.mse_loss",
            _regression,
            options={"reduction": _REDUCTION, "weighted": (False, True)},
            bench=_BENCH,
            **_PAIR,
        ),
        OpInfo(
            "huber_loss",
            "torch.nn.functional.huber_loss",
            _regression,
            options={
                "reduction": _REDUCTION,
                "delta": (1.0, 0.1, 0.5, 3.0),
                "weighted": (False, True),
            },
            bench=_BENCH,
            **_PAIR,
        ),
        OpInfo(
            "cross_entropy",
            "torch.nn.functional.cross_entropy",
            _cross_entropy,
            shapes=((6, 5), (5,), (2, 5, 3, 4)),
            options={
                "reduction": _REDUCTION,
                "label_smoothing": (0.0, 0.25, 1.0),
                "weighted": (False, True),
                "target": ("indices", "probabilities"),
                "ignore": (None, -100, 7),
            },
            max_shape=(4, 6, 4, 4),
            differentiable=(0, 1),
            empty=(0, 3),
            bench=_BENCH,
            errors=(
                ErrorInput({"reduction": "average"}, match="'average'"),
                ErrorInput({"label_smoothing": 1.5}, match=r"label_smoothing.*1\.5"),
            ),
        ),
        OpInfo(
            "binary_cross_entropy_with_logits",
            "torch.nn.functional.binary_cross_entropy_with_logits",
            _bce,
            options={
                "reduction": _REDUCTION,
                "weighted": (False, True),
                "pos_weighted": (False, True),
                "scale": (4.0, 30.0),
            },
            bench=(Bench(_ROW, "bce_with_logits"),),
            **_PAIR,
        ),
        OpInfo(
            "batch_norm",
            "torch.nn.functional.batch_norm",
            _batch_norm,
            shapes=((8, 3), (6, 3, 5), (4, 3, 2, 2)),
            options={
                "training": (True, False),
                "momentum": (0.1, 0.5, 0.9),
                "eps": (1e-5, 1e-2),
                "affine": (True, False),
            },
            min_shape=(2, 1),
            max_shape=(6, 6, 3, 3),
            differentiable=(0, 3, 4),
            bench=(Bench(_IMAGES, "batch_norm (train)", {"affine": False}),),
        ),
        OpInfo(
            "layer_norm",
            _torch_layer_norm,
            _layer_norm,
            shapes=((3, 6, 4), (5, 8)),
            options={
                "normalized": ("all but first", "last"),
                "eps": (1e-5, 1e-2),
                "affine": (True, False),
            },
            max_shape=(4, 6, 3, 3),
            differentiable=(0, 2, 3),
            float32_gradients=False,  # those of tiny groups are ill-conditioned
            empty=(0, 3),
            bench=(Bench(_ROW, options={"affine": False}),),
        ),
        OpInfo(
            "group_norm",
            "torch.nn.functional.group_norm",
            _group_norm,
            shapes=((3, 2, 4), (2, 1, 3), (1, 1)),
            options={"num_groups": (2, 1, 3), "eps": (1e-5, 1e-2), "affine": (True, False)},
            min_shape=(1, 1),
            max_shape=(4, 3, 2, 2),
            differentiable=(0, 2, 3),
            float32_gradients=False,  # those of tiny groups are ill-conditioned
            empty=(0, 2, 2),
            bench=(Bench((64, 4, 8, 8), options={"num_groups": 8, "affine": False}),),
        ),
        OpInfo(
            "dropout",
            "torch.nn.functional.dropout",
            _pointwise,
            shapes=((40, 25), (7,)),
            options={"p": (0.5, 0.0, 0.3, 0.9, 1.0), "training": (True, False)},
            empty=(0, 3),
            bench=(Bench(_ROW, options={"p": 0.3}),),
            errors=(
                ErrorInput({"p": -0.1}, match="got -0.1"),
                ErrorInput({"p": 1.5}, match="got 1.5"),
            ),
        ),
        OpInfo(
            "ctc_loss",
            "torch.nn.functional.ctc_loss",
            _ctc,
            shapes=((4, 2, 4, 2), (10, 3, 2, 4)),
            options={
                "reduction": _REDUCTION,
                "layout": ("padded", "concatenated", "unbatched"),
                "blank": ("first", "last"),
                "infinity": ("none", "inf", "zeroed"),
            },
            min_shape=(12, 1, 2, 0),
            max_shape=(20, 5, 7, 6),
            wrap=_log_softmax_first,
            # float32 gradients of ±1e4 logits are good to ~1e-3 (both sides): log-likelihoods of
            # ~1e5 keep 2 decimals, and exp(0.01) = 1.01
            extremes=(torch.float64,),
            bench=(Bench((50, 16, 20, 30), "ctc_loss (T=50,N=16,C=20,S=30)"),),
            bench_target=20.0,
            errors=(ErrorInput({"reduction": "avg"}, match="'avg'"),),
        ),
    )


OPS: tuple[OpInfo, ...] = _registry()
"""The registry: one ``OpInfo`` per from-scratch function of ``nnbasics.functional``."""
