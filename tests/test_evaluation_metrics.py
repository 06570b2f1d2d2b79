"""Metrics on arrays: hand-computed values, sklearn, and cafaeval's own array routines."""

import math
import time
import types

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import average_precision_score, roc_auc_score

from genepheno_core.evaluation import (
    CAFA_THRESHOLDS,
    auc_by_frequency,
    evaluate_scores,
    fmax,
    information_accretion,
    micro_aupr,
    per_term_auc,
    propagate_scores,
    smin,
    threshold_curves,
)

# 3 genes x 4 terms; gene 2 has no true term, so it is not a CAFA target and is ignored by
# the gene-centric metrics; gene 1 gets no score at all (counts for recall, not precision).
Y = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0]], dtype=np.uint8)
S = np.array([[0.9, 0.4, 0.6, 0.0], [0.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.5, 0.5]])
T = [0.3, 0.5, 0.7]


def test_threshold_curves_by_hand():
    c = threshold_curves(Y, S, thresholds=T)
    # t=0.3: gene 0 predicts {0,1,2}: tp 2, pr 2/3, rc 1; gene 1 predicts nothing: rc 0
    # t=0.5: gene 0 predicts {0,2}: pr 1/2, rc 1/2;  t=0.7: gene 0 predicts {0}: pr 1, rc 1/2
    assert c.n_genes == 2
    np.testing.assert_array_equal(c.n_covered, [1, 1, 1])
    np.testing.assert_allclose(c.precision, [2 / 3, 1 / 2, 1.0])
    np.testing.assert_allclose(c.recall, [1 / 2, 1 / 4, 1 / 4])
    np.testing.assert_allclose(c.coverage, [0.5, 0.5, 0.5])
    np.testing.assert_allclose(c.f, [4 / 7, 1 / 3, 0.4])
    # unweighted ru / mi: false negatives / false positives per annotated gene
    np.testing.assert_allclose(c.ru, [2 / 2, 3 / 2, 3 / 2])
    np.testing.assert_allclose(c.mi, [1 / 2, 1 / 2, 0.0])


def test_fmax_by_hand():
    r = fmax(Y, S, thresholds=T)
    assert r["fmax"] == pytest.approx(4 / 7)
    assert r["threshold"] == 0.3
    assert r["precision"] == pytest.approx(2 / 3)
    assert r["recall"] == pytest.approx(0.5)
    assert r["coverage"] == pytest.approx(0.5)


def test_fmax_ties_take_lowest_threshold_and_skip_uncovered():
    y = np.array([[1, 0]])
    s = np.array([[0.8, 0.0]])
    r = fmax(y, s, thresholds=[0.2, 0.5, 0.9])
    # F = 1 at 0.2 and 0.5; at 0.9 nothing is predicted (coverage 0, not eligible)
    assert r["fmax"] == 1.0 and r["threshold"] == 0.2
    none = fmax(y, np.zeros((1, 2)))
    assert none["fmax"] == 0.0 and math.isnan(none["threshold"])


def test_smin_by_hand_weighted_and_unweighted():
    u = smin(Y, S, thresholds=T)
    assert u["smin"] == pytest.approx(math.sqrt(1.25)) and u["threshold"] == 0.3
    ia = np.array([1.0, 2.0, 3.0, 4.0])
    w = smin(Y, S, ia, thresholds=T)
    # t=0.3: ru = (0 + (2+3)) / 2 = 2.5, mi = (3 + 0) / 2 = 1.5 -> sqrt(8.5)
    # t=0.5: ru = (2 + 5) / 2 = 3.5, mi = 1.5 -> sqrt(14.5); t=0.7: ru 3.5, mi 0 -> 3.5
    assert w["smin"] == pytest.approx(math.sqrt(8.5))
    assert w["ru"] == pytest.approx(2.5) and w["mi"] == pytest.approx(1.5)
    c = threshold_curves(Y, S, weights=ia, thresholds=T)
    np.testing.assert_allclose(c.s, [math.sqrt(8.5), math.sqrt(14.5), 3.5])


