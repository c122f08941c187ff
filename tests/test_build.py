"""``make build`` (docsite/build.py): the site is built once and reused while nothing the build
reads has changed; the tests and CI's deploy job use that one build."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from docsite import build


@pytest.mark.builds_site  # first in the run: one worker builds while the others test the rest
def test_a_second_build_of_the_same_inputs_does_nothing(built_site: Path):
    if os.environ.get("NNBASICS_PAGE"):
        pytest.skip("make page builds one page into a folder of its own")
    assert built_site == build.SITE
    assert (built_site / build.KEY_FILE).read_text(encoding="utf-8").startswith(build.inputs_key())
    assert build.build(built_site) is None  # nothing changed: not built again


def test_the_key_names_every_input_of_the_build():
    read = {p.relative_to(build.ROOT).parts[0] for p in build._files()}
    assert {"docs", "nnbasics", "docsite", "overrides", "mkdocs.yml", "constraints.txt"} <= read
    assert build.inputs_key() == build.inputs_key()  # stable: the same inputs, the same key
