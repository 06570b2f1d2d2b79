"""predict(): output format, ranking, propagation, GO input, bad input (toy model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _interpret_toy import FIXTURES, toy_genes
from genepheno_core.errors import GenePhenoError, InputFormatError, ModelMismatchError
from genepheno_core.interpret import predict
from genepheno_core.interpret.model_store import model_extras
from genepheno_core.interpret.inference import PREDICTION_COLUMNS, parse_records, propagate_go


pytestmark = pytest.mark.usefixtures("toy_home")  # GENEPHENO_HOME for the toy model (conftest.py)


@pytest.fixture(scope="module")
def genes():
    return toy_genes()


PEPTIDE = "MKVLAAGIVGLLLAQPSHAEG"  # 21 residues: just above the default minimum length


def test_columns_ranks_and_order(model, genes):
    records = list(zip(genes["accession"][:3], genes["sequence"][:3]))
    df = predict(model, records, top=4)
    assert list(df.columns) == PREDICTION_COLUMNS
    assert list(df["gene"]) == [r for r, _ in records for _ in range(4)]  # input order kept
    for _, sub in df.groupby("gene", sort=False):
        assert list(sub["rank"]) == [1, 2, 3, 4]
        assert np.all(np.diff(sub["score"].to_numpy()) <= 0)  # best first
    assert df.attrs["threshold"] == pytest.approx(model.threshold)
    assert (df["above_threshold"] == (df["score"] >= model.threshold)).all()
    names = dict(zip(model.terms["term_id"], model.terms["name"]))
    assert all(names[t] == n for t, n in zip(df["term_id"], df["term_name"]))


def test_scores_are_model_probabilities_propagated(model, genes):
    from genepheno_core.embeddings import embed_sequences

    seqs = genes["sequence"][:5].tolist()
    emb = embed_sequences(seqs, "unirep64", cache=False)
    raw = model.probabilities(emb)  # (5, K)
    anc = model_extras(model).term_ancestors.toarray()
    # hand propagation: a term scores the max over itself and its descendants
    expected = raw.copy()
    for i in range(anc.shape[0]):
        for j in np.flatnonzero(anc[i]):
            expected[:, j] = np.maximum(expected[:, j], raw[:, i])
    df = predict(model, list(zip(map(str, range(5)), seqs)), top=None)
    assert len(df) == 5 * len(model.terms)
    got = df.pivot(index="gene", columns="term_id", values="score").loc[list(map(str, range(5))), model.terms["term_id"]]
    np.testing.assert_allclose(got.to_numpy(), expected, atol=1e-6)


def test_prior_gain_and_ic_columns(model, genes):
    from genepheno_core.embeddings import embed_sequences

    seqs = genes["sequence"][:3].tolist()
    df = predict(model, list(zip(map(str, range(3)), seqs)), top=None)
    # prior: the term's frequency among the training genes stored with the model
    train = model_extras(model).train_labels.toarray()
    freq = dict(zip(model.terms["term_id"], train.mean(axis=0)))
    assert df["prior"].to_numpy() == pytest.approx([freq[t] for t in df["term_id"]])
    assert df["ic"].to_numpy() == pytest.approx(-np.log2(df["prior"].to_numpy()))
    # gain: the unpropagated logit minus the bias (the sum of the explanation's contributions)
    logits = model.logits(embed_sequences(seqs, "unirep64", cache=False))
    col = {t: j for j, t in enumerate(model.terms["term_id"])}
    expected = [logits[int(g), col[t]] - model.bias[col[t]] for g, t in zip(df["gene"], df["term_id"])]
    assert df["gain"].to_numpy() == pytest.approx(expected, abs=1e-5)
    assert (df["folded_under"] == "").all() and df.attrs["view"] == "all"


def test_specific_view_folds_terms_implied_by_a_shown_descendant(model, genes):
    records = list(zip(genes["accession"][:4], genes["sequence"][:4]))
    anc = model_extras(model).term_ancestors.tocsr()
    ids = model.terms["term_id"].tolist()
    col = {t: j for j, t in enumerate(ids)}
    everything = predict(model, records, top=None)
    df = predict(model, records, top=3, view="specific")
    assert df.attrs["view"] == "specific"
    with pytest.raises(ValueError, match="view must be one of"):
        predict(model, records, top=3, view="best")
    for gene, sub in df.groupby("gene", sort=False):
        shown = sub[sub["folded_under"] == ""]
        assert list(shown["rank"]) == [1, 2, 3]
        # no shown term is an ancestor of another shown term
        shown_cols = [col[t] for t in shown["term_id"]]
        for a in shown_cols:
            assert not set(anc[a].indices) & set(shown_cols)
        # each folded term is an ancestor of the shown term it is folded under, shares its
        # rank, scores at least as high (propagated scores), and is listed right after it
        for _, row in sub[sub["folded_under"] != ""].iterrows():
            parent = sub[(sub["term_id"] == row["folded_under"]) & (sub["folded_under"] == "")].iloc[0]
            assert col[row["term_id"]] in set(anc[col[parent["term_id"]]].indices)
            assert row["rank"] == parent["rank"] and row["score"] >= parent["score"] - 1e-9
        # by hand: the leaves of the predicted set (score >= threshold), best first; then, if
        # fewer than three, terms below the threshold unrelated to those shown
        full = everything[everything["gene"] == gene].copy()
        full["n_anc"] = [anc[col[t]].indices.size for t in full["term_id"]]
        full["col"] = [col[t] for t in full["term_id"]]
        full = full.sort_values(["score", "n_anc", "col"], ascending=[False, False, True])
        predicted = [t for t, sc in zip(full["col"], full["score"]) if sc >= model.threshold]
        implied = set().union(*(set(anc[t].indices) for t in predicted)) if predicted else set()
        kept = [t for t in predicted if t not in implied][:3]
        for t, sc in zip(full["col"], full["score"]):
            if len(kept) == 3:
                break
            related = set(anc[t].indices) & set(kept) or any(t in set(anc[k].indices) for k in kept)
            if sc < model.threshold and t not in kept and not related:
                kept.append(t)
        assert shown_cols == kept
    # the toy ontology is deep enough that some ancestors inherit a shown term's score
    assert (df["folded_under"] != "").any()


def test_specific_view_below_the_threshold_still_has_no_ancestor_pairs(model, genes):
    records = list(zip(genes["accession"][:3], genes["sequence"][:3]))
    anc = model_extras(model).term_ancestors.tocsr()
    col = {t: j for j, t in enumerate(model.terms["term_id"])}
    df = predict(model, records, top=4, threshold=1.0, view="specific")  # nothing is predicted
    for _, sub in df.groupby("gene", sort=False):
        shown = [col[t] for t in sub.loc[sub["folded_under"] == "", "term_id"]]
        assert len(shown) == 4 and not any(set(anc[a].indices) & set(shown) for a in shown)
        assert not sub["above_threshold"].any()


def test_specific_view_of_an_all_terms_frame_is_predicts_own(model, genes):
    import genepheno_core as gp

    records = list(zip(genes["accession"][:3], genes["sequence"][:3]))
    everything = predict(model, records, top=None)
    for top in (3, 7):
        direct = predict(model, records, top=top, view="specific")
        derived = gp.specific_view(model, everything, top=top)
        pd.testing.assert_frame_equal(direct.reset_index(drop=True), derived.reset_index(drop=True))
        assert derived.attrs["view"] == "specific" and derived.attrs["threshold"] == everything.attrs["threshold"]
    with pytest.raises(ValueError, match="every term"):
        gp.specific_view(model, predict(model, records, top=5), top=3)


def test_results_do_not_depend_on_batch(model, genes):
    records = list(zip(genes["accession"][:6], genes["sequence"][:6]))
    together = predict(model, records, top=3)
    alone = [predict(model, [r], top=3) for r in records]
    for r, one in zip(records, alone):
        sub = together[together["gene"] == r[0]].reset_index(drop=True)
        np.testing.assert_allclose(sub["score"], one["score"], atol=1e-6)
        assert list(sub["term_id"]) == list(one["term_id"])


def test_threshold_and_fasta_text(model, genes):
    fasta = f">sp|{genes['accession'][0]}|X\n{genes['sequence'][0]}\n"
    df = predict(model, fasta, top=None, threshold=1.0)
    assert set(df["gene"]) == {genes["accession"][0]}
    assert not df["above_threshold"].any()
    raw = predict(model, genes["sequence"][0], top=2)  # raw sequence, no header
    assert list(raw["gene"]) == ["seq1", "seq1"]


def test_go_annotations_change_scores_and_gaf(model, genes, tmp_path):
    seq = genes["sequence"][0]
    without = predict(model, [("g", seq)], top=None).set_index("term_id")["score"]
    with_go = predict(model, [("g", seq)], go_annotations={"g": ["GO:0005634", "GO:0070062"]}, top=None)
    with_go = with_go.set_index("term_id")["score"]
    assert not np.allclose(without.to_numpy(), with_go.loc[without.index].to_numpy())
    gaf = tmp_path / "g.gaf"
    gaf.write_text("!gaf-version: 2.1\n" + "\t".join(
        ["UniProtKB", "P0TEST", "TST1", "", "GO:0005634", "PMID:1", "IDA", "", "C", "test protein", "", "protein",
         "taxon:9606", "20190101", "UniProt", "", ""]) + "\n")
    from_gaf = predict(model, [("P0TEST", seq)], go_annotations=gaf, top=None).set_index("term_id")["score"]
    from_dict = predict(model, [("P0TEST", seq)], go_annotations={"P0TEST": ["GO:0005634"]}, top=None)
    np.testing.assert_allclose(from_gaf.to_numpy(), from_dict.set_index("term_id")["score"].loc[from_gaf.index])


def test_proteins_without_go_are_scored_by_the_go_transfer_sibling(routed_models, genes):
    """predict with a shipped name: no GO given -> "<name>-go-transfer" (its own scores), GO
    given for a protein -> the named model; auto_model=False or a directory -> as named."""
    from genepheno_core.interpret.model_store import resolve_model

    seq = genes["sequence"][0]
    named, sibling = resolve_model("toy"), resolve_model("toy-go-transfer")

    def scores(frame):
        return frame.set_index("term_id")["score"].sort_index().to_numpy()

    routed = predict("toy", [("g", seq)], top=None)
    assert routed.attrs["model"] == "toy-go-transfer"
    np.testing.assert_allclose(scores(routed), scores(predict(sibling, [("g", seq)], top=None)))
    assert not np.allclose(scores(routed), scores(predict(named, [("g", seq)], top=None)))
    go = {"g": ["GO:0005634"]}
    given = predict("toy", [("g", seq)], go_annotations=go, top=None)
    assert given.attrs["model"] == "toy"
    np.testing.assert_allclose(scores(given), scores(predict(named, [("g", seq)], go_annotations=go, top=None)))
    # GO for one protein of two: the named model scores both (one model per call)
    assert predict("toy", [("g", seq), ("h", seq[5:])], go_annotations=go).attrs["model"] == "toy"
    assert predict("toy", [("g", seq)], auto_model=False).attrs["model"] == "toy"
    assert predict("toy", [("g", seq)], transfer_go=False).attrs["model"] == "toy"
    assert predict(routed_models / "toy", [("g", seq)]).attrs["model"] == "toy"
    assert predict(named, [("g", seq)]).attrs["model"] == "toy"


def test_go_propagation_uses_stored_closure(model):
    # GO:0005634 (nucleus) implies its ancestor GO:0043231 in the toy GO inputs
    implied = propagate_go(model, {"GO:0005634"})
    assert "GO:0005634" in implied and "GO:0043231" in implied
    assert propagate_go(model, {"GO:9999999"}) is None
    assert propagate_go(model, None) is None


@pytest.mark.parametrize("bad, error", [
    ("", InputFormatError),
    (">x\n\n", InputFormatError),
    ([("a", "MKV1")], InputFormatError),
    ([], InputFormatError),
    ([("a", "MKV")], InputFormatError),  # shorter than MIN_QUERY_LENGTH
    ([("a", "X" * 40)], InputFormatError),  # all unknown residues
    ([("a", "MKVLXXBZJU" * 4)], InputFormatError),  # 24 of 40 non-standard
    ("N" * 99 + "\n", InputFormatError),  # an N-only CDS translates to 33 X
])
def test_bad_sequences(model, bad, error):
    with pytest.raises(error):
        predict(model, bad)


def test_bad_go_ids_and_arguments(model):
    with pytest.raises(InputFormatError, match="not a GO id"):
        predict(model, [("a", PEPTIDE)], go_annotations={"a": ["nucleus"]})
    with pytest.raises(InputFormatError, match="not a GO id: GO:123"):
        predict(model, [("a", PEPTIDE)], go_annotations={"a": ["GO:123"]})
    with pytest.raises(ValueError):
        predict(model, [("a", PEPTIDE)], top=0)
    with pytest.raises(ValueError):
        predict(model, [("a", PEPTIDE)], threshold=1.5)


def test_encoder_mismatch(model):
    with pytest.raises(ModelMismatchError):
        predict(model, [("a", PEPTIDE)], embeddings=np.zeros((1, 7), dtype=np.float32))
    with pytest.raises(GenePhenoError):
        predict(model, [("a", PEPTIDE), ("b", PEPTIDE)], embeddings=np.zeros((1, 64), dtype=np.float32))


def test_parse_records_forms(tmp_path):
    path = tmp_path / "q.fa"
    path.write_text(">a\nMKV\n>b\nMKA\n")
    assert parse_records(path, min_length=1) == [("a", "MKV"), ("b", "MKA")]
    assert parse_records(["MKV", "MKA"], min_length=3) == [("seq1", "MKV"), ("seq2", "MKA")]
    assert (FIXTURES / "toy_genes.tsv").exists()


def test_short_and_ambiguous_sequences_are_refused_with_the_record(tmp_path):
    path = tmp_path / "q.fa"
    path.write_text(f">ok\n{PEPTIDE}\n>tiny\nM\n")
    with pytest.raises(InputFormatError, match=r"q\.fa, record 'tiny': sequence is 1 residue long; the minimum is 20"):
        parse_records(path)
    assert parse_records(path, min_length=1)[1] == ("tiny", "M")
    with pytest.raises(InputFormatError, match=r"record 'x': 40 of 40 residues are unknown"):
        parse_records([("x", "X" * 40)])
    # exactly half non-standard is still accepted; one more is not
    assert parse_records([("h", "MA" * 10 + "X" * 20)])[0][0] == "h"
    with pytest.raises(InputFormatError, match="21 of 40"):
        parse_records([("h", "M" * 19 + "X" * 21)])


def test_duplicate_ids_are_renamed_with_a_warning(model, caplog):
    with caplog.at_level("WARNING"):
        records = parse_records([("a", PEPTIDE), ("a", PEPTIDE[::-1]), ("a_2", PEPTIDE)])
    assert [r for r, _ in records] == ["a", "a_3", "a_2"]
    assert "duplicate id 'a' (records 1 and 2)" in caplog.text and "'a_3'" in caplog.text
    frame = predict(model, f">a\n{PEPTIDE}\n>a\n{PEPTIDE[::-1]}\n", top=1)
    assert list(frame["gene"]) == ["a", "a_2"]


def test_unknown_go_ids_are_a_warning_naming_them(model, caplog):
    with caplog.at_level("INFO"):
        frame = predict(model, [("g", PEPTIDE)], go_annotations={"g": ["GO:0005634", "GO:9999999"]}, top=1)
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and "GO:9999999" in r.getMessage()]
    assert warnings and "GO:0005634" not in warnings[0].getMessage()
    assert frame.attrs["go_unknown"] == {"g": ["GO:9999999"]}
