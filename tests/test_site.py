"""The built site: strict build, article order, offline, math, Chinese search, the whole article."""

from __future__ import annotations

import html
import json
import re
import subprocess
import unicodedata
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest

from docsite import build, pages
from docsite.browser import RAW_MATH_PATTERNS, site_pages, site_prefix

ROOT = Path(__file__).resolve().parent.parent
SEED = Path(__file__).parent / "article" / "seed.txt"


def _h1(page: pages.Page) -> str:
    return next(
        line[2:].strip()
        for line in page.path.read_text("utf-8").splitlines()
        if line.startswith("# ")
    )


# (built file, title of its H1) of every Markdown page, in nav order (the page manifest)
PAGES = [(p.url + "index.html", _h1(p)) for p in pages.markdown_pages()]


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def _main_text(page: Path) -> str:
    """Visible text of the article body (no nav, no scripts), tags stripped."""
    doc = page.read_text(encoding="utf-8")
    m = re.search(r'<article class="md-content__inner[^"]*">(.*?)</article>', doc, re.S)
    body = m.group(1) if m else doc
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<math\b.*?</math>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_every_section_has_its_page_with_its_title(built_site: Path):
    # the built pages are exactly the manifest's (tests/test_browser.py opens each of them)
    assert site_pages(built_site) == sorted(p.url for p in pages.pages())
    for rel, title in PAGES:
        page = built_site / rel
        assert page.exists(), rel
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page.read_text(encoding="utf-8"), re.S)
        assert h1, rel
        assert title in html.unescape(re.sub(r"<[^>]+>", "", h1.group(1))), rel


def test_navigation_follows_the_article(built_site: Path):
    home = (built_site / "index.html").read_text(encoding="utf-8")
    nav = home[home.index('<nav class="md-nav md-nav--primary') :]
    links = re.findall(r'<a href="([^"#]*)" class="md-nav__link', nav)
    order = [re.sub(r"index\.html$|/$", "", link.lstrip("./")) for link in links]
    expected = [re.sub(r"/?index\.html$", "", rel) for rel, _ in PAGES]
    seen = list(dict.fromkeys(o for o in order if o in expected))
    assert seen == expected


def test_html_lang_is_chinese(built_site: Path):
    for page in _pages(built_site):
        assert '<html lang="zh"' in page.read_text(encoding="utf-8"), page


def test_every_code_block_can_be_scrolled_with_the_keyboard(built_site: Path):
    """Blocks are mounted by Material only once in view (content.lazy): each needs its tab stop
    from the build (docsite/render/a11y.py), whatever markup its block has (a title, a language)."""
    missing = []
    for page in _pages(built_site):
        doc = page.read_text(encoding="utf-8")
        for m in re.finditer(r'<div class="highlight">(.{0,300}?)<code([^>]*)>', doc, re.S):
            if 'tabindex="0"' not in m.group(2):
                missing.append(f"{page.relative_to(built_site)}: {m.group(1)[:80]}")
    assert missing == []


_RESOURCE = re.compile(
    r"<(script|link|img|iframe|source|video|audio|embed|object|track)\b[^>]*?"
    r"\b(src|href|data|srcset|poster)=[\"']?([^\"' >]+)",
    re.I,
)


def _external(url: str) -> bool:
    return bool(re.match(r"(?i)^(https?:)?//", url.strip()))


# web fonts and CDNs, wherever their host is named (an inline script, a preconnect hint)
_CDN_HOSTS = (
    "fonts.googleapis.com",
    "fonts.gstatic.com",
    "cdn.jsdelivr.net",
    "cdnjs.cloudflare.com",
    "polyfill.io",
)


def test_no_page_or_stylesheet_names_a_resource_on_the_network(built_site: Path):
    """No URL of another host in what the HTML and CSS load, and no web font or CDN host named
    at all. That no request leaves 127.0.0.1 when a page runs (its scripts included) is
    checked in Chromium (tests/test_browser.py, every page)."""
    offenders = []
    for page in _pages(built_site):
        doc = page.read_text(encoding="utf-8")
        for tag, attr, url in _RESOURCE.findall(doc):
            if _external(url) and not _is_link_only(doc, url):
                offenders.append(f"{page.relative_to(built_site)}: <{tag} {attr}={url}>")
    for css in built_site.rglob("*.css"):
        text = css.read_text(encoding="utf-8")
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", text) + re.findall(
            r"@import\s+['\"]([^'\"]+)", text
        ):
            if _external(url):
                offenders.append(f"{css.relative_to(built_site)}: {url}")
    for path in list(_pages(built_site)) + list(built_site.rglob("*.css")):
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(built_site)}: {h}" for h in _CDN_HOSTS if h in text]
    assert offenders == []


