"""End-to-end: `streamlit run` + headless Chromium (Playwright, Debian's browser).

Paste a real human protein, press Predict, see the ranked phenotypes, open the graphs page,
export a figure as PNG; a narrow (420 px) window and a bad input too. Screenshots go to
tests/e2e/screenshots/ (set GENEPHENO_UPDATE_SCREENSHOT=1 to refresh docs/screenshot.png),
measured times to tests/e2e/screenshots/timings.json.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from .conftest import FASTA, REPO

from dashboard import testing as t

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(t.model_missing_reason() is not None and not os.environ.get("CI"),
                       reason=str(t.model_missing_reason())),
]

TIMEOUT = 120_000  # ms; generous for a loaded CI machine (model loading happens on first use)


def _record(path, name: str, value: float) -> None:
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = round(value, 3)
    path.write_text(json.dumps(data, indent=1))


def _fasta_record(accession: str) -> str:
    records = FASTA.read_text().split(">")[1:]
    return ">" + next(r for r in records if f"|{accession}|" in r.split("\n", 1)[0])


def _idle(page) -> None:
    """Wait until the Streamlit script run has finished (the app marks its state in the DOM)."""
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=TIMEOUT)


def _shot(page, path, height: int = 2400) -> None:
    """Full-content screenshot: Streamlit scrolls inside its main element, so grow the viewport."""
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": height})
    page.wait_for_timeout(800)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)


def _predict(page, fasta: str) -> float:
    page.locator("textarea").first.fill(fasta)
    start = time.monotonic()
    page.get_by_role("button", name="Predict", exact=True).click()
    # the subheader; the chart title ("Top 20 predicted phenotypes for ...") also contains
    # this text once drawn, so match the heading role, not any text
    page.get_by_role("heading", name="Predicted phenotypes for").first.wait_for(timeout=TIMEOUT)
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=TIMEOUT)
    return time.monotonic() - start


def test_predict_graphs_export(streamlit_server, browser, screenshots):
    timings = screenshots / "timings.json"
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(streamlit_server.url)
    page.get_by_text("Predict knockout phenotypes").wait_for(timeout=TIMEOUT)
    first_page = time.monotonic() - streamlit_server.started
    _record(timings, "server_health_s_after_streamlit_run", streamlit_server.ready - streamlit_server.started)
    _record(timings, "first_page_s_after_streamlit_run", first_page)
    page.screenshot(path=str(screenshots / "01_predict_empty.png"))
    assert first_page < 30, f"first page took {first_page:.1f} s"
    # wait for the model warm-up (spinner) to finish, then time one 500-residue prediction
    _idle(page)  # the page warms the model up after drawing itself
    _record(timings, "model_warm_s_after_streamlit_run", time.monotonic() - streamlit_server.started)
    elapsed = _predict(page, _fasta_record("P05155"))  # SERPING1, 500 residues
    _record(timings, "prediction_500_residues_s", elapsed)
    assert elapsed < 30, f"prediction took {elapsed:.1f} s"
    page.get_by_role("heading", name="Predicted phenotypes for P05155").first.wait_for()
    assert page.get_by_text("pass the threshold").count() == 1
    page.locator(".js-plotly-plot").first.wait_for(timeout=TIMEOUT)  # the bar chart
    page.get_by_text("Nearest training proteins").wait_for()
    _idle(page)
    page.wait_for_timeout(1000)
    _shot(page, screenshots / "02_predict_results.png")
    if os.environ.get("GENEPHENO_UPDATE_SCREENSHOT"):
        page.screenshot(path=str(REPO / "docs" / "screenshot.png"))
    assert page.get_by_text("Traceback").count() == 0

    page.get_by_role("link", name="Phenotype graphs").click()
    page.get_by_text("Node details").wait_for(timeout=TIMEOUT)
    page.locator(".js-plotly-plot").first.wait_for(timeout=TIMEOUT)
    _idle(page)
    page.wait_for_timeout(1000)
    _shot(page, screenshots / "03_graphs.png")
    with page.expect_download(timeout=TIMEOUT) as download:
        page.get_by_role("button", name="PNG").first.click()
    path = screenshots / "04_exported_graph.png"
    download.value.save_as(str(path))
    assert download.value.suggested_filename.endswith(".png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000

    # Explain: the waterfall from the bias to the logit through concept, GO term and homolog
    # phenotype contributions, for the pasted protein's top phenotype
    page.get_by_role("link", name="Explain").click()
    page.get_by_text("Explain a prediction").wait_for(timeout=TIMEOUT)
    page.get_by_role("heading", name="Residue attributions").first.wait_for(timeout=TIMEOUT)
    _idle(page)
    page.wait_for_timeout(1000)
    _shot(page, screenshots / "07_explain.png", height=3000)
    assert page.get_by_text("homolog phenotypes", exact=False).count() >= 1  # the caption names every source
    assert page.get_by_text("Traceback").count() == 0

    # state survives page switches: back on Predict the pasted sequence is still there
    page.get_by_role("link", name="Predict").click()
    page.get_by_text("Predict knockout phenotypes").wait_for(timeout=TIMEOUT)
    assert "MASRLTLLTLLLLLLAGDRASS" in page.locator("textarea").first.input_value().replace("\n", "")
    context.close()


def test_narrow_window(streamlit_server, browser, screenshots):
    context = browser.new_context(viewport={"width": 420, "height": 900})
    page = context.new_page()
    start = time.monotonic()
    page.goto(streamlit_server.url)
    page.get_by_text("Predict knockout phenotypes").wait_for(timeout=TIMEOUT)
    _record(screenshots / "timings.json", "page_load_s_warm_server", time.monotonic() - start)
    _idle(page)
    _predict(page, _fasta_record("P01308"))  # INS, 110 residues
    page.locator(".js-plotly-plot").first.wait_for(timeout=TIMEOUT)
    _idle(page)
    page.wait_for_timeout(1000)
    _shot(page, screenshots / "05_predict_narrow_420px.png", height=3000)
    # nothing wider than the window: no horizontal scrolling of the page
    overflow = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollWidth")
    assert overflow <= 420 + 2
    context.close()


def test_bad_input_friendly_error(streamlit_server, browser, screenshots):
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.goto(streamlit_server.url)
    page.get_by_text("Predict knockout phenotypes").wait_for(timeout=TIMEOUT)
    page.locator("textarea").first.fill(">bad\nMKTAYIAK1QR")
    page.get_by_role("button", name="Predict", exact=True).click()
    page.get_by_text("invalid character '1'").wait_for(timeout=TIMEOUT)
    page.screenshot(path=str(screenshots / "06_bad_input.png"))
    assert page.get_by_text("Traceback").count() == 0
    context.close()
