"""AppTest of the Model page: metrics, AUC per frequency bin, W_p heatmap, benchmark."""

from __future__ import annotations

import os

import numpy as np
import pytest

from dashboard import testing as t

pytestmark = pytest.mark.skipif(t.model_missing_reason() is not None and not os.environ.get("CI"),
                                reason=str(t.model_missing_reason()))


@pytest.fixture(scope="module")
def page():
    at = t.app()
    at.run()
    at.switch_page("dashboard/pages/model.py").run()
    return at


def test_metrics_and_heatmap(page):
    at = page
    t.assert_clean(at)
    labels = [m.label for m in at.metric]
    assert any(label.startswith("Fmax") for label in labels)
    assert "threshold" in labels
    from dashboard import data_loader

    model = data_loader.get_model(data_loader.default_model_name())
    threshold = next(m.value for m in at.metric if m.label == "threshold")
    assert float(threshold) == pytest.approx(model.threshold, abs=0.005)
    heat = next(s for s in t.plotly_specs(at) if s["data"][0]["type"] == "heatmap")
    z = np.array(heat["data"][0]["z"], dtype=float)
    assert z.shape == (25, 25)  # 25 concepts x 25 phenotypes (defaults)
    # the cells are W_p entries: every value occurs in the model's W_p
    wp = np.asarray(model.W_p, dtype=float)
    assert np.isin(np.round(z, 5), np.round(wp, 5)).all()
    # readable axis labels (names), with the full "name (id)" of each cell in the hover
    ids = set(model.terms["term_id"])
    hover = heat["data"][0]["customdata"][0]
    assert all(any(f"({i})" in cell for i in ids) for cell in hover[:5])
    assert not any(x.startswith(("HP:", "MP:")) for x in heat["data"][0]["x"])


def test_slider_changes_heatmap(page):
    at = page
    at.slider(key="wp_terms").set_value(10).run()
    t.assert_clean(at)
    heat = next(s for s in t.plotly_specs(at) if s["data"][0]["type"] == "heatmap")
    assert np.array(heat["data"][0]["z"]).shape[1] == 10


def test_auc_bins_and_interpretability(page):
    at = page
    from dashboard import data_loader

    info = data_loader.model_summary(data_loader.default_model_name())
    if info["auc_bins"] is not None:
        bars = [s for s in t.plotly_specs(at) if "frequency bin" in s["layout"]["title"]["text"]]
        assert bars and bars[0]["data"][0]["y"] == pytest.approx(list(info["auc_bins"]["auc"]))
    if info["interpretability"]:
        assert t.table(at, *list(info["interpretability"])[:1]) is not None
