"""CAFA-style metrics as pure functions on arrays.

Conventions (chosen to agree with the reference evaluator `cafaeval` 1.3, CAFA-evaluator):

- Thresholds: `CAFA_THRESHOLDS = np.arange(0.01, 1, 0.01)` (0.01 .. 0.99, 99 values), the very
  array cafaeval builds with its default `th_step=0.01`; a term is predicted at t when
  `score >= t`. (The CAFA protocol is often stated as 0.00..1.00: t = 0 predicts every term and t = 1 only scores
  of exactly 1, so neither can change Fmax in practice; we keep cafaeval's grid so that the
  numbers agree to the last digit.)
- Gene-centric metrics (Fmax, precision, recall, coverage, Smin, micro AUPR) are computed over
  the genes with at least one true term ("annotated" genes, cafaeval's ground-truth targets);
  a test gene whose labels are all zero (for example every term of it fell under min_genes)
  is ignored there.
  - precision(t): mean over annotated genes with >= 1 term predicted at t (weighted
    predicted mass > 0 when weights are given) of tp / predicted;
  - recall(t): mean over all annotated genes of tp / true;
  - coverage(t): (genes with >= 1 predicted term at t) / (annotated genes);
  - Fmax: the largest 2PR / (P + R) over thresholds with coverage > 0; ties go to the
    lowest threshold (pandas idxmax in cafaeval).
- Smin: remaining uncertainty ru(t) = sum over genes of IA of true terms not predicted,
  misinformation mi(t) = sum of IA of predicted false terms, both divided by the number of
  annotated genes; S = sqrt(ru^2 + mi^2), minimised over thresholds with coverage > 0.
  With `ia=None` every term weighs 1 (cafaeval's unweighted `s`).
- Micro AUPR: `sklearn.metrics.average_precision_score` on the flattened (annotated genes x
  terms) arrays, i.e. step-wise area under the precision-recall curve over all distinct
  scores. cafaeval reports no AUPR (only micro precision/recall per threshold), so there is
  nothing to match there.
- Phenotype-centric AUC: ROC AUC per term over all test genes, macro-averaged over terms
  with both classes; identical to `sklearn.metrics.roc_auc_score` per column (ties count
  1/2), computed from ranks in one vectorised pass. Per frequency bin, a term's frequency
  is its number of annotated genes in the whole dataset (`Dataset.terms.n_genes`), passed
  as `term_counts`.
- Scores are max-propagated to ancestors (`propagate_scores`) before every metric when
  `term_ancestors` is given; roots are assumed to be excluded from the columns already
  (the datasets do that; the file-level evaluator drops them after propagation).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

from genepheno_core.ontology.propagation import propagate_scores

logger = logging.getLogger(__name__)

# Exactly cafaeval's `np.arange(th_step, 1, th_step)` with th_step = 0.01 (floats included:
# 0.07 is 0.07000000000000001 there too, and `>=` must see the same value).
CAFA_THRESHOLDS = np.arange(0.01, 1, 0.01)

# (label, lowest, highest) number of annotated genes of a term, inclusive; None = no limit.
FREQUENCY_BINS: tuple[tuple[str, int, int | None], ...] = (
    ("11-30", 11, 30),
    ("31-100", 31, 100),
    ("101-300", 101, 300),
    (">=301", 301, None),
)


@dataclass(frozen=True)
class ThresholdCurves:
    """Gene-centric metrics at every threshold (arrays of shape (T,))."""

    thresholds: np.ndarray
    n_genes: int  # annotated genes (the denominator of recall, ru, mi, coverage)
    n_covered: np.ndarray  # genes with >= 1 predicted term at t
    precision: np.ndarray
    recall: np.ndarray
    f: np.ndarray
    ru: np.ndarray  # remaining uncertainty (weighted false negatives per gene)
    mi: np.ndarray  # misinformation (weighted false positives per gene)

    @property
    def coverage(self) -> np.ndarray:
        return self.n_covered / self.n_genes if self.n_genes else np.zeros_like(self.precision)

    @property
    def s(self) -> np.ndarray:
        return np.sqrt(self.ru**2 + self.mi**2)


def _dense(a, dtype=None) -> np.ndarray:
    if sp.issparse(a):
        a = a.toarray()
    a = np.asarray(a)
    return a.astype(dtype, copy=False) if dtype is not None else a


def _check_shapes(y_true: np.ndarray, y_score: np.ndarray) -> None:
    if y_true.ndim != 2 or y_true.shape != y_score.shape:
        raise ValueError(f"y_true {y_true.shape} and y_score {y_score.shape} must be equal 2-d shapes")


def information_accretion(labels, term_ancestors) -> np.ndarray:
    """IA(t) = -log2 P(t | all parents of t), estimated from propagated labels (n, K).

    With propagated labels a gene has all parents of t iff it has all proper ancestors of t,
    so only the ancestor closure is needed. A term whose ancestors are all outside the
    vocabulary (children of an excluded root) is conditioned on "annotated gene" (any label).
    Terms never annotated get IA 0 (as cafaeval turns inf into 0).
    """
    y = _dense(labels).astype(bool)
    n, k = y.shape
    anc = sp.csr_matrix(term_ancestors, dtype=np.int32)
    n_anc = np.asarray(anc.sum(axis=1)).ravel()  # (K,)
    # hits[g, t] = number of ancestors of t that gene g carries; all present iff == n_anc[t]
    annotated = y.any(axis=1)
    y_int = sp.csr_matrix(y.astype(np.int32))
    n_p = np.zeros(k)
    for lo in range(0, n, 2048):  # row chunks keep the dense (chunk, K) block small
        # hits[g, t] = number of ancestors of t that gene g carries; all present iff == n_anc[t]
        hits = (y_int[lo : lo + 2048] @ anc.T).toarray()
        has_parents = (hits == n_anc[None, :]) & annotated[lo : lo + 2048, None]
        n_p += has_parents.sum(axis=0)
    n_t = y.sum(axis=0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ia = -np.log2(n_t / n_p)
    ia[~np.isfinite(ia)] = 0.0
    return np.maximum(ia, 0.0)  # -0.0 -> 0.0


def threshold_curves(y_true, y_score, *, weights=None, thresholds=None) -> ThresholdCurves:
    """Gene-centric precision, recall, coverage, ru and mi at every threshold (CAFA protocol).

    y_true (n, K) binary, y_score (n, K) in [0, 1], weights (K,) per-term weights (IA) or
    None for counts. Rows without a true term are dropped (they are not CAFA targets).
    Vectorised: each score is binned once by `searchsorted` (bin b = number of thresholds
    <= score, so "score >= thresholds[i]" is "b > i"), per-gene weighted histograms come from
    one bincount, and a reverse cumulative sum gives predicted / true-positive mass at every
    threshold: O(n K + n T) instead of O(n K T).
    """
    thr = CAFA_THRESHOLDS if thresholds is None else np.asarray(thresholds, dtype=float)
    if np.any(np.diff(thr) <= 0):
        raise ValueError("thresholds must be strictly increasing")
    y_true = _dense(y_true).astype(bool)
    y_score = _dense(y_score)
    _check_shapes(y_true, y_score)
    keep = y_true.any(axis=1)
    y_true, y_score = y_true[keep], y_score[keep]
    n, k = y_true.shape
    t = thr.size
    w = np.ones(k) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (k,):
        raise ValueError(f"weights has shape {w.shape}, expected ({k},)")
    if n == 0:
        zeros = np.zeros(t)
        return ThresholdCurves(thr, 0, zeros.astype(int), zeros, zeros, zeros, zeros, zeros)

    bins = np.searchsorted(thr, y_score, side="right")  # (n, K) in 0..T
    flat = (np.arange(n)[:, None] * (t + 1) + bins).ravel()
    w_full = np.broadcast_to(w, (n, k)).ravel()
    hist_pred = np.bincount(flat, weights=w_full, minlength=n * (t + 1)).reshape(n, t + 1)
    truth = y_true.ravel()
    hist_tp = np.bincount(flat[truth], weights=w_full[truth], minlength=n * (t + 1)).reshape(n, t + 1)
    # mass with bin >= i + 1, i.e. score >= thr[i]: reverse cumulative sum, dropping bin 0
    pred = np.cumsum(hist_pred[:, ::-1], axis=1)[:, ::-1][:, 1:]  # (n, T)
    tp = np.cumsum(hist_tp[:, ::-1], axis=1)[:, ::-1][:, 1:]  # (n, T)
    n_gt = (y_true * w).sum(axis=1)  # (n,)

    covered = pred > 0
    n_covered = covered.sum(axis=0)
    gene_pr = np.divide(tp, pred, out=np.zeros_like(tp), where=covered)
    gene_rc = np.divide(tp, n_gt[:, None], out=np.zeros_like(tp), where=n_gt[:, None] > 0)
    precision = np.divide(gene_pr.sum(axis=0), n_covered, out=np.zeros(t), where=n_covered > 0)
    recall = gene_rc.sum(axis=0) / n
    denom = precision + recall
    f = np.divide(2 * precision * recall, denom, out=np.zeros(t), where=denom > 0)
    ru = (n_gt[:, None] - tp).sum(axis=0) / n
    mi = (pred - tp).sum(axis=0) / n
    return ThresholdCurves(thr, n, n_covered, precision, recall, f, ru, mi)


def fmax(y_true, y_score, *, thresholds=None, curves: ThresholdCurves | None = None) -> dict:
    """Fmax and, at its threshold, precision, recall and coverage (dict of floats)."""
    c = curves if curves is not None else threshold_curves(y_true, y_score, thresholds=thresholds)
    valid = c.n_covered > 0
    if not valid.any():
        nan = math.nan
        return {"fmax": 0.0, "threshold": nan, "precision": nan, "recall": nan, "coverage": 0.0}
    f = np.where(valid, c.f, -1.0)
    i = int(np.argmax(f))  # first maximum = lowest threshold, as pandas idxmax
    return {
        "fmax": float(c.f[i]),
        "threshold": float(c.thresholds[i]),
        "precision": float(c.precision[i]),
        "recall": float(c.recall[i]),
        "coverage": float(c.coverage[i]),
    }


def smin(y_true, y_score, ia=None, *, thresholds=None, curves: ThresholdCurves | None = None) -> dict:
    """Smin (minimum semantic distance) with information accretion `ia` (K,) as weights."""
    c = curves if curves is not None else threshold_curves(y_true, y_score, weights=ia, thresholds=thresholds)
    valid = c.n_covered > 0
    if not valid.any():
        return {"smin": math.nan, "threshold": math.nan, "ru": math.nan, "mi": math.nan}
    s = np.where(valid, c.s, np.inf)
    i = int(np.argmin(s))
    return {"smin": float(c.s[i]), "threshold": float(c.thresholds[i]), "ru": float(c.ru[i]), "mi": float(c.mi[i])}


def micro_aupr(y_true, y_score) -> float:
    """sklearn average precision on the flattened arrays of the annotated genes."""
    from sklearn.metrics import average_precision_score

    y_true = _dense(y_true).astype(bool)
    y_score = _dense(y_score)
    _check_shapes(y_true, y_score)
    keep = y_true.any(axis=1)
    if not keep.any():
        return math.nan
    return float(average_precision_score(y_true[keep].ravel(), y_score[keep].ravel()))


def per_term_auc(y_true, y_score) -> np.ndarray:
    """ROC AUC of every term (column) over genes (rows): (K,), NaN where a class is missing.

    Mann-Whitney form: AUC = (sum of positive ranks - P (P + 1) / 2) / (P N), with average
    ranks for ties, which equals sklearn's roc_auc_score (ties count 1/2).
    """
    y_true = _dense(y_true).astype(bool)
    y_score = _dense(y_score)
    _check_shapes(y_true, y_score)
    n = y_true.shape[0]
    pos = y_true.sum(axis=0).astype(float)
    neg = n - pos
    ok = (pos > 0) & (neg > 0)
    auc = np.full(y_true.shape[1], np.nan)
    if not ok.any():
        return auc
    ranks = rankdata(y_score[:, ok], axis=0, method="average")  # (n, K_ok)
    rank_sum = (ranks * y_true[:, ok]).sum(axis=0)
    auc[ok] = (rank_sum - pos[ok] * (pos[ok] + 1) / 2) / (pos[ok] * neg[ok])
    return auc


def macro_auc(y_true, y_score) -> float:
    auc = per_term_auc(y_true, y_score)
    return float(np.nanmean(auc)) if np.isfinite(auc).any() else math.nan


def auc_by_frequency(term_auc, term_counts, bins=FREQUENCY_BINS) -> dict[str, dict]:
    """Macro AUC per frequency bin: {label: {"auc": float, "n_terms": int}}.

    term_counts (K,): a term's number of annotated genes in the whole dataset; only terms
    with a finite AUC (both classes in the test set) count.
    """
    term_auc = np.asarray(term_auc, dtype=float)
    counts = np.asarray(term_counts)
    if counts.shape != term_auc.shape:
        raise ValueError(f"term_counts has shape {counts.shape}, expected {term_auc.shape}")
    out = {}
    for label, lo, hi in bins:
        sel = (counts >= lo) & (counts <= (hi if hi is not None else np.inf)) & np.isfinite(term_auc)
        out[label] = {"auc": float(term_auc[sel].mean()) if sel.any() else math.nan, "n_terms": int(sel.sum())}
    return out


def fmax_by_frequency(y_true, y_score, term_counts, bins=FREQUENCY_BINS, *, thresholds=None) -> dict[str, float]:
    """Fmax restricted to the terms of each frequency bin (columns of that bin only; the
    genes are those with a true term in the bin): {label: fmax}, NaN for an empty bin."""
    y_true = _dense(y_true).astype(bool)
    y_score = _dense(y_score)
    counts = np.asarray(term_counts)
    out = {}
    for label, lo, hi in bins:
        sel = (counts >= lo) & (counts <= (hi if hi is not None else np.inf))
        if not y_true[:, sel].any():
            out[label] = math.nan
            continue
        out[label] = fmax(y_true[:, sel], y_score[:, sel], thresholds=thresholds)["fmax"]
    return out


def evaluate_scores(y_true, y_score, *, term_ancestors=None, ia=None, term_counts=None, thresholds=None) -> dict:
    """All metrics for one prediction matrix.

    y_true (n, K) binary (dense or sparse), y_score (n, K) probabilities, term_ancestors
    (K, K) ancestor closure (scores are max-propagated first when given), ia (K,) information
    accretion for Smin (unit weights when None), term_counts (K,) dataset term frequencies
    for the AUC bins. Returns a JSON-friendly dict with keys fmax, threshold, precision,
    recall, coverage, aupr, smin, smin_threshold, auc, auc_bins ({bin: float}),
    auc_bin_terms ({bin: int}), fmax_bins ({bin: Fmax over that bin's terms}), n_genes, n_annotated_genes, n_terms, n_auc_terms.
    """
    y_true = _dense(y_true).astype(bool)
    y_score = _dense(y_score).astype(np.float64, copy=False)
    _check_shapes(y_true, y_score)
    if y_true.size == 0:
        logger.warning("evaluating %d genes x %d terms: the metrics are undefined", *y_true.shape)
    elif not y_score.any():
        # a common symptom of an empty or mismatched prediction set: Fmax 0, AUC 0.5
        logger.warning("every score is 0 (no predictions): Fmax is 0 and AUC 0.5 by construction")
    if term_ancestors is not None:
        y_score = propagate_scores(y_score, term_ancestors)
    curves = threshold_curves(y_true, y_score, thresholds=thresholds)
    out = fmax(y_true, y_score, curves=curves)
    s_curves = curves if ia is None else threshold_curves(y_true, y_score, weights=ia, thresholds=thresholds)
    s = smin(y_true, y_score, curves=s_curves)
    out["aupr"] = micro_aupr(y_true, y_score)
    out["smin"] = s["smin"]
    out["smin_threshold"] = s["threshold"]
    term_auc = per_term_auc(y_true, y_score)
    finite = np.isfinite(term_auc)
    out["auc"] = float(term_auc[finite].mean()) if finite.any() else math.nan
    out["n_auc_terms"] = int(finite.sum())
    if term_counts is not None:
        bins = auc_by_frequency(term_auc, term_counts)
        out["auc_bins"] = {label: v["auc"] for label, v in bins.items()}
        out["auc_bin_terms"] = {label: v["n_terms"] for label, v in bins.items()}
        out["fmax_bins"] = fmax_by_frequency(y_true, y_score, term_counts, thresholds=thresholds)
    else:
        out["auc_bins"] = {}
        out["auc_bin_terms"] = {}
        out["fmax_bins"] = {}
    out["n_genes"] = int(y_true.shape[0])
    out["n_annotated_genes"] = int(curves.n_genes)
    out["n_terms"] = int(y_true.shape[1])
    return out
