"""The site's figures as a reader sees them: legible on a phone, a variant for the dark
palette, a numbered caption, an enlarged copy a tap away, one page per figure
(``nnbasics.plot``, ``docsite/render/figures.py``, ``docs/stylesheets/site.css``).

The checks on the built site are functions of the site's folder, so that they can be run
on any build (``check_*(Path("site"))``)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from docsite import pages

ROOT = Path(__file__).resolve().parent.parent
# Material's content column on a 390 px phone (measured in Chromium: 358 CSS px)
PHONE_COLUMN_PX = 358
MIN_TEXT_PX = 11
# mathtext draws sub- and superscripts at 70 % of the text's size, as TeX does
MIN_SCRIPT_PX = 0.7 * MIN_TEXT_PX

_SVG_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="([0-9.]+)pt" height="([0-9.]+)pt"')
# matplotlib draws a text as paths in a group scaled by its size in pt / 100 (Text2Path's
# FONT_SCALE); a mathtext script is a glyph scaled once more inside it
_TEXT = re.compile(r'<g\b[^>]*\btransform="[^"]*?scale\(([0-9.]+) -[0-9.]+\)"[^>]*>(.*?)</g>', re.S)
_SCRIPT = re.compile(r'<use\b[^>]*transform="[^"]*scale\(([0-9.]+)\)"')


def text_sizes_on_a_phone(svg: str) -> tuple[list[float], list[float]]:
    """The size in CSS px of every text (and of every sub- or superscript) of a figure shown
    at min(its natural width, the phone's column)."""
    width_pt, _ = (float(v) for v in _SVG_SIZE.search(svg).groups())
    natural_px = width_pt * 4 / 3
    scale = min(natural_px, PHONE_COLUMN_PX) / natural_px
    texts, scripts = [], []
    for size, body in _TEXT.findall(svg):
        px = float(size) * 100 * 4 / 3 * scale
        texts.append(px)
        scripts += [px * float(k) for k in _SCRIPT.findall(body)]
    return texts, scripts


def check_text_sizes(site: Path) -> list[str]:
    """Every figure (both variants) whose smallest text is under the limits on a phone."""
    figures = sorted((site / "figures").rglob("*.svg"))
    assert figures
    small = []
    for path in figures:
        texts, scripts = text_sizes_on_a_phone(path.read_text(encoding="utf-8"))
        assert texts, f"{path.name}: no text found"
        if min(texts) < MIN_TEXT_PX or min(scripts, default=MIN_SCRIPT_PX) < MIN_SCRIPT_PX:
            name = path.relative_to(site).as_posix()
            script = f", scripts {min(scripts):.1f} px" if scripts else ""
            small.append(f"{name}: text {min(texts):.1f} px{script}")
    return small


def check_dark_variants(site: Path) -> list[str]:
    """Every light figure has a dark variant, drawn on the dark palette's background."""
    from nnbasics import plot

    problems = []
    for light in sorted((site / "figures").glob("*.svg")):
        dark = site / "figures" / "dark" / light.name
        if not dark.exists():
            problems.append(f"{light.name}: no figures/dark/{light.name}")
            continue
        svg = dark.read_text(encoding="utf-8")
        if f"fill: {plot.DARK_BACKGROUND}" not in svg or "#ffffff" in svg or "#000000" in svg:
            problems.append(f"dark/{light.name}: not drawn for a dark background")
        if "<text" in svg or "<dc:date>" in svg or re.search(r'(href|src)="(https?:)?//', svg):
            problems.append(f"dark/{light.name}: text not as paths, a date or an external link")
    return problems


class _Figures(HTMLParser):
    """The page's figures: for each ``<figure>``, its id, the images and links inside it
    and its caption; and every element id and every figure image on the page."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict] = []
        self.ids: dict[str, dict] = {}
        self.figure_images: list[str] = []
        self._figure: dict | None = None
        self._caption = False
        self._zoom = False  # inside the enlarged copy

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if "id" in a:
            self.ids[a["id"]] = {"tag": tag, **a}
        if tag == "figure":
            self._figure = {"id": a.get("id"), "imgs": [], "links": [], "caption": ""}
            self.figures.append(self._figure)
        elif tag == "img" and "/figures/" in a.get("src", "") and not self._zoom:
            self.figure_images.append(a["src"])
            if self._figure is not None:
                self._figure["imgs"].append(a)
        elif tag == "a" and self._figure is not None:
            self._figure["links"].append(a.get("href", ""))
            self._zoom = "nn-zoom" in a.get("class", "").split()
        elif tag == "figcaption":
            self._caption = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._figure = None
        elif tag == "a":
            self._zoom = False
        elif tag == "figcaption":
            self._caption = False

    def handle_data(self, data: str) -> None:
        if self._caption and self._figure is not None:
            self._figure["caption"] += data


def check_figure_markup(site: Path) -> list[str]:
    """On every page, each figure image is in a ``<figure>`` numbered 图 1, 图 2, ... in
    order, with a caption, both palette variants (same alt text, width and height), and a
    link to its enlarged copy, which links back."""
    problems = []
    for html in sorted(site.rglob("*.html")):
        page = _Figures()
        page.feed(html.read_text(encoding="utf-8"))
        where = html.relative_to(site).as_posix()
        if not page.figure_images:
            continue
        figures = [f for f in page.figures if any("/figures/" in i["src"] for i in f["imgs"])]
        if not figures:
            problems.append(f"{where}: figures outside <figure>: {page.figure_images}")
            continue
        for number, figure in enumerate(figures, 1):
            caption = figure["caption"].strip()
            if not re.fullmatch(rf"图 {number}：\S.*", caption):
                problems.append(f"{where}: figure {number}: caption {caption!r}")
            srcs = [i["src"] for i in figure["imgs"]]
            if sorted(s.rsplit("#", 1)[-1] for s in srcs) != ["only-dark", "only-light"]:
                problems.append(f"{where}: figure {number}: not one image per palette: {srcs}")
            if len({(i.get("alt"), i.get("width"), i.get("height")) for i in figure["imgs"]}) != 1:
                problems.append(f"{where}: figure {number}: variants differ in alt text or size")
            zoom = page.ids.get(f"{figure['id']}-zoom")
            if f"#{figure['id']}-zoom" not in figure["links"] or zoom is None:
                problems.append(f"{where}: figure {number}: no enlarged copy to open")
            elif zoom.get("href") != f"#{figure['id']}":
                problems.append(f"{where}: figure {number}: the enlarged copy does not close")
    return problems


def check_one_page_per_figure(docs: Path) -> list[str]:
    """A figure is shown on one page only: each page's figure is drawn for that page."""
    shown: dict[str, str] = {}
    problems = []
    for page in pages.markdown_pages():
        for location, name, _alt in pages.figure_refs(page.path.read_text("utf-8"), page.path):
            if name in shown:
                problems.append(f"{location}: figures/{name}.svg is already shown at {shown[name]}")
            shown.setdefault(name, location)
    return problems


# name -> (viewport, phone?, colour scheme)
VIEWS = {
    "phone-light": ({"width": 390, "height": 844}, True, "light"),
    "phone-dark": ({"width": 390, "height": 844}, True, "dark"),
    "desktop-light": ({"width": 1280, "height": 900}, False, "light"),
}
_SHOWN = """() => [...document.querySelectorAll('img[src*="/figures/"]')]
  .filter((img) => img.getClientRects().length && !img.closest('.nn-zoom'))
  .map((img) => ({src: img.getAttribute('src'), width: img.getBoundingClientRect().width,
                  natural: img.naturalWidth, loaded: img.complete && img.naturalWidth > 0}))"""
_ZOOM = """() => {
  const zoom = document.querySelector('.nn-zoom:target');
  if (!zoom) return null;
  const r = zoom.getBoundingClientRect();
  const img = [...zoom.querySelectorAll('img')].find((i) => i.getClientRects().length);
  return {covers: r.left <= 0 && r.top <= 0 && r.right >= innerWidth && r.bottom >= innerHeight,
          width: img ? img.getBoundingClientRect().width : 0};
}"""


def check_in_browser(site: Path, browser) -> list[str]:
    """In Chromium, on a 390 px phone (light and dark palette) and a 1280 px desktop: each
    figure shows one image, of the palette's variant, at the column's width on the phone and
    at its natural size on the desktop; tapping the first figure of a page opens its enlarged
    copy over the whole window, larger than the figure, and tapping that closes it."""
    from docsite.browser import serve, site_prefix

    urls = [
        html.parent.relative_to(site).as_posix() + "/"
        for html in sorted(site.glob("**/index.html"))
        if re.search(r'src="(\.\./)+figures/', html.read_text(encoding="utf-8"))
    ]
    assert urls
    problems = []
    with serve(site, prefix=site_prefix(ROOT / "mkdocs.yml")) as base:
        for view, (viewport, phone, scheme) in VIEWS.items():
            context = browser.new_context(
                viewport=viewport, is_mobile=phone, has_touch=phone, color_scheme=scheme
            )
            for url in urls:
                page = context.new_page()
                page.goto(base + url, wait_until="load")
                where = f"{view} {url}"
                for figure in page.locator("figure.nn-figure").all():
                    figure.scroll_into_view_if_needed()
                page.wait_for_function(
                    "() => [...document.querySelectorAll('figure img')].every("
                    "(i) => !i.getClientRects().length || (i.complete && i.naturalWidth))"
                )
                shown = page.evaluate(_SHOWN)
                figures = page.locator("figure.nn-figure").count()
                if len(shown) != figures or not figures:
                    problems.append(f"{where}: {len(shown)} images shown for {figures} figures")
                for img in shown:
                    column = 358 if phone else img["natural"]
                    if not img["src"].endswith(f"#only-{scheme}"):
                        problems.append(f"{where}: {img['src']}: not the {scheme} variant")
                    elif abs(img["width"] - min(column, img["natural"])) > 1:
                        problems.append(f"{where}: {img['src']} shown {img['width']:.0f} px wide")
                if figures:
                    page.locator("figure.nn-figure a").first.click()
                    zoom = page.evaluate(_ZOOM)
                    if not zoom or not zoom["covers"] or zoom["width"] <= shown[0]["width"]:
                        problems.append(f"{where}: tapping the figure does not enlarge it: {zoom}")
                    else:
                        page.locator(".nn-zoom:target").click()
                        if page.evaluate(_ZOOM) is not None:
                            problems.append(
                                f"{where}: tapping the enlarged figure does not close it"
                            )
                page.close()
            context.close()
    return problems


def test_every_text_of_every_figure_is_legible_on_a_phone(built_site: Path):
    assert check_text_sizes(built_site) == []


def test_every_figure_has_a_dark_variant(built_site: Path):
    assert check_dark_variants(built_site) == []


def test_figures_are_numbered_captioned_and_open_enlarged(built_site: Path):
    assert check_figure_markup(built_site) == []


# test_browser.py runs check_in_browser in the suite's Chromium (pytest-playwright's browser)


def test_every_figure_is_shown_on_one_page():
    assert check_one_page_per_figure(ROOT / "docs") == []


def test_the_figure_stylesheet_shows_the_enlarged_copy_only_when_opened():
    css = (ROOT / "docs" / "stylesheets" / "site.css").read_text(encoding="utf-8")
    assert re.search(r"\.nn-zoom\s*\{[^}]*display:\s*none", css)
    assert re.search(r"\.nn-zoom:target\s*\{[^}]*position:\s*fixed", css)


def test_the_init_figure_shows_what_the_init_page_prints():
    """The legend's numbers (the RMS after 10 layers under each initialization) are those
    the page's block prints."""
    from nnbasics import plot

    fig = plot.init_rms_by_layer()
    forward = fig.axes[0].get_legend()
    # the page that shows the figure
    page = next(
        text
        for path in sorted((ROOT / "docs").rglob("*.md"))
        if "figures/init-rms-by-layer.svg" in (text := path.read_text(encoding="utf-8"))
    )
    for text in forward.get_texts()[:3]:
        name, value = text.get_text().split("：")
        assert re.search(rf"^{name}\s+理论 .*10 层后 {value}$", page, re.M), text.get_text()
    plot.to_svg(fig)


# --- the dark variant ---------------------------------------------------------------------


def test_dark_color_maps_the_background_ink_and_colours():
    from matplotlib.colors import to_rgba

    from nnbasics import plot

    assert plot.dark_color("white") == pytest.approx(to_rgba(plot.DARK_BACKGROUND))
    assert plot.dark_color("black") == pytest.approx(to_rgba(plot.DARK_INK))
    assert plot.dark_color((0, 0, 0, 0.3))[3] == 0.3  # alpha kept

    def lightness(c):
        import colorsys

        return colorsys.rgb_to_hls(*to_rgba(c)[:3])[1]

    assert lightness(plot.dark_color("#c6dbef")) < 0.4  # a pale fill turns dark
    for line in ("tab:blue", "tab:red", "tab:purple"):  # line colours turn lighter
        assert lightness(plot.dark_color(line)) >= 0.6


def test_to_svg_draws_the_same_figure_for_a_dark_page():
    from nnbasics import plot

    fig, ax = plot._figure()
    ax.plot([0, 1], [0, 1], color="k", label="线")
    ax.scatter([0, 1], [1, 0], c=[0, 1], cmap="coolwarm", edgecolors="k")
    ax.contourf([[0, 1], [1, 0]], levels=[0, 0.5, 1], colors=["#c6dbef", "#fdd0a2"])
    ax.set(title="标题 $\\eta_{\\max}$", xlabel="$x$")
    ax.legend()
    light = plot.to_svg(fig, close=False)
    dark = plot.to_svg(fig, dark=True)
    assert "#ffffff" in light and plot.DARK_BACKGROUND not in light
    assert f"fill: {plot.DARK_BACKGROUND}" in dark
    assert "#ffffff" not in dark and "#000000" not in dark
    assert "#c6dbef" not in dark and "#fdd0a2" not in dark
    # the same drawing: as many paths and glyphs
    assert light.count("<path") == dark.count("<path") and light.count("<use") == dark.count("<use")


# --- the hook -----------------------------------------------------------------------------


def _hook():
    from docsite.render import figures

    return figures


def test_each_variant_is_cached_under_its_own_key(tmp_path: Path):
    """Both variants come from one computation; each has its own key and cache entry, and
    a missing one redraws the figure."""
    from nnbasics import plot

    hook = _hook()
    calls = []

    def tiny():
        calls.append(1)
        fig, ax = plot._figure()
        ax.plot([0, 1], [0, 1])
        return fig

    keys = {v: hook.figure_key(tiny, "package", "font", v) for v in hook.VARIANTS}
    assert keys["light"] != keys["dark"]
    svgs, drawn = hook._draw(plot, "tiny", tiny, keys, tmp_path)
    assert drawn and len(calls) == 1 and svgs["light"] != svgs["dark"]
    assert (tmp_path / f"tiny-{keys['light']}.svg").read_text() == svgs["light"]
    assert (tmp_path / "dark" / f"tiny-{keys['dark']}.svg").read_text() == svgs["dark"]
    assert hook._draw(plot, "tiny", tiny, keys, tmp_path) == (svgs, False)
    (tmp_path / "dark" / f"tiny-{keys['dark']}.svg").unlink()
    assert hook._draw(plot, "tiny", tiny, keys, tmp_path)[1] and len(calls) == 2


def _page(tmp_path: Path, text: str):
    path = tmp_path / "p.md"
    path.write_text(text, encoding="utf-8")
    file = SimpleNamespace(abs_src_path=str(path), src_uri="p.md")
    files = SimpleNamespace(
        get_file_from_path=lambda p: SimpleNamespace(url_relative_to=lambda f: "../" + p)
    )
    return SimpleNamespace(file=file), files


def test_figure_lines_become_numbered_figures(tmp_path: Path):
    hook = _hook()
    sizes = {"a": (461, 300), "b": (461, 600)}
    text = (
        "---\ntitle: t\n---\n\n# 页\n\n"
        '![第一张图的完整描述](figures/a.svg){ title="第一张" }\n\n文字\n\n'
        '![第二张图的完整描述](figures/b.svg){ title="第二张" }\n'
    )
    page, files = _page(tmp_path, text)
    out = hook.figures_markdown(text.split("---\n", 2)[2], page, files, sizes)
    assert out.count("<figure ") == 2 and "<figcaption>图 1：第一张</figcaption>" in out
    assert "<figcaption>图 2：第二张</figcaption>" in out
    assert 'src="../figures/a.svg#only-light" alt="第一张图的完整描述"' in out
    assert 'src="../figures/dark/a.svg#only-dark"' in out
    assert 'width="461" height="600"' in out
    assert 'href="#fig-b-zoom"' in out and 'id="fig-b-zoom" href="#fig-b"' in out


def test_a_figure_without_a_caption_names_its_line(tmp_path: Path):
    from mkdocs.exceptions import PluginError

    hook = _hook()
    sizes = {"a": (461, 300)}
    text = "---\ntitle: t\n---\n\n# 页\n\n![描述](figures/a.svg)\n"
    page, files = _page(tmp_path, text)
    with pytest.raises(PluginError, match=r"p\.md:7: figures/a\.svg needs a caption"):
        hook.figures_markdown(text.split("---\n", 2)[2], page, files, sizes)
