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
- Weighted Fmax (`wfmax`, cafaeval's `f_w`): the same curves with every term weighted by its
  information accretion, per gene wP = IA(predicted & true) / IA(predicted) and
  wR = IA(predicted & true) / IA(true); wP is averaged over annotated genes whose predicted
  IA mass is > 0 at t, wR over all annotated genes (a gene whose true terms all have IA 0
  contributes recall 0, as in cafaeval); best F over CAFA_THRESHOLDS, lowest t on ties.
  Terms with IA 0 weigh nothing, which is cafaeval's restriction to `toi_ia` (IA > 0).
- Top-k specificity (`top_k_specificity`): each gene's terms ranked by propagated score
  (ties: the term with more ancestors first, so a descendant precedes the ancestors that
  inherit its score; then column order); a term is dropped when a kept, higher-ranked term
  is its descendant; the first k kept terms give a mean IC and a precision per gene.
- Exclusion consistency (`exclusion_consistency`): over genes x exclusive pairs, how often
  both terms are predicted >= t next to how often both are true.
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


def wfmax(y_true, y_score, ia, *, thresholds=None, curves: ThresholdCurves | None = None) -> dict:
    """Weighted Fmax (CAFA's wFmax, cafaeval's `f_w`): Fmax on the IA-weighted curves.

    ia (K,) information accretion per term. Per gene, weighted precision =
    sum IA(predicted & true) / sum IA(predicted) and weighted recall =
    sum IA(predicted & true) / sum IA(true); averaged and maximised as in `fmax` (precision
    over genes with predicted IA mass > 0, recall over all annotated genes). Give already
    propagated scores (or `curves` from `threshold_curves(..., weights=ia)`). Returns
    {"wfmax", "threshold", "precision", "recall", "coverage"} (coverage: genes with predicted
    IA mass > 0 / annotated genes).
    """
    if curves is None:
        if ia is None:
            raise ValueError("wfmax needs ia (information accretion per term)")
        curves = threshold_curves(y_true, y_score, weights=ia, thresholds=thresholds)
    r = fmax(None, None, curves=curves)
    r["wfmax"] = r.pop("fmax")
    return r


def information_content(labels) -> np.ndarray:
    """IC(t) = -log2(fraction of annotated genes carrying t), from propagated labels (n, K).

    The frequency-based information content (Resnik): unlike information accretion it grows
    monotonically from a term to its descendants, so it measures how specific a term is,
    which is what the top-k specificity metric wants. Estimate it on training genes. Terms
    never annotated get IC 0 (no estimate); with no annotated gene every IC is 0.
    """
    y = _dense(labels).astype(bool)
    n_annotated = int(y.any(axis=1).sum())
    n_t = y.sum(axis=0).astype(float)
    ic = np.zeros(y.shape[1])
    if n_annotated:
        seen = n_t > 0
        ic[seen] = -np.log2(n_t[seen] / n_annotated)
    return np.maximum(ic, 0.0)


def top_k_specificity(y_true, y_score, term_ancestors, ic, k: int = 10, *, propagate: bool = True) -> dict:
    """Specificity and precision of each gene's top-k non-redundant predictions.

    For every annotated gene (>= 1 true term), terms with score > 0 are ranked by score
    (max-propagated first unless `propagate=False`, i.e. the scores already are); ties go to
    the term with more ancestors (a descendant before the ancestors that inherit its score),
    then to the lower column. Walking down the ranking, a term is kept unless an already kept
    term is its descendant (it is implied by that term), until k terms are kept. Per gene:
    mean `ic` of the kept terms and precision = kept true terms / kept terms (= / k unless
    fewer than k terms survive). Both are averaged over the genes with >= 1 kept term
    (genes without any positive score are skipped, as uncovered genes in CAFA precision).

    ic (K,) the information content of each term: `information_content(training labels)`
    (-log2 frequency) measures specificity; information accretion can be passed instead.
    Returns {"ic", "precision", "n_genes", "mean_kept"}; NaN ic / precision when no gene counts.
    y_true is expected propagated (true-path rule).
    """
    y_true = _dense(y_true).astype(bool)
    y_score = _dense(y_score).astype(np.float64, copy=False)
    _check_shapes(y_true, y_score)
    anc = sp.csr_matrix(term_ancestors)
    n_terms = y_true.shape[1]
    if anc.shape != (n_terms, n_terms):
        raise ValueError(f"term_ancestors has shape {anc.shape}, expected ({n_terms}, {n_terms})")
    ic = np.asarray(ic, dtype=float)
    if ic.shape != (n_terms,):
        raise ValueError(f"ic has shape {ic.shape}, expected ({n_terms},)")
    if k < 1:
        raise ValueError("k must be >= 1")
    if propagate:
        y_score = propagate_scores(y_score, anc)
    rows = np.flatnonzero(y_true.any(axis=1))
    empty = {"ic": math.nan, "precision": math.nan, "n_genes": 0, "mean_kept": 0.0}
    if rows.size == 0 or n_terms == 0:
        return empty
    n_anc = np.diff(anc.indptr)
    indptr, indices = anc.indptr, anc.indices
    # Every term visited before the k-th kept one is kept or an ancestor of a kept term, so
    # at most k * (1 + max ancestors) terms are visited: only the terms scoring at least the
    # P-th largest score of the gene (all ties included) need sorting.
    p = min(n_terms, k * (1 + int(n_anc.max(initial=0))))
    scores = y_score[rows]
    cutoff = np.partition(scores, n_terms - p, axis=1)[:, n_terms - p]
    implied = np.zeros(n_terms, dtype=np.int64)  # stamp: gene number + 1 when implied
    ics, precs, kept_n = [], [], []
    for g, (row, cut) in enumerate(zip(scores, cutoff)):
        cand = np.flatnonzero((row >= cut) & (row > 0))
        if cand.size == 0:
            continue
        cand = cand[np.lexsort((cand, -n_anc[cand], -row[cand]))]
        stamp = g + 1
        kept = []
        for t in cand.tolist():
            if implied[t] == stamp:
                continue
            kept.append(t)
            if len(kept) == k:
                break
            implied[indices[indptr[t] : indptr[t + 1]]] = stamp
        kept = np.asarray(kept)
        ics.append(ic[kept].mean())
        precs.append(y_true[rows[g], kept].mean())
        kept_n.append(kept.size)
    if not ics:
        return empty
    return {"ic": float(np.mean(ics)), "precision": float(np.mean(precs)), "n_genes": len(ics),
            "mean_kept": float(np.mean(kept_n))}


def exclusion_consistency(y_true, y_score_propagated, pairs, threshold) -> dict:
    """How often both terms of an exclusive pair are predicted, next to how often both are true.

    pairs: (P, 2) column indices (a, b) of mutually exclusive terms; y_score_propagated (n, K)
    scores already max-propagated; a term is predicted when score >= threshold (e.g. the Fmax
    threshold; NaN predicts nothing). Over all n genes x P pairs: counts of cells where both
    are predicted, both are true, and both are predicted while both are true, and the rates
    (count / (n * P); NaN when there are no cells).
    """
    y_true = _dense(y_true).astype(bool)
    y_score = _dense(y_score_propagated)
    _check_shapes(y_true, y_score)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if pairs.size and (pairs.min() < 0 or pairs.max() >= y_true.shape[1]):
        raise ValueError(f"pairs hold column indices outside 0..{y_true.shape[1] - 1}")
    a, b = pairs[:, 0], pairs[:, 1]
    pred = y_score >= threshold
    both_pred = pred[:, a] & pred[:, b]
    both_true = y_true[:, a] & y_true[:, b]
    cells = y_true.shape[0] * len(pairs)
    n_pred, n_true = int(both_pred.sum()), int(both_true.sum())
    return {
        "rate_both_predicted": n_pred / cells if cells else math.nan,
        "rate_both_true": n_true / cells if cells else math.nan,
        "n_both_predicted": n_pred,
        "n_both_true": n_true,
        "n_both_predicted_and_true": int((both_pred & both_true).sum()),
        "n_cells": int(cells),
        "n_pairs": int(len(pairs)),
        "threshold": float(threshold),
    }


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


def evaluate_scores(y_true, y_score, *, term_ancestors=None, ia=None, term_counts=None, thresholds=None,
                    ic=None, exclusive_pairs=None, top_k: int = 10) -> dict:
    """All metrics for one prediction matrix.

    y_true (n, K) binary (dense or sparse), y_score (n, K) probabilities, term_ancestors
    (K, K) ancestor closure (scores are max-propagated first when given), ia (K,) information
    accretion for Smin and wFmax (unit weights for Smin and no wfmax when None), term_counts
    (K,) dataset term frequencies for the AUC bins. Returns a JSON-friendly dict with keys
    fmax, threshold, precision, recall, coverage, aupr, smin, smin_threshold, auc, auc_bins
    ({bin: float}), auc_bin_terms ({bin: int}), fmax_bins ({bin: Fmax over that bin's terms}),
    n_genes, n_annotated_genes, n_terms, n_auc_terms; with ia also wfmax and
    wfmax_threshold; with term_ancestors and (ic or ia) also top10_ic, top10_precision and
    top10_genes (`top_k_specificity` with k = top_k; the IC is `ic` when given, e.g.
    `information_content(training labels)` = -log2 training frequency, else the IA);
    with exclusive_pairs ((P, 2) column indices) also exclusion_rate_predicted,
    exclusion_rate_true, exclusion_n_predicted, exclusion_n_true, exclusion_n_cells at the
    Fmax threshold (`exclusion_consistency`).
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
    if ia is not None:
        w = wfmax(y_true, y_score, ia, curves=s_curves)
        out["wfmax"] = w["wfmax"]
        out["wfmax_threshold"] = w["threshold"]
    spec_ic = ic if ic is not None else ia
    if term_ancestors is not None and spec_ic is not None:
        top = top_k_specificity(y_true, y_score, term_ancestors, spec_ic, k=top_k, propagate=False)
        out["top10_ic"] = top["ic"]
        out["top10_precision"] = top["precision"]
        out["top10_genes"] = top["n_genes"]
    if exclusive_pairs is not None:
        ex = exclusion_consistency(y_true, y_score, exclusive_pairs, out["threshold"])
        out["exclusion_rate_predicted"] = ex["rate_both_predicted"]
        out["exclusion_rate_true"] = ex["rate_both_true"]
        out["exclusion_n_predicted"] = ex["n_both_predicted"]
        out["exclusion_n_true"] = ex["n_both_true"]
        out["exclusion_n_cells"] = ex["n_cells"]
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
