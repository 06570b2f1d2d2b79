"""Length-sorted, token-budget batching.

Sequences are sorted by length (longest first) and cut into batches whose padded size
(number of sequences x longest length in the batch) stays within a token budget, so
similar lengths run together and little compute goes to padding. Every encoder masks its
padding, so a sequence's vector does not depend on which batch it lands in.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

logger = logging.getLogger(__name__)


def token_batches(
    lengths: Sequence[int], batch_tokens: int, max_batch: int | None = None
) -> list[list[int]]:
    """Indices into `lengths`, grouped into batches, longest sequences first.

    Within a batch the indices are sorted by decreasing length (the mLSTM relies on this to
    shrink its active batch as sequences end). A sequence longer than the budget gets a
    batch of its own.
    """
    if batch_tokens < 1:
        raise ValueError(f"batch_tokens must be positive, got {batch_tokens}")
    if max_batch is not None and max_batch < 1:
        raise ValueError(f"max_batch must be positive, got {max_batch}")
    lengths = np.asarray(lengths, dtype=np.int64)
    # stable sort on -length: ties keep input order, so batching is deterministic
    order = np.argsort(-lengths, kind="stable")
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for idx in order.tolist():
        length = max(int(lengths[idx]), 1)
        if current:
            # sorted descending, so the batch's longest is its first element
            padded = (len(current) + 1) * longest
            full = max_batch is not None and len(current) >= max_batch
            if padded > batch_tokens or full:
                batches.append(current)
                current = []
        if not current:
            longest = length
        current.append(idx)
    if current:
        batches.append(current)
    return batches
