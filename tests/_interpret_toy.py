"""Test helper (not a test module): a tiny real-data dataset and a GenePheno model trained
on it, for the explain tests.

tests/data/explain/ holds 40 short human proteins of the hpo dataset (UniProt sequences),
10 of their HPO labels (propagated; `ancestors` = the proper ancestors within these 10),
15 GO terms (5 at depth 2 = the concepts, 10 finer ones = the GO inputs) and two
user-format exclusive pairs. The model uses the real UniRep-64 encoder so that residue
attributions run through UniRep as in the shipped model. Built once per pytest session.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

FIXTURES = Path(__file__).parent / "data" / "explain"


def _split(value: str) -> list[str]:
    return [v for v in str(value or "").split(";") if v]


class StubOntology:
    """ancestors() from the fixture's ancestor lists (what write_explain_extras needs)."""

    def __init__(self, table: pd.DataFrame, id_col: str):
        self._anc = {r[id_col]: set(_split(r["ancestors"])) for r in table.to_dict("records")}

    def ancestors(self, term, include_self=False):
        out = set(self._anc.get(term, set()))
        return out | {term} if include_self else out


def toy_dataset():
    from genepheno_core.datasets import Dataset

    genes = pd.read_csv(FIXTURES / "toy_genes.tsv", sep="\t", dtype=str, keep_default_na=False)
    terms = pd.read_csv(FIXTURES / "toy_terms.tsv", sep="\t", dtype=str, keep_default_na=False)
    go_terms = pd.read_csv(FIXTURES / "toy_go.tsv", sep="\t", dtype=str, keep_default_na=False)
    tid = {t: i for i, t in enumerate(terms["term_id"])}
    gid = {g: i for i, g in enumerate(go_terms["go_id"])}
    labels = np.zeros((len(genes), len(terms)), dtype=np.uint8)
    go = np.zeros((len(genes), len(go_terms)), dtype=np.uint8)
    for i, row in genes.iterrows():
        for t in _split(row["terms"]):
            labels[i, tid[t]] = 1
        for g in _split(row["go"]):
            go[i, gid[g]] = 1
    anc = np.zeros((len(terms), len(terms)), dtype=np.uint8)
    for i, row in terms.iterrows():
        for a in _split(row["ancestors"]):
            anc[i, tid[a]] = 1
    terms_out = pd.DataFrame({"term_id": terms["term_id"], "name": terms["name"],
                              "n_genes": labels.sum(axis=0).astype(int), "depth": terms["depth"].astype(int)})
    go_out = pd.DataFrame({"go_id": go_terms["go_id"], "name": go_terms["name"], "namespace": go_terms["namespace"],
                           "depth": go_terms["depth"].astype(int), "n_genes": go.sum(axis=0).astype(int)})
    ds = Dataset(name="toy", genes=genes[["gene_id", "symbol", "accession", "sequence"]].copy(),
                 labels=sp.csr_matrix(labels), terms=terms_out, term_ancestors=sp.csr_matrix(anc),
                 go=sp.csr_matrix(go), go_terms=go_out, splits=pd.DataFrame({"random": genes["split"]}), manifest={})
    return ds, StubOntology(terms, "term_id"), StubOntology(go_terms, "go_id")


def toy_go_reference():
    """(GoReference, GoClosure) for GO transfer: the toy genes' own proteins and GO ids (as
    IEA lines), and the fixture's GO ancestors: a protein given no GO gets the GO of its
    homologs among the toy proteins."""
    from genepheno_core.models import go_transfer as gt

    ds, _, go_ont = toy_dataset()
    go_ids = ds.go_terms["go_id"].astype(str).tolist()
    rows = [i for i in range(len(ds.genes)) if ds.go[i].nnz]
    acc = ds.genes["accession"].astype(str).to_numpy(dtype=object)
    table = pd.DataFrame([(acc[i], go_ids[j], "IEA", "") for i in rows for j in ds.go[i].indices],
                         columns=gt.ANNOTATION_COLUMNS)
    reference = gt.GoReference(acc[rows], ds.genes["sequence"].iloc[rows].tolist(),
                               np.array(["human"] * len(rows), dtype=object), table)
    closure = gt.GoClosure({g: g for g in go_ids}, {g: frozenset(go_ont.ancestors(g)) for g in go_ids})
    return reference, closure


def build_toy_model(out_dir: Path, encoder: str = "unirep64") -> Path:
    """Train the toy GenePheno model into out_dir (with explain/ extras); returns out_dir."""
    from genepheno_core.embeddings import embed_sequences
    from genepheno_core.interpret.model_store import write_explain_extras
    from genepheno_core.models.pairs import find_exclusive_pairs
    from genepheno_core.training import TrainConfig, train

    out_dir = Path(out_dir)
    if (out_dir / "explain" / "terms.tsv").exists():
        return out_dir
    ds, _, go_ont = toy_dataset()
    emb = embed_sequences(ds.genes["sequence"].tolist(), encoder, cache=False)
    config = TrainConfig(dataset="toy", encoder=encoder, max_epochs=4, min_epochs=1, patience=4, hidden=32,
                         n_layers=1, lambda_excl=0.0, concept_depth=2, concept_min_genes=1, go_min_genes=1,
                         batch_size=8, out_dir=str(out_dir), seed=0)
    train(config, dataset=ds, embeddings=emb)
    train_rows = ds.split_indices("train")
    pairs = find_exclusive_pairs(ds.terms["term_id"].tolist(), None, ds.labels[train_rows],
                                 user_tsv=FIXTURES / "toy_pairs.tsv")
    write_explain_extras(out_dir, ds, pairs=pairs, go_ontology=go_ont)
    return out_dir


def temp_home(tmp_path_factory) -> Path:
    """A GENEPHENO_HOME for the explain tests (embedding and DIAMOND caches)."""
    home = tmp_path_factory.getbasetemp() / "explain_home"
    home.mkdir(exist_ok=True)
    return home


def toy_model(tmp_path_factory):
    """The session's toy TrainedModel (built on first use, with GENEPHENO_HOME in a temp dir)."""
    import pytest

    from genepheno_core.interpret.model_store import resolve_model

    root = tmp_path_factory.getbasetemp() / "explain_toy_model"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GENEPHENO_HOME", str(temp_home(tmp_path_factory)))
        build_toy_model(root)
    return resolve_model(root)


def toy_genes() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "toy_genes.tsv", sep="\t", dtype=str, keep_default_na=False)


def toy_go_neighbours(model, n: int = 6, k: int = 4, alpha: float = 0.3, seed: int = 0):
    """A functional-neighbour reference (models.go_neighbours) for the toy model: `n` made-up
    training genes G0.. (symbols SYM0..) with random GO input bags and labels."""
    from genepheno_core.models.go_neighbours import GoNeighbours, idf_weights

    rng = np.random.default_rng(seed)
    bags = sp.csr_matrix((rng.random((n, len(model.go_inputs))) < 0.5).astype(np.float32))
    labels = sp.csr_matrix((rng.random((n, len(model.terms))) < 0.4).astype(np.float32))
    genes = pd.DataFrame({"gene_id": [f"G{i}" for i in range(n)], "symbol": [f"SYM{i}" for i in range(n)],
                          "accession": [f"P{i}" for i in range(n)]})
    return GoNeighbours(bags, labels, idf_weights(bags), genes, k=k, alpha=alpha)
