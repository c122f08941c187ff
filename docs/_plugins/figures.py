"""MkDocs hook: draw every figure of ``nnbasics.plot.FIGURES`` at build time.

Each figure becomes a virtual file ``figures/<name>.svg`` (text drawn as paths), so a page
shows it with ``![alt](figures/<name>.svg)`` and ``mkdocs build --strict`` fails on a link
to a figure that does not exist. Nothing is committed: the images are the output of the
package's code on every build.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.figures")


def _fresh_nnbasics() -> None:
    """Forget the imported nnbasics modules, so the figures come from the code on disk.

    ``mkdocs serve --watch nnbasics`` (``make serve``) rebuilds in the same process when a
    file of the package changes; without this, the figures would still be drawn by the
    code that was imported at the first build.
    """
    for name in [n for n in sys.modules if n == "nnbasics" or n.startswith("nnbasics.")]:
        del sys.modules[name]


def on_files(files: Files, config) -> Files:
    _fresh_nnbasics()
    from nnbasics import plot

    start = time.perf_counter()
    try:
        plot.cjk_font()
    except RuntimeError as error:  # one line naming what to install, not a traceback
        raise PluginError(f"figures: {error}") from None
    with warnings.catch_warnings():
        # a missing glyph (a label in boxes) or any other warning fails the build
        warnings.simplefilter("error")
        for name, (draw, _alt) in plot.FIGURES.items():
            svg = plot.to_svg(draw())
            files.append(File.generated(config, f"figures/{name}.svg", content=svg))
    log.info("drew %d figures in %.1f s", len(plot.FIGURES), time.perf_counter() - start)
    return files
