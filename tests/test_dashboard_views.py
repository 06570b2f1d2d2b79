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
    # no GO given: concepts, the GO transferred from its homologs (each term naming them),
    # the mouse homologs' phenotypes and the functional neighbours (hpo-go-transfer's vote)
    assert set(totals) == {"concept", "GO term", "ortholog phenotype", "functional neighbour"}
    assert set(totals) <= set(views.SOURCE_NAMES)
    assert explanation.neighbour_alpha > 0 and len(explanation.neighbours) == 50
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
    assert headline["Fmax (validation genes)"] == f"{valid['fmax']:.3f}"
    assert headline["Smin (validation genes)"] == f"{valid['smin']:.3f}"
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


# --- issue 19: the Predict page's table, thresholds, knowledge and evidence in words --------

def _frame(view: str):
    import pandas as pd

    # a tiny "specific" frame: B (shown) with its ancestor A folded under it; C shown
    rows = [("g", "HP:B", "Brain", 0.8, 0.1, 3.0, 3.3, "", 1), ("g", "HP:A", "Nervous", 0.9, 0.6, 1.0, 0.7, "HP:B", 1),
            ("g", "HP:C", "Cancer", 0.7, 0.05, 4.0, 4.3, "", 2)]
    if view == "all":
        rows = sorted([r[:7] + ("", 0) for r in rows], key=lambda r: -r[3])
        rows = [r[:8] + (i + 1,) for i, r in enumerate(rows)]
    df = pd.DataFrame(rows, columns=["gene", "term_id", "term_name", "score", "prior", "gain", "ic", "folded_under",
                                     "rank"])
    df["above_threshold"] = False
    df.attrs.update(view=view, threshold=0.75)
    return df


def test_prediction_table_specific_view_sorting_and_folding():
    table = views.prediction_table(_frame("specific"), "g")
    assert list(table["term_id"]) == ["HP:B", "HP:C"] and list(table["n_folded"]) == [1, 0]
    assert list(table["above_threshold"]) == [True, False]  # at the frame's threshold 0.75
    by_gain = views.prediction_table(_frame("specific"), "g", sort="gain over the prior")
    assert list(by_gain["term_id"]) == ["HP:C", "HP:B"]
    folded = views.prediction_table(_frame("specific"), "g", show_folded=True, known=["HP:A"], threshold=0.5)
    assert list(folded["term_id"]) == ["HP:B", "HP:A", "HP:C"]
    assert folded["term_name"].iloc[1] == views.FOLD_MARK + "Nervous" and folded["folded_under"].iloc[1] == "Brain"
    assert list(folded["known"]) == [False, True, False] and folded["above_threshold"].all()  # all >= 0.5


def test_prediction_table_all_terms_filter_and_top():
    table = views.prediction_table(_frame("all"), "g", top=2)
    assert list(table["term_id"]) == ["HP:A", "HP:B"] and list(table["rank"]) == [1, 2]
    assert list(views.prediction_table(_frame("all"), "g", text_filter="canc")["term_id"]) == ["HP:C"]
    assert list(views.prediction_table(_frame("all"), "g", text_filter="hp:a")["term_id"]) == ["HP:A"]
    assert views.prediction_table(_frame("all"), "g", text_filter="nothing").empty
    by_specificity = views.prediction_table(_frame("all"), "g", sort="specificity")
    assert list(by_specificity["term_id"]) == ["HP:C", "HP:B", "HP:A"]


def test_threshold_and_knowledge_in_words():
    facts = {"threshold": 0.22, "fmax": 0.43, "precision": 0.42, "recall": 0.45}
    text = views.threshold_text(facts, 0.22, custom=False)
    assert "0.22" in text and "42 %" in text and "45 %" in text and "validation" in text
    assert "Custom threshold 0.50" in views.threshold_text(facts, 0.5, custom=True)
    trained = {"regime": "training protein", "training_symbol": "TP53", "training_accession": "P04637",
               "training_identity": 100.0, "training_coverage": 100.0, "training_phenotypes": ["HP:1", "HP:2"],
               "n_training_hits": 3, "n_other_species_hits": 2}
    kind, sentence = views.knowledge_text(trained, {}, "mpo")
    assert kind == "trained" and "100 % identical" in sentence and "2 known phenotypes" in sentence
    kind, sentence = views.knowledge_text(dict(trained, regime="no homolog"), {}, "mpo")
    assert kind == "novel" and "prior" in sentence and "mouse" in sentence
    kind, sentence = views.knowledge_text(dict(trained, regime="homologs known"), {}, "mpo")
    assert kind == "homologs" and "3 among the training proteins" in sentence


