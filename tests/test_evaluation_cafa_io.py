"""CAFA files: reading, writing, the file-level evaluator (hand-computed) and agreement with
the reference evaluator cafaeval on real HPO annotations."""

import gzip
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from genepheno_core.errors import InputFormatError
from genepheno_core.evaluation import threshold_curves
from genepheno_core.errors import GenePhenoError
from genepheno_core.evaluation.cafa_io import (
    build_matrices,
    evaluate_files,
    excluded_terms,
    read_ia,
    read_predictions,
    read_truth,
    write_predictions,
    write_truth,
)

DATA = Path(__file__).parent / "data" / "evaluation"
MIRROR = os.environ.get("GENEPHENO_MIRROR")


def _ontology(path):
    from genepheno_core.evaluation.cafa_io import load_evaluation_ontology

    return load_evaluation_ontology(path)


def test_read_predictions_skips_cafa_header():
    df = read_predictions(DATA / "predictions.tsv")
    assert list(df.columns) == ["gene", "term", "score"]
    assert len(df) == 8
    assert df.iloc[0].tolist() == ["G1", "HP:0001250", 0.8]
    assert df["score"].dtype == np.float64


def test_read_predictions_gzip_and_column_header(tmp_path):
    path = tmp_path / "p.tsv.gz"
    with gzip.open(path, "wt") as h:
        h.write("gene\tterm\tscore\nG1 HP:0000001 0.25\n")
    assert read_predictions(path).to_dict("records") == [{"gene": "G1", "term": "HP:0000001", "score": 0.25}]


@pytest.mark.parametrize(
    "name, message",
    [
        ("bad_score.tsv", "bad_score.tsv, line 2: score 'abc' is not a number"),
        ("out_of_range.tsv", "out_of_range.tsv, line 1: score 1.5 is outside [0, 1]"),
        ("two_fields.tsv", "two_fields.tsv, line 1: expected 3 fields (gene, term, score), found 2"),
    ],
)
def test_read_predictions_errors_name_file_and_line(name, message):
    with pytest.raises(InputFormatError) as exc:
        read_predictions(DATA / name)
    assert str(exc.value).endswith(message)


def test_read_truth_and_ia():
    truth = read_truth(DATA / "truth.tsv")
    assert truth.values.tolist()[:2] == [["G1", "HP:0001250"], ["G1", "HP:0000007"]]
    ia = read_ia(DATA / "ia.tsv")
    assert ia["HP:0000007"] == 3.0 and len(ia) == 8
    with pytest.raises(InputFormatError, match="line 1"):
        read_ia(DATA / "bad_score.tsv")


def test_write_predictions_round_trip(tmp_path):
    genes, terms = ["A", "B"], ["HP:1", "HP:2", "HP:3"]
    scores = np.array([[0.9, 0.004, 0.5], [0.0, 0.12345, 1.0]])
    path = tmp_path / "pred.tsv"
    assert write_predictions(path, genes, terms, scores) == 4
    text = path.read_text().splitlines()
    assert text[0] == "AUTHOR\tGenePheno" and text[-1] == "END"
    df = read_predictions(path)
    assert df.values.tolist() == [["A", "HP:1", 0.9], ["A", "HP:3", 0.5], ["B", "HP:2", 0.12345], ["B", "HP:3", 1.0]]
    assert "B\tHP:2\t0.123450" in text  # 6 decimals
    gz = tmp_path / "pred.tsv.gz"
    write_predictions(gz, genes, terms, scores, header=False)
    assert read_predictions(gz).equals(df)
    truth = tmp_path / "truth.tsv"
    assert write_truth(truth, genes, terms, np.array([[1, 0, 1], [0, 0, 0]])) == 2
    assert read_truth(truth).values.tolist() == [["A", "HP:1"], ["A", "HP:3"]]


