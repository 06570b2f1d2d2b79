"""Ranked phenotype predictions for any protein (with or without GO annotations).

`predict(model, sequences_or_fasta, go_annotations=None, top=20, threshold=None,
view="all")` returns one row per (gene, phenotype): gene, term_id, term_name, score,
above_threshold, rank, prior, gain, ic, folded_under (PREDICTION_COLUMNS; view "specific"
folds the terms implied by a shown descendant under it).
Scores are the model's probabilities propagated to ancestors (a term scores at least as
high as any of its descendants), the same scores the validation threshold was chosen on.
"""

from __future__ import annotations

import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from genepheno_core.errors import InputFormatError, MissingDataError, ModelMismatchError
from genepheno_core.interpret.model_store import choose_model, model_extras, model_label, resolve_model
from genepheno_core.ontology.propagation import propagate_scores, propagation_plan

logger = logging.getLogger(__name__)

GO_ID = re.compile(r"^GO:\d{7}$")
# score: the probability propagated to ancestors; prior: the term's frequency among the
# training genes; gain: the model's logit minus its bias (what this protein adds beyond the
# prior, exactly the sum of the explanation's contributions); ic: -log2(prior), the term's
# specificity in bits; folded_under: in the "specific" view, the shown descendant that
# implies this term ("" for a shown term)
PREDICTION_COLUMNS = ["gene", "term_id", "term_name", "score", "above_threshold", "rank", "prior", "gain", "ic",
                      "folded_under"]
VIEWS = ("all", "specific")
# up to this many proteins, prepare_inputs starts the cross-species DIAMOND search in parallel
# with the encoding (the dashboard's case); larger batches search once, in score_matrix
PREFETCH_MAX = 50


@dataclass
class Inputs:
    """Model inputs of n query proteins."""

    ids: list[str]
    sequences: list[str]
    embeddings: np.ndarray | None  # (n, D) from model.encoder; None for models without sequence input
    go_sets: list[set[str] | None]  # per gene: propagated GO ids in the model's input vocabulary
    go_given: list[set[str]] = field(default_factory=list)  # per gene: the GO ids given
    go_unknown: list[set[str]] = field(default_factory=list)  # per gene: given ids the model does not know
    # GO transferred from sequence homologs for the genes given no GO (models trained on
    # transferred GO): the models.go_transfer.GoTransfer of those genes, and per gene its
    # row there (None: GO given, or the model does not transfer GO)
    go_transfer: object = None
    go_transfer_row: list[int | None] = field(default_factory=list)
    # values derived from these inputs once and reused (contributions.evidence_items)
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def go_origin(self, i: int) -> str:
        """Where gene i's GO input came from: "given", "transferred" (from its sequence
        homologs), "no homolog" (transfer found no annotated homolog) or "none"."""
        if self.go_given and self.go_given[i]:
            return "given"
        row = self.go_transfer_row[i] if self.go_transfer_row else None
        if row is None:
            return "none"
        return "transferred" if self.go_transfer.has_hit[row] else "no homolog"

    def transfer_evidence(self, i: int) -> pd.DataFrame:
        """The homologs gene i's transferred GO came from: DataFrame[target, species,
        identity, bitscore, weight, go_ids] best first (empty unless GO was transferred)."""
        row = self.go_transfer_row[i] if self.go_transfer_row else None
        if row is None:
            return pd.DataFrame(columns=["target", "species", "identity", "bitscore", "weight", "go_ids"])
        ev = self.go_transfer.evidence
        return ev[ev["query"] == row].drop(columns="query").reset_index(drop=True)