def _is_link_only(doc: str, url: str) -> bool:
    """<link rel="canonical"> and similar carry a URL but are never fetched."""
    for m in re.finditer(r"<link\b[^>]*>", doc):
        tag = m.group(0)
        if url in tag and re.search(r'rel="?(canonical|alternate|me|author)', tag):
            return True
    return False


def _raw_tex(doc: str) -> list[str]:
    """TeX source a reader would see in a page's article (formulas the build did not render):
    the text outside code, scripts and MathML, searched for docsite.browser's patterns."""
    m = re.search(r"<article\b[^>]*>(.*)</article>", doc, re.S)
    body = m.group(1) if m else doc
    body = re.sub(r"<(pre|code|script|style|math)\b.*?</\1>", " ", body, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", body))
    return [m.group(0)[:60] for p in RAW_MATH_PATTERNS if (m := re.search(p, text, re.M))]


def test_a_raw_formula_is_caught():
    doc = (
        '<!doctype html><html lang="zh"><body><article><p>公式：$$\\frac{1}{2} x^2$$</p>'
        "<pre><code>$HOME 不算</code></pre></article></body></html>"
    )
    found = _raw_tex(doc)
    assert found and all("HOME" not in m for m in found)  # code blocks are not math
    assert _raw_tex(doc.replace("$$", "")) == ["\\frac"]  # a bare command
    assert _raw_tex(doc.replace("$$\\frac{1}{2} x^2$$", "x")) == []


def test_math_is_rendered_to_mathml(built_site: Path):
    pages_with_math = 0
    for page in _pages(built_site):
        doc = page.read_text(encoding="utf-8")
        if 'class="arithmatex"' in doc:
            pages_with_math += 1
            assert "<math" in doc
        # inside the MathML, no TeX command or alignment "&" left as text for readers to see
        for math in re.findall(r"<math\b.*?</math>", doc, flags=re.S):
            shown = re.sub(r"<[^>]*>", "", math)
            assert not re.search(r"\\[a-zA-Z]+|&amp;(?![a-zA-Z]+;)", shown), f"{page}: {shown}"
        assert _raw_tex(doc) == [], f"raw LaTeX left in {page}"
    assert pages_with_math >= 7


def _unsegmented(index: dict) -> list[str]:
    """What shows that lunr would index whole lines, not words, in the search index."""
    problems = []
    if index["config"]["lang"] != ["zh"]:
        problems.append(f"lang {index['config']['lang']}")
    if "\\u200b" not in index["config"]["separator"]:
        problems.append(f"separator {index['config']['separator']!r}")
    text = "\n".join(doc["title"] + " " + doc["text"] for doc in index["docs"])
    # jieba inserted zero-width spaces between words, so lunr indexes words, not whole lines
    # (the glossary's terms are single words: tests/test_glossary.py)
    for word in ("神经元", "学习率", "梯度消失", "反向传播"):
        if f"\u200b{word}\u200b" not in text:
            problems.append(f"{word} is not a word of the index")
    return problems


def test_search_index_is_segmented_chinese(built_site: Path):
    """The index Chinese search needs (that search then finds each term's page: in Chromium,
    tests/test_browser.py)."""
    index = json.loads((built_site / "search" / "search_index.json").read_text("utf-8"))
    assert _unsegmented(index) == []
    # the index as Material writes it without the site's segmentation is caught
    index["config"]["separator"] = r"[\s\-]+"
    for doc in index["docs"]:
        doc["text"] = doc["text"].replace("\u200b", "")
        doc["title"] = doc["title"].replace("\u200b", "")
    assert len(_unsegmented(index)) == 5


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("“", '"').replace("”", '"').replace("。", ".").replace("、", ",")
    return re.sub(r"\s+", "", text).replace("\u200b", "")


def _article_statements() -> list[str]:
    """The seed's lines, cut where its lost line breaks glued code to the next heading."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    body = lines[4:-3]  # title/metadata lines above, contributors/changelog below
    pieces = []
    for line in body:
        pieces += [p for p in re.split(r"(?<=[\x21-\x7e])(?=[\u4e00-\u9fff])", line) if p.strip()]
    return pieces


def _found(statement: str, corpus: str) -> bool:
    if re.fullmatch(r"\|[-|\s]+\|", statement):  # a table's separator row
        return True
    if statement.startswith("|"):  # a table row: its cells, in order, as the rendered table
        cells = [c for c in statement.strip("|").split("|")]
        return _normalise("".join(cells)) in corpus
    m = re.fullmatch(r"def (\w+)\((.*)\):", statement)
    if m:  # a signature: the page may add type hints (`x: int`, `-> None`)
        params = []
        for param in m.group(2).split(","):
            name, _, default = param.strip().partition("=")
            params.append(
                re.escape(name) + r"(?::[^,=)]+)?" + (re.escape("=" + default) if default else "")
            )
        pattern = re.escape(f"def{m.group(1)}(") + ",".join(params) + r",?\)(?:->[^:]+)?:"
        return re.search(pattern, corpus) is not None
    return _normalise(statement) in corpus


class _Quotes(HTMLParser):
    """The text of a page's quotations of the article (``!!! quote "原文"``: a
    ``<div class="admonition quote">``), MathML and the quote's title left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # nesting of <div> inside the quote being read, 0 outside
        self.skip = 0  # inside <math> or the title
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "div" and self.depth:
            self.depth += 1
        elif tag == "div" and {"admonition", "quote"} <= set(classes):
            self.depth = 1
        elif self.depth and (tag == "math" or "admonition-title" in classes):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self.depth:
            self.depth -= 1
        elif self.skip and tag in {"math", "p"}:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if self.depth and not self.skip:
            self.parts.append(data)


