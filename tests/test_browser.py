"""The reader's view: every page of the built site in a real (headless) Chromium.

Only what needs a browser is checked here: the requests a page makes when it runs, layout,
accessibility, scripts (search, copy buttons, forwarding). What is in the built HTML itself
is checked in tests/test_site.py and tests/test_chapters.py, once: the list of pages, raw
TeX, alt text, ``lang``, the 404 page, the search index's segmentation.

Playwright for Python (pytest-playwright) drives Debian's Chromium, found on PATH or through
``$CHROMIUM`` (Playwright's own browser download is not used). The site is the session's
strict build, served on 127.0.0.1. With ``NNBASICS_SCREENSHOTS=1`` (the GitHub workflow sets
it), screenshots of every page (desktop and phone) go to ``test-artifacts/screenshots/``,
which the workflow uploads.
"""

from __future__ import annotations

import html
import json
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from docsite import glossary, pages
from docsite.browser import (
    CHROMIUM_ARGS,
    HOST,
    TIMEOUT_MS,
    BrowserSetupError,
    block_overflow,
    broken_images,
    covered_text,
    find_chromium,
    formula_problems,
    horizontal_overflow,
    search,
    serve,
    site_prefix,
    unmarked_outputs,
    watch,
)
from docsite.render import mathml as mathml_step
from docsite.render import searchindex

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


# every page of the nav (the page manifest), as a URL relative to the site root
PAGE_IDS = sorted(p.url for p in pages.pages())


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    try:
        path = find_chromium()
    except BrowserSetupError as exc:
        pytest.fail(str(exc), pytrace=False)
    return {
        **browser_type_launch_args,
        "executable_path": path,
        "args": CHROMIUM_ARGS,
        "timeout": 30_000,
    }


