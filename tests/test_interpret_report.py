"""JSON-ready reports (genepheno_core/interpret/report.py) on the toy model: the same
phenotypes and scores as gp.predict, evidence that matches the contributions of
gp.explain, a batch reported one protein at a time equal to each protein alone, and an
explanation whose contributions sum to the logit."""

from __future__ import annotations

import json

import numpy as np
import pytest

import genepheno_core as gp
from genepheno_core.interpret.contributions import evidence_items, top_concepts, top_evidence
from genepheno_core.interpret.inference import prepare_inputs, ranked_frame, score_matrix
from genepheno_core.interpret.model_store import model_extras
from genepheno_core.interpret.report import (
    explanation_report,
    model_info,
    prediction_report,
    protein_reports,
    score_records,
)


@pytest.fixture(scope="module")
def records(model):
    seqs = model_extras(model).train_sequences
    return [("a", seqs[0]), ("b", seqs[1]), ("c", seqs[2])]


def test_prediction_report_is_json_and_matches_predict(model, records):
    report = prediction_report(model, records, top=4, evidence=2, nearest=2, homologs=2)
    json.dumps(report, allow_nan=False)  # strict JSON: no NaN anywhere
    assert report["model"] == model_info(model) and len(report["model"]["version"]) == 16
    expected = gp.predict(model, records, top=4)
    for protein in report["proteins"]:
        rows = expected[expected["gene"] == protein["id"]]
        assert [p["id"] for p in protein["phenotypes"]] == rows["term_id"].tolist()
        assert [p["score"] for p in protein["phenotypes"]] == pytest.approx(rows["score"].tolist(), abs=1e-6)
        assert [p["prior"] for p in protein["phenotypes"]] == pytest.approx(rows["prior"].tolist())
        assert len(protein["nearest_proteins"]) <= 2


def _assert_same_report(a, b, path="report"):
    """Equal structure, ids, names and order; floats equal up to float32 rounding (a batch and
    a single protein go through BLAS kernels of different shapes, which may sum in another
    order: the last bits of a contribution can differ, CI saw 0.0054619621 vs 0.0054619680)."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), path
        assert a == pytest.approx(b, rel=1e-5, abs=1e-7), path
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), path
        for key in a:
            _assert_same_report(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same_report(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


def test_a_batch_reported_per_protein_equals_each_protein_alone(model, records):
    scored = score_records(model, records)
    together = protein_reports(model, scored, rows=[1], top=3, evidence=2, names={"b": "mine"})
    alone = prediction_report(model, [("mine", records[1][1])], top=3, evidence=2, nearest=0, homologs=0)
    _assert_same_report(together, alone["proteins"])
    # the helper does fail on a real difference
    changed = json.loads(json.dumps(alone["proteins"]))
    changed[0]["phenotypes"][0]["evidence"]["concepts"][0]["contribution"] *= 1.01
    with pytest.raises(AssertionError):
        _assert_same_report(together, changed)


def test_evidence_items_are_the_largest_positive_contributions(model, records):
    inputs = prepare_inputs(model, records)
    frame = ranked_frame(model, inputs.ids, score_matrix(model, inputs), 3, None)
    items = evidence_items(model, inputs, frame, n=2)
    for (gene, term), item in zip(zip(frame["gene"], frame["term_id"]), items):
        seq = dict(records)[gene]
        why = gp.explain(model, (gene, seq), phenotype=[term], go_annotations=[])
        table = why.contribution_table(term)
        rel = table.set_index("concept_id")["relative_contribution"]
        best = rel[rel > 0].sort_values(ascending=False, kind="stable").head(2)
        assert [c["id"] for c in item["concepts"]] == best.index.tolist()
        assert [c["contribution"] for c in item["concepts"]] == pytest.approx(best.tolist(), rel=1e-4, abs=1e-6)
    # the text columns of `predict --format tsv` are made from the same items
    assert top_concepts(model, inputs, frame, 2) == [
        "; ".join(f"{c['name']} ({c['contribution']:+.2f})" for c in i["concepts"]) for i in items]
    assert len(top_evidence(model, inputs, frame, 2)) == len(frame)


def test_explanation_report_sums_to_the_logit(model, records):
    term = str(model.terms["term_id"].iloc[2])
    why = gp.explain(model, records[0], phenotype=[term], go_annotations=[])
    report = explanation_report(model, why, term)
    total = report["bias"] + sum(c["contribution"] for c in report["contributions"])
    assert total == pytest.approx(report["logit"], abs=1e-5)
    assert abs(report["check"]["difference"]) < 1e-5
    assert report["phenotype"]["id"] == term and report["protein"]["length"] == len(records[0][1])
    assert np.isfinite(report["logit"])