def test_propagate_scores_by_hand():
    # A <- B <- C and A <- D; [i, j] = 1 when j is a proper ancestor of i
    anc = sp.csr_matrix(np.array([[0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=np.uint8))
    s = np.array([[0.1, 0.2, 0.7, 0.3], [0.9, 0.0, 0.0, 0.4]], dtype=np.float32)
    out = propagate_scores(s, anc)
    np.testing.assert_allclose(out, [[0.7, 0.7, 0.7, 0.3], [0.9, 0.0, 0.0, 0.4]])
    assert s[0, 0] == np.float32(0.1)  # input untouched
    with pytest.raises(ValueError):
        propagate_scores(s, sp.eye(3))


def test_information_accretion_by_hand():
    anc = sp.csr_matrix(np.array([[0, 0], [1, 0]]))  # term 1 is a child of term 0
    labels = np.array([[1, 1], [1, 0], [1, 0], [0, 0]])
    ia = information_accretion(labels, anc)
    # IA(0) = -log2(3/3) = 0 (conditioned on annotated genes); IA(1) = -log2(1/3)
    np.testing.assert_allclose(ia, [0.0, math.log2(3)])


def test_auc_by_hand_and_against_sklearn():
    y = np.array([[1], [0], [1], [0]])
    s = np.array([[0.9], [0.5], [0.5], [0.1]])
    # pos x neg pairs: 0.9>0.5, 0.9>0.1, 0.5=0.5 (1/2), 0.5>0.1 -> 3.5 / 4
    assert per_term_auc(y, s)[0] == pytest.approx(0.875)
    rng = np.random.default_rng(0)
    yr = rng.random((60, 25)) < 0.2
    yr[:, 0] = False  # one class only: excluded
    sr = np.round(rng.random((60, 25)), 1)  # many ties
    auc = per_term_auc(yr, sr)
    assert math.isnan(auc[0])
    for j in range(1, 25):
        assert auc[j] == pytest.approx(roc_auc_score(yr[:, j], sr[:, j]), abs=1e-12)


def test_micro_aupr_against_sklearn_and_by_hand():
    y = np.array([[1, 0], [0, 1]])
    s = np.array([[0.8, 0.4], [0.6, 0.2]])
    # ranking 0.8(+) 0.6(-) 0.4(-) 0.2(+): AP = 1/2 * 1 + 1/2 * 2/4 = 0.75
    assert micro_aupr(y, s) == pytest.approx(0.75)
    rng = np.random.default_rng(1)
    yr = rng.random((30, 12)) < 0.3
    sr = rng.random((30, 12))
    keep = yr.any(axis=1)
    assert micro_aupr(yr, sr) == pytest.approx(average_precision_score(yr[keep].ravel(), sr[keep].ravel()))


def test_auc_by_frequency_bins():
    auc = np.array([0.5, 0.6, 0.7, 0.8, 0.9, np.nan, 1.0])
    counts = np.array([11, 30, 31, 100, 101, 500, 301])
    bins = auc_by_frequency(auc, counts)
    assert bins["11-30"] == {"auc": pytest.approx(0.55), "n_terms": 2}
    assert bins["31-100"] == {"auc": pytest.approx(0.75), "n_terms": 2}
    assert bins["101-300"] == {"auc": pytest.approx(0.9), "n_terms": 1}
    assert bins[">=301"] == {"auc": pytest.approx(1.0), "n_terms": 1}  # NaN term not counted


def _cafaeval_reference(y_true, y_score, ia=None):
    """cafaeval's own confusion-matrix and normalisation code on the same arrays."""
    from cafaeval.evaluation import compute_metrics, normalize

    keep = y_true.any(axis=1)
    g = types.SimpleNamespace(matrix=y_true[keep].astype(bool))
    p = types.SimpleNamespace(matrix=y_score[keep].astype(float))
    k = y_true.shape[1]
    toi = np.arange(k) if ia is None else np.flatnonzero(ia > 0)
    ne = np.full(len(CAFA_THRESHOLDS), g.matrix.shape[0])
    m = compute_metrics(p, g, CAFA_THRESHOLDS, toi, ia, n_cpu=1)
    return normalize(m, "x", CAFA_THRESHOLDS, ne, "cafa")


@pytest.mark.parametrize("weighted", [False, True])
def test_curves_equal_cafaeval_arrays(weighted):
    rng = np.random.default_rng(2)
    y = rng.random((80, 40)) < 0.15
    y[:5] = False  # unannotated genes
    s = np.round(rng.random((80, 40)) ** 2, 2)  # 2-decimal scores hit thresholds exactly
    s[10] = 0.0  # a target without predictions
    ia = rng.random(40) * 3 if weighted else None
    ref = _cafaeval_reference(y, s, ia)
    c = threshold_curves(y, s, weights=ia)
    np.testing.assert_array_equal(c.n_covered, ref["n"].to_numpy())
    np.testing.assert_allclose(c.precision, ref["pr"].to_numpy(), atol=1e-12)
    np.testing.assert_allclose(c.recall, ref["rc"].to_numpy(), atol=1e-12)
    np.testing.assert_allclose(c.coverage, ref["cov"].to_numpy(), atol=1e-12)
    np.testing.assert_allclose(c.ru, ref["ru"].to_numpy(), atol=1e-9)
    np.testing.assert_allclose(c.mi, ref["mi"].to_numpy(), atol=1e-9)
    np.testing.assert_allclose(c.f, ref["f"].to_numpy(), atol=1e-12)


def _random_closure(k, rng):
    """Ancestor closure of a random DAG: each term j > 0 gets 1-2 parents among 0..j-1."""
    parents = [set() for _ in range(k)]
    for j in range(1, k):
        parents[j] = set(rng.choice(j, size=min(j, rng.integers(1, 3)), replace=False).tolist())
    anc = [set() for _ in range(k)]
    for j in range(k):
        for p in parents[j]:
            anc[j] |= {p} | anc[p]
    rows = [i for i in range(k) for _ in anc[i]]
    cols = [a for i in range(k) for a in anc[i]]
    return sp.csr_matrix((np.ones(len(rows), np.uint8), (rows, cols)), shape=(k, k))


def test_propagate_scores_random_dag_matches_loop():
    rng = np.random.default_rng(3)
    anc = _random_closure(60, rng)
    s = rng.random((7, 60))
    out = propagate_scores(s, anc)
    dense = anc.toarray()
    for j in range(60):
        desc = np.flatnonzero(dense[:, j])
        expect = np.max(np.c_[s[:, [j]], s[:, desc]], axis=1)
        np.testing.assert_allclose(out[:, j], expect)


@pytest.mark.slow
def test_evaluate_scores_keys_and_speed():
    # HPO-sized test split: ~500 genes x 3000 terms, 99 thresholds, with propagation
    rng = np.random.default_rng(4)
    n, k = 500, 3000
    anc = _random_closure(k, rng)
    y = sp.csr_matrix(rng.random((n, k)) < 0.01)
    y = sp.csr_matrix(propagate_scores(y.toarray().astype(float), anc) > 0)  # true-path rule
    s = rng.random((n, k)).astype(np.float32) * 0.3
    counts = rng.integers(11, 1000, size=k)
    ia = information_accretion(y, anc)
    # CPU time of this process: the 2 CI cores are shared, wall time would be flaky
    start = time.process_time()
    r = evaluate_scores(y, s, term_ancestors=anc, ia=ia, term_counts=counts)
    elapsed = time.process_time() - start
    for key in ("fmax", "threshold", "precision", "recall", "coverage", "aupr", "smin", "auc", "auc_bins"):
        assert key in r
    assert set(r["auc_bins"]) == {"11-30", "31-100", "101-300", ">=301"}
    assert 0 < r["fmax"] <= 1 and 0 < r["auc"] < 1
    assert elapsed < 3.0, f"evaluate_scores took {elapsed:.2f}s"
    # without propagation the numbers differ (the propagated scores are larger)
    r0 = evaluate_scores(y, s, term_counts=counts)
    assert r0["fmax"] != r["fmax"]


def test_evaluate_scores_perfect_prediction():
    y = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]])
    r = evaluate_scores(y, y.astype(float))
    assert r["fmax"] == 1.0 and r["precision"] == 1.0 and r["recall"] == 1.0 and r["coverage"] == 1.0
    assert r["aupr"] == 1.0 and r["auc"] == 1.0 and r["smin"] == 0.0
    assert r["threshold"] == pytest.approx(0.01)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError):
        evaluate_scores(np.zeros((2, 3)), np.zeros((3, 2)))


