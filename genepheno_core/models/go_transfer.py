"""GO terms predicted from sequence: transferred from DIAMOND homologs among every
GO-annotated human and mouse protein (GOA, any evidence code), for a protein that has no GO
annotation of its own (a pasted sequence), and computed the same way for dataset genes so
that training features look like a new protein's.

    reference = load_go_reference()                       # GOA GAFs + Swiss-Prot FASTAs
    result = transfer_go(sequences, reference, go_ontology, exclude_accessions=accessions)
    result.scores      # csr (n_queries, G) float32 over result.go_ids
    result.evidence    # one row per hit used: which protein, identity, weight, GO ids

    transfer = dataset_go_transfer(dataset, "homology")  # training features of a dataset
    reference, closure = cached_go_reference(go_entry)   # fast reload for predictions

Score (the Diamond-score rule of DeepGOPlus, as `models.features.diamond_score_matrix`):

    score(q, t) = sum of the bit scores of q's kept hits carrying t
                  / sum of the bit scores of all of q's kept hits

A hit carries t when one of its direct annotations (after the exclusions below) is t or a
descendant of t (over the ontology's relations; load GO with ("is_a",) for is_a ancestors).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from genepheno_core.datasets.alignment import QUERY_INDEXED_MAX, local_alignments
from genepheno_core.errors import GenePhenoError, MissingDataError
from genepheno_core.io import atomic_path, genepheno_home
from genepheno_core.sources._util import PathLike

logger = logging.getLogger(__name__)

SPECIES = ("human", "mouse")
ANNOTATION_COLUMNS = ["accession", "go_id", "evidence", "with_from"]
EVIDENCE_COLUMNS = ["query", "target", "species", "identity", "bitscore", "weight", "go_ids"]
# status of a DIAMOND hit in GoTransfer.hits, in the order the rules are applied
KEPT = "kept"
OWN_ACCESSION = "own accession"
IDENTICAL = "identical sequence"
EXCLUDED_TARGET = "excluded target"
LOW_IDENTITY = "below min identity"
NO_ANNOTATION_LEFT = "no annotation left"
BEYOND_MAX_HITS = "beyond max hits"
# DIAMOND reports this many targets beyond max_hits: the exclusions are applied after the
# search (own protein, identical copies, excluded targets), and each removes one of them
_EXTRA_TARGETS = 10
# GAF column 8 lists ids separated by | or ,; a UniProt entry ("UniProtKB:P04637",
# "UniProtKB:P04637-2" for an isoform) is indexed by its accession, any other id as written
# ("MGI:MGI:97490", "UniProtKB-KW:KW-0694"), so a query's own accession or MGI id finds the
# annotations projected from it (_with_from_key)


# ----------------------------------------------------------------------------- reference
@dataclass
class GoReference:
    """The proteins GO terms are transferred from: every protein with a sequence and at
    least one non-NOT GO annotation.

    accessions (R,) str, unique; sequences (R,) str; species (R,) str ("human", "mouse");
    annotations: DataFrame[accession, go_id, evidence, with_from], the direct annotations of
    those proteins as written in the GAF (NOT lines removed, exact duplicates removed).
    """

    accessions: np.ndarray
    sequences: list[str]
    species: np.ndarray
    annotations: pd.DataFrame

    def __post_init__(self) -> None:
        self.accessions = np.asarray(self.accessions, dtype=object)
        self.species = np.asarray(self.species, dtype=object)
        self.sequences = list(self.sequences)
        n = len(self.accessions)
        if len(self.sequences) != n or len(self.species) != n:
            raise GenePhenoError(
                f"GoReference: {n} accessions, {len(self.sequences)} sequences, {len(self.species)} species"
            )
        if len(set(self.accessions)) != n:
            raise GenePhenoError("GoReference: accessions are not unique")
        if set(self.annotations.columns) != set(ANNOTATION_COLUMNS):
            raise GenePhenoError(f"GoReference.annotations must have the columns {ANNOTATION_COLUMNS}")

    def __len__(self) -> int:
        return len(self.accessions)

    def __repr__(self) -> str:
        counts = pd.Series(self.species).value_counts().to_dict()
        return f"GoReference({len(self)} proteins {counts}, {len(self.annotations)} annotations)"

    @cached_property
    def _index(self) -> _ReferenceIndex:
        return _ReferenceIndex.build(self)


class _ReferenceIndex:
    """Lookups for transfer_go, built once per reference.

    go (A,) str: GO id of annotation a; by_row[r]: indices (into go) of row r's annotations;
    named[key]: indices of the annotations whose with_from names key (a UniProt accession,
    or another id as written in the GAF), built on first use: only queries with an own
    accession or gene id need it, so a pasted protein does not pay for it (~3 s)."""

    def __init__(self, reference: GoReference):
        table = reference.annotations
        self._with_from = table["with_from"]
        row_of = pd.Series(np.arange(len(reference)), index=pd.Index(reference.accessions))
        rows = table["accession"].map(row_of)
        if rows.isna().any():
            bad = table.loc[rows.isna(), "accession"].iloc[0]
            raise GenePhenoError(f"GoReference: annotation of {bad!r}, which has no sequence in the reference")
        rows = rows.to_numpy(dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        bounds = np.searchsorted(rows[order], np.arange(len(reference) + 1))
        self.by_row = [order[bounds[r]:bounds[r + 1]] for r in range(len(reference))]
        self.go = table["go_id"].astype(str).to_numpy(dtype=object)

    @classmethod
    def build(cls, reference: GoReference) -> _ReferenceIndex:
        return cls(reference)

    @cached_property
    def named(self) -> dict[str, np.ndarray]:
        keys, annotation = [], []  # (key, annotation index) pairs
        for a, text in enumerate(self._with_from.fillna("").astype(str)):
            if text:
                for key in {_with_from_key(token) for token in text.replace(",", "|").split("|")} - {""}:
                    keys.append(key)
                    annotation.append(a)
        codes, uniques = pd.factorize(pd.Series(keys, dtype=object))
        order = np.argsort(codes, kind="stable")  # annotation indices stay sorted within a key
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        annotation = np.asarray(annotation, dtype=np.int64)[order]
        return {k: annotation[bounds[i]:bounds[i + 1]] for i, k in enumerate(uniques)}


def _with_from_key(token: str) -> str:
    """"UniProtKB:P04637-2" -> "P04637" (isoform or chain suffix dropped); other ids as written."""
    token = token.strip()
    if token.startswith("UniProtKB:"):
        return token[len("UniProtKB:"):].split("-")[0].split(":")[0]
    return token


def read_go_reference(
    files: Mapping[str, tuple[PathLike, PathLike]],
    evidence: Sequence[str] | None = None,
) -> GoReference:
    """GoReference from {species: (GAF path, FASTA path)} (plain or .gz, official formats).

    Keeps every protein of the FASTA with >= 1 annotation line that is not NOT-qualified and,
    when `evidence` is given, has one of those evidence codes (default: any code, electronic
    IEA included). A protein listed in two species' files is kept once (the first species).
    """
    from genepheno_core.sources.fasta import fasta_frame
    from genepheno_core.sources.gaf import read_gaf

    codes = None if evidence is None else set(evidence)
    accessions, sequences, species, tables = [], [], [], []
    seen: set[str] = set()
    for name, (gaf_path, fasta_path) in files.items():
        fasta = fasta_frame(fasta_path).drop_duplicates("accession", keep="first")
        fasta = fasta[~fasta["accession"].isin(seen)]
        n_fasta = len(fasta)
        gaf = read_gaf(gaf_path)
        # NOT lines state that the protein does NOT have the function: never transfer them
        kept = ~gaf["negated"]
        if codes is not None:
            kept &= gaf["evidence"].isin(codes)
        with_sequence = gaf["accession"].isin(set(fasta["accession"]))
        table = gaf.loc[kept & with_sequence, ANNOTATION_COLUMNS].drop_duplicates()
        annotated = set(table["accession"])
        fasta = fasta[fasta["accession"].isin(annotated)]
        logger.info(
            "GO reference %s: %d of %d FASTA proteins annotated; %d of %d GAF lines kept "
            "(%d NOT, %d other evidence, %d annotated accessions without a sequence)",
            name, len(fasta), n_fasta, len(table), len(gaf), int(gaf["negated"].sum()),
            int((~gaf["negated"] & ~kept).sum()),
            gaf.loc[kept & ~with_sequence, "accession"].nunique(),
        )
        accessions += fasta["accession"].tolist()
        sequences += fasta["sequence"].tolist()
        species += [name] * len(fasta)
        tables.append(table)
        seen |= annotated
    annotations = (pd.concat(tables, ignore_index=True) if tables
                   else pd.DataFrame({c: pd.Series(dtype=object) for c in ANNOTATION_COLUMNS}))
    logger.info("GO reference: %d proteins, %d annotations, %d GO ids", len(accessions), len(annotations),
                annotations["go_id"].nunique())
    return GoReference(np.asarray(accessions, dtype=object), sequences, np.asarray(species, dtype=object),
                       annotations.reset_index(drop=True))


def load_go_reference(
    species: Sequence[str] = SPECIES,
    evidence: Sequence[str] | None = None,
    release: str | None = None,
    uniprot_release: str | None = None,
) -> GoReference:
    """GoReference from the registry's GOA GAFs (goa/goa_<species>.gaf.gz) and Swiss-Prot
    FASTAs (uniprot/swissprot_<species>.fasta.gz), default releases unless given; see
    read_go_reference."""
    from genepheno_core.sources.registry import resource_path

    unknown = set(species) - set(SPECIES)
    if unknown:
        raise GenePhenoError(f"GO reference species must be among {SPECIES}, got {sorted(unknown)}")
    files = {
        name: (resource_path("goa", f"goa_{name}.gaf.gz", release),
               resource_path("uniprot", f"swissprot_{name}.fasta.gz", uniprot_release))
        for name in species
    }
    return read_go_reference(files, evidence)


# ----------------------------------------------------------------------------- transfer
@dataclass
class GoTransfer:
    """GO terms transferred to n queries.

    scores: csr (n_queries, G) float32, the bit-score-weighted share of a query's kept hits
        carrying each term (propagated: a term scores at least as high as its descendants).
    go_ids: (G,) the columns: every term some kept hit carries, sorted.
    evidence: DataFrame[query (row), target (accession), species, identity (fraction),
        bitscore, weight (bitscore / the query's total: a query's weights sum to 1),
        go_ids (tuple of the hit's direct GO ids transferred, current ids, before
        propagation)], one row per kept hit, best first within a query.
    hits: every DIAMOND hit: DataFrame[query, target, target_row, identity, length, evalue,
        bitscore, status] with status "kept" or the rule that dropped it (module constants).
    """

    scores: sp.csr_matrix
    go_ids: list[str]
    evidence: pd.DataFrame
    hits: pd.DataFrame

    @property
    def has_hit(self) -> np.ndarray:
        """(n_queries,) bool: at least one kept hit."""
        return np.diff(self.scores.indptr) > 0

    def reindex(self, go_ids: Sequence[str]) -> sp.csr_matrix:
        """scores on another vocabulary: csr (n_queries, len(go_ids)) float32, 0 for a term
        no hit carries; terms outside `go_ids` are left out."""
        where = {g: i for i, g in enumerate(self.go_ids)}
        source = np.array([where.get(g, -1) for g in go_ids], dtype=np.int64)  # (len(go_ids),)
        present = np.flatnonzero(source >= 0)
        select = sp.csr_matrix((np.ones(present.size, dtype=np.float32), (source[present], present)),
                               shape=(len(self.go_ids), len(go_ids)))
        return sp.csr_matrix(self.scores @ select, dtype=np.float32)


def _query_accessions(exclude_accessions, n: int) -> list[str | None]:
    if exclude_accessions is None:
        return [None] * n
    if isinstance(exclude_accessions, str):
        raise GenePhenoError("exclude_accessions: give one accession per query (a list), not one string")
    out = [str(a) if a is not None and str(a) else None for a in exclude_accessions]
    if len(out) != n:
        raise GenePhenoError(f"exclude_accessions has {len(out)} entries for {n} query sequences")
    return out


def _target_rule(exclude_targets, n: int) -> Callable[[int, str], bool]:
    """exclude_targets as one callable (query row, target accession) -> excluded."""
    if exclude_targets is None:
        return lambda q, accession: False
    if callable(exclude_targets):
        return exclude_targets
    if isinstance(exclude_targets, AbstractSet):
        return lambda q, accession: accession in exclude_targets
    per_query = list(exclude_targets)
    if len(per_query) != n or any(isinstance(s, str) for s in per_query):
        raise GenePhenoError(
            f"exclude_targets: give a callable, one set of accessions for every query, or one set "
            f"(or None) per query ({n} queries; got a sequence of {len(per_query)})"
        )
    return lambda q, accession: per_query[q] is not None and accession in per_query[q]


def transfer_go(
    query_sequences: Sequence[str],
    reference: GoReference,
    go_ontology,
    *,
    exclude_accessions: Sequence[str | None] | None = None,
    exclude_targets=None,
    exclude_identical: bool = True,
    with_from_ids: Sequence[Iterable[str] | None] | None = None,
    max_hits: int = 10,
    min_identity: float = 0.0,
    evalue: float = 1e-3,
    threads: int = 2,
    cache: bool = False,
) -> GoTransfer:
    """GO terms of each query transferred from its DIAMOND hits in `reference`.

    DIAMOND blastp in its default (fast) mode, e-value <= `evalue`, best HSP per pair; a
    query keeps its `max_hits` best hits by bit score (ties: reference order) that pass the
    rules below, and gets score(q, t) = sum of the bit scores of the kept hits carrying t /
    sum of the bit scores of all its kept hits (the Diamond-score rule); `go_ontology` (an
    `ontology.Ontology`) remaps obsolete ids and gives the ancestors (its own relations).

    The rules make a dataset gene's features the ones it would get as a new protein, which
    has no GOA entry of its own:
    - exclude_accessions (n_queries,) str or None: the query's own UniProt accession. Its own
      protein is never a hit, and every annotation of another protein whose with_from names
      that accession (ISO / ISS / IBA / IEA projections of the query's own annotations onto
      its ortholog, e.g. "UniProtKB:P04637" on mouse Trp53) is ignored for this query.
    - with_from_ids (n_queries,) of id lists or None: other ids of the query's own gene as
      GAF with_from writes them, whose mention marks a projection too (e.g. "MGI:MGI:97490"
      for a mouse gene: human IBA annotations name mouse genes by MGI id, not UniProt).
    - exclude_targets: accessions that must not be used as hits, as a set (for every query),
      a sequence of one set or None per query, or a callable (query row, target accession)
      -> True to exclude (e.g. a training gene's search must not reach the valid / test
      proteins of the homology split).
    - exclude_identical: a reference protein whose sequence equals the query's is dropped
      (the same protein under a secondary accession). Keep it on for new proteins too, so
      they are scored the way the training genes were.
    - min_identity (fraction): hits below it are dropped.
    A hit left without any annotation (all of them projections of the query's own) is
    dropped rather than counted as a protein without function.
    """
    if max_hits < 1:
        raise GenePhenoError(f"max_hits must be >= 1, got {max_hits}")
    queries = [str(s) for s in query_sequences]
    n = len(queries)
    own = _query_accessions(exclude_accessions, n)
    if with_from_ids is not None and len(with_from_ids) != n:
        raise GenePhenoError(f"with_from_ids has {len(with_from_ids)} entries for {n} query sequences")
    # per query: the with_from keys that mark a projection of its own annotations
    own_keys = [{a} if a is not None else set() for a in own]
    for q, ids in enumerate(with_from_ids or ()):
        if isinstance(ids, str):
            raise GenePhenoError("with_from_ids: give a list of ids (or None) per query, not one string")
        own_keys[q] |= set(ids or ())
    excluded = _target_rule(exclude_targets, n)
    index = reference._index
    start = time.perf_counter()
    # a few pasted proteins: DIAMOND's query-indexed search is ~6x faster; its hits are
    # nearly the same (the transferred GO of 5 of 200 human proteins differed), so a
    # search's result depends on whether it has more than QUERY_INDEXED_MAX queries
    raw = local_alignments(queries, reference.sequences, threads=threads, evalue=evalue, sensitivity="",
                           max_target_seqs=max_hits + _EXTRA_TARGETS, max_hsps=1, cache=cache,
                           algo="1" if n <= QUERY_INDEXED_MAX else "")
    raw = raw.sort_values(["query", "bitscore", "target"], ascending=[True, False, True], kind="stable")
    raw = raw.reset_index(drop=True)

    status = []
    kept_rows: list[int] = []
    kept_go: list[tuple[str, ...]] = []
    n_kept = np.zeros(n, dtype=np.int64)
    remapped: dict[str, str | None] = {}
    projections: dict[int, np.ndarray] = {}  # query row -> annotations naming it in with_from
    n_projected = 0  # annotations ignored because their with_from names the query
    for i, (q, t, identity) in enumerate(zip(raw["query"].to_numpy(), raw["target"].to_numpy(),
                                             raw["identity"].to_numpy())):
        accession = reference.accessions[t]
        if own[q] is not None and accession == own[q]:
            status.append(OWN_ACCESSION)
            continue
        if exclude_identical and reference.sequences[t] == queries[q]:
            status.append(IDENTICAL)
            continue
        if excluded(int(q), accession):
            status.append(EXCLUDED_TARGET)
            continue
        if identity < min_identity:
            status.append(LOW_IDENTITY)
            continue
        annotations = index.by_row[t]
        if q not in projections:
            found = [index.named[k] for k in own_keys[q] if k in index.named] if own_keys[q] else []
            projections[q] = np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)
        projected = projections[q]
        if projected.size:
            before = annotations.size
            annotations = np.setdiff1d(annotations, projected, assume_unique=True)
            n_projected += before - annotations.size
        go = set()
        for term in index.go[annotations]:
            if term not in remapped:
                remapped[term] = go_ontology.remap(term)
            if remapped[term] is not None:
                go.add(remapped[term])
        if not go:
            status.append(NO_ANNOTATION_LEFT)
            continue
        if n_kept[q] >= max_hits:
            status.append(BEYOND_MAX_HITS)
            continue
        n_kept[q] += 1
        status.append(KEPT)
        kept_rows.append(i)
        kept_go.append(tuple(sorted(go)))
    hits = pd.DataFrame({
        "query": raw["query"].to_numpy(dtype=np.int64),
        "target": reference.accessions[raw["target"].to_numpy(dtype=np.int64)].astype(object),
        "target_row": raw["target"].to_numpy(dtype=np.int64),
        "identity": raw["identity"].to_numpy(dtype=np.float64),
        "length": raw["length"].to_numpy(dtype=np.int64),
        "evalue": raw["evalue"].to_numpy(dtype=np.float64),
        "bitscore": raw["bitscore"].to_numpy(dtype=np.float64),
        "status": pd.Series(status, dtype=object),
    })

    kept = hits.iloc[kept_rows].reset_index(drop=True)
    q_kept = kept["query"].to_numpy(dtype=np.int64)
    total = np.bincount(q_kept, weights=kept["bitscore"].to_numpy(), minlength=n)  # (n,)
    weight = kept["bitscore"].to_numpy() / np.where(total > 0, total, 1.0)[q_kept]
    evidence = pd.DataFrame({
        "query": q_kept,
        "target": kept["target"].to_numpy(dtype=object),
        "species": reference.species[kept["target_row"].to_numpy(dtype=np.int64)].astype(object),
        "identity": kept["identity"].to_numpy(),
        "bitscore": kept["bitscore"].to_numpy(),
        "weight": weight,
        "go_ids": pd.Series(kept_go, dtype=object),
    }, columns=EVIDENCE_COLUMNS)

    # propagation: each term with its ancestors, computed once per term
    closure: dict[str, frozenset[str]] = {}
    carried = []
    for terms in kept_go:
        acc: set[str] = set()
        for term in terms:
            if term not in closure:
                closure[term] = frozenset(go_ontology.ancestors(term, include_self=True))
            acc |= closure[term]
        carried.append(acc)
    go_ids = sorted(set().union(*carried)) if carried else []
    column = {g: j for j, g in enumerate(go_ids)}
    rows = np.repeat(q_kept, [len(c) for c in carried])
    cols = np.fromiter((column[g] for c in carried for g in c), dtype=np.int64, count=int(rows.size))
    vals = np.repeat(weight, [len(c) for c in carried])
    # duplicates (q, term) from several hits are summed by the csr conversion
    scores = sp.csr_matrix((vals, (rows, cols)), shape=(n, len(go_ids)), dtype=np.float64).astype(np.float32)
    scores.sum_duplicates()

    counts = hits["status"].value_counts().to_dict()
    logger.info("GO transfer: %d queries, %d with >= 1 kept hit, %d GO terms, %.1f s; hits: %s; "
                "%d annotations of hits ignored as projections of the query's own",
                n, int((n_kept > 0).sum()), len(go_ids), time.perf_counter() - start, counts, n_projected)
    return GoTransfer(scores, go_ids, evidence, hits)


# ----------------------------------------------------------------------------- GO closure
@dataclass(frozen=True)
class GoClosure:
    """The part of a GO release transfer_go reads, for a fixed set of GO ids: each id's
    current id (alt_id / replaced_by followed; None when obsolete) and each current id's
    ancestors. Stored with a cached reference so that a prediction need not parse the whole
    ontology; transfer_go accepts it in place of an `ontology.Ontology`."""

    current: dict[str, str | None]
    up: dict[str, frozenset[str]]  # current id -> proper ancestors

    @classmethod
    def from_ontology(cls, ontology, go_ids: Iterable[str]) -> GoClosure:
        current, up = {}, {}
        for term in set(go_ids):
            now = ontology.remap(term)
            current[term] = now
            if now is not None and now not in up:
                up[now] = frozenset(ontology.ancestors(now))
        return cls(current, up)

    def remap(self, term: str) -> str | None:
        return self.current.get(term)

    def ancestors(self, term: str, include_self: bool = False) -> set[str]:
        out = set(self.up.get(term, ()))
        if include_self and term in self.up:
            out.add(term)
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per (term, current, ancestor); ancestor "" for a term without one, current
        "" for an obsolete term."""
        rows = []
        for term, now in self.current.items():
            above = sorted(self.up.get(now, ())) if now is not None else []
            rows += [(term, now or "", a) for a in above] or [(term, now or "", "")]
        return pd.DataFrame(rows, columns=["go_id", "current", "ancestor"])

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> GoClosure:
        current, up = {}, {}
        for term, now, above in zip(frame["go_id"], frame["current"], frame["ancestor"]):
            current[term] = now or None
            if now:
                up.setdefault(now, set())
                if above:
                    up[now].add(above)
        return cls(current, {k: frozenset(v) for k, v in up.items()})


# ----------------------------------------------------------------------------- cache
_CACHE_VERSION = 1


def _file_key(path) -> dict:
    stat = path.stat()
    return {"path": str(path), "size": stat.st_size, "mtime": int(stat.st_mtime)}


def cached_go_reference(go_entry: Mapping | None, species: Sequence[str] = SPECIES,
                        go_ontology=None) -> tuple[GoReference, GoClosure]:
    """The GO reference of the registry's GOA / Swiss-Prot releases and the closure of its GO
    ids in the GO release `go_entry` names (a dataset manifest's "go_ontology" entry), kept
    under genepheno_home()/go_reference/ as parquet tables: the first call parses the GAFs and
    FASTAs and the ontology (~30 s), later calls reload in ~2 s. `go_ontology` (the loaded
    release of `go_entry`) saves parsing it again when the caller has it."""
    from genepheno_core.sources.registry import resource_path

    if not go_entry:
        raise MissingDataError("GO transfer needs the GO release of the training data (manifest go_ontology entry)")
    files = {name: (resource_path("goa", f"goa_{name}.gaf.gz"), resource_path("uniprot", f"swissprot_{name}.fasta.gz"))
             for name in species}
    key = {"version": _CACHE_VERSION, "go": dict(go_entry),
           "files": {n: [_file_key(g), _file_key(f)] for n, (g, f) in files.items()}}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
    root = genepheno_home() / "go_reference" / digest
    if (root / "closure.parquet").exists():
        start = time.perf_counter()
        proteins = pd.read_parquet(root / "proteins.parquet")
        annotations = pd.read_parquet(root / "annotations.parquet")
        closure = GoClosure.from_frame(pd.read_parquet(root / "closure.parquet").fillna(""))
        reference = GoReference(proteins["accession"].to_numpy(dtype=object), proteins["sequence"].tolist(),
                                proteins["species"].to_numpy(dtype=object), annotations)
        logger.info("GO reference from cache %s (%d proteins, %.1f s)", root, len(reference),
                    time.perf_counter() - start)
        return reference, closure
    reference = read_go_reference(files)
    if go_ontology is None:
        from genepheno_core.datasets import load_manifest_ontology

        go_ontology = load_manifest_ontology(dict(go_entry), "GO ontology")
    closure = GoClosure.from_ontology(go_ontology, reference.annotations["go_id"].astype(str))
    with atomic_path(root) as tmp:
        tmp.mkdir(parents=True)
        pd.DataFrame({"accession": reference.accessions, "species": reference.species,
                      "sequence": reference.sequences}).to_parquet(tmp / "proteins.parquet", index=False)
        table = reference.annotations.copy()
        table["with_from"] = table["with_from"].fillna("").astype(str)
        table.to_parquet(tmp / "annotations.parquet", index=False)
        (tmp / "key.json").write_text(json.dumps(key, indent=1, sort_keys=True))
        closure.to_frame().to_parquet(tmp / "closure.parquet", index=False)  # written last: the marker
    logger.info("GO reference cached under %s", root)
    return reference, closure


# ----------------------------------------------------------------------------- datasets
def dataset_go_transfer(dataset, split: str, reference: GoReference | None = None, go_ontology=None,
                        threads: int = 2, cache: bool = True, max_hits: int = 10) -> GoTransfer:
    """GO transferred to every gene of `dataset`, as a new protein would get it, for training
    on `split`:

    - never from the gene's own protein (its accession, or an identical sequence), nor from
      annotations projected from its own (with_from naming its accession or gene id);
    - a training gene never from a valid or test protein of `split` (features stay on the
      training side of the split's boundary; valid / test genes may use any other protein,
      as a pasted protein may).

    Returns a GoTransfer over all dataset genes (rows in dataset.genes order)."""
    if split not in dataset.splits.columns:
        raise GenePhenoError(f"dataset {dataset.name!r} has no {split!r} split")
    reference = reference if reference is not None else load_go_reference()
    go_ontology = go_ontology if go_ontology is not None else dataset.go_ontology()
    part = dataset.splits[split].to_numpy()
    accessions = dataset.genes["accession"].fillna("").astype(str).tolist()
    held_out = frozenset(a for a, p in zip(accessions, part) if p != "train" and a)
    exclude = [held_out if p == "train" else None for p in part]
    gene_ids = [[g] if g else None for g in dataset.genes["gene_id"].fillna("").astype(str)]
    return transfer_go(dataset.genes["sequence"].tolist(), reference, go_ontology,
                       exclude_accessions=accessions, exclude_targets=exclude, with_from_ids=gene_ids,
                       threads=threads, cache=cache, max_hits=max_hits)
