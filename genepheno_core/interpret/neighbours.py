"""Nearest training proteins (DIAMOND blastp) with their known phenotypes: the evidence a
biologist checks first."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from genepheno_core.datasets.alignment import QUERY_INDEXED_MAX
from genepheno_core.errors import MissingDataError
from genepheno_core.interpret.inference import parse_records
from genepheno_core.interpret.model_store import model_extras, resolve_model

logger = logging.getLogger(__name__)

NEAREST_COLUMNS = ["query", "accession", "symbol", "identity", "bitscore", "evalue", "phenotypes"]


def _blastp(records: list[tuple[str, str]], database: list[str], k: int, evalue: float, threads: int,
            sensitivity: str = "--more-sensitive") -> pd.DataFrame:
    """DIAMOND blastp (default --more-sensitive) of `records` against `database` sequences:
    DataFrame[q (query row), t (database row), identity, bitscore, evalue, coverage (% of the
    query the HSP covers)], the best HSP per pair. The database is built once per content
    (models.features.diamond_database). Up to QUERY_INDEXED_MAX queries use DIAMOND's
    query-indexed search (--algo 1): the same hits for a handful of queries, 7x faster
    (one protein against the 3,982 hpo training proteins, --more-sensitive: 0.45 s instead
    of 3.4 s), which is what a dashboard page or an API request waits for."""
    from genepheno_core.models.features import diamond_database, run_diamond

    db = diamond_database(database, threads)
    with tempfile.TemporaryDirectory(prefix="genepheno-nearest-") as tmp:
        query = Path(tmp) / "q.fa"
        query.write_text("".join(f">q{i}\n{s}\n" for i, (_, s) in enumerate(records)))
        out = Path(tmp) / "hits.tsv"
        cmd = ["blastp", "-d", str(db), "-q", str(query), "-o", str(out),
               "-e", str(evalue), "--max-target-seqs", str(k), "--threads", str(threads), "--quiet",
               "--outfmt", "6", "qseqid", "sseqid", "pident", "bitscore", "evalue", "qcovhsp"]
        if sensitivity:
            cmd.insert(1, sensitivity)
        if len(records) <= QUERY_INDEXED_MAX:
            cmd += ["--algo", "1"]  # two arguments: DIAMOND rejects "--algo=1"
        run_diamond(cmd)
        raw = pd.read_csv(out, sep="\t", header=None, names=["q", "t", "identity", "bitscore", "evalue", "coverage"])
    # several HSPs per pair: keep the best-scoring one
    raw = raw.sort_values("bitscore", ascending=False, kind="stable").drop_duplicates(["q", "t"])
    raw["q"] = raw["q"].str[1:].astype(int)
    raw["t"] = raw["t"].str[1:].astype(int)
    return raw


def nearest_proteins(model, sequences, k: int = 5, evalue: float = 1e-3, threads: int = 1,
                     max_phenotypes: int | None = None) -> pd.DataFrame:
    """The `k` best DIAMOND hits of each query among the model's training proteins.

    sequences: one sequence, FASTA text/path, or (id, sequence) pairs.
    Returns DataFrame[query, accession, symbol, identity (%), bitscore, evalue, phenotypes]
    where phenotypes is the hit's list of known (propagated) term ids, most specific first
    (deepest); queries without a hit have no row. `max_phenotypes` truncates the lists.
    """
    model = resolve_model(model)
    extras = model_extras(model)
    if extras.train_genes is None or not extras.train_sequences:
        raise MissingDataError(f"{model.path} stores no training proteins (no explain/ data): no nearest proteins")
    records = parse_records(sequences)
    genes = extras.train_genes
    raw = _blastp(records, extras.train_sequences, k, evalue, threads)
    if raw.empty:
        return pd.DataFrame(columns=NEAREST_COLUMNS)
    qrow = raw["q"].to_numpy()
    trow = raw["t"].to_numpy()
    def phenotypes(row: int) -> list[str]:
        out = _known_phenotypes(extras, row)
        return out[:max_phenotypes] if max_phenotypes else out

    frame = pd.DataFrame({
        "query": [records[i][0] for i in qrow],
        "accession": genes["accession"].to_numpy()[trow],
        "symbol": genes["symbol"].to_numpy()[trow],
        "identity": raw["identity"].to_numpy(dtype=float),
        "bitscore": raw["bitscore"].to_numpy(dtype=float),
        "evalue": raw["evalue"].to_numpy(dtype=float),
        "phenotypes": [phenotypes(t) for t in trow],
        "_q": qrow,
    })
    frame = frame.sort_values(["_q", "bitscore"], ascending=[True, False], kind="stable")
    frame = frame.groupby("_q", sort=False).head(k).drop(columns="_q").reset_index(drop=True)
    return frame[NEAREST_COLUMNS]


def _known_phenotypes(extras, row: int) -> list[str]:
    """Term ids of training protein `row`'s labels, most specific (deepest) first."""
    cols = extras.train_labels[row].indices
    cols = cols[np.argsort(-extras.terms["depth"].to_numpy()[cols], kind="stable")]
    return extras.terms["term_id"].to_numpy()[cols].tolist()


ORTHOLOG_COLUMNS = ["query", "gene_id", "symbol", "accession", "identity", "bitscore", "weight", "phenotypes"]


