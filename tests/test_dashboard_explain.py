"""AppTest of the Explain page: concepts, contributions (summing to the logit), heatmap, residues."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import genepheno_core as gp
from dashboard import testing as t

pytestmark = pytest.mark.skipif(t.model_missing_reason() is not None and not os.environ.get("CI"),
                                reason=str(t.model_missing_reason()))


@pytest.fixture(scope="module")
def explained():
    at = t.app()
    at.run()
    t.predict(at, t.fasta_record("P04637"))  # TP53
    at.switch_page("dashboard/pages/explain.py").run()
    return at


def _figure(specs, trace_type):
    return next(s for s in specs if s["data"] and s["data"][0]["type"] == trace_type)


def test_gene_and_phenotype_chosen_from_the_prediction(explained):
    at = explained
    t.assert_clean(at)
    gene = at.selectbox(key="w_selected_gene")
    assert gene.value == "pasted:P04637"
    pheno = at.selectbox(key="w_selected_phenotype")
    preds = at.session_state["predictions"]
    assert pheno.value == preds["term_id"].iloc[0]  # top prediction first
    assert len(pheno.options) == 20


def test_figures_and_contributions_sum_to_the_predicted_score(explained):
    at = explained
    specs = t.plotly_specs(at)
    kinds = [s["data"][0]["type"] for s in specs]
    assert "bar" in kinds and "waterfall" in kinds and "heatmap" in kinds  # concepts, contributions
    acts = _figure(specs, "bar")["data"][0]
    assert all(0 <= v <= 1 for v in acts["x"])
    wf = _figure(specs, "waterfall")["data"][0]
    logit = wf["x"][-1]
    assert wf["measure"][0] == "absolute" and wf["measure"][-1] == "total"
    assert sum(wf["x"][:-1]) == pytest.approx(logit, abs=1e-4)  # bias + contributions = logit
    # ... and sigmoid(logit) is the model's own probability for this phenotype, which the ranked
    # score (propagated: max over the term and its descendants) can only exceed
    preds = at.session_state["predictions"]
    term = at.selectbox(key="w_selected_phenotype").value
    score = preds.loc[preds["term_id"] == term, "score"].item()
    from dashboard import models

    model = models.get_model(models.default_model_name())
    core = gp.explain(model, ("P04637", t.sequence("P04637")), phenotype=[term], go_annotations=[])
    assert logit == pytest.approx(core.logit[term], abs=1e-4)
    assert 1 / (1 + math.exp(-logit)) <= score + 1e-4
    hm = _figure(specs, "heatmap")["data"][0]
    z = np.array(hm["z"], dtype=float)
    assert z.shape[1] == 10 and z.shape[0] == 15  # top 10 phenotypes x 15 concepts


def _has_residue_track(at) -> bool:
    return any(len(s["data"]) == 2 and s["data"][1]["type"] == "scatter" for s in t.plotly_specs(at))


def test_residue_track_by_default_and_toggle(explained):
    # IG on UniRep's per-residue states takes about a second: TP53 (393 residues, under the
    # automatic limit) gets its residue track at once, with the completeness gap stated
    at = explained
    toggle = at.toggle(key="residues_on_pasted:P04637")
    assert toggle.value is True
    assert _has_residue_track(at)
    assert any("Completeness gap" in c.value for c in at.caption)
    toggle.set_value(False).run()
    t.assert_clean(at)
    assert not _has_residue_track(at)
    at.toggle(key="residues_on_pasted:P04637").set_value(True).run()


def test_switching_phenotype_updates_waterfall(explained):
    at = explained
    box = at.selectbox(key="w_selected_phenotype")
    preds = at.session_state["predictions"]
    second = preds["term_id"].iloc[1]
    box.set_value(second).run()
    t.assert_clean(at)
    wf = _figure(t.plotly_specs(at), "waterfall")
    names = dict(zip(at.session_state["predictions"]["term_id"], at.session_state["predictions"]["term_name"]))
    assert names[second][:20] in wf["layout"]["title"]["text"]
    assert at.session_state["selected_phenotype"] == second


def test_explain_without_prediction_offers_case_studies():
    at = t.app()
    at.run()
    at.switch_page("dashboard/pages/explain.py").run()
    assert not at.exception
    # with case studies shipped, the page explains the first of them; else it points to Predict
    if not any(box.key == "w_selected_gene" for box in at.selectbox):
        assert any("Predict" in i.value for i in at.info)
    else:
        assert at.selectbox(key="w_selected_gene").value.startswith("case:")
