"""Ranked phenotype predictions for any protein (with or without GO annotations).

`predict(model, sequences_or_fasta, go_annotations=None, top=20, threshold=None)` returns
one row per (gene, phenotype): gene, term_id, term_name, score, above_threshold, rank.
Scores are the model's probabilities propagated to ancestors (a term scores at least as
high as any of its descendants), the same scores the validation threshold was chosen on.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from genepheno_core.errors import InputFormatError, ModelMismatchError
from genepheno_core.explain.default_model import model_extras, resolve_model

logger = logging.getLogger(__name__)

GO_ID = re.compile(r"^GO:\d{7}$")
PREDICTION_COLUMNS = ["gene", "term_id", "term_name", "score", "above_threshold", "rank"]


@dataclass
class Inputs:
    """Model inputs of n query proteins."""

    ids: list[str]
    sequences: list[str]
    embeddings: np.ndarray | None  # (n, D) from model.encoder; None for models without sequence input
    go_sets: list[set[str] | None]  # per gene: propagated GO ids in the model's input vocabulary


def parse_records(sequences_or_fasta) -> list[tuple[str, str]]:
    """[(id, sequence)] from FASTA text, raw sequence(s), a file path or a list of (id, seq)."""
    from genepheno_core.embeddings import parse_sequences
    from genepheno_core.embeddings.sequences import clean_protein

    if isinstance(sequences_or_fasta, (str, os.PathLike)):
        return parse_sequences(sequences_or_fasta)
    if isinstance(sequences_or_fasta, Iterable):
        records = []
        for i, item in enumerate(sequences_or_fasta, start=1):
            if isinstance(item, str):
                rid, seq = f"seq{i}", item
            else:
                try:
                    rid, seq = item
                except (TypeError, ValueError):
                    raise InputFormatError("<sequences>", "expected (id, sequence) pairs", record=str(i)) from None
            records.append((str(rid), clean_protein(str(seq), "<sequences>", str(rid))))
        if not records:
            raise InputFormatError("<sequences>", "no sequences (empty input)")
        ids = [r for r, _ in records]
        if len(set(ids)) != len(ids):
            dup = next(r for r in ids if ids.count(r) > 1)
            raise InputFormatError("<sequences>", "duplicate id", record=dup)
        return records
    raise TypeError(f"expected FASTA text, a path or (id, sequence) pairs, not {type(sequences_or_fasta).__name__}")


def read_go_annotations(go_annotations, ids: list[str]) -> dict[str, set[str]]:
    """{query id: set of GO ids} from a dict (id -> GO ids) or a GAF file (rows are matched
    to queries by accession or symbol; NOT-qualified lines are skipped)."""
    if go_annotations is None:
        return {}
    if isinstance(go_annotations, (str, os.PathLike)):
        from genepheno_core.sources.gaf import read_gaf

        path = Path(go_annotations)
        if not path.exists():
            from genepheno_core.errors import MissingDataError

            raise MissingDataError(f"{path}: no such GO annotation file")
        gaf = read_gaf(path)
        gaf = gaf[~gaf["negated"]]
        wanted = set(ids)
        out: dict[str, set[str]] = {}
        for key in ("accession", "symbol"):
            hit = gaf[gaf[key].isin(wanted)]
            for gid, go in zip(hit[key], hit["go_id"]):
                out.setdefault(gid, set()).add(go)
        if not out:
            logger.warning("%s: no annotation matches any query id (%s...)", path, ", ".join(ids[:3]))
        return out
    if isinstance(go_annotations, Mapping):
        out = {}
        for gid, terms in go_annotations.items():
            if isinstance(terms, str):
                terms = re.split(r"[\s,;|]+", terms.strip())
            terms = [t.strip().upper() for t in (terms or ()) if t and t.strip()]
            bad = [t for t in terms if not GO_ID.match(t)]
            if bad:
                raise InputFormatError("GO annotations", f"not a GO id: {', '.join(bad[:3])}", record=str(gid))
            out[str(gid)] = set(terms)
        unknown = set(out) - set(ids)
        if unknown:
            logger.warning("GO annotations given for ids not among the queries: %s", ", ".join(sorted(unknown)[:5]))
        return out
    raise TypeError("go_annotations must be a dict gene -> GO ids or a GAF path")


def propagate_go(model, terms: Iterable[str] | None) -> set[str] | None:
    """GO ids -> the model's GO input terms they imply (themselves and their ancestors)."""
    if not terms:
        return None
    terms = set(terms)
    extras = model_extras(model)
    inputs = model.go_inputs
    out = terms & set(inputs)
    if extras.go_closure is not None:
        index = extras.go_index()
        unknown = []
        for t in terms:
            row = index.get(t)
            if row is None:
                unknown.append(t)
                continue
            out.update(inputs[j] for j in extras.go_closure[row].indices)
        if unknown:
            logger.info("%d GO ids outside the model's GO vocabulary ignored (%s...)", len(unknown), ", ".join(sorted(unknown)[:3]))
    return out or None