def parse_records(sequences_or_fasta, min_length: int | None = None,
                  max_nonstandard: float | None = None) -> list[tuple[str, str]]:
    """[(id, sequence)] from FASTA text, raw sequence(s), a file path or a list of (id, seq).

    Every record passes `check_query_sequences` (at least `min_length` residues, default
    MIN_QUERY_LENGTH; at most `max_nonstandard` X/B/Z/J/U/O, default
    MAX_NONSTANDARD_FRACTION). Duplicate ids are a warning: later records become ID_2, ...
    """
    from genepheno_core.embeddings import parse_sequences
    from genepheno_core.embeddings.sequences import (
        MAX_NONSTANDARD_FRACTION,
        MIN_QUERY_LENGTH,
        check_query_sequences,
        clean_protein,
        rename_duplicate_ids,
    )

    min_length = MIN_QUERY_LENGTH if min_length is None else int(min_length)
    max_nonstandard = MAX_NONSTANDARD_FRACTION if max_nonstandard is None else float(max_nonstandard)
    if isinstance(sequences_or_fasta, (str, os.PathLike)):
        return parse_sequences(sequences_or_fasta, duplicates="rename", min_length=min_length,
                               max_nonstandard=max_nonstandard)
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
        check_query_sequences(records, "<sequences>", min_length, max_nonstandard)
        return rename_duplicate_ids(records, "<sequences>")
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


def split_go(model, terms: Iterable[str] | None) -> tuple[set[str], set[str]]:
    """(known, unknown) GO ids: unknown ones are neither GO inputs of the model nor in the
    GO vocabulary it can propagate (its stored closure, else its training GO release)."""
    terms = set(terms or ())
    extras = model_extras(model)
    if extras.go_closure is not None:
        index = extras.go_index()
        known = {t for t in terms if t in index or t in set(model.go_inputs)}
    else:
        ontology = model.go_ontology() if model.uses_go else None
        inputs = set(model.go_inputs)
        known = {t for t in terms if t in inputs or (ontology is not None and _in_ontology(ontology, t))}
    return known, terms - known


def _in_ontology(ontology, term: str) -> bool:
    if term in ontology:
        return True
    try:  # an alt_id / obsolete id with a replacement
        return ontology.remap(term) is not None
    except (KeyError, ValueError):
        return False


