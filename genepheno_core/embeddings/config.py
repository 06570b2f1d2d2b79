"""Typed settings of the embeddings area (encoders, batching, cache)."""

from __future__ import annotations

from dataclasses import dataclass

# Encoder-specific padded-token budgets per batch. The mLSTM needs O(B * D) memory per
# step whatever the length, and its fast path skips sequences that have ended, so padding
# costs nothing: its batches are bounded by a sequence count instead (UniRepEncoder:
# 128 / 256 rows) and the budget only has to admit that many titin-length proteins.
# Grouping long proteins matters: a lone sequence runs a memory-bound matrix-vector
# product per residue, and a step over a few rows costs about the same as over one.
# Transformers hold O(B * L^2) attention scores, so their budget is much smaller.
DEFAULT_BATCH_TOKENS = {
    "composition": 4_000_000,
    "unirep64": 10_000_000,
    "unirep256": 10_000_000,
    "unirep1900": 5_000_000,
    "esm2": 8_192,
    "hf": 8_192,
}


@dataclass(frozen=True)
class EmbeddingConfig:
    """How to turn sequences into vectors.

    encoder: registry name (`composition`, `unirep64|256|1900`, `esm2_*`, `hf:<id or dir>`).
    batch_tokens: padded tokens per batch (None: the encoder's default above).
    max_batch: at most this many sequences per batch (None: no limit besides the budget).
    cache: read and write the content-addressed cache under genepheno_home()/embeddings/.
    flush_rows / flush_seconds: write a cache shard once this many new vectors are buffered
        or this much time has passed, so a killed run loses at most that much work plus the
        encoder batch under way (a flush never splits a batch: batch composition changes
        the last bits of an embedding). One flush costs ~9 ms, so 2 s costs < 1 %; compact()
        merges the shards at the end of a run.
    """

    encoder: str = "unirep1900"
    batch_tokens: int | None = None
    max_batch: int | None = None
    cache: bool = True
    flush_rows: int = 2048
    flush_seconds: float = 2.0


@dataclass(frozen=True)
class CompositionConfig:
    """Composition features: amino-acid (20) + dipeptide (400) + reduced-alphabet k-mers
    (7 ** k) + log length (1). k = 3 gives 764 dimensions."""

    reduced_k: int = 3
