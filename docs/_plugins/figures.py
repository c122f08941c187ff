"""MkDocs hook: draw the figures the pages show, with ``nnbasics.plot``, at build time.

A page shows a figure with ``![alt text](figures/activation-curves.svg)``: the file name is the
name of a function of ``nnbasics.plot`` with hyphens for underscores (here
``activation_curves``). The page is the one place the figure is named and its alt text
written. Each figure becomes a virtual file ``figures/<name>.svg`` (text drawn as paths);
nothing is committed, the images are the output of the package's code.

Drawing is cached on disk (``.cache/site/`` beside ``mkdocs.yml``, or the folder named by
``NNBASICS_SITE_CACHE``) by a hash of what the figure depends on: the source of its own
function, the rest of ``nnbasics`` (``plot.py`` without the figure functions, and every other
module), the versions of Python, PyTorch, matplotlib and NumPy, the CPU kernels PyTorch uses
and the CJK font. An unchanged figure is read back, under ``mkdocs serve`` and in a build; a
changed figure function redraws exactly its figure; a change elsewhere in the package redraws
them all.
"""

from __future__ import annotations

import inspect
import logging
import sys
import time
import warnings
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

# the page manifest and the cache shared with the notebook hook live in tools/
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import pages
import sitecache

log = logging.getLogger("mkdocs.hooks.figures")


def _fresh_nnbasics() -> None:
    """Forget the imported nnbasics modules, so the figures come from the code on disk.

    ``mkdocs serve --watch nnbasics`` (``make serve``) rebuilds in the same process when a
    file of the package changes; without this, the figures would still be drawn by the
    code that was imported at the first build.
    """
    for name in [n for n in sys.modules if n == "nnbasics" or n.startswith("nnbasics.")]:
        del sys.modules[name]


def figure_function(plot, name: str, location: str):
    """The function of ``nnbasics.plot`` that draws ``figures/<name>.svg``.

    Raises:
        PluginError: naming the page and line when ``nnbasics.plot`` has no such figure.
    """
    function = name.replace("-", "_")
    if function not in plot.__all__ or not callable(getattr(plot, function, None)):
        raise PluginError(
            f"figures: {location}: figures/{name}.svg needs a function {function}() in "
            "nnbasics.plot (listed in its __all__) that returns the figure"
        )
    return getattr(plot, function)


def figure_key(function, package: str, font: str) -> str:
    """The cache key of one figure: its function's source, the rest of the package, the
    library versions and the font."""
    return sitecache.digest(inspect.getsource(function), package, sitecache.versions(), font)


def _draw(plot, name: str, function, key: str, cache: Path) -> tuple[str, bool]:
    """The SVG of one figure and whether it was drawn now (False: read from the cache)."""
    svg = sitecache.read(cache, name, key, ".svg")
    if svg is not None:
        return svg, False
    with warnings.catch_warnings():
        # a missing glyph (a label in boxes) or any other warning fails the build
        warnings.simplefilter("error")
        svg = plot.to_svg(function())
    sitecache.write(cache, name, key, ".svg", svg)
    return svg, True


def on_files(files: Files, config) -> Files:
    _fresh_nnbasics()
    from nnbasics import plot

    start = time.perf_counter()
    try:
        font = plot.cjk_font()
    except RuntimeError as error:  # one line naming what to install, not a traceback
        raise PluginError(f"figures: {error}") from None
    wanted: dict[str, object] = {}
    for page in files.documentation_pages():
        if not page.src_uri.endswith(".md") or not page.abs_src_path:
            continue
        path = Path(page.abs_src_path)
        for location, name, _alt in pages.figure_refs(path.read_text(encoding="utf-8"), path):
            wanted.setdefault(name, figure_function(plot, name, location))
    # the package without the figure functions: a change there redraws every figure
    package = sitecache.package_source(
        Path(plot.__file__).parent, [inspect.getsource(f) for f in wanted.values()]
    )
    cache = sitecache.cache_dir(config.config_file_path if config else None)
    drawn = 0
    for name, function in wanted.items():
        svg, new = _draw(plot, name, function, figure_key(function, package, font), cache)
        drawn += new
        files.append(File.generated(config, f"figures/{name}.svg", content=svg))
    log.info(
        "figures: drew %d, %d unchanged from %s, in %.1f s",
        drawn,
        len(wanted) - drawn,
        cache,
        time.perf_counter() - start,
    )
    return files
