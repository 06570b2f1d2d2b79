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

ENCODER_NAMES = ("composition", "unirep64", "unirep256", "unirep1900", "esm2_<size>", "hf:<id or dir>")
_UNIREP = re.compile(r"^unirep(64|256|1900)$")


def get_encoder(name: str, **options) -> Encoder:
    """Build an encoder from its registry name.

    composition [reduced_k=3]; unirep64 | unirep256 | unirep1900 [threads=None];
    esm2_t6_8M, esm2_t12_35M, ... [path=DIR, layer=None (last), chunk=None, device="cpu"];
    hf:<hub id or local dir> [path=, layer=, chunk=, device=].
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
    cleaned = [clean_protein(s, "<sequences>", record=f"#{i}") for i, s in enumerate(sequences)]
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
        _embed_missing(enc, unique, keys, todo, rows_of, out, store, batch_tokens, max_batch, progress, config)
    return out


def _embed_missing(enc, unique, keys, todo, rows_of, out, store, batch_tokens, max_batch, progress, config):
    seqs = [unique[u] for u in todo]
    total_residues = sum(len(s) for s in seqs)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total_residues, unit="res", unit_scale=True, desc=enc.name, smoothing=0.1)
    pending_keys: list[bytes] = []
    pending_vectors: list[np.ndarray] = []
    last_flush = time.monotonic()
    started = time.monotonic()

    def flush():
        nonlocal last_flush
        if store is not None and pending_keys:
            store.write(enc, pending_keys, np.concatenate(pending_vectors))
        pending_keys.clear()
        pending_vectors.clear()
        last_flush = time.monotonic()

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
                cached = store.lookup(enc, [keys[todo[j]] for j in batch])
                for j in batch:
                    if keys[todo[j]] in cached:
                        out[rows_of[seqs[j]]] = cached[keys[todo[j]]]
                if bar is not None and cached:
                    bar.update(sum(len(seqs[j]) for j in batch if keys[todo[j]] in cached))
                batch = [j for j in batch if keys[todo[j]] not in cached]
                if not batch:
                    continue
            sub = [seqs[j] for j in batch]
            for local, vectors in enc.iter_embed(sub, batch_tokens, max_batch):
                idx = [batch[i] for i in local]
                for row, j in enumerate(idx):
                    out[rows_of[seqs[j]]] = vectors[row]
                pending_keys.extend(keys[todo[j]] for j in idx)
                pending_vectors.append(vectors)
                if bar is not None:
                    bar.update(sum(len(seqs[j]) for j in idx))
                if len(pending_keys) >= config.flush_rows or time.monotonic() - last_flush >= config.flush_seconds:
                    flush()
    finally:
        # keep what was computed even when interrupted (KeyboardInterrupt, errors)
        flush()
        if bar is not None:
            bar.close()
    elapsed = time.monotonic() - started
    logger.info(
        "%s: embedded %d sequences (%d residues) in %.1f s, %.0f residues/s",
        enc.name, len(seqs), total_residues, elapsed, total_residues / max(elapsed, 1e-9),
    )
    if store is not None:
        store.compact(enc)