def test_fmax_by_frequency_restricts_columns():
    from genepheno_core.evaluation import fmax_by_frequency

    # term 0 is rare (11 genes), term 1 frequent (400); perfect on term 0, useless on term 1
    y = np.array([[1, 0], [0, 1], [1, 1]])
    s = np.array([[0.9, 0.9], [0.0, 0.0], [0.9, 0.0]])
    r = fmax_by_frequency(y, s, [11, 400])
    assert r["11-30"] == 1.0
    # term 1 alone: gene 0 predicts it falsely, genes 1 and 2 miss it -> P 0, F 0
    assert r[">=301"] == 0.0
    assert math.isnan(r["31-100"])


def test_all_zero_scores_are_warned_about(caplog):
    y_true = np.array([[1, 0], [0, 1]], dtype=bool)
    with caplog.at_level("WARNING"):
        r = evaluate_scores(y_true, np.zeros((2, 2)))
    assert "every score is 0" in caplog.text
    assert r["fmax"] == 0  # the metrics themselves are unchanged
    caplog.clear()
    with caplog.at_level("WARNING"):
        evaluate_scores(y_true, np.array([[0.9, 0.1], [0.2, 0.8]]))
    assert "every score is 0" not in caplog.text


# --------------------------------------------------------------------------------------
# Weighted Fmax, top-k specificity, exclusion consistency (issue 16)

