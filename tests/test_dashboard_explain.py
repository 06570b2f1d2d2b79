"""AppTest of the Explain page: concepts, contributions (summing to the logit), heatmap, residues."""

from __future__ import annotations

import os
import re

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
    assert gene.value == "pasted:TP53 (P04637)"
    pheno = at.selectbox(key="w_selected_phenotype")
    # the protein's 20 most specific predictions, as on the Predict page (the core's specific view)
    core = gp.predict(_model(), [("P04637", t.sequence("P04637"))], top=20, view="specific")
    core = core[core["folded_under"] == ""]
    assert pheno.value == core["term_id"].iloc[0]
    assert len(pheno.options) == 20


def _model():
    return t.pasted_model()  # what scores and explains a pasted protein without GO


def test_evidence_in_words_bars_and_contributions_sum_to_the_logit(explained):
    at = explained
    specs = t.plotly_specs(at)
    titles = [s["layout"]["title"]["text"] for s in specs]
    bars = next(s for s in specs if s["layout"]["title"]["text"].startswith("Why:"))["data"][0]
    term = at.selectbox(key="w_selected_phenotype").value
    core = gp.explain(_model(), ("P04637", t.sequence("P04637")), phenotype=[term], go_annotations=[])
    table = core.evidence_table(term)
    # every bar points the way of its sign; the remainder is grey and no longer than the longest bar
    values = [float(v) for v in bars["text"]]
    drawn = bars["x"]
    assert all((d > 0) == (v > 0) for d, v in zip(drawn, values) if v)
    assert abs(drawn[-1]) <= max(abs(d) for d in drawn[:-1]) + 1e-9 and "other contribution" in bars["y"][-1]
    # bias + the shown values + the remainder = the core's logit (labels rounded to 2 decimals)
    assert core.bias[term] + sum(values) == pytest.approx(core.logit[term], abs=0.01 * len(values))
    positives = table[table["contribution"] > 0].nlargest(6, "contribution")
    assert [v for v in values[:len(positives)]] == [float(f"{x:+.2f}") for x in positives["contribution"]]
    # one name per input kind: homolog phenotypes are "homolog phenotype" in the chart and the table
    assert not any("ortholog" in y for y in bars["y"])
    words = [m.value for m in at.markdown if m.value.startswith("- **For:**")]
    assert words and "mouse" in words[0] and "knockouts" in words[0]
    heat = next(s for s in specs if s["data"][0]["type"] == "heatmap")["data"][0]
    z = np.array(heat["z"], dtype=float)
    assert z.shape == (15, 10)  # 15 concepts x the top 10 phenotypes
    assert heat["zmin"] == pytest.approx(-heat["zmax"])  # white is zero
    assert any(t_.startswith("GO concept activations") for t_ in titles)


def _has_residue_track(at) -> bool:
    return any(len(s["data"]) == 2 and s["data"][1]["type"] == "scatter" for s in t.plotly_specs(at))


def test_residue_track_by_default_and_toggle(explained):
    # IG on UniRep's per-residue states takes about a second: TP53 (393 residues, under the
    # automatic limit) gets its residue track at once, with the completeness gap stated
    at = explained
    toggle = at.toggle(key="residues_on_pasted:TP53 (P04637)")
    assert toggle.value is True
    assert _has_residue_track(at)
    assert any("Completeness gap" in c.value for c in at.caption)
    # readable units on the axis, the strongest residues with their positions, a zoomed view
    track = next(s for s in t.plotly_specs(at) if s["layout"]["title"]["text"].startswith("Residues driving"))
    assert "logit" in track["layout"]["yaxis"]["title"]["text"]
    assert max(abs(v) for v in track["data"][0]["y"]) >= 0.1  # not -0.001 everywhere
    strongest = t.table(at, "position", "residue")
    assert len(strongest) == 10 and strongest["position"].between(1, 393).all()
    zoom = next(s for s in t.plotly_specs(at) if s["layout"]["title"]["text"].startswith("Residues ")
                and "driving" not in s["layout"]["title"]["text"])
    window = [k for k in at.session_state if str(k).startswith("residue_window_")]
    lo, hi = at.session_state[window[0]]
    assert zoom["data"][0]["x"] == list(range(lo, hi + 1)) and len(zoom["layout"]["xaxis"]["ticktext"]) == hi - lo + 1
    toggle.set_value(False).run()
    t.assert_clean(at)
    assert not _has_residue_track(at)
    at.toggle(key="residues_on_pasted:TP53 (P04637)").set_value(True).run()


def test_switching_phenotype_updates_the_bars(explained):
    at = explained
    box = at.selectbox(key="w_selected_phenotype")
    second = re.search(r"\(((?:HP|MP):\d{7})\)", box.options[1]).group(1)
    box.set_value(second).run()
    t.assert_clean(at)
    bars = next(s for s in t.plotly_specs(at) if s["layout"]["title"]["text"].startswith("Why:"))
    names = dict(zip(at.session_state["predictions"]["term_id"], at.session_state["predictions"]["term_name"]))
    assert names[second][:20] in bars["layout"]["title"]["text"]
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
