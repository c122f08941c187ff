"""The built site in headless Chromium on 127.0.0.1: bytes transferred and time to the load
event for every page, then Lighthouse scores for the home page and the heaviest page.

Targets (issue "The reader's view"): no page over 1.5 MB transferred (search index
included); Lighthouse performance, accessibility, best practices and SEO >= 95.

    python -m benchmarks.bench_site [--site site] [--no-lighthouse]

Lighthouse runs through ``npx --yes lighthouse@12.2.3`` (Node 20) with ``CHROME_PATH`` set to
the Chromium the test suite uses.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from docsite.browser import CHROMIUM_ARGS, find_chromium, serve, site_pages, site_prefix  # noqa: E402

LIGHTHOUSE = "lighthouse@12.2.3"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
LOAD_MS_JS = """() => {
  const n = performance.getEntriesByType("navigation")[0];
  return n.loadEventEnd - n.startTime;
}"""


def measure(base: str, pages: list[str]) -> list[tuple[str, int, float]]:
    """(page, bytes transferred, ms to the load event) with an empty cache, search index
    included (Material's search worker fetches it after load: we wait for network idle)."""
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        for name in pages:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            total = [0]
            cdp.on(
                "Network.loadingFinished",
                lambda e, t=total: t.__setitem__(0, t[0] + e["encodedDataLength"]),
            )
            page.goto(base + name, wait_until="load", timeout=30_000)
            page.wait_for_load_state("networkidle", timeout=30_000)
            load_ms = page.evaluate(LOAD_MS_JS)
            rows.append((name or "(home)", total[0], load_ms))
            context.close()
        browser.close()
    return rows


def lighthouse(url: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        env = dict(os.environ, CHROME_PATH=find_chromium())
        subprocess.run(
            [
                "npx",
                "--yes",
                LIGHTHOUSE,
                url,
                "--quiet",
                "--output=json",
                f"--output-path={out}",
                "--only-categories=" + ",".join(CATEGORIES),
                "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
                "--preset=desktop",
            ],
            check=True,
            env=env,
            timeout=600,
        )
        report = json.loads(out.read_text(encoding="utf-8"))
    return {c: round(100 * report["categories"][c]["score"]) for c in CATEGORIES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "site")
    parser.add_argument("--no-lighthouse", action="store_true")
    args = parser.parse_args()
    pages = site_pages(args.site)
    with serve(args.site, prefix=site_prefix(ROOT / "mkdocs.yml")) as base:
        rows = measure(base, pages)
        print(f"{'page':22} {'transferred':>12} {'load event':>11}")
        for name, size, ms in rows:
            flag = "  over 1.5 MB" if size > 1.5e6 else ""
            print(f"{name:22} {size / 1e3:9.1f} kB {ms:8.0f} ms{flag}")
        heaviest = max(rows, key=lambda r: r[1])
        print(f"heaviest: {heaviest[0]} ({heaviest[1] / 1e6:.2f} MB; target <= 1.5 MB)")
        if args.no_lighthouse:
            return
        targets = [""] + ([heaviest[0]] if heaviest[0] != "(home)" else [])
        for name in targets:
            scores = lighthouse(base + name)
            line = ", ".join(f"{k} {v}" for k, v in scores.items())
            print(f"Lighthouse {name or '(home)'}: {line} (target >= 95 each)")


if __name__ == "__main__":
    main()