from genepheno_core.evaluation.metrics import (  # noqa: E402
    exclusion_consistency,
    information_content,
    top_k_specificity,
    wfmax,
)


def test_wfmax_by_hand():
    # Y, S as above (gene 2 unannotated, gene 1 without scores); IA makes term 2 (a false
    # positive of gene 0) heavy and term 1 light, so the weighted optimum moves to t = 0.7:
    # t=0.3: gene 0 predicts {0,1,2}: IA pred 12.5, tp 4.5 -> wP .36, wR 4.5/4.5 = 1;
    #        gene 1 (true IA 0.5 + 8 = 8.5) wR 0 -> P .36, R .5, F = .36 / .86
    # t=0.5: {0,2}: pred 12, tp 4 -> wP 1/3, wR 8/9; R 4/9 -> F = 8/21
    # t=0.7: {0}: pred 4, tp 4 -> wP 1, wR 8/9; R 4/9 -> F = 8/13 (the maximum)
    ia = np.array([4.0, 0.5, 8.0, 1.0])
    r = wfmax(Y, S, ia, thresholds=T)
    assert r["wfmax"] == pytest.approx(8 / 13)
    assert r["threshold"] == 0.7
    assert r["precision"] == pytest.approx(1.0) and r["recall"] == pytest.approx(4 / 9)
    c = threshold_curves(Y, S, weights=ia, thresholds=T)
    np.testing.assert_allclose(c.f, [0.36 / 0.86, 8 / 21, 8 / 13])
    # the unweighted optimum is elsewhere (4/7 at 0.3): the weights matter
    assert fmax(Y, S, thresholds=T)["threshold"] == 0.3
    # a gene whose predicted terms all have IA 0 is uncovered for weighted precision
    r0 = wfmax(np.array([[1, 1]]), np.array([[0.0, 0.9]]), np.array([1.0, 0.0]))
    assert r0["wfmax"] == 0.0 and r0["coverage"] == 0.0
    with pytest.raises(ValueError):
        wfmax(Y, S, None)


