"""Train/valid/test splits: seeded random, homology-aware (MMseqs2 clusters), temporal.

Split columns hold the strings "train", "valid", "test" (one per gene, in gene order).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from genepheno_core.errors import GenePhenoError, MissingDataError
from genepheno_core.io import atomic_write_text, genepheno_home

logger = logging.getLogger(__name__)

PARTS = ("train", "valid", "test")


def _counts(n: int, fractions: Sequence[float]) -> tuple[int, int, int]:
    """Sizes of train/valid/test for n items: valid and test rounded, train the rest."""
    n_valid = int(round(n * fractions[1]))
    n_test = int(round(n * fractions[2]))
    return n - n_valid - n_test, n_valid, n_test


def random_split(n: int, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0) -> np.ndarray:
    """Seeded random split of n items -> array (n,) of "train"/"valid"/"test"."""
    n_train, n_valid, _ = _counts(n, fractions)
    order = np.random.default_rng(seed).permutation(n)
    out = np.empty(n, dtype=object)
    out[order[:n_train]] = "train"
    out[order[n_train : n_train + n_valid]] = "valid"
    out[order[n_train + n_valid :]] = "test"
    return out


def cluster_split(
    clusters: Sequence[int] | np.ndarray,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    slack: float = 0.02,
    max_share: float = 0.1,
) -> np.ndarray:
    """Assign whole clusters to train/valid/test, aiming at `fractions` of the items.

    clusters: cluster label of each item (n,). Clusters are visited in a seeded random
    order; each goes to the part furthest below its target (relative deficit), except that
    a cluster goes to valid/test only if it fits there (filled + size <= target + slack * n)
    and is at most `max_share` of that part's target, so one large family cannot dominate
    the test set; otherwise it goes to train. Returns (n,) part names.
    """
    labels = np.asarray(clusters)
    n = len(labels)
    out = np.empty(n, dtype=object)
    if n == 0:
        return out
    # np.unique sorts the labels: the visiting order then depends only on the seed
    uniq, inverse = np.unique(labels, return_inverse=True)
    members = [[] for _ in range(len(uniq))]
    for item, c in enumerate(inverse):
        members[c].append(item)
    targets = np.array(_counts(n, fractions), dtype=float)
    filled = np.zeros(3)
    limit = targets + slack * n
    for c in np.random.default_rng(seed).permutation(len(uniq)):
        size = len(members[c])
        deficit = np.where(targets > 0, (targets - filled) / np.maximum(targets, 1), -np.inf)
        part = 0
        for candidate in np.argsort(-deficit, kind="stable"):
            fits = filled[candidate] + size <= limit[candidate] and size <= max_share * targets[candidate]
            if candidate == 0 or fits:
                part = int(candidate)
                break
        out[members[c]] = PARTS[part]
        filled[part] += size
    return out


def temporal_split(is_new: np.ndarray, valid_fraction: float = 0.1, seed: int = 0) -> np.ndarray:
    """Genes of the old release -> seeded train/valid; genes new in the later release -> test."""
    is_new = np.asarray(is_new, dtype=bool)
    out = np.empty(len(is_new), dtype=object)
    out[is_new] = "test"
    old = np.flatnonzero(~is_new)
    sub = random_split(len(old), (1.0 - valid_fraction, valid_fraction, 0.0), seed)
    out[old] = sub
    return out


# ---------------------------------------------------------------------------- MMseqs2


def sequence_set_key(ids: Sequence[str], sequences: Sequence[str], params: str = "") -> str:
    """sha256 over the sorted (id, sequence) pairs and the clustering parameters."""
    digest = hashlib.sha256()
    digest.update(params.encode())
    for ident, seq in sorted(zip(ids, sequences)):
        digest.update(f"\n>{ident}\n{seq}".encode())
    return digest.hexdigest()


def mmseqs_clusters(
    ids: Sequence[str],
    sequences: Sequence[str],
    min_seq_id: float = 0.3,
    coverage: float = 0.8,
    threads: int = 2,
    cache: bool = True,
) -> dict[str, str]:
    """Cluster sequences with `mmseqs easy-cluster`; returns {id: representative id}.

    The result is cached under genepheno_home()/cache/mmseqs/<sha256>.tsv, keyed by the
    sequence set and the parameters, so rebuilding a dataset does not recluster.
    """
    if len(set(ids)) != len(ids):
        raise GenePhenoError("mmseqs_clusters: sequence ids must be unique")
    params = f"easy-cluster --min-seq-id {min_seq_id} -c {coverage}"
    key = sequence_set_key(ids, sequences, params)
    cache_path = genepheno_home() / "cache" / "mmseqs" / f"{key}.tsv"
    if cache and cache_path.is_file():
        mapping = dict(line.split("\t") for line in cache_path.read_text().splitlines() if line)
        if set(mapping) == set(ids):
            logger.info("homology clusters from cache %s", cache_path)
            return mapping
    binary = shutil.which("mmseqs")
    if binary is None:
        raise MissingDataError(
            "the homology split needs MMseqs2 (`mmseqs` not found on PATH): install the Debian "
            "package mmseqs2, or build without the homology split (--no-homology)"
        )
    with tempfile.TemporaryDirectory(prefix="genepheno-mmseqs-") as work:
        work = Path(work)
        fasta = work / "input.fasta"
        with open(fasta, "w") as handle:
            for ident, seq in zip(ids, sequences):
                handle.write(f">{ident}\n{seq}\n")
        command = [
            binary, "easy-cluster", str(fasta), str(work / "out"), str(work / "tmp"),
            "--min-seq-id", str(min_seq_id), "-c", str(coverage), "--threads", str(threads), "-v", "1",
        ]
        logger.info("clustering %d sequences: %s", len(ids), " ".join(command[1:]))
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise GenePhenoError(f"mmseqs easy-cluster failed (exit {result.returncode}): {result.stderr[-2000:]}")
        lines = (work / "out_cluster.tsv").read_text().splitlines()
    mapping: dict[str, str] = {}
    for line in lines:
        rep, member = line.split("\t")
        mapping[member] = rep
    missing = set(ids) - set(mapping)
    if missing:
        raise GenePhenoError(f"mmseqs output lacks {len(missing)} sequences, e.g. {sorted(missing)[:3]}")
    if cache:
        text = "".join(f"{m}\t{mapping[m]}\n" for m in sorted(mapping))
        atomic_write_text(cache_path, text)
    return mapping


def homology_split(
    ids: Sequence[str],
    sequences: Sequence[str],
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    min_seq_id: float = 0.3,
    coverage: float = 0.8,
    threads: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """(parts (n,), cluster representative (n,)): MMseqs2 clusters assigned whole."""
    mapping = mmseqs_clusters(ids, sequences, min_seq_id, coverage, threads)
    reps = np.array([mapping[i] for i in ids], dtype=object)
    return cluster_split(reps.astype(str), fractions, seed), reps