def test_evidence_in_words_names_the_homologs():
    import pandas as pd

    contrib = pd.DataFrame({"source": ["ortholog phenotype", "concept", "ortholog phenotype"],
                            "id": ["MP:0002032", "GO:1", "MP:2"], "name": ["increased sarcoma incidence", "DNA binding",
                                                                           "polyploidy"],
                            "contribution": [0.38, 0.1, -0.2],
                            "detail": ["a curated MP-HP mapping relates it to this phenotype", "", "no curated"]})
    acts = pd.DataFrame({"concept_id": ["GO:1"], "activation": [0.87]})
    words = views.evidence_words(contrib, {"MP:0002032": ["Trp53"], "MP:2": ["Trp53", "Trp73"]}, "mpo", acts)
    assert words[0] == ("**For:** mouse *Trp53* knockouts: increased sarcoma incidence (+0.38; a curated "
                        "mouse-human mapping relates it)")
    assert words[1] == "**For:** GO concept “DNA binding” (+0.10; activation 0.87)"
    assert words[2] == "**Against:** mouse *Trp53*, *Trp73* knockouts: polyploidy (-0.20)"


def test_nearest_table_keeps_every_phenotype_for_the_download(model):
    seq = t.sequence("P04637")
    short = views.nearest_table("hpo", (("P04637", seq),))
    full = views.nearest_table("hpo", (("P04637", seq),), full=True)
    assert short["phenotypes"].str.contains("more\\)").any()
    assert not full["phenotypes"].str.contains("more\\)").any()
    assert (full["phenotypes"].str.count("; ") + 1 == full["n_phenotypes"]).all()


def test_functional_neighbours_in_words_and_in_one_sentence():
    import types

    import pandas as pd

    contrib = pd.DataFrame({"source": ["functional neighbour", "functional neighbour", "functional neighbour"],
                            "id": ["2261", "4", "7157"], "name": ["FGFR3", "", "TP53"],
                            "contribution": [0.21, 0.05, -0.08],
                            "detail": ["GO similarity 0.61, 9% of the vote; has this phenotype", "", "x"]})
    words = views.evidence_words(contrib, {}, "mpo")
    from dashboard.safe_text import md_escape

    assert words[0] == ("**For:** functional neighbour *FGFR3*, a training gene with similar GO (+0.21; "
                        + md_escape("GO similarity 0.61, 9% of the vote; has this phenotype") + ")")
    assert words[1] == "**For:** functional neighbour *4*, a training gene with similar GO (+0.05)"  # no symbol: the id
    assert words[2].startswith("**Against:** functional neighbour *TP53*")
    table = pd.DataFrame({"gene_id": ["2261", "7157", "1"], "symbol": ["FGFR3", "TP53", None]})
    has = pd.DataFrame({"HP:1": [True, False, True]}, index=["2261", "7157", "1"])
    expl = types.SimpleNamespace(neighbours=table, neighbour_has=has, neighbour_alpha=0.2)
    text = views.neighbours_text(expl, "HP:1")
    assert "the 3 training genes most like this protein (similar GO) vote" in text
    assert "a weight of 20% chosen on validation" in text
    assert text.endswith("2 of them have this phenotype (FGFR3, 1).")
    assert views.neighbours_text(types.SimpleNamespace(neighbours=pd.DataFrame(), neighbour_alpha=0.0), "HP:1") == ""
    # neighbours found by GO and homolog phenotypes say so, in the sentence and in each item
    expl.neighbour_basis = "similar GO and homologs with similar knockout phenotypes"
    text = views.neighbours_text(expl, "HP:1")
    assert ("the 3 training genes most like this protein (similar GO and homologs with similar knockout "
            "phenotypes) vote") in text
    words = views.evidence_words(contrib, {}, "mpo", neighbour_basis=expl.neighbour_basis)
    assert words[1] == ("**For:** functional neighbour *4*, a training gene with similar GO and homologs with "
                        "similar knockout phenotypes (+0.05)")