def propagate_go(model, terms: Iterable[str] | None) -> set[str] | None:
    """GO ids -> the model's GO input terms they imply (themselves and their ancestors).
    Ids outside the model's GO vocabulary are ignored with a warning naming them."""
    if not terms:
        return None
    known, unknown = split_go(model, terms)
    if unknown:
        logger.warning("%d GO id(s) not in the model's GO vocabulary, ignored: %s", len(unknown),
                       ", ".join(sorted(unknown)[:10]) + (" ..." if len(unknown) > 10 else ""))
    extras = model_extras(model)
    inputs = model.go_inputs
    out = known & set(inputs)
    if extras.go_closure is not None:
        index = extras.go_index()
        for t in known:
            row = index.get(t)
            if row is not None:
                out.update(inputs[j] for j in extras.go_closure[row].indices)
    else:
        out = set(known)  # TrainedModel.go_bag propagates them over its GO release
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
                   cache: bool = True, transfer_go: bool = True) -> Inputs:
    """The model inputs of `records`; with `transfer_go`, a GO-reading model gives a protein
    given no (known) GO the GO of its sequence homologs (TrainedModel.transfer_go), weighted
    by bit score; without the GO reference (no GOA / UniProt in the mirror) it warns and the
    protein gets no GO input."""
    ids = [r for r, _ in records]
    seqs = [s for _, s in records]
    go = read_go_annotations(go_annotations, ids)
    if go and not model.uses_go:
        logger.warning("model %s takes no GO input: GO annotations ignored", model.path)
    go_given = [set(go.get(i) or ()) for i in ids]
    go_unknown = [split_go(model, g)[1] if model.uses_go else set() for g in go_given]
    go_sets = [propagate_go(model, g) if model.uses_go else None for g in go_given]
    transfer, transfer_row = None, [None] * len(ids)
    todo = [i for i, g in enumerate(go_sets) if not g] if transfer_go and model.uses_go else []
    # measured on validation (docs/VALIDATION_RUNS.md): the full model fed its homologs' GO
    # scores a protein without annotations nearly as well as with its own GO, and clearly
    # better than with no GO input. The DIAMOND searches (GO transfer, and the cross-species
    # one, whose on-disk cache the model's inputs then read) run in threads while the
    # sequences are encoded (subprocesses: no GIL): one pasted protein waits for the slowest
    # of the three instead of their sum.
    pending = None
    prefetch = model.uses_ortholog and model.cross_species.cache_hits and len(seqs) <= PREFETCH_MAX
    if todo or prefetch:
        pending = ThreadPoolExecutor(max_workers=2)
    if todo:
        search = pending.submit(model.transfer_go, [seqs[i] for i in todo])
    if prefetch:
        pending.submit(model.cross_species.vectors, seqs)
    try:
        if embeddings is not None:
            embeddings = np.asarray(embeddings, dtype=np.float32)
            if embeddings.shape[0] != len(records):
                raise ModelMismatchError(f"{embeddings.shape[0]} embeddings for {len(records)} sequences")
        else:
            embeddings = embed_for_model(model, seqs, cache=cache)
        if todo:
            try:
                transfer = search.result()
            except MissingDataError as exc:
                logger.warning("GO transfer unavailable (%s): %d protein(s) without GO get no GO input", exc,
                               len(todo))
                todo = []
    finally:
        if pending is not None:
            pending.shutdown(wait=True)
    if todo:
        bag = transfer.reindex(model.go_inputs)  # (len(todo), G)
        for row, i in enumerate(todo):
            lo, hi = bag.indptr[row], bag.indptr[row + 1]
            weights = {model.go_inputs[j]: float(v) for j, v in zip(bag.indices[lo:hi], bag.data[lo:hi])}
            go_sets[i] = weights or None
            transfer_row[i] = row
    return Inputs(ids, seqs, embeddings, go_sets, go_given, go_unknown, transfer, transfer_row)


def propagate(model, scores: np.ndarray) -> np.ndarray:
    """Max-propagate (n, K) scores to ancestors in place (a term >= all its descendants), with
    the model's propagation plan (computed once per model, kept in model.caches)."""
    plan = model.caches.get("propagation_plan")
    if plan is None:
        plan = model.caches["propagation_plan"] = propagation_plan(model_extras(model).term_ancestors)
    return propagate_scores(scores, plan=plan, inplace=True)


def logit_matrix(model, inputs: Inputs, chunk: int = 2048) -> np.ndarray:
    """(n, K) effective logits (unpropagated; probabilities are their sigmoid)."""
    n = len(inputs.ids)
    out = np.empty((n, len(model.terms)), dtype=np.float32)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        out[start:stop] = model.logits(
            None if inputs.embeddings is None else inputs.embeddings[start:stop],
            go_sets=inputs.go_sets[start:stop] if model.uses_go else None,
            sequences=inputs.sequences[start:stop] if model.needs_sequences else None)
    return out


def score_matrix(model, inputs: Inputs, propagate_to_ancestors: bool = True, chunk: int = 2048,
                 logits: np.ndarray | None = None) -> np.ndarray:
    """(n, K) probabilities (propagated to ancestors when the model has its term ancestors).
    Rows are scored in chunks so that the working set stays small. `logits` (logit_matrix
    of the same inputs) spares the forward pass: the probabilities are their sigmoid,
    computed as the model computes them (bit for bit)."""
    import torch

    n = len(inputs.ids)
    out = np.empty((n, len(model.terms)), dtype=np.float32)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        if logits is not None:
            part = torch.sigmoid(torch.from_numpy(np.ascontiguousarray(logits[start:stop]))).numpy()
        else:
            part = model.probabilities(
                None if inputs.embeddings is None else inputs.embeddings[start:stop],
                go_sets=inputs.go_sets[start:stop] if model.uses_go else None,
                sequences=inputs.sequences[start:stop] if model.needs_sequences else None)
        part = np.array(part, dtype=np.float32)
        if propagate_to_ancestors:
            propagate(model, part)
        out[start:stop] = part
    return out


