"""Inputs derived from a Dataset: GO input vocabulary, GO concepts, homology vectors.

Everything here is chosen on training genes only, and saved with the model.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from genepheno_core.datasets.alignment import diamond_database, local_alignments, run_diamond  # noqa: F401 (re-exported)
from genepheno_core.errors import GenePhenoError

logger = logging.getLogger(__name__)


def select_concepts(
    go_terms: pd.DataFrame,
    go_train: sp.spmatrix,
    depth: int = 2,
    min_genes: int = 20,
    explicit: Sequence[str] | None = None,
    max_depth: int | None = None,
) -> np.ndarray:
    """Column indices (into `go_terms`) of the GO concepts of the bottleneck.

    Default: GO terms at `depth` (root = 0; up to `max_depth` when given) of each
    sub-ontology annotated to >= `min_genes` training genes. `explicit` GO ids override the
    rule (ids missing from `go_terms` raise).
    """
    ids = go_terms["go_id"].astype(str).tolist()
    if explicit:
        where = {g: i for i, g in enumerate(ids)}
        missing = [g for g in explicit if g not in where]
        if missing:
            raise GenePhenoError(f"concept GO terms not in the dataset's GO vocabulary: {missing[:5]}")
        return np.array([where[g] for g in explicit], dtype=np.int64)
    counts = np.asarray(sp.csr_matrix(go_train).sum(axis=0)).ravel()
    depths = go_terms["depth"].to_numpy()
    top = depth if max_depth is None else max_depth
    chosen = np.flatnonzero((depths >= depth) & (depths <= top) & (counts >= min_genes))
    if chosen.size == 0:
        raise GenePhenoError(
            f"no GO concept at depth {depth}..{top} with >= {min_genes} training genes; lower concept_min_genes"
        )
    return chosen.astype(np.int64)


def select_go_inputs(
    go_terms: pd.DataFrame,
    go_train: sp.spmatrix,
    concepts: np.ndarray,
    min_genes: int = 5,
    max_depth_excluded: int | None = 1,
    exclude_concepts: bool = False,
) -> np.ndarray:
    """Column indices of the GO input bag: terms with >= min_genes training genes, minus the
    coarse terms at depth <= max_depth_excluded (the roots and every ancestor of depth-2
    concepts carry almost no information). With `exclude_concepts`, the concept terms are
    left out too (then the concept layer must infer them from finer terms: measured worse
    on hpo validation, because the most frequent informative GO terms are concepts)."""
    counts = np.asarray(sp.csr_matrix(go_train).sum(axis=0)).ravel()
    keep = counts >= min_genes
    if exclude_concepts:
        keep[concepts] = False
    if max_depth_excluded is not None:
        keep &= go_terms["depth"].to_numpy() > max_depth_excluded
    return np.flatnonzero(keep).astype(np.int64)


# ----------------------------------------------------------------------------- DIAMOND
# the generic DIAMOND runner lives in datasets.alignment (the homology split needs it too);
# diamond_database and run_diamond stay importable from here


def diamond_hits(
    query: Sequence[str],
    database: Sequence[str],
    threads: int = 2,
    evalue: float = 1e-3,
    sensitivity: str = "--more-sensitive",
    max_target_seqs: int = 25,
    cache: bool = True,
) -> pd.DataFrame:
    """DIAMOND blastp of `query` against `database` sequences.

    Returns DataFrame[query (int row), target (int row), bitscore], one row per pair (its
    best HSP). The search is `datasets.alignment.local_alignments` (with `cache`, its table
    is kept under genepheno_home()/diamond/, keyed by the sequences and every parameter).
    """
    raw = local_alignments(query, database, threads, evalue, sensitivity, max_target_seqs, cache=cache)
    hits = raw[["query", "target", "bitscore"]]
    # several HSPs of one pair: keep the best, as DeepGOPlus' Diamond-score does
    return hits.groupby(["query", "target"], as_index=False)["bitscore"].max()


def diamond_score_matrix(
    hits: pd.DataFrame,
    database_labels: sp.spmatrix,
    n_query: int,
    exclude: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Diamond-score: score(q, k) = sum of bit scores of hits annotated with k / sum of all
    hit bit scores. `exclude` (n_query,) gives for each query the database row to ignore
    (its own entry when scoring training genes; -1 for none).

    Returns (scores (n_query, K) float32, has_hit (n_query,) bool); rows without a hit are 0.
    """
    # explicit dtypes: a search without any hit reads back as empty object columns
    q = hits["query"].to_numpy(dtype=np.int64)
    t = hits["target"].to_numpy(dtype=np.int64)
    b = hits["bitscore"].to_numpy(dtype=np.float64)
    if exclude is not None:
        keep = t != np.asarray(exclude)[q]
        q, t, b = q[keep], t[keep], b[keep]
    Y = sp.csr_matrix(database_labels, dtype=np.float64)
    W = sp.csr_matrix((b, (q, t)), shape=(n_query, Y.shape[0]))  # (n_query, n_db) bit scores
    total = np.asarray(W.sum(axis=1)).ravel()
    scores = np.asarray((W @ Y).todense())
    has_hit = total > 0
    scores[has_hit] /= total[has_hit, None]
    return scores.astype(np.float32), has_hit