@pytest.fixture(scope="session")
def base_url(built_site: Path):
    try:
        with serve(built_site, prefix=site_prefix(ROOT / "mkdocs.yml")) as url:
            yield url
    except BrowserSetupError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def desktop(browser):
    context = browser.new_context(
        viewport=DESKTOP, color_scheme="light", permissions=["clipboard-read", "clipboard-write"]
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, color_scheme="light"
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    yield context
    context.close()


def _shot(page, name: str, kind: str) -> None:
    """A full-page screenshot, when ``NNBASICS_SCREENSHOTS`` is set (the GitHub workflow sets it
    and uploads them; a tall page at phone resolution takes seconds to encode)."""
    if not os.environ.get("NNBASICS_SCREENSHOTS"):
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    stem = name.strip("/").replace("/", "-") or "home"
    page.screenshot(path=str(SHOTS / f"{stem}-{kind}.png"), full_page=True, timeout=TIMEOUT_MS)


def _open(context, url: str):
    page = context.new_page()
    visit = watch(page)
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    return page, visit


# the code blocks that get a copy button: not the outputs (docsite/render/outputs.py)
COPYABLE = "article :not(.no-copy) > pre > code"


def _wait_for_copy_buttons(page) -> None:
    """Wait until every code block that comes into view has its copy button (content.lazy)."""
    page.wait_for_function(
        "s => document.querySelectorAll('button[data-md-type=copy]').length"
        " >= document.querySelectorAll(s).length",
        arg=COPYABLE,
        timeout=TIMEOUT_MS,
    )


def _copy_problems(page, name: str) -> list[str]:
    """The copy buttons whose click does not put exactly their block on the clipboard."""
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    # a block gets its button once it comes into view (the content.lazy feature)
    blocks = page.locator("article pre > code")
    for k in range(blocks.count()):
        blocks.nth(k).scroll_into_view_if_needed(timeout=TIMEOUT_MS)
    buttons = page.locator("button[data-md-type=copy]")
    _wait_for_copy_buttons(page)
    count = buttons.count()
    coded = ("perceptron/weighted-sum", "activations/relu", "training/fit")
    if name.startswith(coded) and not count:
        return [f"{name}: no copy button"]
    wrong = []
    for k in range(count):
        target = buttons.nth(k).get_attribute("data-clipboard-target")
        expected = page.evaluate("t => document.querySelector(t).innerText", target)
        page.evaluate("() => navigator.clipboard.writeText('')")
        # in the middle of the window: at its top edge, Material's sticky header takes the click
        buttons.nth(k).evaluate("b => b.scrollIntoView({block: 'center'})")
        buttons.nth(k).click(force=True)
        # the copy lands a moment after the click: poll (a predicate returning a promise
        # would be truthy at once, and read the clipboard before the copy on a loaded machine)
        copied = ""
        for _ in range(TIMEOUT_MS // 100):
            copied = page.evaluate("() => navigator.clipboard.readText()")
            if copied:
                break
            page.wait_for_timeout(100)
        if copied.rstrip("\n") != expected.rstrip("\n"):
            wrong.append(f"{name} block {k} ({target}): copied {copied[:60]!r}")
    return wrong


def _serious_violations(page) -> list[str]:
    """axe-core's serious and critical accessibility violations on the page."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("name", PAGE_IDS)
def test_page_on_a_desktop(desktop, base_url: str, name: str):
    """One load of each page: no request leaves 127.0.0.1, no error, every image loaded; no
    serious accessibility violation; every copy button copies exactly its block."""
    page, visit = _open(desktop, base_url + name)
    assert visit.problems() == []
    # (alt text is in the HTML: tests/test_chapters.py checks it on every page)
    assert [p for p in broken_images(page) if not p.startswith("no alt text")] == []
    _shot(page, name, "desktop")
    assert _serious_violations(page) == []  # before the copy check opens every <details>
    assert _copy_problems(page, name) == []
    # every part is laid out and every block has its copy button now
    assert formula_problems(page, fit=True) == []
    assert unmarked_outputs(page) == []
    assert block_overflow(page) == []  # 100-character lines fit the column
    assert covered_text(page) == []


def test_light_dark_toggle_switches_the_palette(desktop, base_url: str):
    page, _ = _open(desktop, base_url)
    scheme = "document.body.getAttribute('data-md-color-scheme')"
    assert page.evaluate(scheme) == "default"
    page.locator("form[data-md-component=palette] label:not([hidden])").click()
    page.wait_for_function(f"() => {scheme} === 'slate'", timeout=TIMEOUT_MS)
    page.locator("form[data-md-component=palette] label:not([hidden])").click()
    page.wait_for_function(f"() => {scheme} === 'default'", timeout=TIMEOUT_MS)


@pytest.mark.parametrize("name", PAGE_IDS)
def test_phone_width_drawer_opens_and_nothing_overflows(phone, base_url: str, name: str):
    page, visit = _open(phone, base_url + name)
    assert visit.problems() == []
    assert horizontal_overflow(page) == 0, f"{name} is wider than {PHONE['width']} px"
    assert formula_problems(page, fit=True) == []
    _shot(page, name, "phone")
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    for k in range(page.locator("article pre > code").count()):  # each gets its copy button
        page.locator("article pre > code").nth(k).scroll_into_view_if_needed(timeout=TIMEOUT_MS)
    _wait_for_copy_buttons(page)
    assert covered_text(page) == []
    page.evaluate("() => window.scrollTo(0, 0)")
    page.locator("label.md-header__button[for=__drawer]").click()
    page.wait_for_function("() => document.getElementById('__drawer').checked", timeout=TIMEOUT_MS)
    nav = page.locator(".md-sidebar--primary")
    page.wait_for_function(
        "() => document.querySelector('.md-sidebar--primary').getBoundingClientRect().left >= 0",
        timeout=TIMEOUT_MS,
    )
    assert nav.is_visible()


# what a Chinese learner types (terms, English names, other translations) -> the page that
# defines it, which must come first (never the API reference or the glossary)
def _url(src: str) -> str:
    return pages.Page(src, "", {}).url


# every term of the glossary, and each other name a reader may know it by: its defining page
# first (docs/_data/glossary.yml names it)
SEARCHES = {
    name: _url(term.page)
    for term in glossary.terms()
    for name in (term.zh, *term.variants)
    if name.strip()
}
# names that are not glossary terms: a page of their chapter first
CHAPTER_SEARCHES = {
    "XOR": "perceptron/",
    "ReLU": "activations/",
    "GELU": "activations/",
    "SiLU": "activations/",
    "softmax": "activations/",
    "AdamW": "optimizers/",
    "RMSProp": "optimizers/",
    "Nesterov": "optimizers/",
    "warmup": "optimizers/",
    "CTC": "losses/",
    "BatchNorm": "batch-norm/",
    "Dropout": "dropout/",
    "DDP": "training-advanced/",
    "术语表": "glossary/",
    "链式法则": "backprop/",
    "余弦退火": "optimizers/",
}


def _wrong_searches(
    page, base: str, queries: dict[str, str] = SEARCHES, *, prefix: bool = False
) -> list[str]:
    """The queries whose first result is not their page (with ``prefix``: not a page under
    their chapter's URL)."""
    wrong = []
    for query, expected in queries.items():
        try:
            results = search(page, base, query)
        except Exception as exc:
            results = [f"no results ({type(exc).__name__})"]
        first = results[0] if results else ""
        if not (first.startswith(base + expected) if prefix else first == base + expected):
            wrong.append(f"{query}: {results[:3]}")
    return wrong


def test_search_brings_the_defining_page_first(desktop, base_url: str):
    assert len(SEARCHES) >= 60
    page = desktop.new_page()
    assert _wrong_searches(page, base_url) == []
    assert _wrong_searches(page, base_url, CHAPTER_SEARCHES, prefix=True) == []


# ------------------------------------------------------------------ the checks can fail


def test_a_page_that_calls_another_host_is_caught(browser, tmp_path: Path):
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="zh"><body><article><p>外部图片</p>'
        '<img src="http://example.invalid/x.png" alt="x"></article></body></html>',
        encoding="utf-8",
    )
    with serve(tmp_path) as url:
        page = browser.new_page()
        visit = watch(page)
        page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
        assert visit.external == ["http://example.invalid/x.png"]
        assert any("not loaded" in p for p in broken_images(page))
        page.close()


def test_an_aligned_derivation_lines_up_in_chromium(browser, tmp_path: Path):
    """``aligned`` as math-core renders it (docsite/render/mathml.py): the rows stack and their
    ``=`` signs share one left edge, as in LaTeX; no ``&`` is shown."""
    latex = r"\begin{aligned} (a+b)^2 &= (a+b)(a+b) \\ &= a^2 + 2ab + b^2 \end{aligned}"
    mathml = mathml_step.render_math(f'<div class="arithmatex">\\[{latex}\\]</div>')
    (tmp_path / "index.html").write_text(
        f'<!doctype html><html lang="zh"><body><article>{mathml}</article></body></html>',
        encoding="utf-8",
    )
    with serve(tmp_path) as url:
        page = browser.new_page()
        page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
        boxes = page.eval_on_selector_all(
            "mo",
            """els => els.filter(e => e.textContent === "=").map(e => {
                const r = e.getBoundingClientRect(); return [r.left, r.top, r.width]; })""",
        )
        text = page.inner_text("article")
        _shot(page, "aligned-derivation", "desktop")
        page.close()
    assert len(boxes) == 2, boxes
    (left1, top1, width1), (left2, top2, _) = boxes
    assert width1 > 0 and abs(left1 - left2) < 1, boxes  # one column of "="
    assert top2 > top1 + 5, boxes  # two rows
    assert "&" not in text and "\\" not in text


def test_server_fails_clearly_without_a_site_or_a_free_port(tmp_path: Path, built_site: Path):
    with pytest.raises(BrowserSetupError, match="no built site"), serve(tmp_path):
        pass
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        expected = pytest.raises(BrowserSetupError, match=f"cannot serve the site on {HOST}:{port}")
        with expected, serve(built_site, port):
            pass


def test_missing_chromium_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "nowhere"))
    with pytest.raises(BrowserSetupError, match="not an executable"):
        find_chromium()
    monkeypatch.delenv("CHROMIUM")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrowserSetupError, match="apt-get install chromium"):
        find_chromium()


