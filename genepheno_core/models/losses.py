"""Losses for multi-label phenotype prediction.

- `contrastive_multilabel_loss`: a well-posed ZLPR ("multi-label categorical cross-entropy")
  loss with temperature tau. For one gene with positive set P and negative set N,

      L = log(1 + sum_{n in N} exp(s_n / tau)) + log(1 + sum_{p in P} exp(-s_p / tau))

  which equals log(1 + sum_{p, n} exp((s_n - s_p) / tau) + ...) expanded: every positive is
  contrasted against every negative and against the fixed threshold 0. Unlike the formula
  printed in the GenePheno paper (a function of s_i + s_j only), this one is minimised by
  positives above 0 above negatives, so sigmoid(s / tau) is a usable score with threshold 0.5.
  The implicit 0-logit is the "1 +" term: a gene without positives (or without negatives)
  simply has an empty sum there, which the masked logsumexp below handles exactly.
- `bce_loss`: binary cross-entropy with logits, the ablation alternative.
- `exclusivity_loss`: softplus(s_a + s_b) averaged over genes and exclusive pairs (a, b);
  minimising it pushes at least one of the two logits below 0.
- `max_propagate` / `hierarchical_logits`: the scores the evaluation sees are max-propagated
  to ancestors (a term scores at least its best descendant); training on them is C-HMCNN's
  max constraint (Giunchiglia & Lukasiewicz, NeurIPS 2020): a positive term's loss reads
  the max over its positive descendants, a negative term's the max over all of them.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F

logger = logging.getLogger(__name__)


def _log1p_sum_exp(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """log(1 + sum_{j: mask} exp(x_j)) per row, stably; x, mask (B, K) -> (B,).

    Appending a 0 column is the "1 +" term; masked-out entries become -inf so that they add
    nothing, and a row with an empty mask gives log(1) = 0 with zero gradient.
    """
    neg_inf = torch.finfo(x.dtype).min
    x = torch.where(mask, x, torch.full_like(x, neg_inf))
    zeros = torch.zeros(x.shape[0], 1, dtype=x.dtype, device=x.device)
    return torch.logsumexp(torch.cat([zeros, x], dim=1), dim=1)


def contrastive_multilabel_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    tau: float = 1.0,
    row_mask: torch.Tensor | None = None,
    label_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean ZLPR loss over genes.

    logits (B, K) float, targets (B, K) in {0, 1}; `row_mask` (B,) bool selects the genes that
    count (e.g. genes with known GO concepts), or (B,) float weighs them; the mean is over
    selected genes (0 if none), weighted. `label_mask` (B, K) bool: the labels known for each
    gene; an unknown one is neither a positive nor a negative (left out of both sums).
    """
    if tau <= 0:
        raise ValueError(f"tau must be positive, got {tau}")
    pos = targets > 0.5
    neg = ~pos
    if label_mask is not None:
        pos, neg = pos & label_mask, neg & label_mask
    scaled = logits / tau
    loss = _log1p_sum_exp(scaled, neg) + _log1p_sum_exp(-scaled, pos)  # (B,)
    return _masked_mean(loss, row_mask)


def bce_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    row_mask: torch.Tensor | None = None,
    pos_weight: torch.Tensor | None = None,
    label_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Binary cross-entropy with logits, mean over labels then over selected genes
    (`row_mask`, `label_mask` as in contrastive_multilabel_loss: the mean over a gene's
    known labels)."""
    per = F.binary_cross_entropy_with_logits(
        logits, targets.to(logits.dtype), reduction="none", pos_weight=pos_weight
    )  # (B, K)
    if label_mask is None:
        per = per.mean(dim=1)  # (B,)
    else:
        known = label_mask.to(per.dtype)
        per = (per * known).sum(dim=1) / known.sum(dim=1).clamp_min(1.0)
    return _masked_mean(per, row_mask)


def exclusivity_loss(logits: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """softplus(s_a + s_b) averaged over genes and pairs; logits (B, K), pairs (P, 2) long."""
    if pairs is None or pairs.numel() == 0:
        return logits.new_zeros(())
    pair_sum = logits[:, pairs[:, 0]] + logits[:, pairs[:, 1]]  # (B, P)
    return F.softplus(pair_sum).mean()


def _masked_mean(values: torch.Tensor, row_mask: torch.Tensor | None) -> torch.Tensor:
    """Mean of values (B,) over the rows row_mask selects (bool) or weighted by it (float)."""
    if row_mask is None:
        return values.mean()
    row_mask = row_mask.to(values.dtype)
    # the clamp keeps a batch with no selected gene at 0 (and its gradient finite)
    return (values * row_mask).sum() / row_mask.sum().clamp_min(1.0)


def max_propagate(logits: torch.Tensor, descendants: torch.Tensor, ancestors: torch.Tensor) -> torch.Tensor:
    """(B, K) -> (B, K): s'_k = max(s_k, max_{d below k} s_d). descendants, ancestors: (P,)
    long, one pair per (term d, proper ancestor a of d) in the vocabulary (the transitive
    closure, so one scatter suffices). The gradient reaches the argmax."""
    if descendants.numel() == 0:
        return logits
    src = logits[:, descendants]  # (B, P)
    return logits.scatter_reduce(1, ancestors.expand(logits.shape[0], -1), src, reduce="amax", include_self=True)


def hierarchical_logits(logits: torch.Tensor, y: torch.Tensor, descendants: torch.Tensor,
                        ancestors: torch.Tensor) -> torch.Tensor:
    """(B, K) logits the loss should read under the max constraint: for a positive label the
    max over its positive descendants (itself included), for a negative label the max over
    all its descendants (all negative too under the true-path rule)."""
    low = torch.finfo(logits.dtype).min
    everything = max_propagate(logits, descendants, ancestors)
    positives = max_propagate(torch.where(y > 0, logits, torch.full_like(logits, low)), descendants, ancestors)
    return torch.where(y > 0, positives, everything)
