"""explain(): exact concept contributions (contributions + bias == logit)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from _interpret_toy import toy_genes
from genepheno_core.errors import GenePhenoError, InputFormatError
from genepheno_core.interpret import explain, predict


pytestmark = pytest.mark.usefixtures("toy_home")  # GENEPHENO_HOME for the toy model (conftest.py)


@pytest.mark.parametrize("go", [None, ["GO:0005634", "GO:0070062"]])
def test_contributions_sum_to_logit(model, go):
    seq = toy_genes()["sequence"][3]
    e = explain(model, ("g", seq), phenotype=list(model.terms["term_id"]), go_annotations=go)
    assert list(e.contributions.columns) == list(model.terms["term_id"])
    assert list(e.contributions.index) == list(model.concepts["go_id"])
    for term in e.contributions:
        # bias + concept contributions + GO term contributions (none without GO) = logit
        go_part = e.go_term_contributions[term].sum() if len(e.go_term_contributions) else 0.0
        assert e.contributions[term].sum() + go_part + e.bias[term] == pytest.approx(e.logit[term], abs=1e-5)
        evidence = e.evidence_table(term)
        assert evidence["contribution"].sum() + e.bias[term] == pytest.approx(e.logit[term], abs=1e-5)
        assert set(evidence["source"]) == ({"concept", "GO term"} if go else {"concept"})
        assert e.source_totals(term)["GO term"] == pytest.approx(go_part, abs=1e-12)
    if go:
        # one row per GO input term of the gene, each W_g[k, t] / sqrt(n)
        on = np.flatnonzero(model.go_bag([propagate_go_set(model, go)])[0])
        assert list(e.go_term_contributions.index) == [model.go_inputs[i] for i in on]
        k = 0
        W_g = model.W_g([k], on)[0]
        np.testing.assert_allclose(e.go_term_contributions.iloc[:, k].to_numpy(), W_g / np.sqrt(on.size), atol=1e-9)
    # the logit is the log-odds of the model's own (unpropagated) probability
    from genepheno_core.embeddings import embed_sequences
    from genepheno_core.interpret.inference import propagate_go

    emb = embed_sequences([seq], "unirep64", cache=False)
    p = model.probabilities(emb, go_sets=[propagate_go(model, go)])[0]
    np.testing.assert_allclose([e.score[t] for t in model.terms["term_id"]], p, atol=1e-5)
    # contribution = W_p[k, j] * sigmoid(c_j), checked against the module's weights
    W = model.module.phenotype_head.weight.detach().numpy() / model.module.config.temperature
    a = e.activations["activation"].to_numpy()
    np.testing.assert_allclose(e.contributions.to_numpy().T, W * a[None, :], atol=1e-6)
    assert ((a > 0) & (a < 1)).all()


def propagate_go_set(model, go):
    from genepheno_core.interpret.inference import propagate_go

    return propagate_go(model, go)


def test_default_phenotypes_are_top_predictions(model):
    seq = toy_genes()["sequence"][4]
    e = explain(model, ("g", seq), top_terms=3)
    top = predict(model, [("g", seq)], top=3)
    assert list(e.terms["term_id"]) == list(top["term_id"])
    assert list(e.terms["rank"]) == [1, 2, 3]


def test_gene_lookup_by_symbol_and_table(model):
    genes = toy_genes()
    train = genes[genes["split"] == "train"].iloc[0]
    e = explain(model, train["symbol"], phenotype="HP:0012638")
    assert e.sequence == train["sequence"]
    table = e.contribution_table(top=2)
    assert len(table) == 2 and set(table["term_id"]) == {"HP:0012638"}
    assert abs(table["contribution"].iloc[0]) >= abs(table["contribution"].iloc[1])
    np.testing.assert_allclose(table["weight"] * table["activation"], table["contribution"], atol=1e-9)
    d = e.to_dict()
    assert d["gene"] == e.gene and len(d["activations"]) == len(model.concepts)


def test_a_protein_without_go_is_explained_by_the_go_transfer_sibling(routed_models, monkeypatch):
    """explain with a shipped name: a protein given no GO -> "<name>-go-transfer", whose
    evidence + bias still equals its logit; given GO -> the named model."""
    from genepheno_core.interpret.model_store import resolve_model

    genes = toy_genes()
    seq = genes["sequence"][0]
    e = explain("toy", ("g", seq), top_terms=3)
    assert e.model == "toy-go-transfer" and e.to_dict()["model"] == "toy-go-transfer"
    same = explain(resolve_model("toy-go-transfer"), ("g", seq), phenotype=list(e.logit))
    assert e.logit == pytest.approx(same.logit)
    for term in e.logit:
        assert e.evidence_table(term)["contribution"].sum() + e.bias[term] == pytest.approx(e.logit[term], abs=1e-5)
    assert explain("toy", ("g", seq), auto_model=False).model == "toy"
    # a phenotype the sibling does not predict (a smaller split vocabulary): the named model explains it
    sibling = resolve_model("toy-go-transfer")
    dropped = str(sibling.terms["term_id"].iloc[0])
    monkeypatch.setattr(sibling, "terms", sibling.terms.assign(term_id=["HP:9999999"] + list(sibling.terms["term_id"][1:])))
    assert explain("toy", ("g", seq), phenotype=dropped).model == "toy"
    assert explain("toy", ("g", seq), phenotype=str(sibling.terms["term_id"].iloc[1])).model == "toy-go-transfer"
    assert explain("toy", ("g", seq), go_annotations=["GO:0005634"]).model == "toy"
    train = genes[genes["split"] == "train"].iloc[0]  # a gene by name, without GO of its own here
    assert explain("toy", train["symbol"]).model == "toy-go-transfer"
    assert explain("toy", train["symbol"], go_annotations=["GO:0005634"]).model == "toy"


def test_annotated_concepts_follow_go(model):
    seq = toy_genes()["sequence"][0]
    e = explain(model, ("g", seq), phenotype="HP:0000707", go_annotations=["GO:0005634"])
    annotated = set(e.activations.loc[e.activations["annotated"], "concept_id"])
    # nucleus is part of intracellular organelle / membrane-bounded organelle / intracellular part
    assert {"GO:0043227", "GO:0043229", "GO:0044424"} <= annotated
    assert "GO:0005515" not in annotated
    e0 = explain(model, ("g", seq), phenotype="HP:0000707")
    assert not e0.activations["annotated"].any()


def test_bad_input(model):
    with pytest.raises(GenePhenoError, match="unknown phenotype"):
        explain(model, ("g", "MKVLAAGIV" * 3), phenotype="HP:9999999")
    with pytest.raises(InputFormatError, match="one protein"):
        explain(model, ">a\n" + "MKV" * 10 + "\n>b\n" + "MKA" * 10 + "\n")
    with pytest.raises(InputFormatError):
        explain(model, ("g", "MK*V1"))


def test_relative_contributions_and_top_concepts(model):
    from genepheno_core.interpret.contributions import baseline_activations, top_concepts
    from genepheno_core.interpret.inference import prepare_inputs

    seq = toy_genes()["sequence"][7]
    e = explain(model, ("g", seq), phenotype="HP:0000707")
    a0 = baseline_activations(model)
    # the average protein: the training-mean embedding, i.e. standardised input 0, no GO
    with torch.no_grad():
        out = model.module(seq_emb=model.module.inputs.seq_mean[None], go_bag=torch.zeros(1, len(model.go_inputs)))
    np.testing.assert_allclose(a0, torch.sigmoid(out.concept_logits[0]).numpy(), atol=1e-6)
    table = e.contribution_table("HP:0000707")
    a0_by_id = dict(zip(model.concepts["go_id"], a0))
    expected = table["weight"] * (table["activation"] - table["concept_id"].map(a0_by_id))
    np.testing.assert_allclose(table["relative_contribution"], expected, atol=1e-9)
    inputs = prepare_inputs(model, [("g", seq)])
    frame = predict(model, [("g", seq)], top=2)
    text = top_concepts(model, inputs, frame, n=2)
    assert len(text) == 2
    # each text = the (up to) 2 concepts with the largest positive relative contribution to its term
    explained = explain(model, ("g", seq), phenotype=list(frame["term_id"]))
    for term, line in zip(frame["term_id"], text):
        best = explained.contribution_table(term).sort_values("relative_contribution", ascending=False)
        best = best[best["relative_contribution"] > 0].head(2)
        assert line == "; ".join(f"{n} ({v:+.2f})" for n, v in zip(best["concept_name"], best["relative_contribution"]))
    assert any(text)  # the check above compared at least one non-empty text


def test_top_evidence_lists_the_largest_go_term_contributions(model):
    from genepheno_core.interpret.contributions import top_evidence
    from genepheno_core.interpret.inference import prepare_inputs

    seq = toy_genes()["sequence"][3]
    go = ["GO:0005634", "GO:0070062"]
    frame = predict(model, [("g", seq)], go_annotations={"g": go}, top=4)
    inputs = prepare_inputs(model, [("g", seq)], {"g": go})
    texts = top_evidence(model, inputs, frame, n=2)
    e = explain(model, ("g", seq), phenotype=list(frame["term_id"]), go_annotations=go)
    # the toy model stores the GO structure: both list the gene's most specific GO terms
    # (GO:0005634 nucleus, GO:0070062 extracellular exosome), each with its broader terms' share
    assert e.go_term_groups and set(e.go_term_groups) <= set(go)
    for term, text in zip(frame["term_id"], texts):
        rows = e.evidence_table(term)
        best = rows[rows["source"] == "GO term"]["contribution"].sort_values(ascending=False)
        best = best[best > 0].head(2)
        assert text.count("GO: ") == len(best)
        assert [f"({v:+.2f})" in part for v, part in zip(best, text.split(";"))] == [True] * len(best)
    assert any(texts)  # at least one term has positive GO evidence, so the loop compared values
    # without GO annotations there is nothing to list (no homolog input in the toy model)
    no_go = prepare_inputs(model, [("g", seq)], None)
    assert top_evidence(model, no_go, frame, n=2) == [""] * len(frame)


def test_unknown_gene_name_is_an_error_with_close_matches(model):
    from genepheno_core.errors import UnknownGeneError

    symbol = toy_genes()["symbol"][0]
    typo = symbol[:-2] + symbol[-1] + symbol[-2]  # last two letters swapped, as CFRT for CFTR
    with pytest.raises(UnknownGeneError, match=f"unknown gene '{typo}'; did you mean {symbol}") as info:
        explain(model, typo)
    assert info.value.suggestions[0] == symbol
    with pytest.raises(UnknownGeneError, match="unknown gene 'ZZZQQQ'"):
        explain(model, "ZZZQQQ")
    # a bare pasted sequence longer than a file name may be: the same clear error, not the
    # operating system's "File name too long"
    with pytest.raises(UnknownGeneError, match=r"\(400 letters\).*pass \(id, sequence\)"):
        explain(model, "M" + "ACDEFGHIKLMNPQRSTVWY" * 19 + "ACDEFGHIKLMNPQRSTVW")
    # a file name that does not exist is a missing file, not an unknown gene
    from genepheno_core.errors import MissingDataError

    with pytest.raises(MissingDataError):
        explain(model, "/nonexistent/query.fasta")


def test_explanation_reports_given_used_and_unknown_go(model, caplog):
    seq = toy_genes()["sequence"][3]
    with caplog.at_level("WARNING"):
        e = explain(model, ("g", seq), phenotype="HP:0000707", go_annotations=["GO:0005634", "GO:9999999"])
    assert e.go_given == ["GO:0005634", "GO:9999999"]
    assert e.go_used == ["GO:0005634"] and e.go_unknown == ["GO:9999999"]
    assert "GO:9999999" in caplog.text
    assert e.to_dict()["go_unknown"] == ["GO:9999999"]
    with pytest.raises(InputFormatError, match="not a GO id"):
        explain(model, ("g", seq), go_annotations=["GO:12345"])


def test_a_pasted_protein_gets_its_homologs_go_as_readable_evidence(model, monkeypatch):
    from _interpret_toy import toy_go_reference

    from genepheno_core.models import go_transfer as gt

    assert model.uses_go and not model.trained_on_transferred_go
    reference, closure = toy_go_reference()
    monkeypatch.setattr(gt, "cached_go_reference", lambda entry, species=gt.SPECIES, go_ontology=None:
                        (reference, closure))
    genes = toy_genes()
    # a "new" protein: a toy protein with a few substitutions (so its homologs are found,
    # but it is not identical to any reference entry)
    seq = genes["sequence"][3]
    seq = seq[:10] + ("A" if seq[10] != "A" else "G") + seq[11:]
    e = explain(model, ("new", seq), phenotype=list(model.terms["term_id"]))
    assert e.go_origin == "transferred" and e.go_given == []
    assert not e.activations["annotated"].any()  # transferred GO is not an annotation
    assert not e.go_transfer.empty and e.go_transfer["weight"].sum() == pytest.approx(1.0)
    assert e.go_transfer["target"].iloc[0] == genes["accession"][3]  # its own (unmodified) entry is the best hit
    for term in e.contributions:
        evidence = e.evidence_table(term)
        assert evidence["contribution"].sum() + e.bias[term] == pytest.approx(e.logit[term], abs=1e-5)
        go_rows = evidence[evidence["source"] == "GO term"]
        # one row per most specific transferred GO term, carrying its broader terms' share
        assert len(go_rows) == len(e.go_term_groups) > 0
        assert go_rows["contribution"].sum() == pytest.approx(e.go_term_contributions[term].sum(), abs=1e-9)
        per_term = e.evidence_table(term, grouped=False)
        assert len(per_term[per_term["source"] == "GO term"]) == len(e.go_term_contributions)
        # every transferred GO term names the homologs it came from, with their weights
        for go_id, detail in zip(go_rows["id"], go_rows["detail"]):
            carriers = [t for t, ids in zip(e.go_transfer["target"], e.go_transfer["go_ids"])
                        if any(go_id in closure.ancestors(g, include_self=True) for g in ids)]
            assert detail.startswith("from ") and all(c in detail for c in carriers) and carriers
    # the GO input is the transferred scores: their weights, not a multi-hot
    transfer = model.transfer_go([seq])
    weights = transfer.reindex(model.go_inputs).toarray()[0]
    on = np.flatnonzero(weights)
    assert list(e.go_term_contributions.index) == [model.go_inputs[i] for i in on]
    g = weights / np.sqrt(weights.sum())
    np.testing.assert_allclose(e.go_term_contributions.iloc[:, 0].to_numpy(),
                               model.W_g([0], on)[0] * g[on], rtol=1e-5, atol=1e-8)
    # predict reports the origin; GO given by the user is used as given instead
    frame = predict(model, [("new", seq)], top=3)
    assert frame.attrs["go_origin"] == {"new": "transferred"}
    given = predict(model, [("new", seq)], go_annotations={"new": [model.go_inputs[0]]}, top=3)
    assert given.attrs["go_origin"] == {"new": "given"}
    off = predict(model, [("new", seq)], top=3, transfer_go=False)
    assert off.attrs["go_origin"] == {"new": "none"} and not np.allclose(off["score"], frame["score"])
    assert explain(model, ("new", seq), phenotype=e.terms["term_id"][0], transfer_go=False).go_term_contributions.empty
    # a protein without any annotated homolog gets no GO input
    alone = explain(model, ("alone", "MKV" * 40), phenotype=model.terms["term_id"].iloc[0])
    assert alone.go_origin == "no homolog" and alone.go_term_contributions.empty


def test_source_shares_match_the_explanation(model):
    from genepheno_core.embeddings import embed_sequences
    from genepheno_core.interpret.contributions import SOURCES, source_shares
    from genepheno_core.interpret.inference import propagate_go

    seq = toy_genes()["sequence"][3]
    go = ["GO:0005634", "GO:0070062"]
    terms = list(model.terms["term_id"])
    e = explain(model, ("g", seq), phenotype=terms, go_annotations=go)
    parts = {"concept": e.contributions, "GO term": e.go_term_contributions, "ortholog phenotype": e.ortholog_contributions,
             "functional neighbour": e.neighbour_contributions}
    by_hand = {s: sum(abs(f[t].sum()) for t in terms) if len(f) else 0.0 for s, f in parts.items()}
    emb = embed_sequences([seq], model.encoder, cache=True)
    shares = source_shares(model, emb, [propagate_go(model, go)], [seq] if model.needs_sequences else None)
    assert shares["n_genes"] == 1
    total = sum(by_hand.values())
    for s in SOURCES:
        assert shares[s] == pytest.approx(by_hand[s] / total, rel=1e-4, abs=1e-7)
    assert shares["GO term"] > 0 and sum(shares[s] for s in SOURCES) == pytest.approx(1.0)
    # without GO the GO-term path carries nothing
    assert source_shares(model, emb)["GO term"] == 0.0


@pytest.fixture
def neighbour_model(model):
    """The toy model with a functional-neighbour reference (models.go_neighbours) over 6
    made-up training genes with random GO input bags and labels, alpha 0.3."""
    import dataclasses

    from _interpret_toy import toy_go_neighbours

    nb = toy_go_neighbours(model, n=6, k=4, alpha=0.3, seed=0)
    return dataclasses.replace(model, go_neighbours=nb, caches={})


def test_functional_neighbours_are_their_own_evidence_and_keep_the_sum_exact(model, neighbour_model):
    """A model with functional neighbours: the logit is logit(p), p the model's probability
    moved by the vote's excess over the frequency; the evidence table has one row per
    neighbour gene whose sum is what the neighbours add, so contributions + bias still equal
    the logit."""
    from genepheno_core.embeddings import embed_sequences
    from genepheno_core.interpret.contributions import SOURCES, evidence_items, source_shares
    from genepheno_core.interpret.inference import prepare_inputs, propagate_go

    seq = toy_genes()["sequence"][3]
    go = ["GO:0005634", "GO:0070062"]
    terms = list(model.terms["term_id"])
    plain = explain(model, ("g", seq), phenotype=terms, go_annotations=go)
    e = explain(neighbour_model, ("g", seq), phenotype=terms, go_annotations=go)
    emb = embed_sequences([seq], "unirep64", cache=False)
    final = neighbour_model.logits(emb, go_sets=[propagate_go(model, go)])[0]
    assert neighbour_model.uses_go_neighbours and e.neighbour_alpha == 0.3
    assert e.neighbour_similarity == "GO input" and e.neighbour_basis == "similar GO"
    assert len(e.neighbours) == 4 and set(e.neighbours["symbol"]) <= {f"SYM{i}" for i in range(6)}
    for k, term in enumerate(terms):
        assert e.logit[term] == pytest.approx(float(final[k]), abs=1e-5)
        # the module's own paths are unchanged; the neighbours carry the difference
        assert e.contributions[term].sum() == pytest.approx(plain.contributions[term].sum(), abs=1e-9)
        assert e.neighbour_contributions[term].sum() == pytest.approx(e.logit[term] - plain.logit[term], abs=1e-6)
        evidence = e.evidence_table(term)
        assert evidence["contribution"].sum() + e.bias[term] == pytest.approx(e.logit[term], abs=1e-5)
        rows = evidence[evidence["source"] == "functional neighbour"]
        assert len(rows) == 4 and set(rows["id"]) == set(e.neighbours["gene_id"].astype(str))
        genes = rows
        assert genes["name"].str.startswith("SYM").all()
        assert genes["detail"].str.contains("GO similarity").all()
        # a neighbour that has the phenotype raises it, one that does not lowers it
        for _, row in genes.iterrows():
            has = bool(e.neighbour_has.at[row["id"], term])
            assert ("does not have" not in row["detail"]) == has
            assert (row["contribution"] > 0) == has
        assert sum(e.source_totals(term).values()) + e.bias[term] == pytest.approx(e.logit[term], abs=1e-5)
    assert e.to_dict()["neighbour_alpha"] == 0.3 and len(e.to_dict()["neighbours"]) == 4
    # the predicted probabilities are the blend, and the share of the logits the neighbours
    # carry is what explain shows
    shares = source_shares(neighbour_model, emb, [propagate_go(model, go)])
    by_hand = {"concept": sum(abs(e.contributions[t].sum()) for t in terms),
               "GO term": sum(abs(e.go_term_contributions[t].sum()) for t in terms),
               "ortholog phenotype": 0.0,
               "functional neighbour": sum(abs(e.neighbour_contributions[t].sum()) for t in terms)}
    total = sum(by_hand.values())
    for s in SOURCES:
        assert shares[s] == pytest.approx(by_hand[s] / total, rel=1e-3, abs=1e-6)
    # the prediction table's evidence names the neighbours that raise a phenotype most
    inputs = prepare_inputs(neighbour_model, [("g", seq)], {"g": go})
    import pandas as pd

    frame = pd.DataFrame({"gene": ["g"] * len(terms), "term_id": terms})
    items = evidence_items(neighbour_model, inputs, frame, n=2)
    for term, item in zip(terms, items):
        best = e.neighbour_contributions[term]
        want = [g for g in best.sort_values(ascending=False).index[:2] if best[g] > 0]
        assert [f["id"] for f in item["functional_neighbours"]] == want
        assert [f["contribution"] for f in item["functional_neighbours"]] == pytest.approx(best[want].tolist(), abs=1e-6)


def test_grouped_values_split_each_broader_term_among_its_specific_terms():
    import pandas as pd

    from genepheno_core.interpret.contributions import _grouped_values

    # a lies above c and d, b above c only
    values = pd.Series({"a": 0.4, "b": 0.3, "c": 0.2, "d": 0.6})
    out, implies = _grouped_values(values, {"c": ["c", "b", "a"], "d": ["d", "a"]})
    assert out.to_dict() == pytest.approx({"c": 0.2 + 0.3 + 0.2, "d": 0.6 + 0.2})
    assert implies == {"c": ["b", "a"], "d": ["a"]}
    assert out.sum() == pytest.approx(values.sum())


@pytest.mark.skipif(__import__("shutil").which("diamond") is None, reason="diamond not installed")
def test_neighbours_by_go_and_homolog_phenotypes_are_named_by_both_similarities(tmp_path, monkeypatch):
    """A model whose neighbours are found by the mean of the GO and the homolog-phenotype
    cosines: the explanation reads the protein's own ortholog input for the search, each
    neighbour row names both similarities, and contributions + bias still equal the logit."""
    import dataclasses

    import pandas as pd
    import scipy.sparse as sp

    from _tiny_dataset import train_tiny_cross_species
    from genepheno_core.interpret.contributions import source_shares
    from genepheno_core.interpret.inference import propagate_go
    from genepheno_core.models.go_neighbours import BOTH, GoNeighbours, idf_weights
    from genepheno_core.training import load_model

    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    path, ds, emb, other = train_tiny_cross_species(tmp_path / "model")
    model = load_model(path)
    rng = np.random.default_rng(0)
    n, n_other = 8, len(model.cross_species.genes)
    bags = sp.csr_matrix((rng.random((n, len(model.go_inputs))) < 0.5).astype(np.float32))
    labels = sp.csr_matrix((rng.random((n, len(model.terms))) < 0.4).astype(np.float32))
    shares = np.zeros((n, n_other))
    shares[np.arange(n), rng.integers(0, n_other, n)] = 1.0  # one homolog each
    genes = pd.DataFrame({"gene_id": [f"G{i}" for i in range(n)], "symbol": [f"SYM{i}" for i in range(n)]})
    nb = GoNeighbours(bags, labels, idf_weights(bags), genes, k=4, alpha=0.3, similarity=BOTH,
                      hit_shares=shares, other_labels=model.cross_species.labels)
    both = dataclasses.replace(model, go_neighbours=nb, caches={})
    gid, seq = ds.genes["gene_id"].iloc[0], ds.genes["sequence"].iloc[0]
    go = sorted(model.go_inputs)[:3]
    terms = list(model.terms["term_id"])
    e = explain(both, (gid, seq), phenotype=terms, go_annotations=go, embeddings=emb[:1])
    assert e.neighbour_similarity == BOTH and e.to_dict()["neighbour_similarity"] == BOTH
    assert e.neighbour_basis == "similar GO and homologs with similar knockout phenotypes"
    # the search read the protein's homolog-phenotype profile (the module's ortholog input)
    assert {"go_similarity", "profile_similarity"} <= set(e.neighbours.columns)
    np.testing.assert_allclose(e.neighbours["similarity"],
                               (e.neighbours["go_similarity"] + e.neighbours["profile_similarity"]) / 2, atol=1e-9)
    assert (e.neighbours["profile_similarity"] > 0).any()
    for term in terms:
        evidence = e.evidence_table(term)
        assert evidence["contribution"].sum() + e.bias[term] == pytest.approx(e.logit[term], abs=1e-5)
        rows = evidence[evidence["source"] == "functional neighbour"]
        assert len(rows) == 4 and rows["detail"].str.contains(r"GO similarity .*, homolog-phenotype similarity").all()
    # the logits explain reports are the model's (its search read the same profile), and the
    # neighbours' share of the logits is counted
    go_sets = [propagate_go(model, go)]
    final = both.logits(emb[:1], go_sets=go_sets, sequences=[seq])[0]
    for k, term in enumerate(terms):
        assert e.logit[term] == pytest.approx(float(final[k]), abs=1e-5)
    assert source_shares(both, emb[:1], go_sets, [seq])["functional neighbour"] > 0