# ------------------------------------------------------------------ search results, tables, notes


def _query_box(page) -> tuple[str, int]:
    """The search box's value and the position of its cursor."""
    return page.evaluate(
        "() => { const b = document.querySelector('input.md-search__input');"
        " return [b.value, b.selectionStart]; }"
    )


def test_a_word_typed_in_the_middle_of_a_query_stays_where_it_was_typed(desktop, base_url: str):
    """A reader types 混合训练, puts the cursor back between 混合 and 训练 and types 精度: the box
    shows 混合精度训练 with the cursor after 精度 (javascripts/search-segment.js segments only
    the query the search worker gets, never the box), and the lesson about it is found."""
    page = desktop.new_page()
    search(page, base_url, "混合训练")  # loads the vocabulary; a first query is answered
    box = page.locator("input.md-search__input")
    for key in ("End", "ArrowLeft", "ArrowLeft"):
        box.press(key)
    box.press_sequentially("精度")
    assert _query_box(page) == ["混合精度训练", 4]
    box.press("Shift")  # a key event without a character: Material searches the box's value
    assert _query_box(page) == ["混合精度训练", 4]
    # two words of the index in one run (the worker once found nothing for it): the lesson
    # on mixed precision is among the first two results (训练模式's lesson, a glossary term
    # beginning 训练, may come first)
    page.wait_for_function(
        """() => [...document.querySelectorAll("li.md-search-result__item > a")].slice(0, 2)
                   .some(a => a.href.includes("/training-advanced/amp/"))""",
        timeout=TIMEOUT_MS,
    )


