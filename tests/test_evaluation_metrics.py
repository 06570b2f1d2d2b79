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