def _quoted_text(page: Path) -> str:
    parser = _Quotes()
    parser.feed(page.read_text(encoding="utf-8"))
    return " ".join(parser.parts)


def test_the_article_page_is_the_whole_article(built_site: Path):
    corpus = _normalise(_main_text(built_site / "article" / "index.html"))
    statements = _article_statements()
    assert len(statements) > 150
    assert [s for s in statements if not _found(s, corpus)] == []


def test_the_chapters_quote_the_whole_article(built_site: Path):
    """Every sentence, table row and code line of the article is shown as a quotation (原文) on
    the site's own pages, each section in its chapter: the article's words are always marked."""
    corpus = _normalise(
        " ".join(
            _quoted_text(page)
            for page in _pages(built_site)
            if page.name == "index.html" and page.parent.name != "article"
        )
    )
    missing = [s for s in _article_statements() if not _found(s, corpus)]
    assert missing == []


def test_the_coverage_check_can_fail():
    corpus = _normalise("def forward(self, x: torch.Tensor) -> torch.Tensor: | a | b |")
    assert _found("def forward(self, x):", corpus)
    assert not _found("def forward(self, y):", corpus)
    assert not _found("感知机是最简单的神经网络单元", corpus)


def test_only_quotations_count_as_the_article(tmp_path: Path):
    page = tmp_path / "index.html"
    page.write_text(
        "<p>感知机是最简单的神经网络单元</p>"
        '<div class="admonition quote"><p class="admonition-title">原文</p>'
        "<p>激活函数引入非线性</p><div><p>ReLU</p></div></div><p>本站：更正</p>",
        encoding="utf-8",
    )
    corpus = _normalise(_quoted_text(page))
    assert corpus == _normalise("激活函数引入非线性 ReLU")
    assert not _found("感知机是最简单的神经网络单元", corpus)


def test_article_metadata_on_home_page(built_site: Path):
    text = _main_text(built_site / "index.html")
    lines = SEED.read_text(encoding="utf-8").splitlines()
    assert lines[0] in text  # 神经网络基础概念
    assert lines[3] in text  # 2025-08-28
    for tag in ("neural-network", "deep-learning"):
        assert tag in text


