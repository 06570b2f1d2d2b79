"""dashboard/gene_records.py: the proteins the pages predict and explain."""

from __future__ import annotations

import os

import pytest

import genepheno_core as gp
from dashboard import gene_records, models
from dashboard import testing as t

pytestmark = pytest.mark.skipif(t.model_missing_reason() is not None and not os.environ.get("CI"),
                                reason=str(t.model_missing_reason()))


def test_case_studies_are_the_cores():
    cases = gp.load_case_studies()
    records = gene_records.case_study_genes("hpo")
    hpo = cases[cases["dataset"] == "hpo"]
    assert [r.accession for r in records] == list(hpo["accession"])
    first, row = records[0], hpo.iloc[0]
    assert first.key == f"case:{row['accession']}" and first.symbol == row["symbol"]
    assert first.sequence == row["sequence"] and first.note == row["why"]
    assert first.go == tuple(row["go"]) and first.phenotypes == tuple(row["phenotypes"])
    assert first.label == f"{row['symbol']} · {row['accession']} (case study, trained on, {len(row['sequence'])} aa)"
    assert len(gene_records.case_study_genes()) == len(cases)  # no model: all of them


def test_case_studies_say_whether_the_model_was_trained_on_them():
    records = gene_records.case_study_genes("hpo")
    splits = {r.symbol: r.split for r in records}
    # the set includes held-out genes (test split of the random split the shipped model used)
    held_out = [s for s, split in splits.items() if split == "test"]
    assert len(held_out) >= 5 and splits["TP53"] == "train"
    # ... and the shipped model's own training genes agree
    from genepheno_core.interpret.inference import model_extras

    trained = set(model_extras(models.get_model("hpo")).train_genes["accession"])
    assert all((r.accession in trained) == (r.split == "train") for r in records)
    fmr1 = next(r for r in records if r.symbol == "FMR1")
    assert "held out" in fmr1.label and "never saw" in fmr1.training_text
    tp53 = next(r for r in records if r.symbol == "TP53")
    assert "training gene" in tp53.training_text


def test_case_studies_of_another_dataset_are_left_out(monkeypatch):
    # an mpo gene's MP phenotypes mean nothing to an hpo model: as if every case were mpo's
    monkeypatch.setattr(models, "dataset_name", lambda m: "mpo")
    assert gene_records.case_study_genes("hpo") == []


def test_find_a_gene_of_the_dataset_by_symbol():
    found = gene_records.find_dataset_genes("hpo", "TP53")
    assert found and found[0].symbol == "TP53" and found[0].accession == "P04637"
    assert found[0].sequence == t.sequence("P04637")


def test_predictions_and_explanation_of_a_record():
    gene = gene_records.case_study_genes("hpo")[0]
    preds = gene_records.gene_predictions("hpo", gene, top=3)  # without GO: the model scorer picks for that
    assert list(preds["term_id"]) == list(gp.predict(models.get_model(models.scorer("hpo", False)),
                                                      [(gene.accession, gene.sequence)], top=3)["term_id"])
    with_go = gene_records.gene_predictions("hpo", gene, top=3, use_go=True)
    assert list(with_go["term_id"]) == list(gp.predict(
        models.get_model("hpo"), [(gene.accession, gene.sequence)],
        go_annotations={gene.accession: list(gene.go)}, top=3)["term_id"])
    expl = gene_records.explain_gene("hpo", gene, tuple(preds["term_id"]), use_go=True)
    assert expl.go_given == sorted(gene.go) and expl.activations["annotated"].any()