def term_priors(model) -> np.ndarray:
    """(K,) each phenotype's prior: its frequency among the model's training genes (explain/
    extras), else the model's bias as a probability (logged). Kept in model.caches."""
    cached = model.caches.get("term_priors")
    if cached is not None:
        return cached
    extras = model_extras(model)
    if extras.train_labels is not None and extras.train_labels.shape[0]:
        prior = np.asarray(extras.train_labels.mean(axis=0), dtype=np.float64).ravel()
    else:
        logger.warning("%s stores no training labels: priors are the model's biases", model.path)
        prior = 1.0 / (1.0 + np.exp(-np.asarray(model.bias, dtype=np.float64)))
    model.caches["term_priors"] = prior
    return prior


def predict(model, sequences_or_fasta, go_annotations=None, top: int | None = 20, threshold: float | None = None,
            embeddings: np.ndarray | None = None, cache: bool = True, min_length: int | None = None,
            transfer_go: bool = True, view: str = "all", auto_model: bool = True) -> pd.DataFrame:
    """Ranked phenotype predictions.

    model: a TrainedModel, a checkpoint directory, a shipped model's name ("hpo", "mpo") or
        None for the default model (assets/models/hpo).
    auto_model: when `model` is a shipped name (or None) and no protein is given GO, score
        them with the shipped "<name>-go-transfer" model (trained on GO transferred from
        homologs: the validation choice for proteins without GO; model_store.choose_model).
        df.attrs["model"] names the model used.
    sequences_or_fasta: FASTA text, raw sequence(s) one per line, a FASTA path (.gz ok) or a
        list of (id, sequence) pairs.
    go_annotations: dict id -> GO ids, or a GAF path (matched by accession or symbol); GO
        ids are propagated to their ancestors. A gene given no GO gets the GO of its
        sequence homologs among annotated human and mouse proteins (`transfer_go`, default
        on; off: no GO input); df.attrs["go_origin"] {gene: "given" / "transferred" / "no
        homolog" / "none"} says which.
    top: keep the `top` best terms per gene (None: all terms).
    threshold: score cut-off for `above_threshold` (default: the model's validation-optimal
        threshold).
    embeddings: precomputed (n, D) embeddings with the model's encoder (skips encoding).
    min_length: shortest sequence accepted (default MIN_QUERY_LENGTH = 20 residues);
        sequences mostly made of X/B/Z/J/U/O are refused as well (InputFormatError).
    view: "all" (every term by score) or "specific" (the most specific predictions: of the
        phenotypes above the threshold, those implied by another one (its ancestors) are
        folded under it; the rest, by score, `top` of them, then unrelated terms below the
        threshold if fewer pass it; no shown term is an ancestor of another; folded rows
        follow their shown term, with folded_under set; see _specific_order).

    Returns DataFrame[gene, term_id, term_name, score, above_threshold, rank, prior, gain,
    ic, folded_under] (PREDICTION_COLUMNS) sorted by gene (input order) then rank (1 =
    best); df.attrs["threshold"] holds the threshold used and
    df.attrs["go_unknown"] {gene: sorted GO ids given but unknown to the model, ignored}.
    """
    if top is not None and int(top) < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    if threshold is not None and not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must be within [0, 1], got {threshold}")
    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    records = parse_records(sequences_or_fasta, min_length=min_length)
    if auto_model:
        go_annotations = read_go_annotations(go_annotations, [r for r, _ in records])  # a GAF is read once
        model = choose_model(model, go_given=any(go_annotations.get(r) for r, _ in records), transfer_go=transfer_go)
    model = resolve_model(model)
    inputs = prepare_inputs(model, records, go_annotations, embeddings, cache=cache, transfer_go=transfer_go)
    logits = logit_matrix(model, inputs)
    scores = score_matrix(model, inputs, logits=logits)
    frame = ranked_frame(model, inputs.ids, scores, top, threshold, logits=logits, view=view)
    frame.attrs["go_unknown"] = unknown_go_by_gene(inputs)
    frame.attrs["go_origin"] = {g: inputs.go_origin(i) for i, g in enumerate(inputs.ids)}
    frame.attrs["model"] = model_label(model)
    return frame


