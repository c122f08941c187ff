"""What the three registries share: where an entry was written, dotted names resolved on
first use, error inputs as data, and skips declared in the entries."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import pytest

ROOT = Path(__file__).resolve().parent.parent
"""The repository root: entries name their file relative to it."""

Shape = tuple[int, ...]


def definition_site() -> str:
    """``file:line`` of the code that made the dataclass instance whose ``__post_init__``
    calls this (past the frames of ``dataclasses.replace``), the file relative to ``ROOT``."""
    frame = sys._getframe(3)  # this <- __post_init__ <- the generated __init__ <- its caller
    while frame.f_back is not None and frame.f_code.co_filename == dataclasses.__file__:
        frame = frame.f_back
    path = Path(frame.f_code.co_filename).resolve()
    name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()
    return f"{name}:{frame.f_lineno}"


def resolve_name(name: str) -> Any:
    """The object that the dotted ``name`` names (its longest importable module prefix, then
    attributes), or None."""
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:i])
        try:
            obj: Any = importlib.import_module(module)
        except ModuleNotFoundError as error:  # that module, or a package above it, is missing
            if error.name is None or not f"{module}.".startswith(f"{error.name}."):
                raise  # something that it imports is missing: not a misspelt name
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
        return obj
    return None


def resolve(where: str, what: str, target: Any) -> Any:
    """``target`` itself, or the object its dotted name names.

    Raises:
        LookupError: when the name names nothing callable; the message starts with
            ``where``, the entry's file and line, then ``what`` (``"OpInfo 'gelu': reference"``).
    """
    obj = resolve_name(target) if isinstance(target, str) else target
    if not callable(obj):
        raise LookupError(f"{where}: {what} {target!r} does not exist")
    return obj


def signature_differences(ours: Callable[..., Any], theirs: Callable[..., Any]) -> list[str]:
    """How the arguments of ``ours`` (a class: its constructor's) differ from those of
    ``theirs``: an argument that ``theirs`` does not take, or one that both take with another
    default. ``ours`` may leave out arguments of ``theirs`` (implementation switches such as
    ``foreach``)."""
    mine = inspect.signature(ours).parameters
    other = inspect.signature(theirs).parameters
    differences = []
    for name, p in mine.items():
        q = other.get(name)
        if q is None:
            differences.append(f"{name}: not an argument of PyTorch's")
        elif p.default != q.default:
            differences.append(f"{name}: default {p.default!r} here, {q.default!r} in PyTorch's")
    return differences


T = TypeVar("T")


class Namesake(Generic[T]):
    """What an entry for a class of ours (in the module ``OURS``) compared with its PyTorch
    namesake (in ``THEIRS``) shares: a dataclass with fields ``name``, ``ref`` and ``where``
    (``where`` set here when it is made) gets ``cls`` and ``reference``, resolved on use."""

    OURS: ClassVar[str]
    THEIRS: ClassVar[str]
    name: str
    ref: str | type[T] | None
    where: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "where", definition_site())

    def _resolve(self, role: str, target: str | type[T]) -> type[T]:
        found: type[T] = resolve(self.where, f"{type(self).__name__} {self.name!r}: {role}", target)
        return found

    @property
    def cls(self) -> type[T]:
        """Our class, ``<OURS>.<name>``.

        Raises:
            LookupError: when there is none; the message starts with the entry's file and line.
        """
        return self._resolve("class", f"{self.OURS}.{self.name}")

    @property
    def reference(self) -> type[T]:
        """PyTorch's class: ``ref`` (a dotted name or the class), by default
        ``<THEIRS>.<name>``.

        Raises:
            LookupError: when it names nothing; the message starts with the entry's file and
                line.
        """
        return self._resolve("reference", self.ref or f"{self.THEIRS}.{self.name}")


@dataclass(frozen=True)
class ErrorInput:
    """An argument that must be refused: the call, the error and its message.

    Attributes:
        kwargs: the keyword arguments of the constructor; for a learning-rate schedule, a
            function of the optimizer it schedules (its sub-schedules need that optimizer).
        args: the positional arguments of the constructor (after the parameters or the
            optimizer, which the test supplies).
        error: the exception type.
        match: a regular expression searched in its message (as ``pytest.raises``'s).
        shape: for a module, the shape of an input that ``forward`` refuses; None when the
            constructor refuses the arguments.
    """

    kwargs: Mapping[str, Any] | Callable[[Any], Mapping[str, Any]] = field(default_factory=dict)
    args: tuple[Any, ...] = ()
    error: type[Exception] = ValueError
    match: str = ""
    shape: Shape | None = None

    def keywords(self, optimizer: Any = None) -> dict[str, Any]:
        """The keyword arguments (built for ``optimizer`` when they depend on it)."""
        return dict(self.kwargs(optimizer) if callable(self.kwargs) else self.kwargs)

    @property
    def id(self) -> str:
        kwargs = "<built>" if callable(self.kwargs) else dict(self.kwargs)
        return f"{self.args}-{kwargs}-{self.shape}"


class Entry(Protocol):
    """What ``cases`` needs of a registry entry."""

    @property
    def name(self) -> str: ...

    @property
    def skips(self) -> Mapping[str, str]: ...


def cases(
    entries: Iterable[Entry], test: str, items: Callable[[Any], Iterable[Any]] | None = None
) -> list[Any]:
    """pytest parameters for ``test``: each entry (with ``items``, each item of each entry:
    ``(entry, item)``), with its id, and skipped with the reason the entry declares for
    ``test`` in its ``skips``."""
    params = []
    for entry in entries:
        marks = [pytest.mark.skip(reason=entry.skips[test])] if test in entry.skips else []
        if items is None:
            params.append(pytest.param(entry, id=entry.name, marks=marks))
            continue
        for item in items(entry):
            ident = f"{entry.name}-{getattr(item, 'id', item)}"
            params.append(pytest.param(entry, item, id=ident, marks=marks))
    return params


def unknown_skips(entries: Iterable[Entry], tests: Iterable[str]) -> list[str]:
    """The declared skips that name no test among ``tests`` (a renamed test leaves them
    behind), as ``entry: test``."""
    known = set(tests)
    return [f"{e.name}: {test}" for e in entries for test in e.skips if test not in known]
