"""CAFA-style evaluation: metrics on arrays, CAFA files, the benchmark and its tables."""

from genepheno_core.evaluation.cafa_io import (
    evaluate_files,
    read_ia,
    read_predictions,
    read_truth,
    write_predictions,
    write_truth,
)
from genepheno_core.evaluation.metrics import (
    CAFA_THRESHOLDS,
    FREQUENCY_BINS,
    ThresholdCurves,
    auc_by_frequency,
    evaluate_scores,
    fmax,
    fmax_by_frequency,
    information_accretion,
    macro_auc,
    micro_aupr,
    per_term_auc,
    propagate_scores,
    smin,
    threshold_curves,
)

__all__ = [
    "CAFA_THRESHOLDS",
    "FREQUENCY_BINS",
    "ThresholdCurves",
    "auc_by_frequency",
    "evaluate_files",
    "evaluate_scores",
    "fmax",
    "fmax_by_frequency",
    "information_accretion",
    "macro_auc",
    "micro_aupr",
    "per_term_auc",
    "propagate_scores",
    "read_ia",
    "read_predictions",
    "read_truth",
    "smin",
    "threshold_curves",
    "write_predictions",
    "write_truth",
]
