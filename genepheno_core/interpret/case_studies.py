"""Case-study genes shipped in assets/case_studies.json, and the quantitative
interpretability check (concept correlation, homolog-phenotype plausibility, concentration
and deletion check: genepheno_core.evaluation.evidence)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from genepheno_core import environment
from genepheno_core.errors import InputFormatError, MissingDataError
from genepheno_core.evaluation.evidence import (  # noqa: F401 - concept_enrichment re-exported
    concentration,
    concept_correlation,
    concept_enrichment,
    deletion_check,
    homolog_plausibility,
    group_evidence,
    mapping_relation,
    prediction_evidence,
)

logger = logging.getLogger(__name__)

CASE_COLUMNS = ["symbol", "accession", "gene_id", "dataset", "split", "why", "sequence", "go", "phenotypes",
                "phenotype_names", "n_phenotypes"]


def case_studies_path() -> Path:
    """<assets>/case_studies.json (genepheno_core.environment.assets_dir)."""
    return environment.assets_dir() / "case_studies.json"


def load_case_studies(path: str | Path | None = None) -> pd.DataFrame:
    """The case-study genes: DataFrame[symbol, accession, gene_id, dataset, split (the gene's
    random-split part: "train", "valid", "test"; "" when not given), why, sequence,
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
            "dataset": g.get("dataset", ""), "split": str(g.get("split") or ""), "why": g.get("why", ""),
            "sequence": g["sequence"],
            "go": list(g.get("go") or []), "phenotypes": list(g.get("phenotypes") or []),
            "phenotype_names": list(g.get("phenotype_names") or []),
            "n_phenotypes": len(g.get("phenotypes") or []),
        })
    return pd.DataFrame(rows, columns=CASE_COLUMNS)


def _other_species_ontology(model):
    """The ontology of the model's other-species terms (MP or HP release the datasets are
    built from, through the registry), or None."""
    from genepheno_core.datasets.builders import HPO_CURRENT
    from genepheno_core.ontology import load_ontology
    from genepheno_core.sources.registry import resource_path

    terms = model.cross_species.terms["term_id"].astype(str)
    prefix = terms.iloc[0].split(":", 1)[0] if len(terms) else ""
    where = {"MP": ("mp", "mp.obo.gz", None), "HP": ("hpo", "hp.obo.gz", HPO_CURRENT)}.get(prefix)
    if where is None:
        return None
    return load_ontology(resource_path(where[0], where[1], where[2]))


def mapping_relation_of(model) -> sp.csr_matrix | None:
    """(K, K') bool: the model's phenotypes x its other-species terms related by a curated
    or lexical MP <-> HP mapping (evaluation.evidence.mapping_relation), from the model's
    explain/ extras when stored, else from the registry's mapping files and ontologies;
    None without a homolog-phenotype path or when they cannot be had (logged)."""
    from genepheno_core.datasets import load_manifest_ontology
    from genepheno_core.errors import GenePhenoError
    from genepheno_core.interpret.model_store import model_extras

    if not model.uses_ortholog or model.W_o([0], [0]) is None:
        return None
    stored = model_extras(model).mapping_related
    if stored is not None:
        return sp.csr_matrix(stored, dtype=bool)
    try:
        target = load_manifest_ontology((model.manifest or {}).get("label_ontology"), "label ontology")
        source = _other_species_ontology(model)
        if source is None:
            return None
        return mapping_relation(model.terms["term_id"].astype(str).tolist(), target,
                                model.cross_species.terms["term_id"].astype(str).tolist(), source)
    except GenePhenoError as exc:
        logger.warning("no MP <-> HP mapping relation for %s: %s", model.path, exc)
        return None


def homolog_plausibility_check(model) -> dict | None:
    """evaluation.evidence.homolog_plausibility of the model's homolog-phenotype path W_o
    against the curated MP <-> HP mappings (None when not measurable; see mapping_relation_of)."""
    related = mapping_relation_of(model)
    return None if related is None else homolog_plausibility(model.W_o(), related)