def ortholog_evidence(model, sequences, max_phenotypes: int | None = None, threads: int = 1) -> pd.DataFrame:
    """The other species' proteins behind a model's ortholog input: for each query, its
    DIAMOND hits among the other species' labelled genes (the same search as the input:
    DIAMOND's default mode, e-value 1e-3, the model's max_hits), best first.

    Returns DataFrame[query, gene_id, symbol, accession, identity (%), bitscore, weight
    (the hit's share of the query's summed bit scores: the ortholog input is sum over hits
    of weight x the hit's phenotypes), phenotypes (term ids in the other ontology, most
    specific first)]. Queries without a hit have no row. Models without the ortholog input
    raise ModelMismatchError.
    """
    from genepheno_core.errors import ModelMismatchError

    model = resolve_model(model)
    if not model.uses_ortholog:
        raise ModelMismatchError(f"{model.path} has no cross-species (ortholog) input")
    cs = model.cross_species
    records = parse_records(sequences)
    from genepheno_core.models.features import CROSS_SPECIES_SENSITIVITY

    raw = _blastp(records, cs.sequences, cs.max_hits, 1e-3, threads, sensitivity=CROSS_SPECIES_SENSITIVITY)
    if raw.empty:
        return pd.DataFrame(columns=ORTHOLOG_COLUMNS)
    raw = raw.sort_values(["q", "bitscore"], ascending=[True, False], kind="stable")
    total = raw.groupby("q")["bitscore"].transform("sum").to_numpy()
    term_ids = cs.terms["term_id"].astype(str).to_numpy()
    depth = pd.to_numeric(cs.terms.get("depth", pd.Series(0, index=cs.terms.index)), errors="coerce").fillna(0).to_numpy()
    trow = raw["t"].to_numpy()

    def phenotypes(row: int) -> list[str]:
        cols = cs.labels[row].indices
        cols = cols[np.argsort(-depth[cols], kind="stable")]
        out = term_ids[cols].tolist()
        return out[:max_phenotypes] if max_phenotypes else out

    frame = pd.DataFrame({
        "query": [records[i][0] for i in raw["q"].to_numpy()],
        "gene_id": cs.genes["gene_id"].to_numpy()[trow],
        "symbol": cs.genes["symbol"].to_numpy()[trow],
        "accession": cs.genes["accession"].to_numpy()[trow],
        "identity": raw["identity"].to_numpy(dtype=float),
        "bitscore": raw["bitscore"].to_numpy(dtype=float),
        "weight": raw["bitscore"].to_numpy(dtype=float) / total,
        "phenotypes": [phenotypes(t) for t in trow],
    })
    return frame.reset_index(drop=True)[ORTHOLOG_COLUMNS]


KNOWLEDGE_COLUMNS = ["query", "regime", "training_accession", "training_symbol", "training_identity",
                     "training_coverage", "training_phenotypes", "n_training_hits", "n_other_species_hits"]
# a query this close to a training protein is (a variant of) a gene the model was trained on
TRAINED_IDENTITY = 95.0  # %
TRAINED_COVERAGE = 80.0  # % of the query


def model_knowledge(model, sequences, threads: int = 1, identity: float = TRAINED_IDENTITY,
                    coverage: float = TRAINED_COVERAGE) -> pd.DataFrame:
    """What the model already knows about each query (one row per query, input order):

    regime: "training protein" (>= `identity` % identical over >= `coverage` % of the query
    to one of the model's training proteins: its known phenotypes were in the training
    labels), "homologs known" (DIAMOND hits among the training proteins or, for models
    with a cross-species input, the other species' labelled proteins) or "no homolog"
    (neither: the regime where predictions are closest to the term-frequency prior).
    training_*: the closest training protein (accession, symbol, identity %, query
    coverage %, its known phenotypes, most specific first) when the regime is "training
    protein", else empty; n_training_hits / n_other_species_hits: hits at e <= 1e-3."""
    model = resolve_model(model)
    records = parse_records(sequences)
    extras = model_extras(model)
    if extras.train_genes is None or not extras.train_sequences:
        raise MissingDataError(f"{model.path} stores no training proteins (no explain/ data): "
                               "what the model knows cannot be checked")
    train = _blastp(records, extras.train_sequences, 25, 1e-3, threads)
    from genepheno_core.models.features import CROSS_SPECIES_SENSITIVITY

    # the other species' search as the model's cross-species input runs it
    other = (_blastp(records, model.cross_species.sequences, model.cross_species.max_hits, 1e-3, threads,
                     sensitivity=CROSS_SPECIES_SENSITIVITY) if model.uses_ortholog else pd.DataFrame(columns=["q"]))
    # the best training hit of each query (one search serves the counts and the flag)
    best = train.sort_values("bitscore", ascending=False, kind="stable").drop_duplicates("q").set_index("q")
    genes = extras.train_genes
    rows = []
    for i, (qid, _) in enumerate(records):
        n_train = int((train["q"] == i).sum())
        n_other = int((other["q"] == i).sum()) if len(other) else 0
        hit = best.loc[i] if i in best.index else None
        trained = hit is not None and hit["identity"] >= identity and hit["coverage"] >= coverage
        t = int(hit["t"]) if trained else -1
        regime = "training protein" if trained else ("homologs known" if n_train or n_other else "no homolog")
        rows.append({
            "query": qid, "regime": regime,
            "training_accession": genes["accession"].iloc[t] if trained else "",
            "training_symbol": genes["symbol"].iloc[t] if trained else "",
            "training_identity": float(hit["identity"]) if trained else np.nan,
            "training_coverage": float(hit["coverage"]) if trained else np.nan,
            "training_phenotypes": _known_phenotypes(extras, t) if trained else [],
            "n_training_hits": n_train, "n_other_species_hits": n_other,
        })
    return pd.DataFrame(rows, columns=KNOWLEDGE_COLUMNS)