def homology_vectors(
    sequences: Sequence[str],
    train_index: np.ndarray,
    labels: sp.spmatrix,
    threads: int = 2,
    cache: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Diamond-score vectors (n, K) of every gene against the training genes; a training
    gene's own entry is excluded so its vector looks like a held-out gene's."""
    train_index = np.asarray(train_index)
    db = [sequences[i] for i in train_index]
    hits = diamond_hits(list(sequences), db, threads=threads, cache=cache)
    exclude = np.full(len(sequences), -1, dtype=np.int64)
    exclude[train_index] = np.arange(train_index.size)
    return diamond_score_matrix(hits, sp.csr_matrix(labels)[train_index], len(sequences), exclude)


def default_threads() -> int:
    """DIAMOND threads: the machine's CPUs (at most 2), or fewer when OMP_NUM_THREADS says
    this process may use fewer (a Ray worker given one CPU: Ray sets it to its num_cpus)."""
    cpus = os.cpu_count() or 1
    try:
        cpus = min(cpus, int(os.environ.get("OMP_NUM_THREADS") or cpus))
    except ValueError:
        pass
    return max(1, min(2, cpus))


CROSS_SPECIES_SENSITIVITY = ""  # DIAMOND's default mode


def cross_species_vectors(
    sequences: Sequence[str],
    other_sequences: Sequence[str],
    other_labels: sp.spmatrix,
    threads: int = 2,
    max_hits: int = 5,
    cache: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Diamond-score vectors (n, K') of `sequences` over the other species' labelled genes:
    the bit-score-weighted phenotypes (in the other ontology) of each protein's best
    `max_hits` DIAMOND hits, mostly its ortholog. Returns (vectors, has_hit (n,))."""
    # DIAMOND's default mode (hits above ~40 % identity): mouse-human orthologs are mostly far
    # above that, and a query then takes ~0.5 s against 8,000 proteins instead of ~4.5 s with
    # --more-sensitive, which matters for one pasted sequence in the dashboard
    hits = diamond_hits(list(sequences), list(other_sequences), threads=threads, cache=cache,
                        max_target_seqs=max_hits, sensitivity=CROSS_SPECIES_SENSITIVITY)
    return diamond_score_matrix(hits, sp.csr_matrix(other_labels), len(sequences))


def hit_shares(hits: pd.DataFrame, n_query: int, n_db: int) -> sp.csr_matrix:
    """(n_query, n_db) float64: each query's hit bit scores divided by their sum (a row
    without a hit is empty), so that diamond_score_matrix's scores are hit_shares @ labels."""
    q = hits["query"].to_numpy(dtype=np.int64)
    t = hits["target"].to_numpy(dtype=np.int64)
    W = sp.csr_matrix((hits["bitscore"].to_numpy(dtype=np.float64), (q, t)), shape=(n_query, n_db))
    total = np.asarray(W.sum(axis=1)).ravel()
    total[total == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / total) @ W)


