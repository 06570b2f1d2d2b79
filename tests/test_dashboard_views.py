"""dashboard/views.py: the pages' tables, built from the core's own objects."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest

import genepheno_core as gp
from dashboard import models, views
from dashboard import testing as t

pytestmark = pytest.mark.skipif(t.model_missing_reason() is not None and not os.environ.get("CI"),
                                reason=str(t.model_missing_reason()))


@pytest.fixture(scope="module")
def model():
    return models.get_model("hpo")


@pytest.fixture(scope="module")
def explanation(model):
    seq = t.sequence("P04637")
    terms = tuple(gp.predict(model, [("P04637", seq)], top=3)["term_id"])
    return models.explain("hpo", "P04637", seq, (), terms)


def test_contributions_of_the_cores_explanation_sum_to_its_logit(explanation):
    term = explanation.terms["term_id"].iloc[0]
    frame = views.contribution_frame(explanation, term)
    assert list(frame.columns) == ["source", "id", "name", "contribution", "detail"]
    assert frame["contribution"].abs().is_monotonic_decreasing
    assert explanation.bias[term] + frame["contribution"].sum() == pytest.approx(explanation.logit[term], abs=1e-6)
    totals = views.source_totals(explanation, term)
    # no GO given: concepts, the GO transferred from its homologs (each term naming them)
    # and the mouse homologs' phenotypes
    assert set(totals) == {"concept", "GO term", "ortholog phenotype"} and set(totals) <= set(views.SOURCE_NAMES)
    assert explanation.go_origin == "transferred"
    assert "P04637" not in set(explanation.go_transfer["target"])  # never its own entry
    go_rows = frame[frame["source"] == "GO term"]
    assert go_rows["detail"].str.startswith("from ").all()
    text = views.go_origin_text(explanation)
    assert "transferred from" in text and explanation.go_transfer["target"].iloc[0] in text
    assert sum(totals.values()) == pytest.approx(frame["contribution"].sum())


def test_heatmap_rows_are_the_strongest_concepts_by_name(explanation):
    matrix = views.heatmap_frame(explanation, n_concepts=7)
    assert matrix.shape == (7, len(explanation.terms))
    assert list(matrix.columns) == list(explanation.terms["term_name"])
    names = set(explanation.activations["concept_name"])
    assert set(matrix.index) <= names
    strongest = explanation.contributions.abs().max(axis=1).max()
    assert matrix.abs().to_numpy().max() == pytest.approx(strongest)


def test_hit_tables_name_the_phenotypes(model):
    queries = (("P04637", t.sequence("P04637")),)
    hits = views.nearest_table("hpo", queries)
    raw = gp.nearest_proteins(model, list(queries))
    assert list(hits.columns) == [*raw.columns, "n_phenotypes"]
    assert list(hits["n_phenotypes"]) == [len(v) for v in raw["phenotypes"]]
    first = models.term_names("hpo")[raw["phenotypes"].iloc[0][0]]
    assert hits["phenotypes"].iloc[0].startswith(first)
    orth = views.ortholog_table("hpo", queries)
    assert len(orth) and orth["phenotypes"].map(type).eq(str).all()


def test_top_concepts_and_homolog_phenotypes_are_the_largest_weights(model):
    term = views.default_graph_term("hpo")
    assert term == "HP:0001250"  # seizure, the first preferred term the hpo model has
    k = int(model.terms.index[model.terms["term_id"] == term][0])
    concepts = views.top_concepts("hpo", term, n=6)
    assert concepts["weight"].iloc[0] == pytest.approx(float(model.W_p[k].max()))
    homologs = views.top_homolog_phenotypes("hpo", term, n=5)
    assert len(homologs) == 5 and homologs["weight"].iloc[0] == pytest.approx(float(model.W_o([k]).max()), rel=1e-5)
    assert homologs["term_id"].str.startswith("MP:").all() and homologs["name"].str.len().min() > 0


def test_go_table_names_the_ids(model):
    concepts = model.concepts["go_id"].head(3).tolist()
    table = views.go_table("hpo", [*concepts, "GO:9999999"])
    assert set(table["go_id"]) == {*concepts, "GO:9999999"}
    named = table.set_index("go_id")
    assert named.loc["GO:9999999", "name"] == "" and all(named.loc[c, "name"] for c in concepts)


def test_model_summary_of_a_model_with_validation_metrics_only(model, monkeypatch):
    # a model straight from `genepheno train`: metrics.json has the "valid" section only
    valid = model.metrics["valid"]
    trained = dataclasses.replace(model, metrics={"valid": valid, "threshold": valid["threshold"]})
    monkeypatch.setattr(models, "get_model", lambda name: trained)
    info = views.model_summary("trained")
    headline = dict(info["headline"])
    assert headline["Fmax (valid)"] == f"{valid['fmax']:.3f}"
    assert headline["Smin (valid)"] == f"{valid['smin']:.3f}"
    bins = info["auc_bins"]
    assert bins.attrs["source"] == "valid.auc_bins"
    assert list(bins["n_terms"]) == list(valid["auc_bin_terms"].values())
    assert info["interpretability"] is None
    assert "**trained**" in info["description"] and "**hpo**" in info["description"]


def test_flat_metrics():
    flat = views.flat_metrics({"a": {"b": 1, "c": [1, 2]}, "d": 0.5})
    assert flat == [("a.b", 1), ("a.c", "[1, 2]"), ("d", 0.5)]
    assert np.isfinite([v for _, v in views.flat_metrics(models.get_model("hpo").metrics["valid"])
                        if isinstance(v, float)]).all()