# formulas laid out in two dimensions (a fraction, a root, limits, a matrix): their text run
# together is no reading of them
TWO_DIMENSIONAL = re.compile(r"<(mfrac|msqrt|mroot|munder|mover|munderover|mtable)\b")


def _run_together(text: str) -> str:
    return re.sub(r"[\s\u200b]+", "", text)


def _formula_texts(site: Path) -> set[str]:
    """The text of each two-dimensional formula of the site as the browser reads it out of its
    MathML (a fraction's numerator and denominator run together): six characters or more, one
    of them no code has (a Greek letter, ∑, −), and not also the text of a one-line formula
    ((√κ−1)/(√κ+1) reads as (κ−1)/(κ+1), which is a formula of its own)."""
    flat, texts = set(), set()
    for page in site.rglob("index.html"):
        for formula in re.findall(r"<math\b[^>]*>(.*?)</math>", page.read_text("utf-8"), re.S):
            text = _run_together(html.unescape(re.sub(r"<[^>]+>", "", formula)))
            if not TWO_DIMENSIONAL.search(formula):
                flat.add(text)
            elif len(text) >= 6 and re.search(r"[^\x00-\x7f]", text):
                texts.add(text)
    return texts - flat


PREVIEW_QUERIES = ("交叉熵", "最大似然", "softmax", "梯度消失", "权重初始化", "AdamW", "批量规范化")


def _formulas_in_previews(page, base: str, formulas: set[str]) -> list[str]:
    """Formulas shown as run-together symbols in the result previews of PREVIEW_QUERIES."""
    found = []
    for query in PREVIEW_QUERIES:
        search(page, base, query)
        previews = page.eval_on_selector_all(
            "article.md-search-result__article", "els => els.map(e => e.textContent)"
        )
        for text in map(_run_together, previews):
            found += [f"{query}: {f[:50]}" for f in formulas if f in text]
    return found


def test_search_previews_show_no_formula_as_run_together_symbols(
    desktop, base_url: str, built_site: Path
):
    """Result previews never show a formula's symbols run together ("L=−1N∑i=1Nlog…"):
    docsite/render/searchindex.py indexes such a formula as "…"."""
    formulas = _formula_texts(built_site)
    assert len(formulas) > 100
    assert _formulas_in_previews(desktop.new_page(), base_url, formulas) == []


def test_search_results_have_no_tag_chips_and_never_the_tags_page(desktop, base_url: str):
    """Every page has the same tags, so results carry no tag chips; the tags page is no result
    (not even for 标签, its title)."""
    page = desktop.new_page()
    for query in ("标签", "neural-network", "交叉熵"):
        assert base_url + "tags/" not in search(page, base_url, query), query
        assert page.locator(".md-search-result .md-tag").count() == 0, query


