"""Build step: draw the figures the pages show, with ``nnbasics.plot``, at build time.

A page shows a figure with a line of its own::

    ![alt text](figures/activation-curves.svg){ title="六种激活函数及其导数" }

The file name is the name of a function of ``nnbasics.plot`` with hyphens for underscores
(here ``activation_curves``); the alt text describes the figure in full, the title is its
short caption. The page is the one place the figure is named, described and captioned. Each
figure becomes two virtual files (text drawn as paths): ``figures/<name>.svg`` for the light
palette and ``figures/dark/<name>.svg``, the same figure recoloured for the dark one
(``nnbasics.plot.darken``); nothing is committed, the images are the output of the package's
code.

On the page the line becomes a numbered figure (``docs/stylesheets/site.css``)::

    <figure class="nn-figure" id="fig-<name>">
      <a href="#fig-<name>-zoom">both images, Material shows the one of its palette</a>
      <figcaption>图 1：caption</figcaption>
      <a class="nn-zoom" id="fig-<name>-zoom" href="#fig-<name>">the images, enlarged</a>
    </figure>

Tapping the figure opens the enlarged copy over the page (CSS ``:target``, no script, no
network): it fills a desktop screen, and on a phone it is about twice the column's width, to
pan around; tapping it again (or Back) closes it. Numbers count the figures of each page in
order (图 1, 图 2, ...).

Drawing is cached on disk (``.cache/site/`` beside ``mkdocs.yml``, or the folder named by
``NNBASICS_SITE_CACHE``; the dark variants in its ``dark/`` folder) by a hash of what the
figure depends on: the source of its own function, the rest of ``nnbasics`` (``plot.py``
without the figure functions, and every other module), the versions of Python, PyTorch,
matplotlib and NumPy, the CPU kernels PyTorch uses, the CJK font and the variant. An
unchanged figure is read back, under ``mkdocs serve`` and in a build; a changed figure
function redraws exactly its figure (both variants, from one computation); a change
elsewhere in the package redraws them all.
"""

from __future__ import annotations

import html
import inspect
import logging
import re
import sys
import time
import warnings
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

from docsite import cache as sitecache
from docsite import pages

log = logging.getLogger("mkdocs.plugins.nnbasics.figures")

# variant -> (the site's file for figure NAME, the cache's subfolder); the dark one is shown
# only in Material's dark palette ("slate"), the light one only in the light palette
VARIANTS = {"light": ("figures/{}.svg", ""), "dark": ("figures/dark/{}.svg", "dark")}
# a figure's line: the image alone, with its caption as the title (attr_list syntax)
FIGURE_LINE = re.compile(
    r"(?P<indent>[ \t]*)!\[(?P<alt>[^\]]*)\]\(figures/(?P<name>[a-z0-9-]+)\.svg\)"
    r'(?:\{\s*title="(?P<caption>[^"]*)"\s*\})?[ \t]*'
)
SVG_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="([0-9.]+)pt" height="([0-9.]+)pt"')
# the size in CSS px of the light figures drawn by the last on_files, by name


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


def figure_functions(plot) -> list:
    """Every function of ``nnbasics.plot`` that draws a figure (it returns a ``Figure``)."""
    functions = [getattr(plot, name, None) for name in plot.__all__]
    return [
        f
        for f in functions
        if inspect.isfunction(f) and str(f.__annotations__.get("return")).endswith("Figure")
    ]


def figure_key(function, package: str, font: str, variant: str = "light") -> str:
    """The cache key of one variant of one figure: its function's source, the rest of the
    package, the library versions, the font and the variant."""
    return sitecache.digest(
        inspect.getsource(function), package, sitecache.versions(), font, variant
    )


def _draw(plot, name: str, function, keys: dict[str, str], cache: Path) -> tuple[dict, bool]:
    """The SVG of each variant of one figure, and whether it was drawn now (False: all
    read from the cache). The figure is computed once and saved once per variant."""
    svgs = {v: sitecache.read(cache / VARIANTS[v][1], name, keys[v], ".svg") for v in VARIANTS}
    if all(svg is not None for svg in svgs.values()):
        return svgs, False
    with warnings.catch_warnings():
        # a missing glyph (a label in boxes) or any other warning fails the build
        warnings.simplefilter("error")
        fig = function()
        svgs = {"light": plot.to_svg(fig, close=False), "dark": plot.to_svg(fig, dark=True)}
    for variant, svg in svgs.items():
        sitecache.write(cache / VARIANTS[variant][1], name, keys[variant], ".svg", svg)
    return svgs, True