def _cafaeval_best(y_true, y_score, ia):
    """cafaeval's best f_w row from its array routines, selected as cafa_eval does (rows with
    unweighted coverage > 0, first maximum of f_w)."""
    unweighted = _cafaeval_reference(y_true, y_score)
    weighted = _cafaeval_reference(y_true, y_score, ia)
    ok = unweighted["cov"].to_numpy() > 0
    f_w = np.where(ok, weighted["f"].to_numpy(), -1.0)
    i = int(np.argmax(f_w))
    return weighted.iloc[i]


def test_wfmax_equals_cafaeval_arrays_random():
    rng = np.random.default_rng(5)
    for rep in range(3):
        y = rng.random((60, 30)) < 0.2
        y[:4] = False
        s = np.round(rng.random((60, 30)) ** 1.5, 2)
        s[7] = 0.0
        ia = rng.random(30) * 4
        ia[rng.random(30) < 0.2] = 0.0  # cafaeval drops IA-0 terms (toi_ia); they weigh 0 here
        ref = _cafaeval_best(y, s, ia)
        ours = wfmax(y, s, ia)
        assert 0.1 < ours["wfmax"] < 0.9
        assert ours["wfmax"] == pytest.approx(ref["f"], abs=1e-12)
        assert ours["threshold"] == pytest.approx(ref["tau"], abs=1e-12)
        assert ours["precision"] == pytest.approx(ref["pr"], abs=1e-12)
        assert ours["recall"] == pytest.approx(ref["rc"], abs=1e-12)
        # the weighted and unweighted optima are genuinely different numbers
        assert ours["wfmax"] != pytest.approx(fmax(y, s)["fmax"], abs=1e-6)


def test_wfmax_equals_cafa_eval_files_with_propagation(tmp_path):
    """The whole reference pipeline (OBO, truth and prediction files, IA file, cafaeval's own
    propagation and best-row choice) on a random 13-term DAG against evaluate_scores."""
    from cafaeval.evaluation import cafa_eval

    rng = np.random.default_rng(6)
    k = 13  # term 0 is the root; every other term descends from it
    anc = _random_closure(k, rng).toarray().astype(bool)
    parents = [np.flatnonzero(anc[j] & ~(anc[anc[j]].any(axis=0))) for j in range(k)]
    ids = [f"GP:{j:07d}" for j in range(k)]
    obo = ["format-version: 1.2", "ontology: gp", ""]
    for j in range(k):
        obo += ["[Term]", f"id: {ids[j]}", f"name: term {j}", "namespace: toy"]
        obo += [f"is_a: {ids[p]} ! term {p}" for p in parents[j]] + [""]
    (tmp_path / "toy.obo").write_text("\n".join(obo))
    n = 25
    leafish = rng.random((n, k)) < 0.15
    leafish[:, 0] = False
    leafish[np.flatnonzero(~leafish.any(axis=1)), 1 + rng.integers(0, k - 1)] = True  # all annotated
    truth_lines = [f"P{g}\t{ids[j]}" for g in range(n) for j in np.flatnonzero(leafish[g])]
    (tmp_path / "truth.tsv").write_text("\n".join(truth_lines) + "\n")
    raw = np.where(rng.random((n, k)) < 0.5, np.round(rng.random((n, k)), 2), 0.0)
    raw[:, 0] = 0.0
    raw[3] = 0.0  # a gene without predictions
    (tmp_path / "pred").mkdir()
    pred_lines = [f"P{g}\t{ids[j]}\t{raw[g, j]:.2f}" for g in range(n) for j in np.flatnonzero(raw[g] > 0)]
    (tmp_path / "pred" / "m.tsv").write_text("\n".join(pred_lines) + "\n")
    ia = np.round(rng.random(k) * 3, 4)
    ia[0] = 0.0
    ia[5] = 0.0
    (tmp_path / "ia.tsv").write_text("".join(f"{ids[j]}\t{ia[j]}\n" for j in range(k)))

    _, best = cafa_eval(str(tmp_path / "toy.obo"), str(tmp_path / "pred"), str(tmp_path / "truth.tsv"),
                        ia=str(tmp_path / "ia.tsv"), n_cpu=1)
    ref = best["f_w"].iloc[0]

    # ours: the root column dropped (as the datasets do), labels propagated by the closure
    cols = np.arange(1, k)
    closure = sp.csr_matrix(anc[np.ix_(cols, cols)].astype(np.uint8))
    y_true = propagate_scores(leafish[:, cols].astype(float), closure) > 0
    r = evaluate_scores(y_true, raw[:, cols], term_ancestors=closure, ia=ia[cols])
    assert 0.1 < r["wfmax"] < 1.0
    assert r["wfmax"] == pytest.approx(ref["f_w"], abs=1e-12)
    assert r["wfmax_threshold"] == pytest.approx(ref.name[-1], abs=1e-12)
    assert r["wfmax"] != pytest.approx(r["fmax"], abs=1e-6)