def interpretability_check(model=None, dataset=None, min_genes: int = 20, split: str = "random",
                           max_deletion_genes: int | None = 200):
    """How readable and faithful the model's explanations are (evaluation.evidence):

    - concept correlation: for each phenotype with >= min_genes GO-annotated training genes,
      the Spearman correlation between its W_p row and the log-odds enrichment of each GO
      concept among training genes with that phenotype (decorative concepts score ~0);
    - plausibility: the share of each phenotype's five largest homolog-phenotype weights
      backed by a curated / lexical MP <-> HP mapping (models with that path);
    - with `dataset`: concentration (share of |logit - bias| in the ten largest evidence
      items of each test gene's top-20 predictions; "concentration" counts every input term
      of the GO and homolog-phenotype closures as an item, "concentration_grouped" the
      gene's most specific terms, as explanations show them, when the model stores the
      ontology structure) and the deletion check (on the grouped items), on the `split`
      test genes fed their own GO (the deletion check on up to max_deletion_genes of them).

    Training genes: those stored with the model (explain/ data), or the `split` training
    genes of `dataset`; genes without GO annotations are left out.
    Returns (summary dict: median_spearman, mean_spearman, n_terms, fraction_positive,
    plausibility, concentration, deletion (None when not measured); DataFrame[term_id,
    name, n_genes, spearman]).
    """
    from genepheno_core.interpret.model_store import model_extras, resolve_model

    model = resolve_model(model)
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
    summary, table = concept_correlation(model.W_p, labels, concepts, min_genes)
    summary["n_train_genes_with_go"] = summary.pop("n_genes")
    table = pd.DataFrame({"term_id": model.terms["term_id"].iloc[table["term"]].to_numpy(),
                          "name": model.terms["name"].iloc[table["term"]].to_numpy(),
                          "n_genes": table["n_genes"].to_numpy(), "spearman": table["spearman"].to_numpy()})
    summary["plausibility"] = homolog_plausibility_check(model)
    summary["concentration"] = summary["concentration_grouped"] = summary["deletion"] = None
    if dataset is not None:
        summary.update(_test_gene_evidence(model, dataset, split, max_deletion_genes))
    return summary, table


def _test_gene_evidence(model, dataset, split: str, max_deletion_genes: int | None) -> dict:
    """Concentration (per input term, and grouped by the most specific terms as explanations
    show them) and deletion check (on the grouped items) on the `split` test genes of
    `dataset` (own GO)."""
    from genepheno_core.embeddings import embed_sequences
    from genepheno_core.interpret.model_store import input_ancestors

    test = dataset.split_indices("test", split)
    genes = dataset.genes.iloc[test]
    sequences = genes["sequence"].tolist()
    embeddings = embed_sequences(sequences, model.encoder, cache=True) if model.uses_sequence else None
    go_ids = dataset.go_terms["go_id"].astype(str).tolist()
    go = sp.csr_matrix(dataset.go)[test]
    go_sets = [[go_ids[j] for j in go[i].indices] or None for i in range(go.shape[0])] if model.uses_go else None
    tensors = model.inputs(embeddings, go_sets, sequences)
    evidence = prediction_evidence(model.module, tensors)
    out = {"concentration": concentration(evidence), "concentration_grouped": None}
    ancestors = input_ancestors(model)
    if any(table is not None for table in ancestors.values()):
        # what an explanation shows: GO terms and homolog phenotypes by the most specific ones
        evidence = [group_evidence(ev, ancestors) for ev in evidence]
        out["concentration_grouped"] = concentration(evidence)
    rows = np.arange(len(evidence))
    if max_deletion_genes is not None and rows.size > max_deletion_genes:
        rows = np.sort(np.random.default_rng(0).permutation(rows.size)[:max_deletion_genes])
    idx = torch.as_tensor(rows)
    out["deletion"] = deletion_check(model.module, {k: v[idx] for k, v in tensors.items()}, [evidence[r] for r in rows])
    out["deletion"]["grouped"] = out["concentration_grouped"] is not None
    return out
