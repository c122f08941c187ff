"""Each chapter, on the built site: formulas, a figure drawn by nnbasics.plot, from-scratch code
with a PyTorch check, pitfalls and exercises; and what the build adds to every page: notebooks,
the API reference, tags, word counts, dates and change logs."""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from docsite import markdown, pages, runs

ROOT = Path(__file__).resolve().parent.parent
# the article's sections, from the page manifest (mkdocs.yml's nav + `section: true`)
SECTION_PAGES = [p.url.rstrip("/") for p in pages.section_pages()]
# the chapters that teach a concept (not 训练进阶, which teaches tools): each has every part
CHAPTERS = [
    c
    for c in dict.fromkeys(p.chapter for p in pages.markdown_pages() if p.chapter)
    if c != "training-advanced"
]


def _hook(name: str):
    return importlib.import_module(f"docsite.render.{name}")


class _Page(HTMLParser):
    """Images, headings, links, titled code blocks and <details> of a page's article."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.headings: list[str] = []
        self.links: list[str] = []
        self.code_titles: list[str] = []
        self.details_with_code = 0
        self.math_blocks = 0
        self._heading: list[str] | None = None
        self._details = 0
        self._details_code = False
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append({k: v or "" for k, v in a.items()})
        elif tag in ("h2", "h3"):
            self._heading = []
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "span" and a.get("class") == "filename":
            self._in_title = True
        elif tag == "math" and a.get("display") == "block":
            self.math_blocks += 1
        elif tag == "details":
            self._details += 1
            self._details_code = False
        elif tag == "code" and self._details:
            self._details_code = True

    def handle_endtag(self, tag):
        if tag in ("h2", "h3") and self._heading is not None:
            self.headings.append("".join(self._heading).strip().rstrip("¶").strip())
            self._heading = None
        elif tag == "span":
            self._in_title = False
        elif tag == "details" and self._details:
            self._details -= 1
            self.details_with_code += self._details_code

    def handle_data(self, data):
        if self._heading is not None:
            self._heading.append(data)
        if self._in_title:
            self.code_titles.append(data.strip())


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_has_all_parts(built_site: Path, chapter: str):
    """Across its lessons, a chapter has a displayed formula, a figure, the package's source, a
    从零实现 part with a check against PyTorch, pitfalls, exercises with solutions, an API link."""
    lessons = pages.chapter_pages(chapter)
    assert len(lessons) >= 3, "an overview and at least two lessons"
    parsed = [_parse(built_site / p.url / "index.html") for p in lessons]
    headings = [h for page in parsed for h in page.headings]
    summaries = [p.url for p, page in zip(lessons, parsed, strict=True) if "小结" in page.headings]
    assert summaries == [p.url for p in lessons if p.lesson], "a lesson without 小结"
    assert sum(page.math_blocks for page in parsed) >= 1, "no displayed formula"
    images = [img for page in parsed for img in page.images]
    assert any("/figures/" in img.get("src", "") for img in images), "no figure from nnbasics.plot"
    titles = [t for page in parsed for t in page.code_titles]
    assert any(t.startswith("nnbasics/") for t in titles), "no package-source include"
    sources = "\n".join(p.path.read_text(encoding="utf-8") for p in lessons)
    assert "从零实现" in sources, "no 从零实现 part"
    assert "常见坑" in headings, headings
    assert "练习" in headings, headings
    assert sum(page.details_with_code for page in parsed) >= 2, "exercises need solutions with code"
    links = [link for page in parsed for link in page.links]
    assert any(re.search(r"api/\w+/#nnbasics\.", link) for link in links), "no API link"
    # the PyTorch check: a runnable block of the chapter that compares with torch
    runnable = re.findall(r"```python\n(.*?)```", sources, re.S)
    assert any("torch" in block and "最大差" in block for block in runnable), "no PyTorch check"


def test_every_image_has_alt_text_and_every_figure_comes_from_a_page(built_site: Path):
    """The page is the one place a figure is named and its alt text written: the site's
    figures are exactly those the pages show, each drawn by its nnbasics.plot function."""
    from nnbasics import plot

    shown = {}
    for page in pages.markdown_pages():
        source = page.path.read_text(encoding="utf-8")
        for location, name, alt in pages.figure_refs(source, page.path):
            assert alt.strip(), f"{location}: figures/{name}.svg without alt text"
            shown[name] = alt
            assert name.replace("-", "_") in plot.__all__, location
    assert len(shown) >= len(SECTION_PAGES)
    assert {p.stem for p in (built_site / "figures").glob("*.svg")} == set(shown)
    for html in built_site.rglob("*.html"):
        for img in _parse(html).images:
            assert img.get("alt", "").strip(), f"{html}: image {img.get('src')} without alt text"


def test_figures_are_svg_with_text_as_paths_and_nothing_external(built_site: Path):
    figures = sorted((built_site / "figures").glob("*.svg"))
    assert figures
    for path in figures:
        svg = path.read_text(encoding="utf-8")
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert "<text" not in svg, f"{path.name}: text must be drawn as paths"
        assert "<dc:date>" not in svg, f"{path.name}: the build date would make every build differ"
        assert not re.search(r'(href|src)="(https?:)?//', svg), path.name


_CACHE_RUN = """
import importlib.util, logging, sys
from pathlib import Path
from mkdocs.config import load_config
from mkdocs.structure.files import get_files

logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
from docsite.render import figures
config = load_config(config_file=sys.argv[1])
config.plugins._current_plugin = "figures"  # what mkdocs sets while it runs a hook
package = Path(sys.argv[1]).parent / "nnbasics"


def build():  # each build reimports nnbasics from disk, as `mkdocs serve` does
    figures.add_figures(get_files(config), config)


build()
build()
plot = package / "plot.py"  # change one figure function
plot.write_text(plot.read_text().replace("BatchNorm：训练模式", "BatchNorm 训练模式"))
build()
with (package / "optim.py").open("a") as f:  # change the package outside the figures
    f.write("\\n# a change outside the figure functions\\n")
build()
"""


def _figures_builds(tmp_path: Path) -> list[str]:
    """The figures hook over a one-page site with the package of ``tmp_path/nnbasics``, as
    ``_CACHE_RUN`` runs it; the hook's log line of each build."""
    env = dict(os.environ, PYTHONPATH=str(tmp_path), NNBASICS_SITE_CACHE=str(tmp_path / "cache"))
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _CACHE_RUN,
            str(tmp_path / "mkdocs.yml"),
        ],
        cwd=tmp_path,  # `python -c` puts the working folder first on sys.path
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith("figures:")]


def _one_page_site(tmp_path: Path, page: str) -> None:
    shutil.copytree(ROOT / "nnbasics", tmp_path / "nnbasics")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(page, encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text("site_name: t\n", encoding="utf-8")


@pytest.mark.processes
def test_figures_are_cached_by_their_source(tmp_path: Path):
    """An unchanged figure is read back; a changed plot function redraws exactly its figure;
    a change elsewhere in the package redraws every figure."""
    _one_page_site(
        tmp_path,
        "# 图\n\n![BatchNorm 的均值](figures/batchnorm-statistics.svg)\n\n"
        "![激活函数](figures/activation-curves.svg)\n",
    )
    assert (ROOT / "nnbasics" / "plot.py").read_text(encoding="utf-8").count(
        "BatchNorm：训练模式"
    ) == 1  # in batchnorm_statistics(): the edit _CACHE_RUN makes
    drawn = [line.split(" unchanged")[0] for line in _figures_builds(tmp_path)]
    assert drawn == [
        "figures: drew 2, 0",
        "figures: drew 0, 2",
        "figures: drew 1, 1",
        "figures: drew 2, 0",
    ]
    assert len(list((tmp_path / "cache").glob("*.svg"))) == 2  # earlier versions removed


@pytest.mark.processes
def test_a_figure_without_its_function_names_the_page_and_line(tmp_path: Path):
    _one_page_site(tmp_path, "# 图\n\n文字\n\n![没有这个图](figures/no-such-figure.svg)\n")
    with pytest.raises(AssertionError, match=r"index\.md:5: figures/no-such-figure\.svg needs"):
        _figures_builds(tmp_path)


def test_missing_cjk_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    from matplotlib import font_manager

    from nnbasics import plot

    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    # nothing on disk either: a machine without the font
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    with pytest.raises(RuntimeError, match="fonts-noto-cjk"):
        plot.cjk_font()


_STALE_FONT_CACHE = """
import json, pathlib, sys
import matplotlib
from matplotlib import font_manager

# the cache matplotlib just wrote, minus every font with Chinese glyphs: as on a machine
# whose cache was written before fonts-noto-cjk was installed
path = next(pathlib.Path(matplotlib.get_cachedir()).glob("fontlist-*.json"))
data = json.loads(path.read_text())
cjk = [f for f in data["ttflist"] if "CJK" in f["name"] or f["name"].endswith(" SC")]
assert cjk, "the machine has no CJK font to hide"
data["ttflist"] = [f for f in data["ttflist"] if f not in cjk]
path.write_text(json.dumps(data))
"""

_DRAW_WITH_STALE_CACHE = """
import warnings
warnings.simplefilter("error")
from matplotlib import font_manager
from nnbasics import plot

names = {f.name for f in font_manager.fontManager.ttflist}
print("stale:", not any(n in names for n in plot._CJK_FONTS))
svg = plot.to_svg(plot.cosine_schedule())
print("font:", plot.cjk_font(), "svg:", svg.lstrip().startswith("<?xml"))
"""


@pytest.mark.processes
def test_figures_draw_with_a_stale_font_cache(tmp_path: Path):
    """A font cache without the CJK fonts (written before they were installed) is mended."""
    env = dict(os.environ, MPLCONFIGDIR=str(tmp_path), PYTHONWARNINGS="default")

    def run(code: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    run(_STALE_FONT_CACHE)
    first = run(_DRAW_WITH_STALE_CACHE)
    second = run(_DRAW_WITH_STALE_CACHE)
    # the first run starts from the stale cache and still draws; it rewrote the cache, so
    # the second run finds the font at once
    assert first.splitlines() == ["stale: True", "font: Noto Sans CJK SC svg: True"], first
    assert second.splitlines()[0] == "stale: False", second


def test_notebook_of_each_page_and_download_link(built_site: Path):
    notebooks = _hook("notebooks")
    for md in sorted((ROOT / "docs").glob("*.md")):
        _, cells = notebooks.page_cells(md.read_text(encoding="utf-8"))
        target = built_site / "notebooks" / f"{md.stem}.ipynb"
        if not cells:
            assert not target.exists()
            continue
        nb = json.loads(target.read_text(encoding="utf-8"))
        code = [c["source"] for c in nb["cells"] if c["cell_type"] == "code"]
        assert code == [source for _, source in cells]
        assert all("--8<--" not in c for c in code)
        page = built_site / ("" if md.stem == "index" else md.stem) / "index.html"
        assert (
            f'href="{"" if md.stem == "index" else "../"}notebooks/{md.stem}.ipynb"'
            in page.read_text(encoding="utf-8")
        ), f"{md.name}: no 下载 Notebook link"


def test_training_notebook_is_executed_with_outputs_and_loss_curve(built_site: Path):
    html = (built_site / "training-notebook" / "index.html").read_text(encoding="utf-8")
    assert "Epoch 50, Loss: 1.2102" in html  # the article's output, produced at build time
    images = [img for img in _parse(built_site / "training-notebook" / "index.html").images]
    assert any(
        img["src"].startswith("data:image/png") and "损失曲线" in img["alt"] for img in images
    )
    source = json.loads(
        (built_site / "training-notebook" / "training-notebook.ipynb").read_text(encoding="utf-8")
    )
    cells = ["".join(c["source"]) for c in source["cells"]]  # nbformat may store lines
    assert any("training_loss_curve" in c for c in cells)
    executed = [c for c in source["cells"] if c["cell_type"] == "code"]
    assert executed and all(c["outputs"] or c["execution_count"] for c in executed)


def test_page_cells_skip_includes_and_keep_indented_solutions():
    notebooks = _hook("notebooks")
    md = (
        "# T\n\n## A\n\n```python\nprint(1)\n```\n\n"
        '```python title="nnbasics/x.py"\n--8<-- "nnbasics/x.py:a"\n```\n\n'
        '1. Q\n\n    ??? success "参考答案"\n\n        ```python\n        print(2)\n        ```\n'
    )
    title, cells = notebooks.page_cells(md)
    assert title == "T"
    assert cells == [("A", "print(1)"), ("A", "print(2)")]
    # in the notebook an exercise's answer comes after its question
    _, cells = notebooks.cells_of(md)
    assert [c.context for c in cells] == ["", "**练习 1**：Q\n\n**参考答案**"]
    nb = json.loads(notebooks.notebook("T", "../t/", cells))
    sources = [c["source"] for c in nb["cells"]]
    assert sources.index("**练习 1**：Q\n\n**参考答案**") == sources.index("print(2)") - 1


def test_word_count_and_reading_time():
    pagemeta = _hook("pagemeta")
    assert pagemeta.count_words("神经网络 is fun, 2025 年<!-- 注释 -->") == 4 + 3 + 1
    seed = (ROOT / "tests" / "article" / "seed.txt").read_text(encoding="utf-8")
    words = pagemeta.count_words(seed)
    # the seed lost its Markdown (indentation, fences), so it counts fewer than 1443
    assert 1200 < words <= 1443
    page = ROOT / "docs" / "x.md"
    # 600 Chinese characters (2 min) + 400 Latin words (2 min) + 30 lines of code and output
    # (2 min, blank lines not counted), an include counted as the lines it shows
    prose = "字" * 600 + "\n\n" + "word " * 400 + "\n<!-- 注释 不算 -->\n"
    code = "```python\n" + "x = 1\n\n" * 20 + "```\n\n```text\n" + "1\n" * 10 + "```\n"
    assert pagemeta.reading_minutes(prose + code, page) == 6
    include = '```python title="nnbasics/models.py"\n--8<-- "nnbasics/models.py:mlp"\n```\n'
    shown = [s for s in markdown.included_lines('--8<-- "nnbasics/models.py:mlp"') if s.strip()]
    assert len(shown) > 5 and all("--8<--" not in s for s in shown)
    assert pagemeta.reading_minutes(include, page) == len(shown) / 15


def test_every_page_shows_words_dates_tags_and_change_log(built_site: Path):
    dated = [(p, p.meta["created"]) for p in pages.markdown_pages() if p.meta.get("created")]
    assert len(dated) >= len(SECTION_PAGES) + 2  # the sections, home and summary
    for page, created in dated:
        name = page.url.rstrip("/")
        html = (built_site / name / "index.html").read_text(encoding="utf-8")
        m = re.search(
            r'class="page-meta">约 (\d+) 字 大约 (\d+) 分钟 · 创建于 (\S+) · 更新于 ([\d-]+)'
            r"(?: · 输出来自 nnbasics (\S+)、PyTorch (\S+)、Python (\S+))?</p>",
            html,
        )
        assert m, name
        assert m.group(3) == str(created)  # the front matter's date (the article's: 2025-08-28)
        # the versions the page's outputs came from, as its front matter records them
        recorded = runs.recorded_versions(page.path)
        shown = dict(zip(("nnbasics", "torch", "python"), m.group(5, 6, 7), strict=True))
        assert shown == (recorded or dict.fromkeys(shown)), name
        assert "neural-network" in html and "deep-learning" in html
        source = f"docs/{page.src}"
        last = subprocess.run(
            ["git", "log", "-1", "--date=short", "--format=%ad", "--", source],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if last:  # the end of the page: the date of the page's newest commit
            assert f'class="page-history">最后更新：{last} · ' in html, name
    tags = (built_site / "tags" / "index.html").read_text(encoding="utf-8")
    assert "neural-network" in tags and "deep-learning" in tags and "感知机" in tags


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_history_line_without_git_and_in_a_shallow_clone(tmp_path: Path):
    """The end of a page says when it was last updated (git's date, else the file's) and links
    to its history; the commit messages, written for the maintainers, are never shown."""
    pagemeta = _hook("pagemeta")
    loose = tmp_path / "loose.md"
    loose.write_text("# x\n", encoding="utf-8")
    assert pagemeta.history(loose) is None
    created, updated = pagemeta.page_dates(loose)
    assert created == updated  # both fall back to the file's modification date
    line = pagemeta._history_line(updated, None)
    assert f"最后更新：{updated}</p>" in line and "data-search-exclude" in line

    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    page = repo / "page.md"
    for k in range(3):
        page.write_text(f"# v{k}\n", encoding="utf-8")
        _git(repo, "add", "page.md")
        _git(
            repo,
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "-m",
            f"edit {k} | pipe",
            f"--date=2024-01-0{k + 1}T12:00:00",
        )
    assert [row[2] for row in pagemeta.history(page)] == [
        "edit 2 | pipe",
        "edit 1 | pipe",
        "edit 0 | pipe",
    ]
    assert pagemeta.page_dates(page, None)[1] == pagemeta.history(page)[0][0]
    url = "https://github.com/o/r/commits/main/docs/page.md"
    line = pagemeta._history_line("2024-01-03", url)
    assert f'最后更新：2024-01-03 · <a href="{url}">' in line and "edit" not in line
    shallow = tmp_path / "shallow"
    _git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow))
    pagemeta._shallow.cache_clear()
    # a shallow clone lacks the page's first commit: 创建于 is not taken from it
    created, updated = pagemeta.page_dates(shallow / "page.md")
    assert created == updated == pagemeta.history(shallow / "page.md")[0][0]


def test_api_reference_documents_the_package(built_site: Path):
    html = "".join(p.read_text("utf-8") for p in (built_site / "api").glob("*/index.html"))
    for name in (
        "nnbasics.functional.relu",
        "nnbasics.functional.ctc_loss",
        "nnbasics.nn.BatchNorm1d",
        "nnbasics.optim.AdamW",
        "nnbasics.autograd.TwoLayerMLP",
        "nnbasics.training.fit",
        "nnbasics.plot.training_loss_curve",
    ):
        assert f'id="{name}"' in html, name


def _with_figures_hook(code: str) -> str:
    """Run ``code`` (which imports the figures step) in a fresh interpreter; its stdout (the
    interpreter must exit cleanly)."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


_RELOAD = """
import importlib.util, pathlib, sys
from docsite.render import figures
import nnbasics.plot as before
figures._fresh_nnbasics()
import nnbasics.plot as after
print(before is not after)
"""


@pytest.mark.processes
def test_serve_rebuilds_figures_from_the_package_on_disk():
    """`make serve` watches nnbasics/, and each rebuild draws with the code now on disk."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    serve = makefile[makefile.index("\nserve:") :].split("\n\n")[0]
    assert "serve" in serve and "--watch nnbasics" in serve
    assert _with_figures_hook(_RELOAD).split()[0] == "True"


_NO_FONT = """
import importlib.util, sys
from matplotlib import font_manager
from mkdocs.exceptions import PluginError

font_manager.fontManager.ttflist = []  # nothing in the cache
font_manager.findSystemFonts = lambda *args, **kwargs: []  # and nothing on disk
from docsite.render import figures
try:
    figures.add_figures(None, None)
except PluginError as error:  # mkdocs prints it as one line, "Error: ..."
    print(error)
"""


@pytest.mark.processes
def test_a_build_without_a_cjk_font_fails_with_one_line():
    out = _with_figures_hook(_NO_FONT)
    assert out.startswith("figures: no font with Chinese glyphs found"), out
    assert out.rstrip().endswith("`apt-get install fonts-noto-cjk`")
    assert out.count("\n") == 1