# 5-term toy DAG: A <- B, A <- C, {B, C} <- D, C <- E   ([i, j] = 1: j is an ancestor of i)
TOY_ANC = sp.csr_matrix(np.array([
    [0, 0, 0, 0, 0],  # A
    [1, 0, 0, 0, 0],  # B
    [1, 0, 0, 0, 0],  # C
    [1, 1, 1, 0, 0],  # D
    [1, 0, 1, 0, 0],  # E
], dtype=np.uint8))
TOY_IC = np.array([0.0, 1.0, 1.5, 3.0, 2.5])
TOY_TRUE = np.array([
    [1, 0, 1, 0, 1],  # gene 0: E (and its ancestors C, A)
    [1, 1, 0, 0, 0],  # gene 1: B, A
    [0, 0, 0, 0, 0],  # gene 2: no annotation, not counted
    [1, 1, 0, 0, 0],  # gene 3: annotated, but no score at all: not counted
], dtype=bool)
TOY_RAW = np.array([
    [0.1, 0.3, 0.2, 0.6, 0.5],
    [0.9, 0.4, 0.0, 0.0, 0.7],
    [0.5, 0.5, 0.5, 0.5, 0.5],
    [0.0, 0.0, 0.0, 0.0, 0.0],
])


def test_top_k_specificity_by_hand():
    # gene 0 propagated: A .6, B .6, C .6, D .6, E .5. Ties at .6 go to the term with more
    # ancestors: D (3), then B, C (1 each, column order), A (0); then E .5.
    # D kept -> its ancestors A, B, C are implied and dropped; E kept. kept {D, E}:
    # IC (3 + 2.5) / 2 = 2.75, precision 1/2 (E true, D false). Nothing else has a score,
    # so k = 3 keeps the same two terms.
    # gene 1 propagated: A .9, B .4, C .7, D 0, E .7 -> ranking A, E (2 ancestors), C, B.
    # A kept (no descendant ranks above it), E kept; k = 2: IC 1.25, precision 1/2.
    # k = 3: C is an ancestor of kept E -> dropped; B kept (only A, not a descendant, is kept
    # above it): {A, E, B}, IC 3.5 / 3, precision 2/3. D (score 0) is never a prediction.
    r2 = top_k_specificity(TOY_TRUE, TOY_RAW, TOY_ANC, TOY_IC, k=2)
    assert r2["n_genes"] == 2 and r2["mean_kept"] == 2.0
    assert r2["ic"] == pytest.approx((2.75 + 1.25) / 2)
    assert r2["precision"] == pytest.approx(0.5)
    r3 = top_k_specificity(TOY_TRUE, TOY_RAW, TOY_ANC, TOY_IC, k=3)
    assert r3["ic"] == pytest.approx((2.75 + 3.5 / 3) / 2)
    assert r3["precision"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert r3["mean_kept"] == pytest.approx(2.5)
    # already propagated scores give the same answer with propagate=False
    prop = propagate_scores(TOY_RAW, TOY_ANC)
    assert top_k_specificity(TOY_TRUE, prop, TOY_ANC, TOY_IC, k=3, propagate=False) == r3
    # k = 1: gene 0 keeps D (IC 3, false), gene 1 keeps A (IC 0, true)
    r1 = top_k_specificity(TOY_TRUE, TOY_RAW, TOY_ANC, TOY_IC, k=1)
    assert r1["ic"] == pytest.approx(1.5) and r1["precision"] == pytest.approx(0.5)
    none = top_k_specificity(TOY_TRUE, np.zeros((4, 5)), TOY_ANC, TOY_IC)
    assert none["n_genes"] == 0 and math.isnan(none["ic"])


def _top_k_reference(y_true, y_score, anc, ic, k):
    """Literal reading of the definition: full ranking, explicit descendant test."""
    y_score = propagate_scores(y_score, anc)
    dense = anc.toarray().astype(bool)
    n_anc = dense.sum(axis=1)
    ics, precs = [], []
    for g in np.flatnonzero(y_true.any(axis=1)):
        order = sorted((t for t in range(y_score.shape[1]) if y_score[g, t] > 0),
                       key=lambda t: (-y_score[g, t], -n_anc[t], t))
        kept = []
        for t in order:
            if len(kept) == k:
                break
            if not any(dense[d, t] for d in kept):  # a kept term is a descendant of t
                kept.append(t)
        if kept:
            ics.append(np.mean(ic[kept]))
            precs.append(np.mean(y_true[g, kept]))
    return np.mean(ics), np.mean(precs), len(ics)


def test_top_k_specificity_matches_literal_definition_on_random_dag():
    rng = np.random.default_rng(7)
    k_terms = 80
    anc = _random_closure(k_terms, rng)
    y = propagate_scores((rng.random((30, k_terms)) < 0.05).astype(float), anc) > 0
    s = np.round(rng.random((30, k_terms)), 1) * (rng.random((30, k_terms)) < 0.3)  # ties, zeros
    ic = rng.random(k_terms) * 5
    for k in (1, 3, 10):
        ref_ic, ref_pr, ref_n = _top_k_reference(y, s, anc, ic, k)
        r = top_k_specificity(y, s, anc, ic, k=k)
        assert r["n_genes"] == ref_n
        assert r["ic"] == pytest.approx(ref_ic, abs=1e-12)
        assert r["precision"] == pytest.approx(ref_pr, abs=1e-12)


def test_information_content_by_hand():
    labels = np.array([[1, 1, 0], [1, 0, 0], [1, 0, 0], [1, 1, 0], [0, 0, 0]])
    # 4 annotated genes: term 0 in 4 -> 0, term 1 in 2 -> 1, term 2 never -> 0
    np.testing.assert_allclose(information_content(labels), [0.0, 1.0, 0.0])


def test_exclusion_consistency_by_hand():
    y = np.array([[1, 1, 0, 0], [1, 0, 1, 1], [0, 0, 0, 0]], dtype=bool)
    s = np.array([[0.9, 0.5, 0.6, 0.4], [0.7, 0.2, 0.5, 0.49], [0.8, 0.8, 0.9, 0.9]])
    pairs = [(0, 1), (2, 3)]
    # both predicted (>= 0.5): g0 (0,1), g2 (0,1), g2 (2,3) -> 3 of 6 cells
    # both true: g0 (0,1), g1 (2,3) -> 2 of 6; both predicted and true: g0 (0,1) -> 1
    r = exclusion_consistency(y, s, pairs, 0.5)
    assert r["n_both_predicted"] == 3 and r["n_both_true"] == 2 and r["n_both_predicted_and_true"] == 1
    assert r["n_cells"] == 6 and r["n_pairs"] == 2
    assert r["rate_both_predicted"] == pytest.approx(0.5)
    assert r["rate_both_true"] == pytest.approx(1 / 3)
    assert exclusion_consistency(y, s, pairs, 0.51)["n_both_predicted"] == 2  # g0 (0,1) drops out
    with pytest.raises(ValueError):
        exclusion_consistency(y, s, [(0, 4)], 0.5)


def test_evaluate_scores_new_keys_leave_old_ones_alone():
    rng = np.random.default_rng(8)
    anc = _random_closure(40, rng)
    y = propagate_scores((rng.random((50, 40)) < 0.05).astype(float), anc) > 0
    s = rng.random((50, 40)) * 0.5
    ia = information_accretion(y, anc)
    ic = information_content(y)
    pairs = np.array([[3, 7], [10, 20], [5, 6]])
    base = evaluate_scores(y, s, term_ancestors=anc)
    with_ia = evaluate_scores(y, s, term_ancestors=anc, ia=ia)
    full = evaluate_scores(y, s, term_ancestors=anc, ia=ia, ic=ic, exclusive_pairs=pairs)
    assert "wfmax" not in base and "top10_ic" not in base and "exclusion_rate_predicted" not in base
    for key, value in with_ia.items():
        if key != "top10_ic":  # the one key `ic` changes
            assert full[key] == value
    for key in ("fmax", "threshold", "precision", "recall", "coverage", "aupr", "auc"):
        assert with_ia[key] == base[key]
    prop = propagate_scores(s, anc)
    w = wfmax(y, prop, ia)
    assert with_ia["wfmax"] == w["wfmax"] and with_ia["wfmax_threshold"] == w["threshold"]
    # top-10: IA when no ic is given, the frequency IC when it is
    t_ia = top_k_specificity(y, prop, anc, ia, k=10)
    t_ic = top_k_specificity(y, prop, anc, ic, k=10)
    assert with_ia["top10_ic"] == t_ia["ic"] and with_ia["top10_precision"] == t_ia["precision"]
    assert full["top10_ic"] == t_ic["ic"] and full["top10_ic"] != with_ia["top10_ic"]
    ex = exclusion_consistency(y, prop, pairs, full["threshold"])
    assert full["exclusion_rate_predicted"] == ex["rate_both_predicted"]
    assert full["exclusion_n_true"] == ex["n_both_true"] and full["exclusion_n_cells"] == 150


@pytest.mark.slow
def test_evaluate_scores_with_new_metrics_speed():
    # 500 genes x 5,000 terms with propagation, IA (Smin, wFmax) and the top-10 metric
    rng = np.random.default_rng(9)
    n, k = 500, 5000
    anc = _random_closure(k, rng)
    y = sp.csr_matrix(propagate_scores((rng.random((n, k)) < 0.005).astype(float), anc) > 0)
    s = rng.random((n, k)).astype(np.float32) * 0.3
    ia = information_accretion(y, anc)
    pairs = rng.integers(0, k, size=(200, 2))
    start = time.process_time()
    r = evaluate_scores(y, s, term_ancestors=anc, ia=ia, exclusive_pairs=pairs)
    elapsed = time.process_time() - start
    assert 0 < r["wfmax"] <= 1 and r["top10_genes"] == n and 0 <= r["top10_precision"] <= 1
    assert elapsed < 5.0, f"evaluate_scores took {elapsed:.2f}s"