def svg_size(svg: str) -> tuple[int, int]:
    """The width and height in CSS px of an SVG that matplotlib wrote (in pt)."""
    match = SVG_SIZE.search(svg)
    if match is None:
        raise PluginError("figures: an SVG without its width and height in pt")
    return tuple(round(float(v) * 4 / 3) for v in match.groups())


def add_figures(files: Files, config) -> dict[str, tuple[int, int]]:
    """Draw (or take from the cache) every figure the pages show, in both variants, and add
    them to ``files``; each figure's size in pixels."""
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
    # the package without the figure functions (every one, not only those the pages built
    # now show: a one-page build and the whole site share their figures' cache entries): a
    # change there redraws every figure
    package = sitecache.package_source(
        Path(plot.__file__).parent, [inspect.getsource(f) for f in figure_functions(plot)]
    )
    cache = sitecache.cache_dir(config.config_file_path if config else None)
    drawn = 0
    sizes: dict[str, tuple[int, int]] = {}
    for name, function in wanted.items():
        keys = {v: figure_key(function, package, font, v) for v in VARIANTS}
        svgs, new = _draw(plot, name, function, keys, cache)
        drawn += new
        sizes[name] = svg_size(svgs["light"])
        for variant, svg in svgs.items():
            files.append(File.generated(config, VARIANTS[variant][0].format(name), content=svg))
    log.info(
        "figures: drew %d, %d unchanged from %s, in %.1f s",
        drawn,
        len(wanted) - drawn,
        cache,
        time.perf_counter() - start,
    )
    return sizes


def _images(urls: dict[str, str], alt: str, size: tuple[int, int]) -> str:
    """Both variants of a figure; Material hides the one not of its palette."""
    width, height = size
    return "".join(
        f'<img src="{html.escape(urls[variant])}#only-{variant}" alt="{html.escape(alt)}" '
        f'width="{width}" height="{height}" loading="lazy" decoding="async">'
        for variant in VARIANTS
    )


def figure_html(
    name: str, alt: str, caption: str, number: int, urls: dict[str, str], size: tuple[int, int]
) -> str:
    """A numbered figure with its caption, and its enlarged copy (see the module docstring).

    One element, on one line: Markdown ends a raw HTML block at the first closing tag of the
    element that opens it, and would put anything after ``</figure>`` in a paragraph."""
    images = _images(urls, alt, size)
    anchor = f"fig-{name}"
    return (
        f'<figure class="nn-figure" id="{anchor}">'
        f'<a class="nn-figure__open" href="#{anchor}-zoom" title="点击放大">{images}</a>'
        f"<figcaption>图 {number}：{html.escape(caption)}</figcaption>"
        f'<a class="nn-zoom" id="{anchor}-zoom" href="#{anchor}" title="点击关闭">{images}</a>'
        "</figure>"
    )


def figures_markdown(markdown: str, page, files: Files, sizes: dict[str, tuple[int, int]]) -> str:
    """Each figure line becomes a numbered figure with its caption (see the module
    docstring).

    Raises:
        PluginError: naming the page and line of a figure that is not alone on its line,
            has no caption or is shown twice.
    """
    # the lines of the file (mkdocs hands the hooks the Markdown without its front matter)
    source = Path(page.file.abs_src_path) if page.file.abs_src_path else None
    locations = (
        [loc for loc, _, _ in pages.figure_refs(source.read_text(encoding="utf-8"), source)]
        if source
        else []
    )
    lines = markdown.splitlines(keepends=True)
    number = 0
    seen: set[str] = set()
    for k, line in enumerate(lines):
        if not pages.FIGURE.search(line):
            continue
        location = locations[number] if number < len(locations) else page.file.src_uri
        match = FIGURE_LINE.fullmatch(line.rstrip("\n"))
        if match is None:
            raise PluginError(f"figures: {location}: a figure must be alone on its line")
        name, caption = match["name"], (match["caption"] or "").strip()
        if not caption:
            raise PluginError(
                f'figures: {location}: figures/{name}.svg needs a caption: add {{ title="..." }}'
                " after the image, a short caption in Chinese (the alt text stays the full"
                " description)"
            )
        if name in seen:
            raise PluginError(f"figures: {location}: figures/{name}.svg is shown twice")
        seen.add(name)
        number += 1
        urls = {
            variant: files.get_file_from_path(pattern.format(name)).url_relative_to(page.file)
            for variant, (pattern, _) in VARIANTS.items()
        }
        block = figure_html(name, match["alt"], caption, number, urls, sizes[name])
        lines[k] = f"\n{match['indent']}{block}\n\n"
    return "".join(lines)
