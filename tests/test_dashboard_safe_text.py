"""dashboard/safe_text.py: user text rendered literally, server paths out of messages."""

from __future__ import annotations

import html

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import models
from dashboard import testing as t
from dashboard.safe_text import md_escape, md_unescape, message_text, scrub_paths

FUZZ = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
IMAGE = t.IMAGE
TMP = t.TMP


@FUZZ
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=80))
def test_md_escape_renders_any_text_literally(text):
    # CommonMark semantics (Streamlit's renderer is CommonMark + GFM): the escaped text becomes
    # one paragraph with no element in it and exactly the original characters
    markdown_it = pytest.importorskip("markdown_it")
    md = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])
    rendered = md.render(f"Gene {md_escape(text)}.").strip()
    assert rendered.startswith("<p>") and rendered.endswith("</p>")
    inner = rendered[3:-4]
    assert "<" not in inner, inner  # no tag: no image, link, emphasis, code, raw HTML
    assert html.unescape(inner) == f"Gene {text}."
    assert md_unescape(md_escape(text)) == " ".join(text.splitlines())


def test_scrub_paths_keeps_names_drops_directories():
    root = models.models_dir()
    text = (f"{root}/broken/model.safetensors: truncated; {TMP}/tmpab12/my.fa.gz: corrupt; "
            "see https://example.org/a/b and/or GO:0005515")
    assert scrub_paths(text, roots=(root,)) == (
        "broken/model.safetensors: truncated; my.fa.gz: corrupt; see https://example.org/a/b and/or GO:0005515")
    shown = message_text(IMAGE + "\nline two " + "x" * 600)
    assert "\n" not in shown and IMAGE not in shown and len(md_unescape(shown)) <= 500

