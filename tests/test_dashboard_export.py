"""Figure and table exports: real kaleido rendering through Debian's chromium."""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import export


def _have_browser() -> bool:
    return export.browser_path() is not None and shutil.which(export.browser_path() or "") is not None


needs_browser = pytest.mark.skipif(
    not _have_browser() and not os.environ.get("CI"),
    reason="no Chrome/Chromium for kaleido (install Debian's chromium); required under CI",
)


@pytest.fixture(scope="module")
def fig():
    return go.Figure(go.Bar(x=["Neoplasm", "Leukemia"], y=[0.9, 0.4]), layout={"height": 300})


@needs_browser
def test_png_and_svg(fig):
    png = export.figure_to_image(fig, "png", width=400)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # PNG IHDR: width and height (big-endian) at bytes 16..24; scale 2 doubles them; the export
    # margins are added to the figure's height
    assert int.from_bytes(png[16:20], "big") == 800
    assert int.from_bytes(png[20:24], "big") == 2 * (300 + 2 * export.EXPORT_MARGIN)
    svg = export.figure_to_image(fig, "svg", width=400).decode("utf-8")
    assert svg.lstrip().startswith("<svg") and "Neoplasm" in svg


def test_bad_format(fig):
    with pytest.raises(ValueError, match="unsupported image format"):
        export.figure_to_image(fig, "gif")


def test_standalone_html(fig):
    html = export.figure_to_html(fig)
    assert "<html>" in html and "</html>" in html and "Neoplasm" in html
    assert "<script src=\"http" not in html  # plotly.js inlined, not loaded from a CDN
    assert len(html) > 1_000_000  # plotly.js is inside: opens offline


def test_tables():
    df = pd.DataFrame({"term_id": ["HP:1", "HP:2"], "term_name": ["Neoplasm, lung", "Ataxia"],
                       "score": [0.5, float("nan")]})
    csv = export.table_to_csv(df).decode()
    assert csv.splitlines() == ["term_id,term_name,score", 'HP:1,"Neoplasm, lung",0.5', "HP:2,Ataxia,"]
    records = json.loads(export.table_to_json(df))
    assert records == [{"term_id": "HP:1", "term_name": "Neoplasm, lung", "score": 0.5},
                       {"term_id": "HP:2", "term_name": "Ataxia", "score": None}]


def test_slug():
    assert export.slug("Top phenotypes: P04637 (HPO)") == "top_phenotypes_p04637_hpo"
    assert export.slug("***") == "figure"


def test_browser_path_prefers_env(monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", "/opt/chrome/chrome")
    assert export.browser_path() == "/opt/chrome/chrome"


def test_exported_figures_get_margins(fig):
    page = go.Figure(fig)
    page.update_layout(margin={"l": 8, "r": 8, "t": 48, "b": 8}, title={"text": "T", "x": 0})
    out = export.for_export(page)
    assert out.layout.margin.l >= export.EXPORT_MARGIN and out.layout.margin.r >= export.EXPORT_MARGIN
    assert out.layout.margin.t >= export.EXPORT_MARGIN + 40
    assert page.layout.margin.l == 8  # the page's figure is not changed
    assert f'"l":{out.layout.margin.l}' in export.figure_to_html(page).replace(" ", "")