def cross_species_hit_shares(sequences: Sequence[str], other_sequences: Sequence[str], threads: int = 2,
                             max_hits: int = 5, cache: bool = True) -> sp.csr_matrix:
    """(n, N') the bit-score shares of the DIAMOND hits `cross_species_vectors` reads (the
    same search: cached, so asking for both costs one search): its vectors are these @ the
    other species' labels."""
    hits = diamond_hits(list(sequences), list(other_sequences), threads=threads, cache=cache,
                        max_target_seqs=max_hits, sensitivity=CROSS_SPECIES_SENSITIVITY)
    return hit_shares(hits, len(sequences), len(other_sequences))


# mapping predicates that say the two terms mean the same phenotype (either orientation):
# the only ones a gene's annotation is carried across by (mapped_labels)
EQUIVALENT_PREDICATES = ("skos:exactMatch", "skos:closeMatch", "owl:equivalentClass")


def label_carry(source_terms: Sequence[str], target_terms: Sequence[str], mappings: pd.DataFrame,
                target_ontology, predicates: Sequence[str] = EQUIVALENT_PREDICATES) -> sp.csr_matrix:
    """(K', K) float32 0/1: source term s carries target term t when s is mapped to some h (by
    one of `predicates`: the same phenotype, so an annotation can cross) with t = h or t an
    ancestor of h in `target_ontology` (the true-path rule), restricted to `target_terms`.
    A target column without any entry is a phenotype no source annotation can reach."""
    source_terms = [str(t) for t in source_terms]
    target_terms = [str(t) for t in target_terms]
    s_index = {t: i for i, t in enumerate(source_terms)}
    t_index = {t: i for i, t in enumerate(target_terms)}
    source_is_mp = bool(source_terms) and source_terms[0].startswith("MP:")
    keep = mappings[mappings["predicate_id"].isin(list(predicates))]
    src, dst = ("mp_id", "hp_id") if source_is_mp else ("hp_id", "mp_id")
    rows, cols = [], []
    for s, h in zip(keep[src].astype(str), keep[dst].astype(str)):
        if s not in s_index:
            continue
        targets = {h} | (target_ontology.ancestors(h) if h in target_ontology else set())
        for t in targets:
            if t in t_index:
                rows.append(s_index[s])
                cols.append(t_index[t])
    carry = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                          shape=(len(source_terms), len(target_terms)))  # (K', K), duplicates summed
    carry.data[:] = 1.0
    return carry


def mapped_labels(labels: sp.spmatrix, source_terms: Sequence[str], target_terms: Sequence[str],
                  mappings: pd.DataFrame, target_ontology,
                  predicates: Sequence[str] = EQUIVALENT_PREDICATES) -> sp.csr_matrix:
    """(n, K) uint8: one species' gene annotations carried into the other species' phenotype
    vocabulary through the MP <-> HP mappings (sources.sssom.mp_hp_mappings).

    labels (n, K') are propagated annotations in `source_terms` (MP or HP ids); a gene gets
    target term t when one of its source terms carries t (`label_carry`: mapped by one of
    `predicates` to t or to a descendant of t). Broad / narrow / related matches are not
    followed: they do not say the gene has the other phenotype."""
    carry = label_carry(source_terms, target_terms, mappings, target_ontology, predicates)
    out = (sp.csr_matrix(labels, dtype=np.float32) @ carry).tocsr()  # (n, K) counts
    out.data = (out.data > 0).astype(np.uint8)
    out.eliminate_zeros()
    return out.astype(np.uint8)
