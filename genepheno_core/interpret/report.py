"""Predictions and explanations as JSON-ready data: what the REST API answers
(genepheno_core/server) and what `predict --format json` / `explain --format json` could
share. Functions that compute and return dicts of JSON types (no NaN); no I/O.

A prediction report is made in two steps so that a server can score several requests in one
pass (one encoder batch, one DIAMOND search per kind) and still answer each on its own:
`score_records` (the model inputs, logits and propagated scores of all records) and
`protein_reports` (one protein's phenotypes, evidence, nearest proteins and homologs from
those). `prediction_report` does both for one call.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from genepheno_core.interpret.contributions import OTHER_SPECIES_LABEL, evidence_items
from genepheno_core.interpret.inference import (
    VIEWS,
    Inputs,
    logit_matrix,
    prepare_inputs,
    ranked_frame,
    score_matrix,
)
from genepheno_core.io import json_safe
from genepheno_core.version import __version__

logger = logging.getLogger(__name__)

MAX_LISTED_PHENOTYPES = 10  # known phenotypes listed per nearest protein / homolog


@dataclass
class Scored:
    """Model inputs of n records with their (n, K) logits and (n, K) propagated scores."""

    inputs: Inputs
    logits: np.ndarray
    scores: np.ndarray


def model_info(model) -> dict:
    """The model's name (its directory), version (the first 16 hex digits of the SHA-256 of
    its weights file: two servers answer alike when these match), the GenePheno version,
    what it was trained on and which inputs it reads, and its threshold."""
    version = model.caches.get("weights_sha256")
    if version is None:
        digest = hashlib.sha256()
        weights = model.path / "model.safetensors" if model.path is not None else None
        if weights is not None and weights.is_file():
            with open(weights, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            version = model.caches["weights_sha256"] = digest.hexdigest()[:16]
        else:
            version = ""
    other = model.cross_species.dataset if model.uses_ortholog else None
    return json_safe({
        "name": model.path.name if model.path is not None else "",
        "version": version,
        "genepheno_version": __version__,
        "dataset": str(model.config.dataset),
        "encoder": model.config.encoder,
        "phenotypes": len(model.terms),
        "threshold": float(model.threshold),
        "inputs": {"sequence": bool(model.uses_sequence), "go": bool(model.uses_go),
                   "homolog_phenotypes": OTHER_SPECIES_LABEL.get(other, other) if other else None,
                   # the functional-neighbour vote's weight alpha (None: the model has none)
                   "functional_neighbours": float(model.go_neighbours.alpha) if model.uses_go_neighbours else None},
    })


def score_records(model, records: list[tuple[str, str]], go_annotations=None, transfer_go: bool = True) -> Scored:
    """The inputs, logits and propagated scores of `records` ((id, protein) pairs, ids
    unique), as `predict` computes them (GO ids per id in `go_annotations`; a protein given
    none gets its homologs' GO with `transfer_go`)."""
    inputs = prepare_inputs(model, records, go_annotations, transfer_go=transfer_go)
    logits = logit_matrix(model, inputs)
    return Scored(inputs, logits, score_matrix(model, inputs, logits=logits))


def protein_reports(model, scored: Scored, rows: list[int] | None = None, top: int | None = 20,
                    threshold: float | None = None, view: str = "all", evidence: int = 3,
                    nearest: pd.DataFrame | None = None, homologs: pd.DataFrame | None = None,
                    names: dict[str, str] | None = None) -> list[dict]:
    """One dict per protein (rows of `scored`, default all), in order:

    {"id", "length", "go": {"origin", "given", "unknown"}, "phenotypes": [{"id", "name",
    "score", "prior", "gain", "above_threshold", "rank", "folded_under", "evidence":
    {"concepts", "go_terms", "homolog_phenotypes", "functional_neighbours"}}], "nearest_proteins": [...],
    "homologs": [...]}. `nearest` / `homologs` are gp.nearest_proteins / gp.ortholog_evidence
    frames over the same ids (None: the key is left out). `names` maps the ids of `scored`
    to the ids to report (a server renames requests' ids to keep a batch's unique).
    """
    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    inputs = scored.inputs
    rows = list(range(len(inputs.ids))) if rows is None else list(rows)
    ids = [inputs.ids[i] for i in rows]
    frame = ranked_frame(model, ids, scored.scores[rows], top, threshold, logits=scored.logits[rows], view=view)
    items = evidence_items(model, inputs, frame, evidence) if evidence > 0 else [None] * len(frame)
    frame = frame.assign(_evidence=items)
    names = names or {}
    out = []
    for i, gid in zip(rows, ids):
        sub = frame[frame["gene"] == gid]
        phenotypes = [{
            "id": r["term_id"], "name": r["term_name"], "score": r["score"], "prior": r["prior"],
            "gain": r["gain"], "above_threshold": r["above_threshold"], "rank": r["rank"],
            "folded_under": r["folded_under"] or None, **({"evidence": r["_evidence"]} if evidence > 0 else {}),
        } for r in sub.to_dict("records")]
        report = {"id": names.get(gid, gid), "length": len(inputs.sequences[i]),
                  "go": {"origin": inputs.go_origin(i), "given": sorted(inputs.go_given[i]) if inputs.go_given else [],
                         "unknown": sorted(inputs.go_unknown[i]) if inputs.go_unknown else []},
                  "phenotypes": phenotypes}
        if nearest is not None:
            hits = nearest[nearest["query"] == gid]
            report["nearest_proteins"] = [{
                "accession": h["accession"], "symbol": h["symbol"], "identity": h["identity"],
                "bitscore": h["bitscore"], "evalue": h["evalue"],
                "known_phenotypes": list(h["phenotypes"])[:MAX_LISTED_PHENOTYPES],
                "n_known_phenotypes": len(h["phenotypes"])} for h in hits.to_dict("records")]
        if homologs is not None:
            hits = homologs[homologs["query"] == gid]
            report["homologs"] = [{
                "accession": h["accession"], "symbol": h["symbol"], "identity": h["identity"],
                "bitscore": h["bitscore"], "weight": h["weight"],
                "known_phenotypes": list(h["phenotypes"])[:MAX_LISTED_PHENOTYPES],
                "n_known_phenotypes": len(h["phenotypes"])} for h in hits.to_dict("records")]
        out.append(report)
    return json_safe(out)


def prediction_report(model, records: list[tuple[str, str]], go_annotations=None, top: int | None = 20,
                      threshold: float | None = None, view: str = "all", evidence: int = 3,
                      nearest: int = 5, homologs: int = 5, transfer_go: bool = True) -> dict:
    """{"model": model_info, "threshold", "view", "proteins": protein_reports} for `records`
    in one pass; `nearest` / `homologs`: how many of the nearest training proteins / the
    other species' homologs to list per protein (0: none, and no search for them)."""
    from genepheno_core.interpret.neighbours import nearest_proteins, ortholog_evidence

    scored = score_records(model, records, go_annotations, transfer_go=transfer_go)
    near = nearest_proteins(model, records, k=nearest) if nearest > 0 else None
    orth = None
    if homologs > 0 and model.uses_ortholog:
        orth = ortholog_evidence(model, records)
        orth = orth.groupby("query", sort=False).head(homologs)
    cut = float(model.threshold if threshold is None else threshold)
    return {"model": model_info(model), "threshold": cut, "view": view,
            "proteins": protein_reports(model, scored, top=top, threshold=threshold, view=view, evidence=evidence,
                                        nearest=near, homologs=orth)}


def explanation_report(model, explanation, term: str, residues: pd.DataFrame | None = None) -> dict:
    """One protein's explanation of one phenotype as data: {"model", "protein", "phenotype",
    "bias", "logit", "contributions" (every concept, GO term and homolog phenotype with its
    contribution, largest |contribution| first), "check" (bias + sum of contributions -
    logit: ~0, the contributions are exact), "go", and "residues" (Integrated Gradients
    per residue, when given)}."""
    row = explanation.terms.set_index("term_id").loc[term]
    table = explanation.evidence_table(term)
    total = float(explanation.bias[term]) + float(table["contribution"].sum())
    report = {
        "model": model_info(model),
        "protein": {"id": explanation.gene, "length": len(explanation.sequence)},
        "phenotype": {"id": term, "name": row["term_name"], "score": row["score"],
                      "propagated_score": row["propagated_score"], "rank": row["rank"],
                      "above_threshold": bool(row["propagated_score"] >= explanation.threshold)},
        "threshold": explanation.threshold,
        "bias": explanation.bias[term],
        "logit": explanation.logit[term],
        "contributions": [{"source": r["source"], "id": r["id"], "name": r["name"],
                           "contribution": r["contribution"], "detail": r["detail"] or None}
                          for r in table.to_dict("records")],
        "check": {"bias_plus_contributions": total, "logit": float(explanation.logit[term]),
                  "difference": total - float(explanation.logit[term])},
        "go": {"origin": explanation.go_origin, "given": explanation.go_given, "used": explanation.go_used,
               "unknown": explanation.go_unknown},
    }
    if residues is not None:
        report["residues"] = {
            "method": residues.attrs.get("method"), "baseline": residues.attrs.get("baseline"),
            "completeness_gap": residues.attrs.get("delta"),
            "attributions": residues.to_dict("records")}
    return json_safe(report)
