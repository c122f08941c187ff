"""Lighthouse's mobile performance score of every page, served gzip-compressed as GitHub Pages
serves it (issue: ≥ 95 on every page).

    python -m benchmarks.bench_lighthouse [SITE_DIR] [--runs 3] [--pages losses,tags]

SITE_DIR is a built site (default: build one into a temporary folder with ``mkdocs build``).
Lighthouse comes from npm (installed once into ``.cache/lighthouse``); Chromium is the one
``docsite/browser.py`` finds. Pages run one at a time; the median run of each page is printed
(score, total blocking time, largest contentful paint, cumulative layout shift), then the pages
under 95. Scores swing by 10–25 points on a loaded machine: compare runs made on the same machine
at the same time.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from docsite.browser import find_chromium, site_prefix  # noqa: E402

TEXT = (".html", ".css", ".js", ".json", ".svg", ".xml", ".ipynb")
TARGET = 95


class _GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, text gzip-compressed when the client accepts it (as GitHub Pages does)."""

    def log_message(self, *args: object) -> None:
        pass

    def send_head(self):  # type: ignore[no-untyped-def]
        path = self.translate_path(self.path)
        if os.path.isdir(path) and self.path.split("?")[0].endswith("/"):
            path = os.path.join(path, "index.html")
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (os.path.isfile(path) and path.endswith(TEXT) and accepts):
            return super().send_head()
        data = gzip.compress(Path(path).read_bytes(), 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "max-age=600")  # what GitHub Pages sends
        self.end_headers()
        return io.BytesIO(data)


def _lighthouse() -> Path:
    prefix = ROOT / ".cache" / "lighthouse"
    binary = prefix / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        subprocess.run(["npm", "install", "--prefix", str(prefix), "lighthouse@12"], check=True)
    return binary


def _run(binary: Path, url: str, out: Path) -> dict[str, float]:
    subprocess.run(
        [
            str(binary),
            url,
            "--only-categories=performance",
            "--output=json",
            f"--output-path={out}",
            "--chrome-flags=--headless=new --no-sandbox",
            "--quiet",
        ],
        check=True,
        env=dict(os.environ, CHROME_PATH=find_chromium()),
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    audits = report["audits"]
    return {
        "score": round(report["categories"]["performance"]["score"] * 100),
        "tbt": audits["total-blocking-time"]["numericValue"],
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", nargs="?", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--pages", help="comma-separated pages, e.g. home,losses/ctc (default: every page)"
    )
    parser.add_argument("--keep", type=Path, help="keep Lighthouse's JSON reports in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = args.site
        if site is None:
            site = Path(tmp) / "site"
            subprocess.run(
                [sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(site)],
                cwd=ROOT,
                check=True,
            )
        prefix = site_prefix(ROOT / "mkdocs.yml").strip("/")
        root = Path(tmp) / "root"
        (root / prefix).parent.mkdir(parents=True, exist_ok=True)
        (root / prefix).symlink_to(site.resolve())
        # every page: the chapters' overviews and lessons, the API's module pages, ...
        pages = sorted(p.parent.relative_to(site).as_posix() for p in site.glob("*/**/index.html"))
        pages = ["", *(p for p in pages if p.split("/")[0] not in {"404", "search", "assets"})]
        if args.pages:
            wanted = {"" if p == "home" else p for p in args.pages.split(",")}
            pages = [p for p in pages if p in wanted]
        handler = functools.partial(_GzipHandler, directory=str(root))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/{prefix}/"
        binary = _lighthouse()
        results: dict[str, list[dict[str, float]]] = {p: [] for p in pages}
        for run in range(args.runs):
            for page in pages:
                out = Path(args.keep or tmp) / f"{(page or 'home').replace('/', '-')}-{run}.json"
                results[page].append(_run(binary, base + (page + "/" if page else ""), out))
        server.shutdown()
    head = f"{'page':<20} {'score':>5} {'TBT ms':>7} {'LCP s':>6} {'CLS':>6}"
    print(f"{head}  (median of {args.runs})")
    low = []
    for page, runs in results.items():
        median = statistics.median_low(sorted(r["score"] for r in runs))
        best = next(r for r in runs if r["score"] == median)
        name = page or "home"
        print(
            f"{name:<20} {median:>5} {best['tbt']:>7.0f} {best['lcp'] / 1000:>6.1f}"
            f" {best['cls']:>6.3f}"
        )
        if median < TARGET:
            low.append(name)
    print(f"under {TARGET}: {', '.join(low) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
