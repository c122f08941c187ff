"""The machinery of the 神经网络基础 site: reading pages, running their blocks, building and
checking the site. Not part of the ``nnbasics`` package (its wheel does not contain it).

The flow (CONTRIBUTING.md, "How the site is made")::

    docs/*.md ──markdown──> blocks ──runs──> outputs checked / rewritten (update-docs)
        │                                     pytest-codeblocks runs each block too
        └──plugin (mkdocs build)──> site/: figures, formulas, notebooks, search index
                                    └── tests read the built site (tests/site, tests/browser)

* :mod:`docsite.markdown`: the one parser (fences, front matter, includes, collapsed blocks);
* :mod:`docsite.pages`: the page manifest (the nav of ``mkdocs.yml``) and the lesson rule;
* :mod:`docsite.glossary`: the terminology (``docs/_data/glossary.yml``);
* :mod:`docsite.runs`: run a page's blocks in a fresh interpreter, sweep them under every CPU
  configuration, check and update the outputs, lint and format them;
* :mod:`docsite.cache`: the content-addressed cache of figures, notebooks and block runs;
* :mod:`docsite.build`: ``make build``, skipped when nothing it reads has changed;
* :mod:`docsite.plugin` and :mod:`docsite.render`: the MkDocs plugin and its build steps;
* :mod:`docsite.browser` and :mod:`docsite.shots`: a served site in Chromium, screenshots.

``python -m docsite --help`` lists the commands.
"""
