"""AppTest of the Model page: metrics, AUC per frequency bin, W_p heatmap, benchmark."""

from __future__ import annotations

import os

import numpy as np
import pytest

from dashboard import models, views
from dashboard import testing as t

pytestmark = pytest.mark.skipif(t.model_missing_reason() is not None and not os.environ.get("CI"),
                                reason=str(t.model_missing_reason()))


@pytest.fixture(scope="module")
def page():
    at = t.app()
    at.run()
    at.switch_page("dashboard/pages/model.py").run()
    return at


@pytest.fixture(scope="module")
def model():
    """The model the page shows first: the shipped default, hpo."""
    assert models.default_model_name() == "hpo"
    return models.get_model("hpo")


def test_metrics_and_heatmap(page, model):
    at = page
    t.assert_clean(at)
    labels = [m.label for m in at.metric]
    assert any(label.startswith("Fmax") for label in labels)
    assert "threshold" in labels
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


def test_headline_metrics_are_the_test_split_pasted_protein_ones(page, model):
    # the shipped default model carries test-split metrics (GO from homologs: what a pasted
    # protein gets, sequence only, and with GO) next to the validation ones: the page shows
    # the pasted-protein test numbers
    shown = {m.label: m.value for m in page.metric}
    test = model.metrics["test"]["go_from_homologs"]
    for key, label in views.HEADLINE:
        assert shown[f"{label} (held-out genes, as a pasted protein)"] == f"{test[key]:.3f}"
    assert shown["phenotypes × concepts"] == f"{len(model.terms)} × {len(model.concepts)}"


def test_auc_bins_and_interpretability(page, model):
    at = page
    info = views.model_summary("hpo")
    # the bins are the test split's pasted-protein AUCs, in metrics.json's order
    bins = model.metrics["test"]["go_from_homologs"]["auc_bins"]
    assert list(info["auc_bins"]["bin"]) == list(bins)
    assert list(info["auc_bins"]["auc"]) == pytest.approx(list(bins.values()))
    bars = [s for s in t.plotly_specs(at) if "frequency bin" in s["layout"]["title"]["text"]]
    assert len(bars) == 1 and "(test split)" in bars[0]["layout"]["title"]["text"]
    assert bars[0]["data"][0]["y"] == pytest.approx(list(bins.values()))
    # the interpretability check stored with the model: its measures in plain words, and
    # every number in a measure / value table
    check = model.metrics["interpretability"]
    assert info["interpretability"] == dict(views.flat_metrics(check))
    table = t.table(at, "measure", "value")
    assert table is not None and len(table) == len(info["interpretability"])
    row = table[table["measure"] == "median_spearman"]
    assert float(row["value"].iloc[0]) == pytest.approx(check["median_spearman"])
    text = " ".join(m.value for m in at.markdown)
    assert f"{100 * check['plausibility']['share']:.1f} %" in text
    assert f"{100 * check['concentration']['share']:.0f} %" in text
    assert f"{check['median_spearman']:.2f}" in text
    assert f"{100 * check['deletion']['pass_rate']:.0f} %" in text
    assert "mouse knockout phenotypes" in text


def test_evidence_sentences_only_for_measures_present():
    assert views.evidence_sentences(None) == []
    only_concepts = views.evidence_sentences({"median_spearman": 0.42, "n_terms": 10})
    assert len(only_concepts) == 1 and "0.42" in only_concepts[0] and "10 phenotypes" in only_concepts[0]
    both = views.evidence_sentences({"median_spearman": 0.4, "plausibility": {"share": 0.25, "random_share": 0.01,
                                                                              "top": 5}}, "hpo")
    assert len(both) == 2 and "25.0 %" in both[0] and "human knockout phenotypes" in both[0]
    # the grouped share (items as explanations show them) leads, the per-term share follows
    conc = views.evidence_sentences({"concentration": {"share": 0.49, "top_items": 10},
                                     "concentration_grouped": {"share": 0.71, "top_items": 10}})
    assert len(conc) == 1 and "carry 71 %" in conc[0] and "(49 % when every broader" in conc[0]
    assert "carry 49 %" in views.evidence_sentences({"concentration": {"share": 0.49}})[0]


def test_numbers_in_plain_language(page, model):
    at = page
    texts = [t.md_unescape(m.value) for m in at.markdown]
    fmax = next(x for x in texts if x.startswith("**Fmax"))
    auc = next(x for x in texts if x.startswith("**AUC"))
    thr = next(x for x in texts if x.startswith("**Threshold"))
    test = model.metrics["test"]["go_from_homologs"]
    assert f"Fmax {test['fmax']:.2f}" in fmax and "precision" in fmax
    assert f"{100 * test['auc']:.0f} % of the time" in auc and "chance" in auc
    valid = model.metrics["valid"]
    assert f"{model.threshold:.2f}" in thr and f"{100 * valid['precision']:.0f} %" in thr and "validation" in thr
    # no local path or raw section names on the page
    assert not any("go_from_homologs" in m.label for m in at.metric)


def test_benchmark_table_in_words_and_every_table_in_csv_and_json(page):
    at = page
    import pandas as pd

    from dashboard import views

    bench = views.results_table("benchmark")
    if not isinstance(bench, pd.DataFrame):
        pytest.skip("no results/benchmark.csv in this checkout")
    shown = t.table(at, "Method", "Fmax")
    assert shown is not None and "fmax" not in shown.columns
    one = bench[(bench["dataset"] == shown["Dataset"].iloc[0]) & (bench["split"] == shown["Split"].iloc[0])
                & (bench["method"] == shown["Method"].iloc[0])]
    assert shown["Fmax"].iloc[0] == pytest.approx(one["fmax"].mean())
    labels = t.download_labels(at)
    assert labels.count("JSON") >= labels.count("CSV") - 1 >= 1  # a JSON next to every table's CSV