def test_evaluate_files_by_hand():
    """tiny_hp.obo: All > Phenotypic abnormality > {head or neck > head, nervous system >
    {seizure, intellectual disability (also under head)}}, All > Mode of inheritance > AR.

    Truth, propagated, root All dropped:  G1 {seizure, nervous, PA, AR, MoI} (5),
    G2 {head, head-or-neck, PA} (3), G3 {seizure, nervous, PA} (obsolete HP:0000009 ->
    replaced_by seizure; no predictions). Predictions, propagated: G1 seizure/nervous/PA 0.8,
    head/head-or-neck 0.4, AR/MoI 0.3; G2 ID 0.6 (duplicate 0.2 ignored), nervous 0.7 (alt id
    HP:0000708), head/head-or-neck 0.6, PA 0.7; G9 (not in truth) and HP:9999999 ignored.
    At t <= 0.30: G1 pr 5/7 rc 1, G2 pr 3/5 rc 1, G3 rc 0 -> P = 23/35, R = 2/3,
    F = 92/139 = 0.6619, the maximum (0.564 at 0.31-0.40, 0.64 at 0.41-0.60, ...).
    Smin with ia.tsv at t <= 0.30: ru = (0 + 0 + 2.5) / 3, mi = (1.5 + 2.0 + 0) / 3.
    """
    r = evaluate_files(DATA / "predictions.tsv", DATA / "truth.tsv", _ontology(DATA / "tiny_hp.obo"), ia_path=DATA / "ia.tsv")
    assert r["fmax"] == pytest.approx(92 / 139)
    assert r["threshold"] == pytest.approx(0.01)
    assert r["precision"] == pytest.approx(23 / 35)
    assert r["recall"] == pytest.approx(2 / 3)
    assert r["coverage"] == pytest.approx(2 / 3)
    assert r["smin"] == pytest.approx(math.sqrt(2.5**2 + 3.5**2) / 3)
    assert r["n_annotated_genes"] == 3 and r["n_predicted_genes"] == 2
    assert r["n_terms"] == 8
    assert r["roots_excluded"] == ["HP:0000001"]
    assert r["ignored"] == {"truth_unknown_terms": 0, "prediction_unknown_terms": 1, "prediction_other_genes": 1}


def test_evaluate_files_without_propagation():
    r = evaluate_files(DATA / "predictions.tsv", DATA / "truth.tsv", _ontology(DATA / "tiny_hp.obo"), propagate=False)
    # unpropagated: G1 truth {seizure, AR}, predicted seizure 0.8, head 0.4, AR 0.3 -> at
    # t <= 0.3 pr 2/3 rc 1; G2 truth {head}: predicted ID 0.6, nervous 0.7 -> pr 0 rc 0;
    # G3 truth {seizure}: rc 0. P = (2/3 + 0) / 2, R = 1/3 -> F = 1/3
    assert r["fmax"] == pytest.approx(1 / 3)
    assert r["precision"] == pytest.approx(1 / 3) and r["recall"] == pytest.approx(1 / 3)


def _fmax_of_file(path, genes, terms, y_true):
    """Fmax of a prediction file read back into the (genes x terms) layout of y_true."""
    from genepheno_core.evaluation.metrics import evaluate_scores

    df = read_predictions(path)
    back = np.zeros(y_true.shape)
    back[[genes.index(g) for g in df["gene"]], [terms.index(t) for t in df["term"]]] = df["score"]
    return evaluate_scores(y_true, back)["fmax"]


def test_written_scores_keep_fmax(tmp_path):
    """Scores just below the 0.01-spaced thresholds: 3 decimals round them up across one
    (Fmax moves by ~1e-3); the 6 written now leave Fmax as computed from the arrays."""
    from genepheno_core.evaluation.metrics import evaluate_scores

    rng = np.random.default_rng(7)
    n, k = 60, 40
    genes, terms = [f"G{i}" for i in range(n)], [f"HP:{j:07d}" for j in range(k)]
    y_true = rng.random((n, k)) < 0.2
    y_true[np.arange(n), rng.integers(0, k, n)] = True
    grid = rng.integers(2, 99, (n, k)) / 100
    scores = np.clip(grid - rng.uniform(1e-5, 4.9e-4, (n, k)) + 0.25 * y_true * rng.random((n, k)), 0, 1)
    scores = np.where(rng.random((n, k)) < 0.5, grid - rng.uniform(1e-5, 4.9e-4, (n, k)), scores)
    ref = evaluate_scores(y_true, scores)["fmax"]
    path = tmp_path / "pred.tsv"
    write_predictions(path, genes, terms, scores, min_score=0.0)
    assert _fmax_of_file(path, genes, terms, y_true) == pytest.approx(ref, abs=1e-6)
    old = tmp_path / "old.tsv"
    write_predictions(old, genes, terms, scores, min_score=0.0, decimals=3)
    assert abs(_fmax_of_file(old, genes, terms, y_true) - ref) > 1e-6  # what 3 decimals did


