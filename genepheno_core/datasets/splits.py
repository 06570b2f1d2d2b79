"""Train/valid/test splits: seeded random, homology-aware, temporal.

Split columns hold the strings "train", "valid", "test" (one per gene, in gene order).

The homology split (rule "local") links two proteins when DIAMOND finds any local
alignment between them of >= 30 % identity over >= 50 aligned residues, and assigns whole
connected components (single linkage) to one part, so a protein in valid/test shares no
such segment (e.g. a domain) with any training protein. `residual_similarity` measures
what is left. Rule "mmseqs" (MMseqs2 clusters at 30 % identity and 80 % coverage of both
sequences) reproduces the first-generation artifacts.
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
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from genepheno_core.datasets.alignment import all_vs_all, local_alignments
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


# ------------------------------------------------------------- local-alignment rule

# DIAMOND settings of the local rule, measured on 500 random hpo proteins searched against
# all 4,978 (every target, every HSP): proteins with a qualifying hit (>= 30 % over >= 50)
# at e <= 1e-3 / 0.1 / 1 / 10: --sensitive 285 / 289 / 291 / 303, --more-sensitive
# 283 / 288 / 290 / 302, --very-sensitive 287 / 296 / 304 / 324. Against the reversed
# sequences (where every alignment is chance) the same searches give 0 / 1 / 2 / 7
# proteins (--more-sensitive) and 0 / 0 / 9 / 29 (--very-sensitive). --very-sensitive at
# e <= 0.1 finds as many proteins as --more-sensitive at e <= 10 net of its chance links,
# and no chance link itself; looser cuts add chance links, which single linkage would turn
# into merged families.
# It costs ~1.6x the time of --more-sensitive (50 s vs 31 s for the sample, 2 threads).
HOMOLOGY_SENSITIVITY = "--very-sensitive"
HOMOLOGY_EVALUE = 0.1


def linking_hits(hits: pd.DataFrame, min_identity: float = 0.3, min_length: int = 50) -> pd.DataFrame:
    """The rows of a hit table (`alignment.HIT_COLUMNS`) whose alignment has identity >=
    min_identity (fraction) over >= min_length aligned columns.

    The rule applies to the HSPs DIAMOND reports (all of them, --max-hsps 0). How DIAMOND
    cuts a long alignment into HSPs differs between modes (one HSP of 27 % over 1,189
    columns in one, two of 33 % and 27 % in another), so a long alignment below
    min_identity may hide a qualifying stretch; on the 500-protein sample this changed the
    set of linked proteins by one.
    """
    return hits[(hits["identity"] >= min_identity) & (hits["length"] >= min_length)]


def local_homology_components(
    sequences: Sequence[str],
    min_identity: float = 0.3,
    min_length: int = 50,
    threads: int = 2,
    extra_links: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Component label (n,) int of each sequence: single-linkage clusters of the graph that
    links two sequences when an all-vs-all DIAMOND search finds a local alignment of >=
    min_identity identity over >= min_length columns between them (identical sequences
    are linked too, whatever their length; `extra_links` (rows, cols) adds pairs). Labels
    are numbered 0.. in order of the first member."""
    n = len(sequences)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    hits = linking_hits(all_vs_all(sequences, threads, HOMOLOGY_EVALUE, HOMOLOGY_SENSITIVITY),
                        min_identity, min_length)
    rows, cols = hits["query"].to_numpy(), hits["target"].to_numpy()
    # identical sequences shorter than min_length would otherwise stay apart
    first = pd.Series(np.arange(n)).groupby(pd.Series(list(sequences))).transform("min").to_numpy()
    rows, cols = np.concatenate([rows, np.arange(n)]), np.concatenate([cols, first])
    if extra_links is not None:
        rows, cols = np.concatenate([rows, extra_links[0]]), np.concatenate([cols, extra_links[1]])
    # (n, n) count of linking HSPs per pair (int32: a repeat-rich pair can have > 127)
    graph = sp.csr_matrix((np.ones(rows.size, dtype=np.int32), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def component_summary(
    clusters: Sequence | np.ndarray, fractions: Sequence[float] = (0.8, 0.1, 0.1), max_share: float = 0.1,
) -> dict:
    """Clusters of a homology split: how many, the largest, and the share of items in
    clusters too large for valid or test (more than `max_share` of either part's target, the
    `cluster_split` rule), which can only go to train."""
    _, sizes = np.unique(np.asarray(clusters), return_counts=True)
    n = int(sizes.sum())
    if n == 0:
        return {"clusters": 0, "largest": 0, "train_only_share": 0.0}
    _, n_valid, n_test = _counts(n, fractions)
    too_large = sizes > max_share * min(n_valid, n_test)
    return {"clusters": int(sizes.size), "largest": int(sizes.max()),
            "train_only_share": float(sizes[too_large].sum() / n)}


def homology_split(
    ids: Sequence[str],
    sequences: Sequence[str],
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    min_seq_id: float = 0.3,
    coverage: float = 0.8,
    threads: int = 2,
    *,
    rule: str = "local",
    min_identity: float = 0.3,
    min_length: int = 50,
) -> tuple[np.ndarray, np.ndarray]:
    """(parts (n,), cluster label (n,)): homology clusters assigned whole (`cluster_split`).

    rule "local": components of the local-alignment graph (`local_homology_components`,
    min_identity, min_length); labels are ints. Rule "mmseqs": MMseqs2 clusters at
    min_seq_id identity and `coverage` of both sequences; labels are representative ids.
    """
    if len(set(ids)) != len(ids):
        raise GenePhenoError("homology_split: sequence ids must be unique")
    if rule == "mmseqs":
        mapping = mmseqs_clusters(ids, sequences, min_seq_id, coverage, threads)
        labels = np.array([mapping[i] for i in ids], dtype=object)
        return cluster_split(labels.astype(str), fractions, seed), labels
    if rule != "local":
        raise GenePhenoError(f"homology_split: rule must be 'local' or 'mmseqs', got {rule!r}")
    # DIAMOND's heuristics are not symmetric: a search of valid+test against the training
    # proteins alone (smaller database, other seeds, other HSP cuts) can find a borderline
    # link that the all-vs-all search missed (1 of 996 held-out hpo proteins, e = 0.0985).
    # Such links are added and the split redone until that search, the one
    # `residual_similarity` reports, finds none.
    extra = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    for _ in range(MAX_REPAIR_ROUNDS):
        labels = local_homology_components(sequences, min_identity, min_length, threads, extra)
        parts = cluster_split(labels, fractions, seed)
        leaks = linking_hits(_held_out_hits(sequences, parts, threads), min_identity, min_length)
        if leaks.empty:
            break
        logger.info("homology split: %d links across the split found by the held-out search; redoing it",
                    len(leaks))
        extra = (np.concatenate([extra[0], leaks["query"]]), np.concatenate([extra[1], leaks["target"]]))
    else:
        logger.warning("homology split: links across the split remain after %d rounds", MAX_REPAIR_ROUNDS)
    summary = component_summary(labels, fractions)
    logger.info("homology split: %d components, largest %d genes, %.1f %% of genes only fit in train",
                summary["clusters"], summary["largest"], 100 * summary["train_only_share"])
    return parts, labels


MAX_REPAIR_ROUNDS = 10


def _held_out_hits(sequences: Sequence[str], parts: np.ndarray, threads: int) -> pd.DataFrame:
    """DIAMOND hits (HIT_COLUMNS) of the valid and test proteins against the training
    proteins (every target and HSP, the split's mode and e-value); query and target are
    rows of `sequences`."""
    train = np.flatnonzero(parts == "train")
    held = np.flatnonzero(np.isin(parts, ("valid", "test")))
    hits = local_alignments([sequences[i] for i in held], [sequences[i] for i in train], threads,
                            HOMOLOGY_EVALUE, HOMOLOGY_SENSITIVITY, max_target_seqs=0, max_hsps=0, cache=True)
    return hits.assign(query=held[hits["query"].to_numpy()], target=train[hits["target"].to_numpy()])


def linked_to(query: Sequence[str], database: Sequence[str], min_identity: float = 0.3,
              min_length: int = 50, threads: int = 2) -> np.ndarray:
    """(len(database),) bool: the database proteins that share a linking alignment (the local
    homology split's rule: >= min_identity identity over >= min_length columns, the split's
    sensitivity and e-value, every target and HSP) with any `query` protein, or an identical
    sequence. E.g. the other species' proteins that would cross a homology split's boundary."""
    out = np.zeros(len(database), dtype=bool)
    if not len(query) or not len(database):
        return out
    hits = local_alignments(list(query), list(database), threads, HOMOLOGY_EVALUE, HOMOLOGY_SENSITIVITY,
                            max_target_seqs=0, max_hsps=0, cache=True)
    out[np.unique(linking_hits(hits, min_identity, min_length)["target"].to_numpy())] = True
    out |= np.isin(np.asarray(database, dtype=object), np.asarray(list(query), dtype=object))
    return out


def best_hits_to_train(
    sequences: Sequence[str],
    parts: Sequence[str] | np.ndarray,
    min_identity: float = 0.3,
    min_length: int = 50,
    threads: int = 2,
) -> pd.DataFrame:
    """Each valid/test protein's closest training protein by identity.

    A DIAMOND search of the valid and test proteins against the training proteins (every
    target and HSP, the split's sensitivity and e-value). Returns DataFrame[index (row in
    `sequences`), part, identity (best over all HSPs, 0 without a hit), length (of that
    HSP, ties to the longest; 0 without a hit), has_hit, linked (any HSP of >= min_identity
    over >= min_length)], one row per valid/test protein in row order.
    """
    parts = np.asarray(parts).astype(str)
    if len(parts) != len(sequences):
        raise GenePhenoError(f"residual similarity: {len(parts)} split labels for {len(sequences)} sequences")
    held = np.flatnonzero(np.isin(parts, ("valid", "test")))
    hits = _held_out_hits(sequences, parts, threads)
    best = hits.sort_values(["identity", "length"], ascending=False, kind="stable").drop_duplicates("query")
    out = pd.DataFrame({"index": held, "part": parts[held], "identity": 0.0, "length": 0,
                        "has_hit": False, "linked": False}, index=held)
    out.loc[best["query"].to_numpy(), ["identity", "length"]] = best[["identity", "length"]].to_numpy()
    out.loc[best["query"].to_numpy(), "has_hit"] = True
    out.loc[np.unique(linking_hits(hits, min_identity, min_length)["query"]), "linked"] = True
    return out.reset_index(drop=True)


RESIDUAL_QUANTILES = (0.5, 0.9, 0.99, 1.0)


def residual_similarity(
    ids: Sequence[str],
    sequences: Sequence[str],
    parts: Sequence[str] | np.ndarray,
    min_identity: float = 0.3,
    min_length: int = 50,
    threads: int = 2,
) -> dict:
    """How close the valid and test proteins of a split still are to training.

    Returns {"rule": {...}, "valid": summary, "test": summary}; a summary is {n, with_hit
    (share with any DIAMOND hit in training), linked (share with a hit of >= min_identity
    over >= min_length: 0 for the local homology split), best_identity {quantile: value}
    (0 for proteins without a hit), median_length_of_best (over proteins with a hit)}.
    """
    if len(ids) != len(sequences):
        raise GenePhenoError(f"residual similarity: {len(ids)} ids for {len(sequences)} sequences")
    best = best_hits_to_train(sequences, parts, min_identity, min_length, threads)
    out: dict = {"rule": {"min_identity": min_identity, "min_length": min_length, "evalue": HOMOLOGY_EVALUE,
                          "sensitivity": HOMOLOGY_SENSITIVITY}}
    for part in ("valid", "test"):
        rows = best[best["part"] == part]
        n = len(rows)
        identity = rows["identity"].to_numpy(dtype=float)
        with_hit = rows[rows["has_hit"]]
        out[part] = {
            "n": int(n),
            "with_hit": float(rows["has_hit"].mean()) if n else 0.0,
            "linked": float(rows["linked"].mean()) if n else 0.0,
            "best_identity": {f"q{round(100 * q)}": float(np.quantile(identity, q)) if n else 0.0
                              for q in RESIDUAL_QUANTILES},
            "median_length_of_best": float(with_hit["length"].median()) if len(with_hit) else 0.0,
        }
    return out
