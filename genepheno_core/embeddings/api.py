"""The encoder registry and `embed_sequences` (cache-aware, batched, resumable)."""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Sequence

import numpy as np

from genepheno_core.embeddings.base import Encoder
from genepheno_core.embeddings.cache import EmbeddingCache, sequence_key
from genepheno_core.embeddings.config import EmbeddingConfig
from genepheno_core.embeddings.sequences import clean_protein
from genepheno_core.errors import GenePhenoError

logger = logging.getLogger(__name__)

ENCODER_NAMES = (
    "composition", "unirep64", "unirep256", "unirep1900", "esm2_<size>", "hf:<id or dir>",
)
_UNIREP = re.compile(r"^unirep(64|256|1900)$")


def get_encoder(name: str, **options) -> Encoder:
    """Build an encoder from its registry name.

    composition [reduced_k=3]; unirep64 | unirep256 | unirep1900 [threads=None];
    esm2_t6_8M, esm2_t12_35M, ... [path=DIR, layer=None (last), chunk=None, device="cpu"];
    hf:<hub id or local dir> [path=, layer=, chunk=, device=, translate=True
    (False: nucleotide input stays nucleotide, for DNA language models)].
    """
    if isinstance(name, Encoder):
        return name
    name = name.strip()
    if name == "composition":
        from genepheno_core.embeddings.composition import CompositionEncoder

        return CompositionEncoder(**options)
    match = _UNIREP.match(name)
    if match:
        from genepheno_core.embeddings.unirep import UniRepEncoder

        return UniRepEncoder(int(match.group(1)), **options)
    if name.startswith("esm2_"):
        from genepheno_core.embeddings.hf import esm2_encoder

        try:
            return esm2_encoder(name, **options)
        except ValueError as exc:
            raise GenePhenoError(str(exc)) from exc
    if name.startswith("hf:") and len(name) > 3:
        from genepheno_core.embeddings.hf import hf_encoder

        return hf_encoder(name[3:], **options)
    raise GenePhenoError(f"unknown encoder {name!r}; choose one of: {', '.join(ENCODER_NAMES)}")


def embed_sequences(
    sequences: Sequence[str],
    encoder: str | Encoder,
    cache: bool = True,
    progress: bool = False,
    batch_tokens: int | None = None,
    max_batch: int | None = None,
    config: EmbeddingConfig | None = None,
    cache_root=None,
) -> np.ndarray:
    """(len(sequences), dim) float32, rows in input order.

    Sequences are cleaned like user input (upper case, trailing '*' dropped, nucleotide CDS
    translated; bad letters raise InputFormatError). Identical sequences are embedded once.
    With `cache`, vectors already in the content-addressed cache are read from it and new
    ones are written in shards as batches complete (so a killed run resumes). A progress
    bar (tqdm, residues/s) is shown with `progress=True`.
    """
    config = config or EmbeddingConfig()
    batch_tokens = batch_tokens or config.batch_tokens
    max_batch = max_batch or config.max_batch
    enc = get_encoder(encoder) if isinstance(encoder, str) else encoder
    translate = getattr(enc, "translate_nucleotides", True)
    cleaned = [
        clean_protein(s, "<sequences>", record=f"#{i}", translate=translate)
        for i, s in enumerate(sequences)
    ]
    out = np.zeros((len(cleaned), enc.dim), dtype=np.float32)
    if not cleaned:
        return out

    # unique sequences -> the rows that want them
    rows_of: dict[str, list[int]] = {}
    for i, s in enumerate(cleaned):
        rows_of.setdefault(s, []).append(i)
    unique = list(rows_of)
    keys = [sequence_key(s) for s in unique]

    store = EmbeddingCache(cache_root) if cache and config.cache else None
    todo = list(range(len(unique)))
    if store is not None:
        found = store.lookup(enc, keys)
        for u, k in enumerate(keys):
            if k in found:
                out[rows_of[unique[u]]] = found[k]
        todo = [u for u, k in enumerate(keys) if k not in found]
        logger.info(
            "%s: %d of %d unique sequences from the cache (%s), %d to embed",
            enc.name, len(unique) - len(todo), len(unique), store.space_dir(enc), len(todo),
        )
    if todo:
        vectors = _embed_missing(
            enc, [unique[u] for u in todo], [keys[u] for u in todo], store, config,
            batch_tokens, max_batch, progress,
        )
        for j, u in enumerate(todo):
            out[rows_of[unique[u]]] = vectors[j]
    return out


class _ShardWriter:
    """Buffers new vectors and writes a cache shard every `flush_rows` vectors or
    `flush_seconds` seconds (and on close), so a killed run loses little work."""

    def __init__(self, store: EmbeddingCache | None, encoder: Encoder, config: EmbeddingConfig):
        self.store, self.encoder, self.config = store, encoder, config
        self.keys: list[bytes] = []
        self.vectors: list[np.ndarray] = []
        self.last = time.monotonic()

    def add(self, keys: list[bytes], vectors: np.ndarray) -> None:
        self.keys += keys
        self.vectors.append(vectors)
        due = time.monotonic() - self.last >= self.config.flush_seconds
        if len(self.keys) >= self.config.flush_rows or due:
            self.flush()

    def flush(self) -> None:
        if self.store is not None and self.keys:
            self.store.write(self.encoder, self.keys, np.concatenate(self.vectors))
        self.keys, self.vectors, self.last = [], [], time.monotonic()


def _embed_missing(
    enc: Encoder,
    seqs: list[str],
    keys: list[bytes],
    store: EmbeddingCache | None,
    config: EmbeddingConfig,
    batch_tokens: int | None,
    max_batch: int | None,
    progress: bool,
) -> np.ndarray:
    """(len(seqs), dim) vectors of sequences not (yet) in the cache, written to it as
    batches complete."""
    out = np.zeros((len(seqs), enc.dim), dtype=np.float32)
    total_residues = sum(len(s) for s in seqs)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total_residues, unit="res", unit_scale=True, desc=enc.name, smoothing=0.1)
    writer = _ShardWriter(store, enc, config)
    started = time.monotonic()
    batches = enc.batches(seqs, batch_tokens, max_batch)
    if store is not None and len(batches) > 1:
        # Start at a random batch: another process embedding the same sequences (the cache
        # is shared) then works on other batches first, and each skips what the other
        # finished (re-checked below). Batch composition, hence results, does not change.
        offset = random.Random(os.getpid() ^ time.time_ns()).randrange(len(batches))
        batches = batches[offset:] + batches[:offset]
    try:
        for batch in batches:
            if store is not None:
                cached = store.lookup(enc, [keys[j] for j in batch])
                for j in batch:
                    if keys[j] in cached:
                        out[j] = cached[keys[j]]
                if bar is not None and cached:
                    bar.update(sum(len(seqs[j]) for j in batch if keys[j] in cached))
                batch = [j for j in batch if keys[j] not in cached]
                if not batch:
                    continue
            for local, vectors in enc.iter_embed([seqs[j] for j in batch], batch_tokens, max_batch):
                idx = [batch[i] for i in local]
                out[idx] = vectors
                writer.add([keys[j] for j in idx], vectors)
                if bar is not None:
                    bar.update(sum(len(seqs[j]) for j in idx))
    finally:
        writer.flush()  # keep what was computed even when interrupted
        if bar is not None:
            bar.close()
    elapsed = time.monotonic() - started
    logger.info(
        "%s: embedded %d sequences (%d residues) in %.1f s, %.0f residues/s",
        enc.name, len(seqs), total_residues, elapsed, total_residues / max(elapsed, 1e-9),
    )
    if store is not None:
        store.compact(enc)
    return out
