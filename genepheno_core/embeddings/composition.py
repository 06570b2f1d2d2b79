"""`composition`: sequence composition features, no weights.

Blocks (each a frequency vector summing to 1 when the sequence has any counted window):
- amino-acid composition, 20 dims (order STANDARD_AMINO_ACIDS)
- dipeptide composition, 400 dims (first residue major)
- k-mer composition on the 7-class reduced alphabet of the conjoint triad (Shen et al.
  2007, PNAS): {AGV} {ILFP} {YMTS} {HNQW} {RK} {DE} {C}; 7 ** k dims (343 for k = 3)
- log(length), 1 dim (the full length, rare letters included)
Rare letters (U O B Z J X) are not counted: any window containing one is skipped.

Vectorised: a batch is joined into one byte string (newline-separated, so no window spans
two sequences) and every block is one np.bincount over (sequence index, k-mer code).
"""

from __future__ import annotations

import logging

import numpy as np

from genepheno_core.embeddings.base import Encoder
from genepheno_core.embeddings.config import DEFAULT_BATCH_TOKENS, CompositionConfig
from genepheno_core.embeddings.sequences import STANDARD_AMINO_ACIDS

logger = logging.getLogger(__name__)

REDUCED_CLASSES = ("AGV", "ILFP", "YMTS", "HNQW", "RK", "DE", "C")

_AA_CODE = np.full(256, -1, dtype=np.int64)  # byte -> 0..19, -1 for anything else
for _i, _aa in enumerate(STANDARD_AMINO_ACIDS):
    _AA_CODE[ord(_aa)] = _i
_REDUCED_CODE = np.full(256, -1, dtype=np.int64)  # byte -> 0..6
for _i, _group in enumerate(REDUCED_CLASSES):
    for _aa in _group:
        _REDUCED_CODE[ord(_aa)] = _i


def _kmer_counts(codes: np.ndarray, seg: np.ndarray, n: int, alphabet: int, k: int) -> np.ndarray:
    """(n, alphabet ** k) counts of k-mers of `codes` (-1 = skip) per segment `seg`."""
    width = alphabet**k
    if len(codes) < k:
        return np.zeros((n, width), dtype=np.float64)
    span = len(codes) - k + 1
    valid = np.ones(span, dtype=bool)
    index = np.zeros(span, dtype=np.int64)
    for offset in range(k):
        part = codes[offset : offset + span]
        valid &= part >= 0
        index = index * alphabet + part
    flat = seg[:span][valid] * width + index[valid]
    return np.bincount(flat, minlength=n * width).reshape(n, width).astype(np.float64)


def _normalise(counts: np.ndarray) -> np.ndarray:
    totals = counts.sum(axis=1, keepdims=True)
    return counts / np.maximum(totals, 1.0)


def composition_features(seqs: list[str], reduced_k: int = 3) -> np.ndarray:
    """(len(seqs), 20 + 400 + 7 ** reduced_k + 1) float32 composition features."""
    n = len(seqs)
    if n == 0:
        return np.zeros((0, 20 + 400 + 7**reduced_k + 1), dtype=np.float32)
    joined = np.frombuffer("\n".join(seqs).encode("ascii", "replace"), dtype=np.uint8)
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=n)
    # segment id of every byte (separators get the previous sequence's id; their code is -1)
    seg = np.repeat(np.arange(n), lengths + 1)[: len(joined)]
    aa = _AA_CODE[joined]
    reduced = _REDUCED_CODE[joined]
    blocks = [
        _normalise(_kmer_counts(aa, seg, n, 20, 1)),
        _normalise(_kmer_counts(aa, seg, n, 20, 2)),
        _normalise(_kmer_counts(reduced, seg, n, len(REDUCED_CLASSES), reduced_k)),
        np.log(np.maximum(lengths, 1)).astype(np.float64)[:, None],
    ]
    return np.hstack(blocks).astype(np.float32)


class CompositionEncoder(Encoder):
    """`composition`: amino-acid, dipeptide and reduced-alphabet k-mer composition + log length."""

    name = "composition"

    def __init__(self, reduced_k: int = CompositionConfig.reduced_k):
        if not 1 <= int(reduced_k) <= 5:
            raise ValueError(f"reduced_k must be 1..5, got {reduced_k}")
        self.reduced_k = int(reduced_k)
        self.dim = 20 + 400 + len(REDUCED_CLASSES) ** self.reduced_k + 1
        self.default_batch_tokens = DEFAULT_BATCH_TOKENS["composition"]

    def key_components(self) -> dict:
        return {
            "features": "aa20+dipeptide400+conjoint_triad_kmers+log_length",
            "reduced_k": self.reduced_k,
            "truncation": None,
        }

    def batches(self, seqs, batch_tokens=None, max_batch=None):
        # padding does not exist here: the budget is on real residues, input order kept
        budget = batch_tokens or self.default_batch_tokens
        out: list[list[int]] = []
        current: list[int] = []
        used = 0
        for i, s in enumerate(seqs):
            full = max_batch is not None and len(current) >= max_batch
            if current and (used + len(s) > budget or full):
                out.append(current)
                current, used = [], 0
            current.append(i)
            used += len(s)
        if current:
            out.append(current)
        return out

    def embed_batch(self, seqs: list[str]) -> np.ndarray:
        return composition_features(seqs, self.reduced_k)
