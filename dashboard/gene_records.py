"""The proteins the pages can predict and explain: pasted on the Predict page, the core's case
studies, and genes of the model's dataset (or its training genes when the dataset is not
built on this machine), each as a GeneRecord; and the core's calls on one of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import streamlit as st

import genepheno_core as gp
from dashboard import models, state

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GeneRecord:
    """A protein the pages can predict and explain (pasted, case study or dataset gene)."""

    key: str  # unique across sources, e.g. "pasted:seq1", "case:P04637", "dataset:P04637"
    accession: str
    symbol: str
    sequence: str
    go: tuple[str, ...] | None = None  # known (propagated) GO annotations
    phenotypes: tuple[str, ...] | None = None  # true phenotypes in the model's vocabulary
    source: str = "pasted"
    note: str = ""
    split: str = ""  # case studies: the gene's random-split part ("train", "valid", "test")

    @property
    def short(self) -> str:
        return self.symbol or self.accession

    @property
    def label(self) -> str:
        name = f"{self.symbol} · {self.accession}" if self.symbol and self.symbol != self.accession else self.accession
        seen = {"train": ", trained on", "valid": ", validation gene", "test": ", held out"}.get(self.split, "")
        return f"{name} ({self.source}{seen}, {len(self.sequence)} aa)"

    @property
    def training_text(self) -> str:
        """Whether the model saw this gene's phenotypes, in words ("" when unknown)."""
        if self.split == "train":
            return (f"{self.short} is a **training gene**: its phenotypes were in the training labels, so hits here "
                    "show what the model learned, not what it predicts for an unseen gene.")
        if self.split == "valid":
            return (f"{self.short} is a **validation gene**: not trained on, but used to choose the threshold and "
                    "the training epoch.")
        if self.split == "test":
            return (f"{self.short} is **held out** (test split): the model never saw its phenotypes; hits and misses "
                    "here are an honest sample of its accuracy.")
        return ""


def pasted_genes() -> list[GeneRecord]:
    """The sequences of the last prediction on the Predict page."""
    records = state.get(state.QUERIES) or []
    return [GeneRecord(f"pasted:{rid}", rid, "", seq, source="pasted") for rid, seq in records]


def case_study_genes(model_name: str | None = None) -> list[GeneRecord]:
    """The core's case-study genes (gp.load_case_studies; empty when none are shipped); with
    a model, only those of the model's dataset (an mpo gene's MP phenotypes mean nothing to an
    hpo model)."""
    try:
        cases = models.get_case_studies()
    except gp.GenePhenoError as exc:
        logger.warning("no case studies: %s", exc)
        return []
    wanted = None
    if model_name is not None:
        try:
            wanted = models.dataset_name(models.get_model(model_name))
        except gp.GenePhenoError:
            wanted = None
    out = []
    for row in cases.to_dict("records"):  # columns: see gp.load_case_studies
        if wanted and row["dataset"] and str(row["dataset"]) != wanted:
            continue
        acc = str(row["accession"])
        out.append(GeneRecord(
            key=f"case:{acc}", accession=acc, symbol=str(row["symbol"]), sequence=str(row["sequence"]),
            go=tuple(str(g) for g in row["go"]), phenotypes=tuple(str(p) for p in row["phenotypes"]),
            source="case study", note=str(row["why"] or ""), split=str(row.get("split") or ""),
        ))
    return out


def find_dataset_genes(model_name: str, query: str, limit: int = 25) -> list[GeneRecord]:
    """Genes of the model's dataset whose symbol or accession matches `query` (exact first)."""
    dataset = models.get_dataset(model_name)
    if dataset is None:
        cases = [g for g in case_study_genes(model_name) if query.upper() in (g.symbol.upper(), g.accession.upper())]
        return cases or [g for g in [training_gene(model_name, query)] if g is not None]
    genes = dataset.genes
    q = query.strip().upper()
    sym = genes["symbol"].astype(str).str.upper()
    acc = genes["accession"].astype(str).str.upper()
    exact = genes.index[(sym == q) | (acc == q)]
    prefix = genes.index[(sym.str.startswith(q) | acc.str.startswith(q)) & ~((sym == q) | (acc == q))]
    rows = list(exact) + list(prefix)
    return [dataset_gene(model_name, int(i)) for i in rows[:limit]]