def unknown_go_by_gene(inputs: Inputs) -> dict[str, list[str]]:
    """{gene: sorted GO ids given for it that the model does not know} (genes with some)."""
    return {g: sorted(u) for g, u in zip(inputs.ids, inputs.go_unknown) if u}


def ranked_frame(model, ids: list[str], scores: np.ndarray, top: int | None, threshold: float | None,
                 logits: np.ndarray | None = None, view: str = "all") -> pd.DataFrame:
    """Long table (PREDICTION_COLUMNS) of the `top` terms per gene from an (n, K) score
    matrix (propagated probabilities); `logits` (n, K) give the gain column (NaN without).
    view "specific": see `predict`."""
    cut = float(model.threshold if threshold is None else threshold)
    n, k = scores.shape
    keep = k if top is None else min(int(top), k)
    prior = term_priors(model)
    bias = np.asarray(model.bias, dtype=np.float64) if logits is not None else None
    if view == "specific":
        rows, cols, folded, ranks = _specific_order(model, scores, keep, cut)
    else:
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
        folded = np.full(cols.size, "", dtype=object)
        ranks = np.tile(np.arange(1, keep + 1), n)
    values = scores[rows, cols]
    term_ids = model.terms["term_id"].to_numpy()
    names = model.terms["name"].to_numpy() if "name" in model.terms else term_ids
    with np.errstate(divide="ignore"):
        ic = -np.log2(prior[cols])
    frame = pd.DataFrame({
        "gene": np.asarray(ids, dtype=object)[rows],
        "term_id": term_ids[cols],
        "term_name": names[cols],
        "score": values.astype(np.float64),
        "above_threshold": values >= cut,
        "rank": ranks,
        "prior": prior[cols],
        "gain": (logits[rows, cols].astype(np.float64) - bias[cols]) if logits is not None else np.nan,
        "ic": ic,
        "folded_under": folded,
    }, columns=PREDICTION_COLUMNS)
    frame.attrs["threshold"] = cut
    frame.attrs["view"] = view
    return frame


def specific_view(model, predictions: pd.DataFrame, top: int | None = 20,
                  threshold: float | None = None) -> pd.DataFrame:
    """The "specific" view (see `predict`) of an all-terms prediction frame, without predicting
    again: predictions is `predict(model, ..., top=None)` (every term of every gene, any view);
    returns what `predict(..., top=top, threshold=threshold, view="specific")` returns for
    the same inputs (rows of PREDICTION_COLUMNS; attrs kept, view set; threshold: default the
    frame's). The dashboard predicts once and shows both views from that one frame (a second
    predict would repeat the DIAMOND searches)."""
    model = resolve_model(model)
    term_ids = model.terms["term_id"].astype(str).to_numpy()
    k = len(term_ids)
    genes = list(dict.fromkeys(predictions["gene"]))
    col = {t: j for j, t in enumerate(term_ids)}
    scores = np.full((len(genes), k), np.nan)
    row_of = {g: i for i, g in enumerate(genes)}
    gi = predictions["gene"].map(row_of).to_numpy()
    tj = predictions["term_id"].astype(str).map(col).to_numpy()
    scores[gi, tj] = predictions["score"].to_numpy(dtype=float)
    if np.isnan(scores).any():
        raise ValueError("specific_view needs every term of every gene (predict with top=None)")
    keep = k if top is None else min(int(top), k)
    cut = float(predictions.attrs.get("threshold", model.threshold) if threshold is None else threshold)
    rows, cols, folded, ranks = _specific_order(model, scores, keep, cut)
    index = pd.Series(np.arange(len(predictions)), index=pd.MultiIndex.from_arrays([gi, tj]))
    out = predictions.iloc[index.loc[list(zip(rows.tolist(), cols.tolist()))].to_numpy()].copy()
    out["rank"] = ranks
    out["folded_under"] = folded
    out = out.reset_index(drop=True)[PREDICTION_COLUMNS]
    out["above_threshold"] = out["score"] >= cut
    out.attrs.update(predictions.attrs)
    out.attrs.update(view="specific", threshold=cut)
    return out