# --------------------------------------------------------------------------------------
# Excluded terms: the benchmark's, from --exclude, a dataset manifest or a model manifest

# All > Phenotypic abnormality (every gene has it) > {A > {A1, A2}, B > B1}
ROOTED_OBO = """format-version: 1.2
ontology: hp

[Term]
id: HP:0000001
name: All

[Term]
id: HP:0000118
name: Phenotypic abnormality
is_a: HP:0000001

[Term]
id: HP:0000010
name: A
is_a: HP:0000118

[Term]
id: HP:0000011
name: A1
is_a: HP:0000010

[Term]
id: HP:0000012
name: A2
is_a: HP:0000010

[Term]
id: HP:0000020
name: B
is_a: HP:0000118

[Term]
id: HP:0000021
name: B1
is_a: HP:0000020
"""
ROOTED_TERMS = ["HP:0000010", "HP:0000011", "HP:0000012", "HP:0000020", "HP:0000021"]  # all but root, PA
ROOTED_PARENT = {"HP:0000011": "HP:0000010", "HP:0000012": "HP:0000010", "HP:0000021": "HP:0000020"}


def rooted_fixture(tmp_path):
    """Files over ROOTED_OBO and the benchmark's arrays (propagated, root and HP:0000118
    dropped): leaf truth and leaf scores, propagated by hand (max over descendants)."""
    rng = np.random.default_rng(3)
    n = 12
    genes = [f"G{i}" for i in range(n)]
    leaves = ["HP:0000011", "HP:0000012", "HP:0000021"]
    leaf_true = rng.random((n, 3)) < 0.4
    leaf_true[~leaf_true.any(axis=1), 0] = True
    leaf_score = np.round(rng.random((n, 3)), 2)
    col = {t: j for j, t in enumerate(ROOTED_TERMS)}
    y_true = np.zeros((n, len(ROOTED_TERMS)), dtype=bool)
    y_score = np.zeros((n, len(ROOTED_TERMS)))
    for j, leaf in enumerate(leaves):
        for t in (leaf, ROOTED_PARENT[leaf]):
            y_true[:, col[t]] |= leaf_true[:, j]
            y_score[:, col[t]] = np.maximum(y_score[:, col[t]], leaf_score[:, j])
    obo = tmp_path / "rooted.obo"
    obo.write_text(ROOTED_OBO)
    truth = tmp_path / "truth.tsv"
    truth.write_text("".join(f"{g}\t{leaves[j]}\n" for i, g in enumerate(genes) for j in range(3) if leaf_true[i, j]))
    pred = tmp_path / "pred.tsv"
    pred.write_text("".join(f"{g}\t{leaves[j]}\t{leaf_score[i, j]:.2f}\n" for i, g in enumerate(genes) for j in range(3)))
    return obo, truth, pred, y_true, y_score


def _manifest_dir(path, **manifest):
    import json

    path.mkdir()
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path


