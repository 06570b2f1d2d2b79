"""Case-study genes shipped in assets/case_studies.json, and the quantitative
interpretability check (W_p rows vs GO concept enrichment among training genes)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.stats import spearmanr

from genepheno_core import environment
from genepheno_core.errors import InputFormatError, MissingDataError

logger = logging.getLogger(__name__)

CASE_COLUMNS = ["symbol", "accession", "gene_id", "dataset", "why", "sequence", "go", "phenotypes",
                "phenotype_names", "n_phenotypes"]


def case_studies_path() -> Path:
    """<assets>/case_studies.json (genepheno_core.environment.assets_dir)."""
    return environment.assets_dir() / "case_studies.json"


def load_case_studies(path: str | Path | None = None) -> pd.DataFrame:
    """The case-study genes: DataFrame[symbol, accession, gene_id, dataset, why, sequence,
    go (list of propagated GO ids), phenotypes (list of term ids, propagated),
    phenotype_names (list), n_phenotypes]. One row per gene, in the file's order."""
    path = Path(path) if path is not None else case_studies_path()
    if not path.exists():
        raise MissingDataError(f"{path}: no case studies (build them with scripts/build_default_model.py)")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputFormatError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    genes = data.get("genes") if isinstance(data, dict) else data
    if not isinstance(genes, list):
        raise InputFormatError(path, "expected a list of genes (or {'genes': [...]})")
    rows = []
    for i, g in enumerate(genes, start=1):
        missing = [c for c in ("symbol", "accession", "sequence") if not g.get(c)]
        if missing:
            raise InputFormatError(path, f"missing {', '.join(missing)}", record=str(g.get("symbol") or i))
        rows.append({
            "symbol": g["symbol"], "accession": g["accession"], "gene_id": g.get("gene_id", g["accession"]),
            "dataset": g.get("dataset", ""), "why": g.get("why", ""), "sequence": g["sequence"],
            "go": list(g.get("go") or []), "phenotypes": list(g.get("phenotypes") or []),
            "phenotype_names": list(g.get("phenotype_names") or []),
            "n_phenotypes": len(g.get("phenotypes") or []),
        })
    return pd.DataFrame(rows, columns=CASE_COLUMNS)


def concept_enrichment(labels: sp.spmatrix, concepts: sp.spmatrix, min_genes: int = 20,
                       pseudo: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds enrichment (K, J) of each GO concept among genes with each phenotype:
    log[(a + p) / (b + p)] - log[(c + p) / (d + p)] with a = genes with term and concept,
    b = term without concept, c = concept without term, d = neither (p = pseudo-count).
    Returns (enrichment, mask of terms with >= min_genes genes)."""
    Y = sp.csc_matrix(labels, dtype=np.float64)
    C = sp.csc_matrix(concepts, dtype=np.float64)
    n = Y.shape[0]
    a = np.asarray((Y.T @ C).todense())  # (K, J)
    n_term = np.asarray(Y.sum(axis=0)).ravel()[:, None]  # (K, 1)
    n_conc = np.asarray(C.sum(axis=0)).ravel()[None, :]  # (1, J)
    b = n_term - a
    c = n_conc - a
    d = n - a - b - c
    enrich = np.log((a + pseudo) / (b + pseudo)) - np.log((c + pseudo) / (d + pseudo))
    return enrich, n_term.ravel() >= min_genes


def interpretability_check(model=None, dataset=None, min_genes: int = 20, split: str = "random"):
    """For each phenotype with >= min_genes GO-annotated training genes, the Spearman
    correlation between its W_p row and the log-odds enrichment of each GO concept among
    training genes with that phenotype (a model whose concepts are decorative scores ~0).

    Training genes: those stored with the model (explain/ data), or the `split` training
    genes of `dataset`; genes without GO annotations are left out.
    Returns (summary dict: median, mean, n_terms, fraction_positive; DataFrame[term_id,
    name, n_genes, spearman]).
    """
    from genepheno_core.interpret.model_store import model_extras, resolve_model

    model = resolve_model(model)
    W = np.asarray(model.W_p, dtype=np.float64)  # (K, J)
    if dataset is not None:
        dataset = dataset.with_terms_of(model.terms["term_id"], split)
        model.check_compatible(dataset)
        train = dataset.split_indices("train", split)
        go_index = {g: i for i, g in enumerate(dataset.go_terms["go_id"].astype(str))}
        cols = [go_index[g] for g in model.concepts["go_id"].astype(str)]
        go = sp.csr_matrix(dataset.go)[train]
        has_go = np.asarray(go.sum(axis=1)).ravel() > 0
        labels, concepts = sp.csr_matrix(dataset.labels)[train][has_go], go[:, cols][has_go]
    else:
        extras = model_extras(model)
        if extras.train_concepts is None:
            raise MissingDataError(f"{model.path} stores no training concept labels: pass dataset=")
        has_go = extras.train_has_go
        labels, concepts = extras.train_labels[has_go], extras.train_concepts[has_go]
    enrich, keep = concept_enrichment(labels, concepts, min_genes)
    rows = []
    counts = np.asarray(labels.sum(axis=0)).ravel()
    for k in np.flatnonzero(keep):
        if np.ptp(W[k]) == 0 or np.ptp(enrich[k]) == 0:
            continue
        rho = spearmanr(W[k], enrich[k]).statistic
        rows.append((model.terms["term_id"].iloc[k], model.terms["name"].iloc[k], int(counts[k]), float(rho)))
    table = pd.DataFrame(rows, columns=["term_id", "name", "n_genes", "spearman"])
    values = table["spearman"].to_numpy()
    summary = {
        "median_spearman": float(np.median(values)) if values.size else float("nan"),
        "mean_spearman": float(np.mean(values)) if values.size else float("nan"),
        "fraction_positive": float(np.mean(values > 0)) if values.size else float("nan"),
        "n_terms": int(values.size), "min_genes": min_genes, "n_train_genes_with_go": int(labels.shape[0]),
    }
    return summary, table