def _specific_order(model, scores: np.ndarray, keep: int,
                    cut: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, folded_under, rank) of the "specific" view, per gene:

    1. the predicted phenotypes (score >= `cut`): each one implied by another predicted one
       (an ancestor of it) is folded; what is shown are the leaves of the predicted set, by
       score (ties: the term with more ancestors first, then vocabulary order), the first
       `keep` of them; a folded term is listed under the first shown leaf that implies it
       (not at all when only leaves further down imply it);
    2. when fewer than `keep` leaves are predicted, the walk goes on below `cut`, skipping
       terms implied by or implying a shown term, until `keep` terms are shown.
    So no shown term is an ancestor of another, and the first rows are the most specific
    predictions: a walk that stopped after `keep` terms (the benchmark's top-10 walk folds
    only an ancestor ranked below its descendant) leaves "Abnormality of the nervous
    system" on top whenever it outscores every one of its descendants, which propagated
    scores make the rule. Each shown term is followed by its folded terms, which share its
    rank."""
    anc = model_extras(model).term_ancestors.tocsr()  # (K, K): [i, j] = 1 when j is a proper ancestor of i
    n_anc = np.diff(anc.indptr)
    term_ids = model.terms["term_id"].astype(str).to_numpy()

    def ancestors(t: int) -> np.ndarray:
        return anc.indices[anc.indptr[t]:anc.indptr[t + 1]]

    rows, cols, folded, ranks = [], [], [], []
    for g, row in enumerate(scores):
        order = np.lexsort((np.arange(row.size), -n_anc, -row))
        predicted = order[row[order] >= cut]
        implied = np.zeros(row.size, dtype=bool)
        for t in predicted.tolist():
            implied[ancestors(t)] = True
        leaves = [t for t in predicted.tolist() if not implied[t]]
        shown = leaves[:keep]
        covered = np.zeros(row.size, dtype=bool)  # shown terms and their ancestors
        tail: dict[int, list[int]] = {t: [] for t in shown}
        under: dict[int, int] = {}
        for t in shown:  # best shown leaf first: an ancestor goes under the first that implies it
            covered[t] = True
            for a in ancestors(t).tolist():
                covered[a] = True
                under.setdefault(a, t)
        for t in predicted.tolist():
            if t in under:
                tail[under[t]].append(t)
        if len(shown) < keep:
            in_shown = set(shown)
            for t in order[row[order] < cut].tolist():
                if len(shown) == keep:
                    break
                if covered[t] or in_shown.intersection(ancestors(t).tolist()):
                    continue  # implied by a shown term, or a descendant of one
                shown.append(t)
                in_shown.add(t)
                tail[t] = []
                covered[t] = True
                covered[ancestors(t)] = True
        for rank, t in enumerate(shown, start=1):
            for u in [t] + tail[t]:
                rows.append(g)
                cols.append(u)
                folded.append("" if u == t else term_ids[t])
                ranks.append(rank)
    return (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64), np.asarray(folded, dtype=object),
            np.asarray(ranks, dtype=np.int64))


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
