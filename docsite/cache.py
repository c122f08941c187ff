"""A small on-disk cache for what the site's build computes: figures and the executed notebook.

The build steps (``docsite/render/figures.py``, ``docsite/render/notebooks.py``) key each entry
by a hash of everything its content depends on, so a hit is always what a fresh run would
give: the source it was made from, the package's code, and the versions of the libraries that
compute and draw it. Entries live in ``.cache/site/`` beside ``mkdocs.yml`` (git ignores it),
or in the folder named by ``NNBASICS_SITE_CACHE``; deleting the folder is always safe.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cache_dir(config_file: str | None = None) -> Path:
    """The cache folder: ``$NNBASICS_SITE_CACHE``, else ``.cache/site`` beside the config."""
    if os.environ.get("NNBASICS_SITE_CACHE"):
        return Path(os.environ["NNBASICS_SITE_CACHE"])
    return (Path(config_file).parent if config_file else ROOT) / ".cache" / "site"


def digest(*parts: str) -> str:
    """A short hash of the parts (16 hex digits)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:16]


def package_source(package: Path, without: Iterable[str] = ()) -> str:
    """The source of every module of ``package``, with the given pieces of text removed
    (``without``: e.g. the figure functions, which key their own figures)."""
    pieces = list(without)
    out = []
    for path in sorted(package.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for piece in pieces:
            text = text.replace(piece, "")
        out.append(f"# {path.name}\n{text}")
    return "\n".join(out)


def versions() -> str:
    """Python, PyTorch (and the CPU kernels it picked), matplotlib, NumPy."""
    import matplotlib
    import numpy
    import torch

    return repr(
        (
            sys.version,
            torch.__version__,
            torch.backends.cpu.get_cpu_capability(),
            matplotlib.__version__,
            numpy.__version__,
        )
    )


def read(cache: Path, name: str, key: str, suffix: str) -> str | None:
    """The cached text of ``name`` under ``key``, or None."""
    try:
        return (cache / f"{name}-{key}{suffix}").read_text(encoding="utf-8")
    except OSError:
        return None


def write(cache: Path, name: str, key: str, suffix: str, text: str) -> None:
    """Store ``text`` for ``name`` under ``key`` and drop the entries of earlier keys.

    The file is written under a temporary name and renamed, so a build running in parallel
    never reads half a file; a cache that cannot be written (a read-only checkout) is skipped.
    """
    try:
        cache.mkdir(parents=True, exist_ok=True)
        for old in cache.glob(f"{name}-*{suffix}"):
            if re.fullmatch(rf"{re.escape(name)}-[0-9a-f]{{16}}{re.escape(suffix)}", old.name):
                old.unlink(missing_ok=True)
        partial = cache / f"{name}-{key}{suffix}.{os.getpid()}.tmp"
        partial.write_text(text, encoding="utf-8")
        partial.replace(cache / f"{name}-{key}{suffix}")
    except OSError:
        pass