def embed_for_model(model, sequences: list[str], cache: bool = True) -> np.ndarray | None:
    """(n, D) embeddings of `sequences` with the model's encoder (None: no sequence input)."""
    if not model.uses_sequence:
        return None
    from genepheno_core.embeddings import embed_sequences

    emb = np.asarray(embed_sequences(list(sequences), model.encoder, cache=cache), dtype=np.float32)
    expected = model.module.config.seq_dim
    if emb.ndim != 2 or emb.shape[1] != expected:
        raise ModelMismatchError(
            f"encoder {model.encoder} gives {emb.shape[-1]}-dimensional embeddings; the model expects {expected}")
    return emb


def prepare_inputs(model, records: list[tuple[str, str]], go_annotations=None, embeddings=None,
                   cache: bool = True) -> Inputs:
    ids = [r for r, _ in records]
    seqs = [s for _, s in records]
    go = read_go_annotations(go_annotations, ids)
    if go and not model.uses_go:
        logger.warning("model %s takes no GO input: GO annotations ignored", model.path)
    go_sets = [propagate_go(model, go.get(i)) if model.uses_go else None for i in ids]
    if embeddings is not None:
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.shape[0] != len(records):
            raise ModelMismatchError(f"{embeddings.shape[0]} embeddings for {len(records)} sequences")
    else:
        embeddings = embed_for_model(model, seqs, cache=cache)
    return Inputs(ids, seqs, embeddings, go_sets)