@st.cache_data(show_spinner=False, max_entries=128)
def training_gene(model_name: str, query: str) -> GeneRecord | None:
    """A training gene of the model found by symbol/accession without the dataset on disk.

    The core's explain() resolves symbols and accessions among the model's training genes;
    the gene's known phenotypes are those of its own (100 % identity) nearest training protein.
    """
    model = models.get_model(model_name)
    try:
        found = gp.explain(model, query, top_terms=1)
    except gp.GenePhenoError:
        return None
    if not found.sequence or (query.upper() not in (found.gene.upper(),) and len(query) < 2):
        return None
    phenotypes = None
    try:
        hits = gp.nearest_proteins(model, [(found.gene, found.sequence)], k=1)
    except gp.GenePhenoError:
        hits = None
    symbol = query.upper() if query.upper() != found.gene.upper() else ""
    if hits is not None and len(hits) and float(hits["identity"].iloc[0]) >= 99.9:
        phenotypes = tuple(hits["phenotypes"].iloc[0])
        symbol = str(hits["symbol"].iloc[0] or symbol)
    return GeneRecord(key=f"dataset:{found.gene}", accession=found.gene, symbol=symbol, sequence=found.sequence,
                      go=tuple(found.go_annotations) or None, phenotypes=phenotypes, source="training gene")


def dataset_gene(model_name: str, row: int) -> GeneRecord:
    """Row `row` of the model's dataset as a GeneRecord with its true phenotypes and GO."""
    dataset = models.get_dataset(model_name)
    g = dataset.genes.iloc[row]
    labels = dataset.labels[row].indices
    go = dataset.go[row].indices
    return GeneRecord(
        key=f"dataset:{g['accession']}", accession=str(g["accession"]), symbol=str(g["symbol"]),
        sequence=str(g["sequence"]),
        go=tuple(dataset.go_terms["go_id"].iloc[go].astype(str)),
        phenotypes=tuple(dataset.terms["term_id"].iloc[labels].astype(str)),
        source=f"{dataset.name} dataset",
        split=str(dataset.splits["random"].iloc[row]) if "random" in getattr(dataset, "splits", {}) else "",
    )


# --- the core's calls on one gene ----------------------------------------------------------

def gene_predictions(model_name: str, gene: GeneRecord, top: int | None = 20, use_go: bool = False,
                     view: str = "all"):
    """gp.predict for one GeneRecord (all terms when top is None), with its GO when asked;
    view "specific": only the shown rows of the core's specific view (no folded ones)."""
    go = gene.go if (use_go and gene.go) else ()
    if view != "specific":
        return models.predict(model_name, [(gene.accession, gene.sequence)], go, top=top)
    # the all-terms prediction (shared with the other pages' calls) and its specific view, by
    # the model that scored it (its vocabulary: NAME-go-transfer for a protein given no GO)
    everything = models.predict(model_name, [(gene.accession, gene.sequence)], go, top=None)
    df = models.specific_view(everything.attrs["model"], everything, top or 20)
    attrs = dict(df.attrs)
    df = df[df["folded_under"] == ""].reset_index(drop=True)
    df.attrs.update(attrs)
    return df


def explain_gene(model_name: str, gene: GeneRecord, terms: tuple[str, ...], use_go: bool = False):
    """The core's Explanation of `terms` for one GeneRecord (its own GO with use_go, else the GO
    of its sequence homologs, as for a pasted protein)."""
    go = tuple(gene.go or ()) if use_go else ()
    return models.explain(model_name, gene.accession, gene.sequence, go, tuple(terms))


def residue_attributions(model_name: str, gene: GeneRecord, term: str):
    """The core's per-residue attributions of `term` for one GeneRecord."""
    return models.residue_attributions(model_name, gene.accession, gene.sequence, term)