TABLE_PROBLEMS_JS = """() => [...document.querySelectorAll("article table")].flatMap(table => {
  const name = (table.querySelector("th")?.textContent || "table").trim();
  const wrap = table.closest(".md-typeset__scrollwrap") || table.parentElement;
  const out = [];
  for (const cell of table.querySelectorAll("th, td"))
    if (cell.scrollWidth > cell.clientWidth + 1)
      out.push(`${name}: cell cut off: ${cell.textContent.trim().slice(0, 40)}`);
  for (const code of table.querySelectorAll("code")) {
    // a line break between two word characters: "BCEWithLogitsLo" + "ss"
    const range = document.createRange();
    const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    let top = null, previous = "";
    while (walker.nextNode()) {
      const text = walker.currentNode.data;
      for (let i = 0; i < text.length; i++) {
        range.setStart(walker.currentNode, i);
        range.setEnd(walker.currentNode, i + 1);
        const box = range.getClientRects()[0];
        if (!box) continue;
        if (top !== null && box.top > top + 2 && /\\w/.test(previous) && /\\w/.test(text[i]))
          out.push(`${name}: code broken inside a word: ${code.textContent}`);
        top = box.top;
        previous = text[i];
      }
    }
  }
  if (wrap.scrollWidth > wrap.clientWidth + 1) {
    const style = getComputedStyle(wrap);
    if (!/auto|scroll/.test(style.overflowX))
      out.push(`${name}: ${wrap.scrollWidth} px wide in ${wrap.clientWidth} px, cut off`);
    else if (!/radial-gradient/.test(style.backgroundImage))
      out.push(`${name}: ${wrap.scrollWidth} px wide in ${wrap.clientWidth} px, no scroll cue`);
  }
  return out;
})"""


def _table_problems(context, base: str, names: list[str]) -> list[str]:
    """On each page: table cells cut off, code in a cell broken inside an identifier, a table
    wider than the screen that does not scroll or shows no shadow at the edge that scrolls."""
    problems = []
    for name in names:
        page, _ = _open(context, base + name)
        problems += [f"{name or 'home'}: {p}" for p in page.evaluate(TABLE_PROBLEMS_JS)]
        page.close()
    return problems


def test_every_table_is_readable_on_a_phone(phone, base_url: str, built_site: Path):
    names = [n for n in PAGE_IDS if "<table" in (built_site / n / "index.html").read_text("utf-8")]
    assert {"glossary/", "summary/", "losses/"} <= set(names)
    assert _table_problems(phone, base_url, names) == []


def _footnote_order(page_html: str) -> list[int]:
    """A page's footnote numbers in the order of their first reference."""
    refs = re.findall(r'<a class="footnote-ref" href="#fn:[^"]+"[^>]*>(\d+)</a>', page_html)
    return list(dict.fromkeys(map(int, refs)))


def test_footnotes_are_numbered_in_reading_order(built_site: Path):
    orders = {
        n: _footnote_order((built_site / n / "index.html").read_text("utf-8")) for n in PAGE_IDS
    }
    assert any(orders.values())
    assert {n: o for n, o in orders.items() if o != list(range(1, len(o) + 1))} == {}


def test_the_pitfalls_of_a_lesson_are_in_its_table_of_contents(built_site: Path):
    page_html = (built_site / "training-advanced" / "ddp-details" / "index.html").read_text("utf-8")
    toc = page_html[page_html.index('class="md-nav md-nav--secondary"') :]
    pitfalls = re.search(r'<nav class="md-nav" aria-label="常见坑">(.*?)</nav>', toc, re.S)
    assert pitfalls, "常见坑 has no entries in the table of contents"
    assert len(re.findall(r'class="md-nav__link"', pitfalls.group(1))) >= 3


# ------------------------------------ notebook buttons, the page-info line, tables of contents