@pytest.mark.parametrize("rel", [rel for rel, _ in PAGES])
def test_each_page_has_a_description(built_site: Path, rel: str):
    doc = (built_site / rel).read_text(encoding="utf-8")
    m = re.search(r'<meta name="description" content="([^"]+)"', doc)
    assert m and len(m.group(1)) > 20


def test_site_url_sitemap_repository_link_and_chinese_404(built_site: Path):
    import yaml

    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    site_url = config["site_url"]
    assert site_url.startswith("https://") and site_url.endswith("/")
    assert config["repo_url"].startswith("https://github.com/")
    sitemap = (built_site / "sitemap.xml").read_text(encoding="utf-8")
    for page in ("", "perceptron/", "training/", "api/"):
        assert f"<loc>{site_url}{page}</loc>" in sitemap, page
    home = (built_site / "index.html").read_text(encoding="utf-8")
    assert f'href="{config["repo_url"]}"' in home
    assert 'data-md-component="source"' not in home  # no call to api.github.com
    # the 404 page (its lang: test_html_lang_is_chinese) is served at any unknown URL: its
    # stylesheets, scripts and images are addressed from the site's root, so they load there
    not_found = (built_site / "404.html").read_text(encoding="utf-8")
    assert "页面不存在" in _main_text(built_site / "404.html")
    prefix = site_prefix(ROOT / "mkdocs.yml")
    assets = [url for _, _, url in _RESOURCE.findall(not_found) if not url.startswith("data:")]
    assert assets and [url for url in assets if not url.startswith(prefix)] == []


