"""The reader's view: every page of the built site in a real (headless) Chromium.

Playwright for Python (pytest-playwright) drives Debian's Chromium, found on PATH or through
``$CHROMIUM`` (Playwright's own browser download is not used). The site is the session's
strict build, served on 127.0.0.1. With ``NNBASICS_SCREENSHOTS=1`` (the GitHub workflow sets
it), screenshots of every page (desktop and phone) go to ``test-artifacts/screenshots/``,
which the workflow uploads.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pages
import pytest
from browser import (
    CHROMIUM_ARGS,
    HOST,
    TIMEOUT_MS,
    BrowserSetupError,
    broken_images,
    find_chromium,
    horizontal_overflow,
    raw_math,
    render_everything,
    search,
    serve,
    site_pages,
    site_prefix,
    watch,
)

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


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


def test_page_list_matches_the_build(built_site: Path):
    assert site_pages(built_site) == PAGE_IDS


def _copy_problems(page, name: str) -> list[str]:
    """The copy buttons whose click does not put exactly their block on the clipboard."""
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    # a block gets its button once it comes into view (the content.lazy feature)
    blocks = page.locator("article pre > code")
    for k in range(blocks.count()):
        blocks.nth(k).scroll_into_view_if_needed(timeout=TIMEOUT_MS)
    buttons = page.locator("button[data-md-type=copy]")
    if blocks.count():
        page.wait_for_function(
            "n => document.querySelectorAll('button[data-md-type=copy]').length >= n",
            arg=blocks.count(),
            timeout=TIMEOUT_MS,
        )
    count = buttons.count()
    if name.startswith(("perceptron", "activations", "training/")) and count == 0:
        return [f"{name}: no copy button"]
    wrong = []
    for k in range(count):
        target = buttons.nth(k).get_attribute("data-clipboard-target")
        expected = page.evaluate("t => document.querySelector(t).innerText", target)
        page.evaluate("() => navigator.clipboard.writeText('')")
        buttons.nth(k).click(force=True)
        page.wait_for_function(
            "() => navigator.clipboard.readText().then(t => t.length > 0)", timeout=TIMEOUT_MS
        )
        copied = page.evaluate("() => navigator.clipboard.readText()")
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
    """One load of each page: offline with no errors, math rendered, images loaded, Chinese
    ``lang``; no serious accessibility violation; every copy button copies exactly its block."""
    page, visit = _open(desktop, base_url + name)
    assert visit.problems() == []
    assert raw_math(page) == []
    assert broken_images(page) == []
    assert page.evaluate("document.documentElement.lang") == "zh"
    render_everything(page)  # full-page screenshot, contrast: every part laid out
    _shot(page, name, "desktop")
    assert _serious_violations(page) == []  # before the copy check opens every <details>
    assert _copy_problems(page, name) == []


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
    render_everything(page)
    assert horizontal_overflow(page) == 0, f"{name} is wider than 375 px"
    _shot(page, name, "phone")
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
SEARCHES = {
    "反向传播": "backprop/",
    "梯度消失": "backprop/",
    "梯度爆炸": "backprop/",
    "自动微分": "backprop/",
    "链式法则": "backprop/",
    "权重初始化": "init/",
    "Xavier": "init/",
    "感知机": "perceptron/",
    "感知器": "perceptron/",  # another translation: the search box says 感知机
    "XOR": "perceptron/",
    "激活函数": "activations/",
    "死神经元": "activations/",
    "ReLU": "activations/",
    "GELU": "activations/",
    "SiLU": "activations/",
    "万能逼近定理": "perceptron/",
    "权重衰减": "optimizers/",
    "AdamW": "optimizers/",
    "余弦退火": "optimizers/",
    "动量": "optimizers/",
    "学习率": "optimizers/",
    "RMSProp": "optimizers/",
    "Nesterov": "optimizers/",
    "学习率预热": "optimizers/",
    "warmup": "optimizers/",
    "标签平滑": "losses/",  # not the tags page (标签)
    "交叉熵": "losses/",
    "softmax": "activations/",  # the output activation; cross-entropy links to it
    "均方误差": "losses/",
    "CTC": "losses/",
    "KL 散度": "losses/",
    "最大似然": "losses/",
    "批量规范化": "batch-norm/",
    "批量归一化": "batch-norm/",  # another translation
    "BatchNorm": "batch-norm/",
    "滑动平均": "batch-norm/",
    "Dropout": "dropout/",
    "暂退法": "dropout/",
    "随机失活": "dropout/",  # another translation
    "过拟合": "overfitting/",
    "欠拟合": "overfitting/",
    "早停": "overfitting/",
    "测试集": "overfitting/",
    "梯度裁剪": "training/",
    "验证集": "training/",
    "检查点": "training-advanced/",
    "混合精度": "training-advanced/",
    "DDP": "training-advanced/",
    "术语表": "glossary/",
}


def _wrong_searches(page, base: str, queries: dict[str, str] = SEARCHES) -> list[str]:
    """The queries whose first result is not their page."""
    wrong = []
    for query, expected in queries.items():
        try:
            results = search(page, base, query)
        except Exception as exc:
            results = [f"no results ({type(exc).__name__})"]
        if not results or results[0] != base + expected:
            wrong.append(f"{query}: {results[:3]}")
    return wrong


def test_search_brings_the_defining_page_first(desktop, base_url: str):
    assert len(SEARCHES) >= 20
    assert _wrong_searches(desktop.new_page(), base_url) == []


def test_unknown_page_gets_the_chinese_404(desktop, base_url: str):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(base_url + "no-such-page/", timeout=10)
    assert err.value.code == 404
    page = desktop.new_page()
    visit = watch(page)
    response = page.goto(base_url + "no-such-page/", wait_until="load")
    assert response.status == 404
    assert "页面不存在" in page.inner_text("article")
    # the one console error a 404 response causes is the document's own status
    assert [e for e in visit.console_errors if "status of 404" not in e] == []
    assert visit.failed == [] and visit.external == []


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


def test_a_raw_formula_is_caught(browser, tmp_path: Path):
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="zh"><body><article><p>公式：$$\\frac{1}{2} x^2$$</p>'
        "<pre><code>$HOME 不算</code></pre></article></body></html>",
        encoding="utf-8",
    )
    with serve(tmp_path) as url:
        page = browser.new_page()
        page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
        found = raw_math(page)
        assert found and all("HOME" not in m for m in found)  # code blocks are not math
        page.close()


def test_an_aligned_derivation_lines_up_in_chromium(browser, tmp_path: Path):
    """``aligned`` as math-core renders it (docs/_plugins/math.py): the rows stack and their
    ``=`` signs share one left edge, as in LaTeX; no ``&`` is shown."""
    spec = importlib.util.spec_from_file_location("math_hook", ROOT / "docs/_plugins/math.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    latex = r"\begin{aligned} (a+b)^2 &= (a+b)(a+b) \\ &= a^2 + 2ab + b^2 \end{aligned}"
    mathml = hook.render_math(f'<div class="arithmatex">\\[{latex}\\]</div>')
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


def test_search_without_chinese_segmentation_is_caught(browser, built_site: Path, tmp_path: Path):
    broken = tmp_path / "site"
    shutil.copytree(built_site, broken)
    index_path = broken / "search" / "search_index.json"
    index = json.loads(index_path.read_text(encoding="utf-8"))
    index["config"]["separator"] = r"[\s\-]+"  # the default: no word boundaries inside Chinese
    for doc in index["docs"]:
        doc["text"] = doc["text"].replace("\u200b", "")
        doc["title"] = doc["title"].replace("\u200b", "")
    index_path.write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
    with serve(broken) as url:
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        few = {q: SEARCHES[q] for q in ("梯度消失", "标签平滑", "死神经元")}
        assert _wrong_searches(page, url, few), "the search check passed on an unsegmented index"
        page.close()


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
