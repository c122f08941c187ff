"""What the browser suite needs besides Playwright: a local server for the built site, the
system Chromium, and the checks a page must pass (each one a function, so that a test can
feed it a broken page and watch it fail).

Every wait is bounded: page loads and selectors time out after ``TIMEOUT_MS``.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

TIMEOUT_MS = 15_000
HOST = "127.0.0.1"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# flags for a quiet, offline, reproducible headless Chromium
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
    "--font-render-hinting=none",
]


class BrowserSetupError(RuntimeError):
    """The suite cannot run: no site, no free port or no Chromium."""


def find_chromium() -> str:
    """The Chromium executable: ``$CHROMIUM`` if set, else the first on PATH."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        if not (Path(explicit).is_file() and os.access(explicit, os.X_OK)):
            raise BrowserSetupError(f"CHROMIUM={explicit!r} is not an executable file")
        return explicit
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserSetupError(
        "Chromium not found (looked for $CHROMIUM and " + ", ".join(CHROMIUM_NAMES) + "); "
        "install Debian's: apt-get install chromium"
    )


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files under ``prefix`` (the path of the site's URL, as on GitHub Pages); an
    unknown path gets the site's own 404.html with status 404, as GitHub Pages does."""

    prefix = "/"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def translate_path(self, path: str) -> str:
        if path.split("?")[0] == "/robots.txt":  # crawlers ask the host's root for it
            return str(Path(self.directory) / "robots.txt")
        if not path.startswith(self.prefix):
            return str(Path(self.directory) / "__outside_the_site__" / "missing")
        return super().translate_path("/" + path[len(self.prefix) :])

    def send_error(self, code: int, message: str | None = None, explain: str | None = None):
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return None


@contextlib.contextmanager
def serve(site: Path, port: int = 0, prefix: str = "/") -> Iterator[str]:
    """Serve ``site`` at ``http://127.0.0.1:<port><prefix>`` (``port`` 0: any free port);
    yields that URL."""
    if not (site / "index.html").is_file():
        raise BrowserSetupError(f"no built site at {site} (index.html missing): run mkdocs build")
    handler_class = type("Handler", (_Handler,), {"prefix": prefix})
    handler = functools.partial(handler_class, directory=str(site))
    try:
        server = http.server.ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        raise BrowserSetupError(f"cannot serve the site on {HOST}:{port}: {exc}") from exc
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def site_prefix(config: Path) -> str:
    """The path part of ``site_url`` in mkdocs.yml ('/' without one)."""
    text = config.read_text(encoding="utf-8")
    url = next(
        (
            line.split(":", 1)[1].strip()
            for line in text.splitlines()
            if line.startswith("site_url:")
        ),
        "",
    )
    path = urlsplit(url).path or "/"
    return path if path.endswith("/") else path + "/"


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the built site as a path relative to the site root ('' = home)."""
    pages = []
    for html in sorted(site.rglob("index.html")):
        rel = html.parent.relative_to(site).as_posix()
        pages.append("" if rel == "." else rel + "/")
    return sorted(pages)


@dataclass
class Visit:
    """What happened while a page loaded."""

    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"failed request: {u}" for u in self.failed]
            + [f"request to another host: {u}" for u in self.external]
        )


def watch(page) -> Visit:
    """Record console errors, failed requests and every request that leaves 127.0.0.1
    (those are aborted, so the page behaves as it would offline)."""
    visit = Visit()

    def route(route) -> None:
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host == HOST:
            route.continue_()
        else:
            visit.external.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and visit.console_errors.append(m.text))
    page.on("pageerror", lambda e: visit.console_errors.append(str(e)))
    page.on(
        "requestfailed",
        lambda r: urlsplit(r.url).hostname == HOST and visit.failed.append(f"{r.url} {r.failure}"),
    )
    return visit


# TeX left in the visible text: $$…$$, $…\command…$, \( \[ delimiters, bare commands
RAW_MATH_PATTERNS = [
    r"\$\$[^$]+\$\$",
    r"(^|[^\\\w$])\$[^$\s][^$]*\\[a-zA-Z]+[^$]*\$",
    r"\\\(|\\\[",
    r"\\(frac|sum|sigma|mathrm|partial)\b",
]
RAW_MATH_JS = """patterns => {
  const root = (document.querySelector("article") ?? document.body).cloneNode(true);
  root.querySelectorAll("pre, code, script, style, math").forEach(e => e.remove());
  const text = root.textContent;
  return patterns.map(p => text.match(new RegExp(p))).filter(Boolean).map(m => m[0].slice(0, 60));
}"""


def raw_math(page) -> list[str]:
    """TeX source visible on the page (formulas the build did not render)."""
    return page.evaluate(RAW_MATH_JS, RAW_MATH_PATTERNS)


def broken_images(page) -> list[str]:
    """Images that did not load, or that have no alt text. Lazy images (a figure below the
    screen, the variant of the other palette) are loaded first."""
    page.evaluate(
        "() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')"
    )
    # the images still loading after the wait are reported below
    with contextlib.suppress(Exception):
        page.wait_for_function(
            "() => [...document.images].every(i => i.complete)", timeout=TIMEOUT_MS
        )
    return page.evaluate(
        """() => [...document.images].flatMap(img => {
            const src = img.src.slice(0, 80), out = [];
            if (!img.complete || img.naturalWidth === 0) out.push(`not loaded: ${src}`);
            if (!(img.getAttribute("alt") || "").trim()) out.push(`no alt text: ${src}`);
            return out;
        })"""
    )


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the screen (0 when nothing overflows).

    The screen, not ``window.innerWidth``: a phone browser (``is_mobile``) widens its layout
    viewport to fit what overflows, so ``innerWidth`` grows with the overflow and the
    difference stays 0."""
    return page.evaluate("() => Math.max(0, document.documentElement.scrollWidth - screen.width)")


def search(page, base: str, query: str) -> list[str]:
    """Type ``query`` into the site's search box as a reader would; the result pages' URLs
    (query string and fragment removed), best first. A page that is already at ``base`` with
    the search loaded is reused: the box is emptied first, so the results are the new query's."""
    meta = ".md-search-result__meta"
    box = page.locator("input.md-search__input")
    if page.url.split("?")[0] != base:
        page.goto(base, wait_until="load")
        box.click()  # focusing loads the vocabulary of javascripts/search-segment.js
        page.wait_for_function(
            f"() => !document.querySelector('{meta}').textContent.includes('初始化')",
            timeout=TIMEOUT_MS,
        )
        page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    else:
        box.click()
        box.fill("")
        box.press("End")
        # Material's "type to start searching": the previous results are gone
        page.wait_for_function(
            f"() => /键入/.test(document.querySelector('{meta}').textContent)",
            timeout=TIMEOUT_MS,
        )
    box.fill(query)
    box.press("End")  # Material searches on key events
    page.wait_for_function(
        f"() => /符合条件/.test(document.querySelector('{meta}').textContent)",
        timeout=TIMEOUT_MS,
    )
    links = page.eval_on_selector_all(
        "li.md-search-result__item > a.md-search-result__link", "els => els.map(e => e.href)"
    )
    return [urlsplit(url)._replace(query="", fragment="").geturl() for url in links]


# Every display formula as the reader sees it: its rows (the <mtr> of its tables, at least one),
# its height in ems of the formula's own font size, and whether it is wider than its box.
FORMULA_GEOMETRY_JS = """() => [...document.querySelectorAll("article div.arithmatex")].map(box => {
  const math = box.querySelector("math");
  if (!math) return null;
  const rect = math.getBoundingClientRect();
  const em = parseFloat(getComputedStyle(math).fontSize);
  const style = getComputedStyle(box);
  return {
    tex: (math.getAttribute("alttext") || "").slice(0, 70),
    rows: Math.max(1, math.querySelectorAll("mtr").length),
    height_em: rect.height / em,
    width: box.scrollWidth,
    column: box.clientWidth,
    cue: style.backgroundAttachment.includes("local") && style.backgroundImage.includes("gradient")
      && /auto|scroll/.test(style.overflowX),
  };
}).filter(Boolean)"""
# the tallest a row of a display formula may be: a fraction of sums with limits above and
# below is about 4 em; a formula laid out one symbol per line is several times that
EM_PER_ROW = 4.5


def formula_problems(page, fit: bool = False) -> list[str]:
    """Display formulas that are laid out wrong: taller than ``EM_PER_ROW`` per row (their
    parts stacked as blocks), or wider than their column with no visible scroll cue (with
    ``fit``, any formula wider than its column)."""
    problems = []
    for f in page.evaluate(FORMULA_GEOMETRY_JS):
        if f["height_em"] > EM_PER_ROW * f["rows"] + 1:
            problems.append(f"{f['tex']!r}: {f['height_em']:.1f} em tall for {f['rows']} row(s)")
        if f["width"] > f["column"] + 1 and (fit or not f["cue"]):
            cue = "" if fit else ", with no scroll cue"
            problems.append(f"{f['tex']!r}: {f['width']} px wide in a {f['column']} px column{cue}")
    return problems


# code blocks (kind "code") and printed outputs (kind "output", docsite/render/outputs.py) that
# scroll sideways: their text is wider than their box
BLOCK_OVERFLOW_JS = """() => [...document.querySelectorAll("article div.highlight pre > code")]
  .filter(code => code.scrollWidth > code.clientWidth + 1)
  .map(code => ({
    kind: code.closest(".nb-output") ? "output" : "code",
    width: code.scrollWidth, box: code.clientWidth,
    text: code.innerText.split("\\n")
      .reduce((a, b) => (b.length > a.length ? b : a), "").slice(0, 60),
  }))"""


def block_overflow(page) -> list[dict]:
    """The code and output blocks whose lines are wider than their box."""
    return page.evaluate(BLOCK_OVERFLOW_JS)


def unmarked_outputs(page) -> list[str]:
    """Blocks after the tests' output marker that are not shown as an output (the
    ``nb-output`` class, the 输出 label before it, no copy button)."""
    return page.evaluate(
        """() => {
          const out = [];
          const walker = document.createTreeWalker(document.querySelector("article"),
                                                   NodeFilter.SHOW_COMMENT);
          while (walker.nextNode()) {
            if (walker.currentNode.data.trim() !== "pytest-codeblocks:expected-output") continue;
            let block = walker.currentNode.nextSibling;
            while (block && block.nodeType !== Node.ELEMENT_NODE) block = block.nextSibling;
            if (!block || !block.classList.contains("nb-output__label")
                || block.textContent.trim() !== "输出") {
              out.push(`no 输出 label: ${(block?.innerText || "").slice(0, 50)}`);
              continue;
            }
            block = block.nextElementSibling;
            if (!block || !block.classList.contains("nb-output"))
              out.push(`not an output: ${(block?.innerText || "").slice(0, 50)}`);
            else if (block.querySelector("button[data-md-type=copy]"))
              out.push(`copy button on an output: ${block.innerText.slice(0, 50)}`);
          }
          return out;
        }"""
    )


def covered_text(page) -> list[str]:
    """Code blocks whose copy button lies on their text, with the block scrolled to its start
    and to its end (the text's line boxes as the browser lays them out)."""
    return page.evaluate(
        """() => {
          const out = [];
          for (const button of document.querySelectorAll("article button[data-md-type=copy]")) {
            const code = button.closest("pre")?.querySelector("code");
            if (!code) continue;
            for (const left of [0, code.scrollWidth]) {
              code.scrollLeft = left;
              const b = button.getBoundingClientRect();
              const box = code.getBoundingClientRect();
              const range = document.createRange();
              range.selectNodeContents(code);
              // a line box that shares at least 3 x 3 px with the button, inside the block
              const hit = [...range.getClientRects()].some(r =>
                Math.min(r.right, b.right, box.right) - Math.max(r.left, b.left, box.left) >= 3
                && Math.min(r.bottom, b.bottom) - Math.max(r.top, b.top) >= 3);
              if (hit) out.push(code.innerText.split("\\n")[0].slice(0, 60));
              code.scrollLeft = 0;
            }
          }
          return [...new Set(out)];
        }"""
    )