# each matching element's text colour against what lies behind it (the first ancestor with a
# background; a translucent text colour blended over it): contrast ratio and font size
CONTRAST_JS = """(selector) => {
  const rgba = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((s, v, k) => s + v * [0.2126, 0.7152, 0.0722][k], 0);
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = rgba(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || c[3] > 0) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(selector)].filter(e => e.offsetParent).map(e => {
    const style = getComputedStyle(e), bg = background(e), c = rgba(style.color);
    const a = c.length > 3 ? c[3] : 1;
    const fg = [0, 1, 2].map(k => c[k] * a + bg[k] * (1 - a));
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return {text: e.textContent.trim().slice(0, 30), ratio: (hi + 0.05) / (lo + 0.05),
            size: parseFloat(style.fontSize)};
  });
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_notebook_buttons_and_page_info_line_are_readable(browser, base_url: str, scheme: str):
    """The notebook buttons ("下载 Notebook", "查看执行后的 Notebook") have >= 4.5:1 contrast in
    both palettes (in the dark one they were #4051b5 on #1e2129, 2.35:1); the page-info line
    under the title is secondary (smaller than the body text) and still >= 4.5:1."""
    context = browser.new_context(viewport=DESKTOP, color_scheme=scheme)
    context.set_default_timeout(TIMEOUT_MS)
    problems = []
    for name in ("training/full-example/", "training-notebook/", "losses/regression/"):
        page, _ = _open(context, base_url + name)
        buttons = page.evaluate(CONTRAST_JS, ".md-typeset .md-button")
        assert buttons or name != "training/full-example/", f"{name}: no notebook button"
        problems += [f"{name} {b['text']}: {b['ratio']:.2f}:1" for b in buttons if b["ratio"] < 4.5]
        body = page.evaluate(CONTRAST_JS, "article p:not([class])")[0]["size"]
        for line in page.evaluate(CONTRAST_JS, ".page-meta, .page-history"):
            if line["ratio"] < 4.5 or line["size"] >= body:
                problems.append(f"{name} {line['text']}: {line['ratio']:.2f}:1, {line['size']} px")
        page.close()
    context.close()
    assert problems == []


def test_api_contents_entries_are_not_cut_off(desktop, phone, base_url: str):
    """An entry of the API page's table of contents too long for the sidebar wraps; none ends
    in an ellipsis (binary_cross_entropy_with_logits did), on a desktop or in a phone's drawer."""
    cut = """() => [...document.querySelectorAll(".md-nav .md-ellipsis")]
      .filter(e => e.offsetParent && e.scrollWidth > e.clientWidth + 1)
      .map(e => e.textContent.trim())"""
    for context in (desktop, phone):
        page, _ = _open(context, base_url + "api/functional/")
        assert page.evaluate(cut) == []
        page.close()


def test_the_search_index_hook_reads_formulas_and_merges_repeated_locations():
    """docsite/render/searchindex.py on small inputs: a one-line formula as its line, a
    fraction as "…"; one entry per location, no tags, no tags page."""
    hook = searchindex
    line = "<msup><mi>w</mi><mo>⊤</mo></msup><mi>x</mi><mo>+</mo><msub><mi>b</mi><mn>1</mn></msub>"
    assert hook.formula_text(line) == "w⊤x+b₁"
    assert hook.formula_text("<mi>log</mi><mo>&ApplyFunction;</mo><mn>2</mn>") == "log 2"
    assert hook.formula_text("<mfrac><mn>1</mn><mi>N</mi></mfrac>") == "…"
    page = '<p>概率 <span class="arithmatex"><math alttext="p"><mi>p</mi></math></span></p>'
    assert hook.index_html(page) == '<p>概率 <span class="arithmatex">p</span></p>'
    docs = [
        {"location": "a/", "title": "A", "text": "one", "tags": ["x"]},
        {"location": "a/", "title": "B¶", "text": "two", "tags": ["x"]},
        {"location": "tags/", "title": "标签", "text": "", "tags": []},
    ]
    assert hook.tidy({"config": {}, "docs": docs})["docs"] == [
        {"location": "a/", "title": "A", "text": "one <p>B</p> two"}
    ]


# ------------------------------------------------------------------ the page as the reader sees it


@pytest.fixture
def dark(browser):
    context = browser.new_context(viewport=DESKTOP, color_scheme="dark")
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.mark.parametrize("name", PAGE_IDS)
def test_page_in_dark_mode(dark, base_url: str, name: str):
    """The dark palette (a reader whose system is dark gets it): no serious accessibility
    violation, contrast included, with every <details> open."""
    page, visit = _open(dark, base_url + name)
    assert visit.problems() == []
    assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate"
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    _shot(page, name, "dark")
    assert _serious_violations(page) == []


def test_figures_in_the_browser(browser, built_site: Path):
    """Each figure shows the palette's variant at the right size and enlarges on a tap
    (tests/test_plot.py: check_in_browser)."""
    from test_plot import check_in_browser

    assert check_in_browser(built_site, browser) == []


# what the landed site had before the reader-view work: MathML children laid out as blocks,
# outputs like code, code without room for the copy button
OLD_CSS = """
.md-typeset div.arithmatex math { display: block; }
.md-typeset pre > code { padding: .77em 1.18em; }
"""


def test_the_layout_checks_fail_on_the_old_markup_and_css(desktop, phone, base_url: str):
    """Each reader-view check finds the problems of the landed site: formulas one symbol per
    line, outputs with no label and a copy button, copy buttons on the end of a code line, code
    wider than the column (the contents back in a right sidebar)."""
    page, _ = _open(desktop, base_url + "losses/cross-entropy/")
    assert formula_problems(page, fit=True) == []
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    for k in range(page.locator("article pre > code").count()):  # every copy button mounted
        page.locator("article pre > code").nth(k).scroll_into_view_if_needed(timeout=TIMEOUT_MS)
    _wait_for_copy_buttons(page)
    page.add_style_tag(content=OLD_CSS)
    assert any("tall" in p for p in formula_problems(page))
    page.evaluate(
        """() => document.querySelectorAll(".nb-output").forEach(o => {
             o.previousElementSibling.remove();
             o.classList.remove("nb-output", "no-copy"); })"""
    )
    assert len(unmarked_outputs(page)) >= 5
    page.evaluate("() => document.querySelector('.md-content').style.maxWidth = '700px'")
    assert any(b["kind"] == "code" for b in block_overflow(page))
    # a first line as long as the old outputs' (which had a copy button on them)
    page.evaluate(
        """() => document.querySelector("article :not(.no-copy) > pre > code")
                   .prepend("# " + "一行很长的输出 ".repeat(30) + "\\n")"""
    )
    assert covered_text(page) != []
    page.close()
    page, _ = _open(phone, base_url + "losses/cross-entropy/")
    page.add_style_tag(content=".md-typeset div.arithmatex { background: none; }")
    page.evaluate("() => document.querySelector('div.arithmatex math').style.minWidth = '600px'")
    assert any("no scroll cue" in p for p in formula_problems(page))
    assert any("wide" in p for p in formula_problems(page, fit=True))
    page.close()


def test_a_table_of_prose_needs_no_sideways_scrolling_on_a_phone(phone, base_url: str):
    """The glossary and the summary (tables whose cells hold sentences) read as cards on a
    phone (docsite/render/tables.py): nothing to scroll, every 定义 on the screen. On the landed
    site the glossary was 560 px wide on a 390 px screen."""
    for name in ("glossary/", "summary/"):
        page, _ = _open(phone, base_url + name)
        widths = page.eval_on_selector_all(
            "article table[data-nb-cards]",
            "ts => ts.map(t => [t.scrollWidth, t.parentElement.clientWidth,"
            " t.getBoundingClientRect().right])",
        )
        assert widths, name
        for width, box, right in widths:
            assert width <= box + 1 and right <= PHONE["width"], (name, width, box, right)
        page.close()


def test_an_old_link_to_a_section_lands_on_its_lesson(desktop, base_url: str, built_site: Path):
    """A link made before the split (``losses/#anchor``) opens the overview, whose script goes on
    to the lesson with that heading (docsite/render/oldurls.py): one old anchor of each old page."""
    data = json.loads((ROOT / "docs" / "_data" / "old-pages.json").read_text(encoding="utf-8"))
    page = desktop.new_page()
    checked, wrong = 0, []
    for url, anchors in data["pages"].items():
        doc = (built_site / url / "index.html").read_text(encoding="utf-8")
        moved = [a for a in anchors if f'id="{a}"' not in doc]
        if not moved:
            continue
        anchor = moved[0]
        start = f"{base_url}{url}#{urllib.parse.quote(anchor)}"
        page.goto(start, wait_until="load")
        # the script replaces the address: another page, or another anchor of this one
        page.wait_for_function(f"location.href !== {json.dumps(start)}", timeout=TIMEOUT_MS)
        page.wait_for_load_state("load")
        target = urllib.parse.unquote(urllib.parse.urlparse(page.url).fragment)
        if page.evaluate("(id) => !!document.getElementById(id)", target) is not True:
            wrong.append(f"{url}#{anchor} -> {page.url}")
        checked += 1
    assert wrong == []
    assert checked >= 10
