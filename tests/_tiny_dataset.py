"""A tiny synthetic Dataset (the fields of genepheno_core.datasets.Dataset) for model tests.

90 genes in 3 protein families: members of a family are 15 %-mutated copies of one random
ancestor sequence and share phenotypes (HPO-like terms of tiny_hp.obo) and GO terms, so
sequence, homology and GO inputs all carry signal. ~20 % of genes have no GO annotation.
A test helper (not a test module), imported by name: tests/ is on sys.path (conftest.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

FIXTURES = Path(__file__).parent / "data" / "models"
OBO = FIXTURES / "tiny_hp.obo"
GO_OBO = FIXTURES / "tiny_go.obo"  # the GO dict below in the OBO format
AMINO = "ACDEFGHIKLMNPQRSTVWY"

FAMILY_PHENOTYPES = [
    ["HP:0000252", "HP:0001250", "HP:0000276"],  # microcephaly, seizure, long face
    ["HP:0000256", "HP:0003074"],  # macrocephaly, hyperglycemia
    ["HP:0001943", "HP:0004324", "HP:0011219"],  # hypoglycemia, increased weight, brachyfacia
]
# GO: id -> (name, namespace, depth, parents)
GO = {
    "GO:0008150": ("biological_process", "biological_process", 0, []),
    "GO:0009987": ("cellular process", "biological_process", 1, ["GO:0008150"]),
    "GO:0008152": ("metabolic process", "biological_process", 1, ["GO:0008150"]),
    "GO:0007154": ("cell communication", "biological_process", 2, ["GO:0009987"]),
    "GO:0044237": ("cellular metabolic process", "biological_process", 2, ["GO:0009987", "GO:0008152"]),
    "GO:0044238": ("primary metabolic process", "biological_process", 2, ["GO:0008152"]),
    "GO:0007267": ("cell-cell signaling", "biological_process", 3, ["GO:0007154"]),
    "GO:0006006": ("glucose metabolic process", "biological_process", 3, ["GO:0044237", "GO:0044238"]),
    "GO:0006629": ("lipid metabolic process", "biological_process", 3, ["GO:0044238"]),
    "GO:0007268": ("chemical synaptic transmission", "biological_process", 4, ["GO:0007267"]),
    "GO:0003674": ("molecular_function", "molecular_function", 0, []),
    "GO:0005488": ("binding", "molecular_function", 1, ["GO:0003674"]),
    "GO:0005515": ("protein binding", "molecular_function", 2, ["GO:0005488"]),
    "GO:0005102": ("signaling receptor binding", "molecular_function", 3, ["GO:0005515"]),
}
FAMILY_GO = [["GO:0007268", "GO:0005102"], ["GO:0006006"], ["GO:0006629", "GO:0006006", "GO:0005102"]]


@dataclass
class TinyDataset:
    name: str
    genes: pd.DataFrame
    labels: sp.csr_matrix
    terms: pd.DataFrame
    term_ancestors: sp.csr_matrix
    go: sp.csr_matrix
    go_terms: pd.DataFrame
    splits: pd.DataFrame
    manifest: dict = field(default_factory=dict)

    def label_ontology(self):
        from genepheno_core.ontology import load_ontology

        return load_ontology(OBO)

    def go_ontology(self):
        from genepheno_core.ontology import load_ontology

        return load_ontology(GO_OBO)


def _go_ancestors(term: str) -> set[str]:
    out = {term}
    for parent in GO[term][3]:
        out |= _go_ancestors(parent)
    return out


def make_tiny_dataset(n_per_family: int = 30, seed: int = 0) -> TinyDataset:
    from genepheno_core.ontology import load_ontology

    rng = np.random.default_rng(seed)
    ont = load_ontology(OBO)
    root = "HP:0000118"
    term_ids = sorted(t for t in ont.terms if t != root)
    col = {t: j for j, t in enumerate(term_ids)}
    go_ids = list(GO)
    go_col = {g: j for j, g in enumerate(go_ids)}
    genes, label_rows, go_rows = [], [], []
    for fam, phenos in enumerate(FAMILY_PHENOTYPES):
        ancestor = rng.choice(list(AMINO), size=150)
        for m in range(n_per_family):
            seq = ancestor.copy()
            mutate = rng.random(seq.size) < 0.15
            seq[mutate] = rng.choice(list(AMINO), size=int(mutate.sum()))
            gid = f"G{fam}{m:03d}"
            genes.append((gid, f"SYM{fam}{m}", f"P{fam}{m:04d}", "M" + "".join(seq)))
            leaves = [p for p in phenos if rng.random() < 0.85]
            if rng.random() < 0.3:
                leaves.append(str(rng.choice(term_ids)))
            terms = set()
            for leaf in leaves:
                terms |= (ont.ancestors(leaf, include_self=True) - {root})
            label_rows.append(sorted(col[t] for t in terms))
            gos = set()
            if rng.random() > 0.2:
                for g in FAMILY_GO[fam]:
                    if rng.random() < 0.9:
                        gos |= _go_ancestors(g)
            go_rows.append(sorted(go_col[g] for g in gos))
    n = len(genes)

    def csr(rows, width):
        indptr = np.cumsum([0] + [len(r) for r in rows])
        indices = np.array([j for r in rows for j in r], dtype=np.int64)
        return sp.csr_matrix((np.ones(indices.size, dtype=np.uint8), indices, indptr), shape=(n, width))

    labels = csr(label_rows, len(term_ids))
    go = csr(go_rows, len(go_ids))
    anc = sp.lil_matrix((len(term_ids), len(term_ids)), dtype=np.uint8)
    for t in term_ids:
        for a in ont.ancestors(t) - {root}:
            anc[col[t], col[a]] = 1
    order = rng.permutation(n)
    split = np.empty(n, dtype=object)
    split[order[: int(0.6 * n)]] = "train"
    split[order[int(0.6 * n): int(0.8 * n)]] = "valid"
    split[order[int(0.8 * n):]] = "test"
    return TinyDataset(
        name="tiny",
        genes=pd.DataFrame(genes, columns=["gene_id", "symbol", "accession", "sequence"]),
        labels=labels,
        terms=pd.DataFrame({
            "term_id": term_ids,
            "name": [ont.name(t) for t in term_ids],
            "n_genes": np.asarray(labels.sum(axis=0)).ravel(),
            "depth": [ont.depth(t) for t in term_ids],
        }),
        term_ancestors=anc.tocsr(),
        go=go,
        go_terms=pd.DataFrame({
            "go_id": go_ids,
            "name": [GO[g][0] for g in go_ids],
            "namespace": [GO[g][1] for g in go_ids],
            "depth": [GO[g][2] for g in go_ids],
            "n_genes": np.asarray(go.sum(axis=0)).ravel(),
        }),
        splits=pd.DataFrame({"random": split, "homology": split}),
        manifest={"name": "tiny", "fixture": "tests/_tiny_dataset.py", "seed": seed},
    )


def family_embeddings(ds: TinyDataset, dim: int = 16, seed: int = 0) -> np.ndarray:
    """Noisy per-family vectors standing in for PLM embeddings (n, dim) float32."""
    rng = np.random.default_rng(seed + 1)
    centres = rng.normal(size=(3, dim))
    fam = ds.genes["gene_id"].str[1].astype(int).to_numpy()
    return (centres[fam] + 0.5 * rng.normal(size=(len(fam), dim))).astype(np.float32)


def make_tiny_other_species(ds: TinyDataset, n_per_family: int = 8, seed: int = 5) -> TinyDataset:
    """The "other species" of `ds` for the cross-species input: for each family, copies of
    its first `n_per_family` genes mutated at 20 % (so DIAMOND finds them as homologs), with
    the family's phenotypes (all of them, propagated) as labels and no GO or splits."""
    from genepheno_core.ontology import load_ontology

    rng = np.random.default_rng(seed)
    ont = load_ontology(OBO)
    root = "HP:0000118"
    term_ids = ds.terms["term_id"].tolist()
    col = {t: j for j, t in enumerate(term_ids)}
    genes, rows = [], []
    fam_of = ds.genes["gene_id"].str[1].astype(int).to_numpy()
    for fam, phenos in enumerate(FAMILY_PHENOTYPES):
        for i in np.flatnonzero(fam_of == fam)[:n_per_family]:
            seq = np.array(list(ds.genes["sequence"].iloc[i]))
            mutate = rng.random(seq.size) < 0.2
            mutate[0] = False  # keep the start methionine
            seq[mutate] = rng.choice(list(AMINO), size=int(mutate.sum()))
            genes.append((f"O{fam}{len(genes):03d}", f"Osym{len(genes)}", f"Q{fam}{len(genes):04d}", "".join(seq)))
            terms = set()
            for leaf in phenos:
                terms |= ont.ancestors(leaf, include_self=True) - {root}
            rows.append(sorted(col[t] for t in terms))
    n = len(genes)
    indptr = np.cumsum([0] + [len(r) for r in rows])
    indices = np.array([j for r in rows for j in r], dtype=np.int64)
    labels = sp.csr_matrix((np.ones(indices.size, dtype=np.uint8), indices, indptr), shape=(n, len(term_ids)))
    return TinyDataset(
        name="tiny-other", genes=pd.DataFrame(genes, columns=["gene_id", "symbol", "accession", "sequence"]),
        labels=labels, terms=ds.terms.copy(), term_ancestors=ds.term_ancestors, go=sp.csr_matrix((n, 0)),
        go_terms=ds.go_terms.iloc[:0].copy(), splits=pd.DataFrame(index=range(n)),
        manifest={"name": "tiny-other", "fixture": "tests/_tiny_dataset.py"})


def train_tiny_cross_species(out_dir, **overrides):
    """Train GenePheno on the tiny dataset with `make_tiny_other_species` as the other
    species (the dataset loader is patched to return it). Needs DIAMOND and a temporary
    GENEPHENO_HOME (DIAMOND databases are cached there). Returns (path, ds, emb, other)."""
    from unittest import mock

    from genepheno_core.training import TrainConfig, train

    ds = make_tiny_dataset()
    emb = family_embeddings(ds)
    other = make_tiny_other_species(ds)
    base = dict(dataset="tiny", encoder="family16", hidden=16, lr=1e-2, batch_size=16, max_epochs=4,
                concept_min_genes=5, go_min_genes=2, cross_species="tiny-other", go_term_rank=4, ortholog_rank=4,
                out_dir=str(out_dir))
    base.update(overrides)
    with mock.patch("genepheno_core.datasets.load_labels_dataset", return_value=other):
        path = train(TrainConfig(**base), ds, embeddings=emb)
    return path, ds, emb, other
