"""Nearest training proteins (DIAMOND blastp) with their known phenotypes: the evidence a
biologist checks first."""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from genepheno_core.errors import GenePhenoError, MissingDataError
from genepheno_core.explain.default_model import model_extras, resolve_model
from genepheno_core.explain.predict import parse_records
from genepheno_core.io import atomic_path, genepheno_home

logger = logging.getLogger(__name__)

NEAREST_COLUMNS = ["query", "accession", "symbol", "identity", "bitscore", "evalue", "phenotypes"]


def _diamond() -> str:
    exe = shutil.which("diamond")
    if exe is None:
        raise MissingDataError("the `diamond` executable is not installed (Debian package diamond-aligner)")
    return exe


def _database(sequences: list[str], ids: list[str], threads: int) -> Path:
    """A DIAMOND database of the training proteins, built once per content (cached)."""
    digest = hashlib.sha256()
    for i, s in zip(ids, sequences):
        digest.update(f">{i}\n{s}\n".encode())
    db = genepheno_home() / "diamond" / f"train-{digest.hexdigest()[:24]}.dmnd"
    if db.exists():
        return db
    with tempfile.TemporaryDirectory(prefix="genepheno-nearest-") as tmp:
        fasta = Path(tmp) / "db.fa"
        fasta.write_text("".join(f">{i}\n{s}\n" for i, s in zip(ids, sequences)))
        with atomic_path(db) as out:
            # diamond appends .dmnd unless the name already ends with it
            _run([_diamond(), "makedb", "--in", str(fasta), "-d", str(out), "--threads", str(threads), "--quiet"])
    return db


def _run(cmd: list[str]) -> None:
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        raise GenePhenoError(f"diamond failed: {exc.stderr.strip()[-500:]}") from exc


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
    ids = [f"t{i}" for i in range(len(genes))]  # DIAMOND-safe ids; map back by row
    db = _database(extras.train_sequences, ids, threads)
    with tempfile.TemporaryDirectory(prefix="genepheno-nearest-") as tmp:
        query = Path(tmp) / "q.fa"
        query.write_text("".join(f">q{i}\n{s}\n" for i, (_, s) in enumerate(records)))
        out = Path(tmp) / "hits.tsv"
        _run([_diamond(), "blastp", "--more-sensitive", "-d", str(db), "-q", str(query), "-o", str(out),
              "-e", str(evalue), "--max-target-seqs", str(k), "--threads", str(threads), "--quiet",
              "--outfmt", "6", "qseqid", "sseqid", "pident", "bitscore", "evalue"])
        raw = pd.read_csv(out, sep="\t", header=None, names=["q", "t", "identity", "bitscore", "evalue"])
    if raw.empty:
        return pd.DataFrame(columns=NEAREST_COLUMNS)
    # several HSPs per pair: keep the best-scoring one
    raw = raw.sort_values("bitscore", ascending=False).drop_duplicates(["q", "t"])
    qrow = raw["q"].str[1:].astype(int).to_numpy()
    trow = raw["t"].str[1:].astype(int).to_numpy()
    term_ids = extras.terms["term_id"].to_numpy()
    depth = extras.terms["depth"].to_numpy()
    labels = extras.train_labels

    def phenotypes(row: int) -> list[str]:
        cols = labels[row].indices
        cols = cols[np.argsort(-depth[cols], kind="stable")]
        out = term_ids[cols].tolist()
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