def test_properdocs_builds_the_same_pages(built_site: Path, tmp_path: Path):
    """ProperDocs, the maintained fork of MkDocs 1.6, is one switch away (`make build
    DOCS=properdocs`): the site's plugin runs under it, and with the same config it builds the
    same pages, strict. Proven on one chapter (with the home page), which exercises every step
    of the plugin but the notebook; the figures come from the cache the full build filled."""
    config = build.one_page_config("dropout")
    result = subprocess.run(
        build.command(tmp_path, config, "properdocs"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"properdocs build --strict failed:\n{result.stderr}"
    theirs = _pages(tmp_path / "dropout")
    assert len(theirs) >= 4
    for page in theirs:
        name = page.relative_to(tmp_path)
        assert _main_text(built_site / name) == _main_text(page), name


# --- the notebook page, the API page, the page-info lines and the tags page -------------------


def _toc_links(doc: str) -> list[str]:
    """The anchors the page's table of contents links to (Material's nav: in the sidebar, and
    in the drawer on a phone), each once."""
    hrefs = re.findall(r'<a href="#([^"]*)" class="md-nav__link', doc)
    return list(dict.fromkeys(urllib.parse.unquote(html.unescape(h)) for h in hrefs))


def test_every_table_of_contents_link_lands_on_a_heading(built_site: Path):
    """On every page each entry of the table of contents names the id of a heading (the
    notebook page's Chinese headings once had empty ids: 6 of its 8 entries led nowhere)."""
    broken = []
    for page in _pages(built_site):
        doc = page.read_text(encoding="utf-8")
        ids = {html.unescape(i) for i in re.findall(r'<h[1-6][^>]*\bid="([^"]*)"', doc)}
        broken += [f"{page.relative_to(built_site)}: #{a}" for a in _toc_links(doc) if a not in ids]
    assert broken == []


# a Sphinx cross-reference role left as text (":func: to_svg")
RAW_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj|const):\s*[`\w~]")


def test_no_raw_sphinx_roles_in_any_page(built_site: Path):
    """No page's text shows a role such as ":func: to_svg" (mkdocstrings leaves the docstrings'
    roles as text); code blocks, which show the package's source as it is, are not text."""
    found = []
    for page in _pages(built_site):
        doc = re.sub(r"<pre\b.*?</pre>", " ", page.read_text(encoding="utf-8"), flags=re.S)
        m = re.search(r'<article class="md-content__inner[^"]*">(.*?)</article>', doc, re.S)
        text = html.unescape(re.sub(r"<[^>]+>", " ", m.group(1) if m else doc))
        where = page.relative_to(built_site)
        found += [f"{where}: {m.group(0)!r}" for m in RAW_ROLE.finditer(text)]
    assert found == []
    api = (built_site / "api" / "training" / "index.html").read_text(encoding="utf-8")
    # a role becomes code linked to the object's entry (:func:`fit` in nnbasics.training)
    assert '<a href="#nnbasics.training.fit"><code>fit</code></a>' in api


def test_api_contents_list_modules_and_members_and_no_word_count(built_site: Path):
    doc = (built_site / "api" / "training" / "index.html").read_text(encoding="utf-8")
    toc = _toc_links(doc)
    assert "nnbasics.training" in toc and "nnbasics.training.fit" in toc
    assert "nnbasics.training.History.epochs" not in toc  # a member's member: not listed
    assert len(toc) < 130
    meta = re.search(r'class="page-meta">(.*?)</p>', doc).group(1)
    assert "字" not in meta and "分钟" not in meta, meta  # the page is generated, not written


def test_page_history_speaks_to_readers(built_site: Path):
    """The end of a page says when it was last updated and links to its history on the
    repository; no commit message (written for maintainers) and nothing of either page-info
    line is page text for search."""
    import subprocess

    repo = "https://github.com/nnbasics/nnbasics/commits/main/docs/"
    for p in pages.markdown_pages():
        if p.src.startswith("api/") or p.src == "tags.md":
            continue
        doc = (built_site / p.url / "index.html").read_text(encoding="utf-8")
        subject = subprocess.run(
            ["git", "log", "-1", "--format=%s", "--", f"docs/{p.src}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if subject:
            assert html.escape(subject, quote=False) not in doc, p.src
        m = re.search(r'class="page-history">最后更新：(\d{4}-\d\d-\d\d) · <a href="([^"]+)"', doc)
        assert m and m.group(2) == repo + p.src, p.src
        assert "变更记录" not in doc, p.src
    index = json.loads((built_site / "search" / "search_index.json").read_text("utf-8"))
    text = "\n".join(d["text"] for d in index["docs"]).replace("\u200b", "")
    assert "最后更新" not in text and "创建于" not in text


def test_tags_page_lists_each_page_once(built_site: Path):
    doc = (built_site / "tags" / "index.html").read_text(encoding="utf-8")
    body = re.search(r'<article class="md-content__inner[^"]*">(.*?)</article>', doc, re.S).group(1)
    links = re.findall(r'<li>\s*<a href="([^"]+)"', body)
    listed = [urllib.parse.urljoin("tags/", h) for h in links]
    assert sorted(listed) == sorted(set(listed)), listed
    assert len(listed) >= 13  # every page with tags (the section pages, home, summary)
    # each tag a page shows still leads to its place on the tags page
    for tag in ("neural-network", "deep-learning"):
        assert f'id="tag:{tag}"' in body
        assert f'href="../tags/#tag:{tag}"' in (built_site / "losses" / "index.html").read_text(
            encoding="utf-8"
        )


def test_notebook_page_is_rendered_like_the_other_pages(built_site: Path):
    """The executed notebook's page: the site's code blocks (their colours in both palettes),
    no stylesheet of its own, each exercise's question before its answer, and an intro link
    named after the page it leads to."""
    doc = (built_site / "training-notebook" / "index.html").read_text(encoding="utf-8")
    body = re.search(r'<article class="md-content__inner[^"]*">(.*?)</article>', doc, re.S).group(1)
    assert "<style" not in body and "highlight-ipynb" not in body and "jp-" not in body
    assert (
        body.count('<div class="language-python highlight">')
        + body.count('<div class="highlight">')
        >= 5
    )
    text = html.unescape(re.sub(r"<[^>]+>", "", body))
    assert "练习 1：造两个参数的梯度" in text and "练习 2：" in text
    assert text.index("练习 1：") < text.index("参考答案") < text.index("练习 2：")
    source = pages.Page(pages.GENERATED["training-notebook.ipynb"], "", {})
    link = f'<a href="../{source.url}">逐行读懂原文的训练示例</a>'
    assert f"由网站页面 {link} 的代码块" in body


# ------------------------------------------------------------------ the math font


def font_gaps(site: Path) -> list[str]:
    """What the formulas of the built site show that the site's math font
    (``assets/fonts/nnbasics-math.woff``, docsite/render/mathml.py) has no glyph for: a character
    of a formula's text, the radical sign of a square root, the italic letter the browser shows
    for a one-letter identifier. Chinese inside ``\\text{}`` is left to the text font."""
    from fontTools.ttLib import TTFont

    cmap = TTFont(site / "assets" / "fonts" / "nnbasics-math.woff").getBestCmap()
    need: dict[str, str] = {}
    for page in _pages(site):
        for formula in re.findall(r"<math\b[^>]*>(.*?)</math>", page.read_text("utf-8"), re.S):
            where = page.parent.relative_to(site).as_posix()
            for char in html.unescape(re.sub(r"<[^>]+>", "", formula)):
                need.setdefault(char, where)
            if re.search(r"<m(sqrt|root)\b", formula):
                need.setdefault("\u221a", where)
            for letter in re.findall(r"<mi>([A-Za-z])</mi>", formula):
                italic = (
                    chr(0x210E)
                    if letter == "h"
                    else chr(
                        (0x1D434 if letter.isupper() else 0x1D44E) + ord(letter.lower()) - ord("a")
                    )
                )
                need.setdefault(italic, where)
    return [
        f"{where}: U+{ord(c):04X} {unicodedata.name(c, '?')}"
        for c, where in sorted(need.items())
        if ord(c) not in cmap
        and not c.isspace()
        and unicodedata.category(c)[0] != "C"
        and not "\ufe00" <= c <= "\ufe0f"  # a variation selector picks a glyph, has none
        and not (
            "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef"
        )
    ]


def test_the_math_font_has_every_glyph_the_formulas_show(built_site: Path):
    assert font_gaps(built_site) == []


def test_a_glyph_missing_from_the_math_font_is_caught(built_site: Path, tmp_path: Path):
    """The font without its radical sign (as first built: every square root lost its sign)."""
    import shutil

    from fontTools import subset

    site = tmp_path / "site"
    shutil.copytree(built_site, site)
    font = site / "assets" / "fonts" / "nnbasics-math.woff"
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    loaded = subset.load_font(str(font), options)
    keep = [c for c in loaded.getBestCmap() if c != 0x221A]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=keep)
    subsetter.subset(loaded)
    subset.save_font(loaded, str(font), options)
    assert any("SQUARE ROOT" in gap for gap in font_gaps(site))


def _old_pages() -> dict[str, list[str]]:
    data = json.loads((ROOT / "docs" / "_data" / "old-pages.json").read_text(encoding="utf-8"))
    return data["pages"]


def _forwarding(page_html: str) -> dict[str, str]:
    m = re.search(
        r"<!-- nnbasics: old anchors --><script>\(function\(\)\{var m=(\{.*?\});", page_html
    )
    return json.loads(m.group(1)) if m else {}


def test_every_old_url_opens_and_every_old_anchor_leads_to_its_heading(built_site: Path):
    """Links made before the pages became chapters of lessons: each old page's URL is its
    chapter's overview, and each of its old anchors is on that page or forwarded (by the
    overview's script, docsite/render/oldurls.py) to the page that has that heading now."""
    old = _old_pages()
    assert len(old) >= 17 and sum(map(len, old.values())) > 100
    broken = []
    forwarded = 0
    for url, anchors in old.items():
        page = built_site / url / "index.html"
        assert page.is_file(), f"{url} no longer opens"
        doc = page.read_text(encoding="utf-8")
        table = _forwarding(doc)
        for anchor in anchors:
            if f'id="{anchor}"' in doc and anchor not in table:
                continue
            if anchor not in table:
                broken.append(f"{url}#{anchor}: not on the page, not forwarded")
                continue
            forwarded += 1
            target, _, new_anchor = table[anchor].partition("#")
            path = (built_site / url / target / "index.html").resolve()
            if not path.is_file() or f'id="{new_anchor}"' not in path.read_text("utf-8"):
                broken.append(f"{url}#{anchor} -> {table[anchor]}: no such heading")
    assert broken == []
    assert forwarded > 50  # the sections of the old pages are in lessons now
