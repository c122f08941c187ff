"""Screenshots of built pages, to look at before a page change lands (``make shots``).

    python -m docsite shots [--site site] [--out test-artifacts/shots] [--no-firefox] [PAGE ...]

PAGE is a page's path under ``docs/`` without ``.md`` (``losses/regression``, ``losses/index``,
``training-notebook``, ``index``); none means every page of the nav. For each page it writes,
under ``--out`` (a ``/`` in its name written as ``-``):

- ``PAGE-desktop-light-K.png``: Chromium at 1280 px, light palette;
- ``PAGE-phone-light-K.png`` and ``PAGE-phone-dark-K.png``: Chromium as a 390 px phone
  (device pixel ratio 2, touch), light and dark palette;
- ``PAGE-firefox-phone-light.png`` and ``PAGE-firefox-desktop-dark.png``: the same page in a
  second engine (Debian's ``firefox-esr --headless --screenshot``), when it is installed.

Full pages are cut into numbered tiles (``-1``, ``-2``, ...) of a screen's height or a little
more, so that each one can be opened and read; every ``<details>`` is opened first, so what a
reader can unfold is in the pictures too. The site is served on 127.0.0.1 from ``--site`` (a
``mkdocs build``); nothing is fetched from the network.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from docsite import pages
from docsite.browser import (
    CHROMIUM_ARGS,
    TIMEOUT_MS,
    find_chromium,
    serve,
    site_prefix,
)

ROOT = Path(__file__).resolve().parent.parent
# name -> (viewport, device pixel ratio, phone?, colour scheme, tile height in CSS px)
VIEWS = {
    "desktop-light": ({"width": 1280, "height": 900}, 1, False, "light", 1800),
    "phone-light": ({"width": 390, "height": 844}, 2, True, "light", 1400),
    "phone-dark": ({"width": 390, "height": 844}, 2, True, "dark", 1400),
}


def page_urls(names: list[str]) -> dict[str, str]:
    """name -> URL path below the site root, for the named pages (every page if none)."""
    known = {str(Path(p.src).with_suffix("")): p.url for p in pages.pages()}
    if not names:
        return {n.replace("/", "-"): url for n, url in known.items()}
    found = {}
    for name in names:
        name = name.removesuffix(".md")
        if name not in known and (pages.DOCS / f"{name}.md").is_file():  # not in the nav yet
            known[name] = pages.Page(f"{name}.md", name, {}).url
        if name not in known:
            raise SystemExit(f"shots: no page {name}; pages: {', '.join(sorted(known))}")
        found[name.replace("/", "-")] = known[name]
    return found


def _tiles(png: Path, tile_px: int) -> list[Path]:
    """Cut a full-page screenshot into tiles ``tile_px`` high (device pixels)."""
    from PIL import Image

    with Image.open(png) as image:
        width, height = image.size
        out = []
        for k, top in enumerate(range(0, height, tile_px), start=1):
            tile = png.with_name(f"{png.stem}-{k}.png")
            image.crop((0, top, width, min(height, top + tile_px))).save(tile, optimize=True)
            out.append(tile)
    png.unlink()
    return out


def chromium_shots(base: str, urls: dict[str, str], out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        for view, (viewport, scale, phone, scheme, tile) in VIEWS.items():
            context = browser.new_context(
                viewport=viewport,
                device_scale_factor=scale,
                is_mobile=phone,
                has_touch=phone,
                color_scheme=scheme,
            )
            for name, url in urls.items():
                page = context.new_page()
                page.goto(base + url, wait_until="load", timeout=TIMEOUT_MS)
                page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
                page.evaluate(
                    "() => document.querySelectorAll('details').forEach(d => d.open = true)"
                )
                # lazy figures load only near the screen: load them all before the picture
                page.evaluate(
                    "() => document.querySelectorAll('img[loading=lazy]')"
                    ".forEach(i => i.loading = 'eager')"
                )
                page.wait_for_function(
                    "() => [...document.images].every(i => i.complete)", timeout=60_000
                )
                full = out / f"{name}-{view}.png"
                page.screenshot(path=str(full), full_page=True, timeout=60_000)
                written += _tiles(full, tile * scale)
                page.close()
            context.close()
        browser.close()
    return written


def firefox_shots(base: str, urls: dict[str, str], out: Path) -> list[Path]:
    """The same pages in Firefox (phone light, desktop dark): a second engine lays MathML and
    CSS out its own way. One run of ``firefox-esr --headless --screenshot`` per picture."""
    firefox = shutil.which("firefox-esr") or shutil.which("firefox")
    if firefox is None:
        print("shots: firefox-esr not found (apt-get install firefox-esr); Chromium only")
        return []
    written = []
    for scheme, size, label in (
        ("light", "390,3000", "phone-light"),
        ("dark", "1280,3000", "desktop-dark"),
    ):
        with tempfile.TemporaryDirectory() as profile:
            # 0: dark, 1: light (the page's prefers-color-scheme)
            override = 0 if scheme == "dark" else 1
            Path(profile, "user.js").write_text(
                f'user_pref("layout.css.prefers-color-scheme.content-override", {override});\n'
                f'user_pref("ui.systemUsesDarkTheme", {1 - override});\n'
                'user_pref("network.proxy.type", 0);\n'
                'user_pref("browser.shell.checkDefaultBrowser", false);\n',
                encoding="utf-8",
            )
            for name, url in urls.items():
                target = out / f"{name}-firefox-{label}.png"
                subprocess.run(
                    [firefox, "--headless", "--no-remote", "--profile", profile,
                     "--screenshot", str(target), f"--window-size={size}", base + url],
                    check=True, timeout=120, capture_output=True,
                    env={**os.environ, "MOZ_HEADLESS": "1"},
                )  # fmt: skip
                written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="*", help="page names (docs/NAME.md); none: every page")
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="the built site")
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "shots")
    parser.add_argument("--no-firefox", action="store_true", help="Chromium only")
    args = parser.parse_args(argv)
    urls = page_urls(args.pages)
    args.out.mkdir(parents=True, exist_ok=True)
    with serve(args.site, prefix=site_prefix(ROOT / "mkdocs.yml")) as base:
        written = chromium_shots(base, urls, args.out)
        if not args.no_firefox:
            written += firefox_shots(base, urls, args.out)
    print(f"shots: {len(written)} pictures of {len(urls)} page(s) in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
