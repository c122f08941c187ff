"""The site's one MkDocs plugin (``nnbasics`` in ``mkdocs.yml``; it runs under ProperDocs too).

Each step of the build lives in a module of :mod:`docsite.render`; this class only says when
each runs and keeps what one step hands to another. The order, in one place:

==============  ========  ==============================================================
event           priority  steps, in order
==============  ========  ==============================================================
config          -100      jieba keeps the glossary's names whole (``terms``); formulas as
                          text in the search index (``searchindex``, after the search
                          plugin's own ``on_config`` created the index)
pre_build       0         forget the characters of the last build's formulas and the git
                          history read (``pagemeta``)
files           100       a notebook for every page with blocks; the executed notebook run
                          (``notebooks``, before mkdocs-jupyter makes it a page)
files           0         every figure the pages show, drawn or from the cache (``figures``)
nav             0         the pages' order, for the old anchors (``oldurls``)
page_markdown   50        the line under the title: reading time, dates, notebook links
                          (``notebooks`` then ``pagemeta``)
page_markdown   0         the glossary table (``terms``); figures numbered with captions
                          (``figures``)
page_content    100       the executed notebook's page in the site's Markdown
                          (``notebooks``, before its formulas are rendered)
page_content    50        API pages' reST roles as links, the TOC depth (``pagemeta``)
page_content    0         LaTeX to MathML (``mathml``); outputs labelled (``outputs``);
                          prose tables as cards on a phone (``tables``)
page_context    50        the tags page's groups merged (``pagemeta``, after the tags
                          plugin filled them, before search reads the page)
post_page       0         the search dialog named, code blocks focusable (``a11y``)
post_build      0         the search worker fixed and the glossary for search (``terms``);
                          the math font subset (``mathml``); temporary notebook folders
                          removed (``notebooks``); old anchors forwarded (``oldurls``)
post_build      -100      the search index tidied, terms on their lessons (``searchindex``,
                          after the search plugin wrote it)
==============  ========  ==============================================================
"""

from __future__ import annotations

from typing import Any

from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority

from docsite import glossary
from docsite.render import (
    a11y,
    figures,
    mathml,
    notebooks,
    oldurls,
    outputs,
    pagemeta,
    searchindex,
    tables,
    terms,
)


class SitePlugin(BasePlugin):  # type: ignore[type-arg]
    """The build steps of the site (see the module docstring for their order)."""

    def __init__(self) -> None:
        self.notebooks = notebooks.Built({}, [])
        self.figure_sizes: dict[str, tuple[int, int]] = {}
        self.formula_chars: set[str] = set()
        self.order: list[str] = []

    @event_priority(-100)
    def on_config(self, config: Any) -> Any:
        terms.segment_terms_whole()
        searchindex.readable_formulas(config)
        return config

    def on_pre_build(self, config: Any) -> None:
        self.formula_chars = set()
        pagemeta.forget_history()

    @event_priority(100)
    def _on_files_notebooks(self, files: Any, config: Any) -> Any:
        self.notebooks = notebooks.add_notebooks(files, config)
        return files

    def _on_files_figures(self, files: Any, config: Any) -> Any:
        self.figure_sizes = figures.add_figures(files, config)
        return files

    on_files = CombinedEvent(_on_files_notebooks, _on_files_figures)

    def on_nav(self, nav: Any, config: Any, files: Any) -> Any:
        self.order = [page.url for page in nav.pages]
        return nav

    @event_priority(50)
    def _on_page_markdown_header(self, markdown: str, page: Any, config: Any, files: Any) -> str:
        links = notebooks.header_links(page, files)
        return pagemeta.page_header(markdown, page, config, links)

    def _on_page_markdown_body(self, markdown: str, page: Any, config: Any, files: Any) -> str:
        markdown = terms.glossary_table(markdown, page)
        return figures.figures_markdown(markdown, page, files, self.figure_sizes)

    on_page_markdown = CombinedEvent(_on_page_markdown_header, _on_page_markdown_body)

    @event_priority(100)
    def _on_page_content_notebook(self, html: str, page: Any, config: Any, files: Any) -> str:
        return notebooks.executed_page(html, page, config, self.notebooks.alts)

    @event_priority(50)
    def _on_page_content_api(self, html: str, page: Any, config: Any, files: Any) -> str:
        return pagemeta.api_roles_and_toc(html, page)

    def _on_page_content_render(self, html: str, page: Any, config: Any, files: Any) -> str:
        html = mathml.render_math(html, f"docs/{page.file.src_uri}", self.formula_chars)
        return tables.tables_as_cards(outputs.mark_outputs(html))

    on_page_content = CombinedEvent(
        _on_page_content_notebook, _on_page_content_api, _on_page_content_render
    )

    @event_priority(50)
    def on_page_context(self, context: Any, page: Any, config: Any, nav: Any) -> Any:
        pagemeta.merge_tags(page, nav)
        return context

    def on_post_page(self, output: str, page: Any, config: Any) -> str:
        return a11y.label_page(output)

    def _on_post_build_site(self, config: Any) -> None:
        terms.write_search_terms(config)
        mathml.write_font(config, self.formula_chars)
        notebooks.remove_folders(self.notebooks)
        oldurls.add_forwards(config, self.order)

    @event_priority(-100)
    def _on_post_build_search(self, config: Any) -> None:
        searchindex.add_terms_to_index(config)

    on_post_build = CombinedEvent(_on_post_build_site, _on_post_build_search)

    def on_serve(self, server: Any, config: Any, builder: Any) -> Any:
        server.watch(str(glossary.DATA))
        return server
