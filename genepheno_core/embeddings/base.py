"""The Encoder interface shared by every sequence encoder, and weight-file hashing."""

from __future__ import annotations

import abc
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from genepheno_core.embeddings.batching import token_batches
from genepheno_core.io import atomic_write_text, genepheno_home, sha256_file

logger = logging.getLogger(__name__)

# Bumped when the stored vectors of every encoder would change (e.g. a pooling fix), so
# old cache entries are never served for the new code.
CACHE_FORMAT_VERSION = 1

_HASH_LOCK = threading.Lock()
_HASH_MEMO: dict[tuple[str, int, int], str] = {}


def weights_sha256(paths: Sequence[str | os.PathLike]) -> str:
    """sha256 over the given weight files (sorted by name, each file's own sha256 + name).

    Hashing a multi-GB checkpoint takes seconds, so each file's digest is memoised in
    memory and in genepheno_home()/embeddings/weights_sha256.json, keyed by (absolute path,
    size, mtime): a replaced file gets a new digest.
    """
    digest = hashlib.sha256()
    memo_path = genepheno_home() / "embeddings" / "weights_sha256.json"
    disk_memo: dict[str, str] | None = None
    changed = False
    for path in sorted(Path(p).resolve() for p in paths):
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with _HASH_LOCK:
            file_hash = _HASH_MEMO.get(key)
        if file_hash is None:
            if disk_memo is None:
                try:
                    disk_memo = json.loads(memo_path.read_text())
                except (OSError, ValueError):
                    disk_memo = {}
            disk_key = f"{key[0]}|{key[1]}|{key[2]}"
            file_hash = disk_memo.get(disk_key)
            if file_hash is None:
                logger.info("hashing weights %s", path)
                file_hash = sha256_file(path)
                disk_memo[disk_key] = file_hash
                changed = True
            with _HASH_LOCK:
                _HASH_MEMO[key] = file_hash
        digest.update(path.name.encode() + b"\0" + file_hash.encode() + b"\n")
    if changed and disk_memo is not None:
        try:
            # a lost update from a concurrent process only costs a re-hash later
            atomic_write_text(memo_path, json.dumps(disk_memo, indent=1, sort_keys=True))
        except OSError as exc:  # read-only home: the memo is only an optimisation
            logger.debug("could not write %s: %s", memo_path, exc)
    return digest.hexdigest()


class Encoder(abc.ABC):
    """A frozen map from protein sequences to fixed-size float32 vectors.

    Subclasses set `name`, `dim` and `default_batch_tokens`, and implement
    `key_components()` (everything that changes the vectors: weights hash, pooling, layer,
    truncation/chunking) and `embed_batch()`.
    """

    name: str
    dim: int
    default_batch_tokens: int = 100_000
    # protein encoders want nucleotide coding sequences translated; a nucleotide language
    # model (hf:, translate=False) wants them as they are
    translate_nucleotides: bool = True

    @abc.abstractmethod
    def key_components(self) -> dict:
        """JSON-serialisable description of everything that determines the vectors."""

    @abc.abstractmethod
    def embed_batch(self, seqs: list[str]) -> np.ndarray:
        """(len(seqs), dim) float32 for one batch (already length-sorted, longest first)."""

    def cache_key(self) -> str:
        """Hex digest identifying this encoder's output space in the cache."""
        components = {"format": CACHE_FORMAT_VERSION, "encoder": self.name, **self.key_components()}
        text = json.dumps(components, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def batches(
        self, seqs: Sequence[str], batch_tokens: int | None = None, max_batch: int | None = None
    ) -> list[list[int]]:
        return token_batches(
            [len(s) for s in seqs], batch_tokens or self.default_batch_tokens, max_batch
        )

    def iter_embed(
        self, seqs: Sequence[str], batch_tokens: int | None = None, max_batch: int | None = None
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        """Yield (indices into seqs, (len(indices), dim) float32) batch by batch."""
        for idx in self.batches(seqs, batch_tokens, max_batch):
            vectors = np.asarray(self.embed_batch([seqs[i] for i in idx]), dtype=np.float32)
            if vectors.shape != (len(idx), self.dim):
                raise RuntimeError(
                    f"{self.name}: batch gave shape {vectors.shape}, "
                    f"expected {(len(idx), self.dim)}"
                )
            yield idx, vectors

    def embed(
        self, seqs: Sequence[str], batch_tokens: int | None = None, max_batch: int | None = None
    ) -> np.ndarray:
        """(len(seqs), dim) float32, rows in input order, no cache."""
        out = np.zeros((len(seqs), self.dim), dtype=np.float32)
        for idx, vectors in self.iter_embed(seqs, batch_tokens, max_batch):
            out[idx] = vectors
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} dim={self.dim}>"