def test_excluded_terms_give_the_benchmark_numbers(tmp_path):
    from genepheno_core.evaluation.metrics import evaluate_scores

    obo, truth, pred, y_true, y_score = rooted_fixture(tmp_path)
    ref = evaluate_scores(y_true, y_score)
    ontology = _ontology(obo)
    default = evaluate_files(pred, truth, ontology)
    assert default["excluded"]["terms"] == ["HP:0000001"]
    assert default["n_terms"] == 6 and default["fmax"] > ref["fmax"]  # HP:0000118: every gene, score 1 at t <= max
    dataset = _manifest_dir(tmp_path / "ds", name="hpo", label_root="HP:0000118")
    model = _manifest_dir(tmp_path / "model", name="hpo", label_root="HP:0000118")
    for kwargs in ({"exclude": ["HP:0000118"]}, {"dataset": dataset}, {"model": model}):
        r = evaluate_files(pred, truth, ontology, **kwargs)
        assert r["excluded"]["terms"] == ["HP:0000001", "HP:0000118"], kwargs
        assert r["excluded"]["names"] == ["All", "Phenotypic abnormality"]
        assert r["n_terms"] == len(ROOTED_TERMS)
        for key in ("fmax", "threshold", "precision", "recall", "coverage", "aupr", "smin", "auc"):
            assert r[key] == pytest.approx(ref[key], abs=1e-12), (kwargs, key)
    assert "--exclude HP:0000118" in evaluate_files(pred, truth, ontology, exclude=["HP:0000118"])["excluded"]["source"]
    assert str(dataset) in evaluate_files(pred, truth, ontology, dataset=dataset)["excluded"]["source"]


def test_excluded_terms_rules(tmp_path):
    ontology = _ontology(DATA / "tiny_hp.obo")
    terms, why = excluded_terms(ontology)
    assert terms == {"HP:0000001"} and why.startswith("terms without parents")
    # hpo: root, label root and everything outside its subtree (Mode of inheritance)
    ds = _manifest_dir(tmp_path / "hpo", name="hpo", label_root="HP:0000118")
    terms, why = excluded_terms(ontology, dataset=ds)
    assert terms == {"HP:0000001", "HP:0000118", "HP:0000005", "HP:0000007"}
    assert "label root HP:0000118" in why
    # alt ids are followed
    assert excluded_terms(ontology, exclude=["HP:0000708"])[0] == {"HP:0000001", "HP:0000707"}
    # a manifest's own list of excluded terms is honoured
    listed = _manifest_dir(tmp_path / "listed", name="x", excluded_terms=["HP:0000005"])
    assert excluded_terms(ontology, dataset=listed)[0] == {"HP:0000001", "HP:0000005"}


def test_excluded_terms_errors(tmp_path):
    ontology = _ontology(DATA / "tiny_hp.obo")
    with pytest.raises(GenePhenoError, match="--exclude: HP:1234567 not a current term"):
        excluded_terms(ontology, exclude=["HP:1234567"])
    with pytest.raises(GenePhenoError, match="one source of excluded terms"):
        excluded_terms(ontology, exclude=["HP:0000118"], dataset="hpo")
    with pytest.raises(GenePhenoError, match="no such checkpoint directory"):
        excluded_terms(ontology, model=tmp_path / "nope")
    with pytest.raises(GenePhenoError, match="names no dataset"):
        excluded_terms(ontology, model=_manifest_dir(tmp_path / "empty"))
    with pytest.raises(GenePhenoError, match="label root MP:0000001 is not a term"):
        excluded_terms(ontology, dataset=_manifest_dir(tmp_path / "mp", name="x", label_root="MP:0000001"))
    with pytest.raises(GenePhenoError, match="no dataset artifact"):
        excluded_terms(ontology, dataset=tmp_path / "missing")
    with pytest.raises(GenePhenoError, match="no ground-truth term is left"):
        evaluate_files(DATA / "predictions.tsv", DATA / "truth.tsv", ontology, exclude=ontology.terms)


# --------------------------------------------------------------------------------------
# Agreement with the reference evaluator on real HPO data