def propagation_plan(model) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Levels of (child columns, segment starts, parent columns) for max-propagation over the
    direct parent edges, deepest children first (evaluation.metrics.propagate_scores'
    algorithm, with the sparse products done once per model instead of once per call)."""
    cached = getattr(model, "_propagation_plan", None)
    if cached is not None:
        return cached
    import scipy.sparse as sp

    anc = sp.csr_matrix(model_extras(model).term_ancestors, dtype=np.int32)
    anc.data[:] = 1
    anc.eliminate_zeros()
    plan = []
    if anc.nnz:
        indirect = (anc @ anc).astype(bool).astype(np.int32)  # j is an ancestor of an ancestor of i
        direct = (anc - anc.multiply(indirect)).tocoo()
        keep = direct.data > 0
        child, parent = direct.row[keep], direct.col[keep]
        level = np.asarray(anc.sum(axis=1)).ravel()[child]  # number of ancestors of the child
        for value in np.unique(level)[::-1]:
            sel = level == value
            order = np.argsort(parent[sel], kind="stable")
            c, p = child[sel][order], parent[sel][order]
            uniq, starts = np.unique(p, return_index=True)
            plan.append((c, starts, uniq))
    model._propagation_plan = plan
    return plan


def propagate(model, scores: np.ndarray) -> np.ndarray:
    """Max-propagate (n, K) scores to ancestors in place (a term >= all its descendants)."""
    plan = propagation_plan(model)
    if not plan:
        return scores
    # term-major copy: gathering whole rows of (K, n) is contiguous, columns of (n, K) are not
    st = np.ascontiguousarray(scores.T)
    for c, starts, uniq in plan:
        reduced = np.maximum.reduceat(st[c], starts, axis=0)  # (parents of the level, n)
        st[uniq] = np.maximum(st[uniq], reduced)
    scores[:] = st.T
    return scores


def score_matrix(model, inputs: Inputs, propagate_to_ancestors: bool = True, chunk: int = 2048) -> np.ndarray:
    """(n, K) probabilities (propagated to ancestors when the model has its term ancestors).
    Rows are scored in chunks so that the working set stays small."""
    n = len(inputs.ids)
    out = np.empty((n, len(model.terms)), dtype=np.float32)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        part = model.predict_scores(
            None if inputs.embeddings is None else inputs.embeddings[start:stop],
            go_sets=inputs.go_sets[start:stop] if model.uses_go else None,
            sequences=inputs.sequences[start:stop] if model.needs_sequences else None)
        part = np.asarray(part, dtype=np.float32)
        if propagate_to_ancestors:
            propagate(model, part)
        out[start:stop] = part
    return out


def predict(model, sequences_or_fasta, go_annotations=None, top: int | None = 20, threshold: float | None = None,
            embeddings: np.ndarray | None = None, cache: bool = True) -> pd.DataFrame:
    """Ranked phenotype predictions.

    model: a TrainedModel, a checkpoint directory, or None for the default model (assets/).
    sequences_or_fasta: FASTA text, raw sequence(s) one per line, a FASTA path (.gz ok) or a
        list of (id, sequence) pairs.
    go_annotations: dict id -> GO ids, or a GAF path (matched by accession or symbol); GO
        ids are propagated to their ancestors. Genes without GO get sequence-only scores.
    top: keep the `top` best terms per gene (None: all terms).
    threshold: score cut-off for `above_threshold` (default: the model's validation-optimal
        threshold).
    embeddings: precomputed (n, D) embeddings with the model's encoder (skips encoding).

    Returns DataFrame[gene, term_id, term_name, score, above_threshold, rank] sorted by gene
    (input order) then rank (1 = best); df.attrs["threshold"] holds the threshold used.
    """
    model = resolve_model(model)
    if top is not None and int(top) < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    if threshold is not None and not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must be within [0, 1], got {threshold}")
    records = parse_records(sequences_or_fasta)
    inputs = prepare_inputs(model, records, go_annotations, embeddings, cache=cache)
    scores = score_matrix(model, inputs)
    return ranked_frame(model, inputs.ids, scores, top, threshold)


def ranked_frame(model, ids: list[str], scores: np.ndarray, top: int | None, threshold: float | None) -> pd.DataFrame:
    """Long table of the `top` terms per gene from an (n, K) score matrix."""
    cut = float(model.threshold if threshold is None else threshold)
    n, k = scores.shape
    keep = k if top is None else min(int(top), k)
    if keep < k:
        # top-k by partition, then a stable sort of those k (ties: vocabulary order)
        part = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]  # (n, keep), unordered
        part.sort(axis=1)
        sub = np.take_along_axis(scores, part, axis=1)
        order = np.take_along_axis(part, np.argsort(-sub, axis=1, kind="stable"), axis=1)
    else:
        # stable sort on -score: ties keep vocabulary order, so ranks are deterministic
        order = np.argsort(-scores, axis=1, kind="stable")  # (n, K)
    rows = np.repeat(np.arange(n), keep)
    cols = order.ravel()
    values = scores[rows, cols]
    term_ids = model.terms["term_id"].to_numpy()
    names = model.terms["name"].to_numpy() if "name" in model.terms else term_ids
    frame = pd.DataFrame({
        "gene": np.asarray(ids, dtype=object)[rows],
        "term_id": term_ids[cols],
        "term_name": names[cols],
        "score": values.astype(np.float64),
        "above_threshold": values >= cut,
        "rank": np.tile(np.arange(1, keep + 1), n),
    }, columns=PREDICTION_COLUMNS)
    frame.attrs["threshold"] = cut
    return frame


def term_index(model, terms) -> list[int]:
    """Column indices of term ids (or exact term names); unknown ones raise GenePhenoError."""
    from genepheno_core.errors import GenePhenoError

    if isinstance(terms, str):
        terms = [terms]
    ids = {t: i for i, t in enumerate(model.terms["term_id"].astype(str))}
    names = {}
    if "name" in model.terms:
        names = {n.lower(): i for i, n in enumerate(model.terms["name"].astype(str))}
    out, unknown = [], []
    for t in terms:
        t = str(t).strip()
        if t in ids:
            out.append(ids[t])
        elif t.lower() in names:
            out.append(names[t.lower()])
        else:
            unknown.append(t)
    if unknown:
        raise GenePhenoError(
            f"unknown phenotype term(s) {', '.join(unknown[:5])}: not in the model's vocabulary of "
            f"{len(ids)} terms (e.g. {next(iter(ids), '')})")
    return out
