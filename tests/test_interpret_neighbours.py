"""nearest_proteins(): DIAMOND hits among the model's training proteins."""

from __future__ import annotations

import shutil

import pytest

from _interpret_toy import toy_genes
from genepheno_core.interpret import nearest_proteins
from genepheno_core.interpret.model_store import model_extras
from genepheno_core.interpret.neighbours import NEAREST_COLUMNS

pytestmark = [
    pytest.mark.usefixtures("toy_home"),  # GENEPHENO_HOME for the toy model (conftest.py)
    pytest.mark.skipif(shutil.which("diamond") is None, reason="diamond not installed"),
]


def test_training_protein_finds_itself(model):
    genes = toy_genes()
    train = genes[genes["split"] == "train"].iloc[:2]
    queries = list(zip(["a", "b"], train["sequence"]))
    hits = nearest_proteins(model, queries, k=3)
    assert list(hits.columns) == NEAREST_COLUMNS
    for q, (_, row) in zip(["a", "b"], train.iterrows()):
        sub = hits[hits["query"] == q]
        assert 1 <= len(sub) <= 3
        best = sub.iloc[0]
        assert best["accession"] == row["accession"] and best["symbol"] == row["symbol"]
        assert best["identity"] == pytest.approx(100.0)
        assert list(sub["bitscore"]) == sorted(sub["bitscore"], reverse=True)
        assert set(best["phenotypes"]) == set(t for t in row["terms"].split(";") if t)
    # most specific phenotypes first
    depth = dict(zip(model_extras(model).terms["term_id"], model_extras(model).terms["depth"]))
    d = [depth[t] for t in hits["phenotypes"].iloc[0]]
    assert d == sorted(d, reverse=True)


def test_query_without_hits(model):
    hits = nearest_proteins(model, [("poly", "WP" * 20)], k=5)
    assert hits.empty and list(hits.columns) == NEAREST_COLUMNS


def test_ortholog_evidence_is_the_ortholog_input(model, tmp_path, monkeypatch):
    import numpy as np

    from _tiny_dataset import train_tiny_cross_species
    from genepheno_core.errors import ModelMismatchError
    from genepheno_core.interpret import explain, ortholog_evidence
    from genepheno_core.interpret.neighbours import ORTHOLOG_COLUMNS
    from genepheno_core.training import load_model

    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    path, ds, emb, other = train_tiny_cross_species(tmp_path / "model")
    plain, model = model, load_model(path)
    queries = [("a", ds.genes["sequence"].iloc[0]), ("b", ds.genes["sequence"].iloc[40]), ("none", "M" + "W" * 60)]
    hits = ortholog_evidence(model, queries)
    assert list(hits.columns) == ORTHOLOG_COLUMNS
    assert set(hits["query"]) == {"a", "b"}  # no homolog for the poly-W protein
    for q, fam in (("a", "0"), ("b", "1")):
        sub = hits[hits["query"] == q]
        assert 1 <= len(sub) <= model.cross_species.max_hits
        assert sub["weight"].sum() == pytest.approx(1.0)
        assert list(sub["bitscore"]) == sorted(sub["bitscore"], reverse=True)
        assert all(g.startswith(f"O{fam}") for g in sub["gene_id"])  # its own family in the other species
        # the weighted phenotypes of the hits are exactly the model's ortholog input
        vec = np.zeros(other.labels.shape[1])
        for gid, w in zip(sub["gene_id"], sub["weight"]):
            vec += w * other.labels[other.genes["gene_id"].tolist().index(gid)].toarray().ravel()
        seq = dict(queries)[q]
        np.testing.assert_allclose(model.cross_species.vectors([seq])[0], vec, atol=1e-5)
    # explanations add the homolog phenotypes' contributions W_o[k, x] o_x
    e = explain(model, queries[0], phenotype=list(model.terms["term_id"][:3]), go_annotations=[], embeddings=emb[:1])
    assert len(e.ortholog_contributions) > 0 and e.ortholog_dataset == "tiny-other"
    for term in e.contributions:
        total = e.evidence_table(term)["contribution"].sum()
        assert total + e.bias[term] == pytest.approx(e.logit[term], abs=1e-5)
        assert e.source_totals(term)["ortholog phenotype"] == pytest.approx(e.ortholog_contributions[term].sum())
    assert "ortholog phenotype" in set(e.evidence_table()["source"])
    # a model without the input says so
    with pytest.raises(ModelMismatchError, match="ortholog"):
        ortholog_evidence(plain, queries[:1])


def test_model_knowledge_flags_training_proteins_and_queries_without_homologs(model):
    from genepheno_core.interpret import model_knowledge
    from genepheno_core.interpret.neighbours import KNOWLEDGE_COLUMNS

    genes = toy_genes()
    train = genes[genes["split"] == "train"].iloc[0]
    seq = train["sequence"]
    # a single substitution in 100+ residues stays >= 95 % identical: still the training gene
    mutant = seq[:10] + ("A" if seq[10] != "A" else "G") + seq[11:]
    fragment = seq[: len(seq) // 2]  # half of a training protein: all of the query is that protein
    queries = [("same", seq), ("mutant", mutant), ("none", "WP" * 30), ("fragment", fragment)]
    known = model_knowledge(model, queries)
    assert list(known.columns) == KNOWLEDGE_COLUMNS
    assert list(known["query"]) == ["same", "mutant", "none", "fragment"]
    rows = known.set_index("query")
    for q in ("same", "mutant"):
        assert rows.loc[q, "regime"] == "training protein"
        assert rows.loc[q, "training_accession"] == train["accession"]
        assert set(rows.loc[q, "training_phenotypes"]) == {t for t in train["terms"].split(";") if t}
        assert rows.loc[q, "training_identity"] >= 95.0 and rows.loc[q, "n_training_hits"] >= 1
    assert rows.loc["none", "regime"] == "no homolog" and rows.loc["none", "n_training_hits"] == 0
    assert rows.loc["none", "training_phenotypes"] == [] and rows.loc["none", "training_accession"] == ""
    assert rows.loc["fragment", "regime"] == "training protein" and rows.loc["fragment", "training_coverage"] >= 80
    # stricter thresholds: the mutant is then only a homolog of a training gene
    strict = model_knowledge(model, [("mutant", mutant)], identity=100.0).iloc[0]
    assert strict["regime"] == "homologs known" and strict["training_accession"] == ""