def _obo_with_namespace(src_gz: Path, dst: Path, namespace: str = "human_phenotype") -> Path:
    """Uncompressed copy of an OBO file with `namespace:` after every [Term] id (cafaeval
    ignores terms without one). Uses the ontology area's helper when it exists."""
    try:
        from genepheno_core.ontology import write_obo_with_namespace
    except ImportError:
        write_obo_with_namespace = None
    if write_obo_with_namespace is not None:
        out = write_obo_with_namespace(src_gz, dst, namespace)
        return Path(out) if out is not None else dst
    with gzip.open(src_gz, "rt", encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        in_term = False
        for line in fin:
            if line.startswith("["):
                in_term = line.strip() == "[Term]"
            if in_term and line.startswith("namespace:"):
                continue
            fout.write(line)
            if in_term and line.startswith("id:"):
                fout.write(f"namespace: {namespace}\n")
    return dst


def _real_hpo_predictions(tmp_path: Path) -> tuple[Path, Path]:
    """Truth: HPO annotations of 200 real genes. Predictions: a deterministic mix of the
    naive term frequency of the other genes and a noisy copy of each gene's own terms
    (some true terms recovered with a gene- and term-dependent score, some missed); a third
    of the genes get only the noisy copy, so some genes have no prediction at high t."""
    g2p = pd.read_csv(Path(MIRROR) / "hpo/2025-01-16/genes_to_phenotype.txt.gz", sep="\t", dtype=str)
    genes = sorted(g2p["ncbi_gene_id"].unique(), key=int)
    test_genes = set(genes[::25][:200])
    test = g2p[g2p["ncbi_gene_id"].isin(test_genes)][["ncbi_gene_id", "hpo_id"]].drop_duplicates()
    train = g2p[~g2p["ncbi_gene_id"].isin(test_genes)][["ncbi_gene_id", "hpo_id"]].drop_duplicates()
    freq = train["hpo_id"].value_counts() / train["ncbi_gene_id"].nunique()
    top = freq.head(150)
    truth = tmp_path / "truth.tsv"
    test.to_csv(truth, sep="\t", header=False, index=False)
    lines = ["AUTHOR\tgenepheno-test", "MODEL\t1", "KEYWORDS\tnaive."]
    for gene in sorted(test_genes, key=int):
        g = int(gene)
        if g % 3 == 0:  # a third of the genes get no naive scores: coverage below 1
            scores = {}
        else:
            scores = {term: min(0.95, 0.9 * f / top.iloc[0]) for term, f in top.items()}
        for term in test.loc[test["ncbi_gene_id"] == gene, "hpo_id"]:
            h = (g * 7919 + int(term[3:]) * 104729) % 1000
            if h < 600:  # ~60 % of the true terms recovered
                scores[term] = max(scores.get(term, 0.0), round(0.1 + 0.85 * ((h * 37) % 1000) / 1000, 3))
        # a few confident false positives per gene
        for k in range(3 if g % 3 else 0):
            term = top.index[(g + 17 * k) % len(top)]
            scores[term] = max(scores.get(term, 0.0), round(((g * (k + 3)) % 97) / 100, 2))
        lines += [f"{gene}\t{t}\t{s:.3f}" for t, s in scores.items() if s > 0]
    lines.append("END")
    pred = tmp_path / "pred" / "model.tsv"
    pred.parent.mkdir()
    pred.write_text("\n".join(lines) + "\n")
    return pred, truth


@pytest.mark.integration
@pytest.mark.skipif(not MIRROR, reason="GENEPHENO_MIRROR not set")
def test_agrees_with_cafaeval_on_real_hpo(tmp_path):
    from cafaeval.evaluation import cafa_eval

    obo_gz = Path(MIRROR) / "hpo/2025-01-16/hp.obo.gz"
    pred, truth = _real_hpo_predictions(tmp_path)
    obo = _obo_with_namespace(obo_gz, tmp_path / "hp_ns.obo")
    # -no_orphans: terms without parents (the root HP:0000001) are not evaluated
    curves_ref, best = cafa_eval(str(obo), str(pred.parent), str(truth), no_orphans=True, n_cpu=1)
    ref = best["f"].iloc[0]
    ontology = _ontology(obo_gz)
    ours = evaluate_files(pred, truth, ontology)
    assert ours["roots_excluded"] == ["HP:0000001"]
    assert ours["n_annotated_genes"] == 200
    assert 0.2 < ours["fmax"] < 0.9  # a real, non-trivial operating point
    assert ours["fmax"] == pytest.approx(ref["f"], abs=1e-3)
    assert ours["threshold"] == pytest.approx(ref.name[-1], abs=1e-3)
    assert ours["precision"] == pytest.approx(ref["pr"], abs=1e-3)
    assert ours["recall"] == pytest.approx(ref["rc"], abs=1e-3)
    assert ours["coverage"] == pytest.approx(ref["cov"], abs=1e-3)
    # the whole curve, not just its best point (cafaeval keeps thresholds with coverage > 0)
    m = build_matrices(read_predictions(pred), read_truth(truth), ontology)
    c = threshold_curves(m["y_true"], m["y_score"])
    ref_tau = curves_ref.index.get_level_values("tau").to_numpy()
    idx = np.searchsorted(c.thresholds, ref_tau - 1e-9)
    np.testing.assert_allclose(c.thresholds[idx], ref_tau, atol=1e-12)
    assert (c.n_covered > 0).sum() == len(ref_tau)
    np.testing.assert_allclose(c.precision[idx], curves_ref["pr"], atol=1e-9)
    np.testing.assert_allclose(c.recall[idx], curves_ref["rc"], atol=1e-9)
    np.testing.assert_allclose(c.coverage[idx], curves_ref["cov"], atol=1e-9)
    assert curves_ref["cov"].min() < 0.5  # genes without predictions at high t are part of the check


# --------------------------------------------------------------------------------------
# Inputs that would give a meaningless score: refused or warned about


def test_empty_or_unrelated_predictions_are_refused(tmp_path):
    empty = tmp_path / "empty.tsv"
    empty.write_text("AUTHOR\tx\nMODEL\t1\nEND\n")
    with pytest.raises(InputFormatError, match=r"empty\.tsv: no predictions"):
        evaluate_files(empty, DATA / "truth.tsv", _ontology(DATA / "tiny_hp.obo"))
    other = tmp_path / "other.tsv"
    other.write_text("G8\tHP:0001250\t0.9\nG9\tHP:0000234\t0.5\n")
    with pytest.raises(InputFormatError, match=r"other\.tsv: no prediction for any of the 3 truth genes"):
        evaluate_files(other, DATA / "truth.tsv", _ontology(DATA / "tiny_hp.obo"))


def _truncated_obo(tmp_path, drop):
    text = (DATA / "tiny_hp.obo").read_text()
    head, *stanzas = text.split("[Term]")
    kept = [s for s in stanzas if not any(f"id: {t}\n" in s for t in drop)]
    path = tmp_path / "truncated.obo"
    path.write_text(head + "".join("[Term]" + s for s in kept))
    return path


def test_truncated_ontology_and_missing_predictions_warn(tmp_path, caplog):
    # seizure, AR and the obsolete term gone: 3 of 4 truth annotations unknown, 1 of 3 genes left
    obo = _truncated_obo(tmp_path, ["HP:0001250", "HP:0000007", "HP:0000009"])
    with caplog.at_level("WARNING"):
        r = evaluate_files(DATA / "predictions.tsv", DATA / "truth.tsv", _ontology(obo))
    assert r["n_annotated_genes"] == 1
    assert any("3 of 4 truth annotations (75%) use terms missing from the ontology; 2 of 3 truth genes" in w
               for w in r["warnings"])
    assert "missing from the ontology" in caplog.text
    # the complete ontology, but predictions for only one of the three truth genes
    partial = tmp_path / "partial.tsv"
    partial.write_text("G1\tHP:0001250\t0.8\n")
    r = evaluate_files(partial, DATA / "truth.tsv", _ontology(DATA / "tiny_hp.obo"))
    assert r["warnings"] == ["only 1 of 3 truth genes have predictions: the others count as missed "
                             "(a partial prediction file or different gene ids?)"]
    # the fixture (2 of 3 genes predicted, all truth terms known) gets no warning
    fixture = evaluate_files(DATA / "predictions.tsv", DATA / "truth.tsv", _ontology(DATA / "tiny_hp.obo"))
    assert fixture["warnings"] == []
