"""Test helpers (not a test module) for the datasets tests: point the dataset builders at the
tiny fixtures in tests/data/datasets instead of the registry (registry files are
checksum-pinned), and a hand-written three-gene Dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from genepheno_core.datasets import Dataset, builders

FIXTURES = Path(__file__).parent / "data" / "datasets"

FILES = {
    ("hpo", "genes_to_phenotype.txt.gz", "2025-01-16"): "genes_to_phenotype.txt",
    ("hpo", "hp.obo.gz", "2025-01-16"): "hp_2025.obo",
    ("hpo", "hp.obo.gz", "2020-10-12"): "hp_2020.obo",
    ("hpo", "phenotype_to_genes.txt.gz", "2020-10-12"): "phenotype_to_genes_2020.txt",
    ("uniprot", "swissprot_human.fasta.gz", None): "swissprot_human.fasta",
    ("uniprot", "swissprot_mouse.fasta.gz", None): "swissprot_mouse.fasta",
    ("goa", "goa_human.gaf.gz", None): "goa_human.gaf",
    ("goa", "goa_mouse.gaf.gz", None): "goa_mouse.gaf",
    ("idmapping", "entrez_uniprot.tsv.gz", None): "entrez_uniprot.tsv",
    ("go", "go.obo.gz", None): "go.obo",
    ("mp", "mp.obo.gz", None): "mp.obo",
    ("mgi", "MGI_GenePheno.rpt.gz", None): "MGI_GenePheno.rpt",
    ("mgi", "MGI_Gene_Model_Coord.rpt.gz", None): "MGI_Gene_Model_Coord.rpt",
    ("gwas", "gt_stats.csv.gz", None): "gt_stats.csv",
    ("efo", "EFO-ontology-v3.90.0.json.zst", None): "efo.json",
}


def use_fixture_inputs(monkeypatch) -> None:
    """Monkeypatch builders._Inputs.path to serve the fixture files."""

    def fake_path(self, source, filename, release=None):
        name = FILES.get((source, filename, release)) or FILES[(source, filename, None)]
        self.files.append(
            {"source": source, "release": release or "fixture", "filename": filename,
             "sha256": "fixture", "pinned": False, "licence": "test fixture"}
        )
        return FIXTURES / name

    monkeypatch.setattr(builders._Inputs, "path", fake_path)


def three_gene_dataset(name: str = "tiny") -> Dataset:
    """3 genes x 3 terms, 2 GO terms, random and homology splits (counts in test_datasets_stats)."""
    genes = pd.DataFrame(
        {"gene_id": ["g1", "g2", "g3"], "symbol": ["A", "B", "C"], "accession": ["P1", "P2", "P3"],
         "sequence": ["MKV", "MAA", "MST"]}
    )
    labels = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [0, 0, 1]], dtype=np.uint8))
    terms = pd.DataFrame({"term_id": ["T:1", "T:2", "T:3"], "name": ["root-ish", "child 'quoted'", 'other "x"'],
                          "n_genes": [2, 1, 2], "depth": [1, 2, 1]})
    ancestors = sp.csr_matrix(np.array([[0, 0, 0], [1, 0, 0], [0, 0, 0]], dtype=np.uint8))
    go = sp.csr_matrix(np.array([[1, 0], [0, 0], [1, 1]], dtype=np.uint8))
    go_terms = pd.DataFrame({"go_id": ["GO:1", "GO:2"], "name": ["a", "b"], "namespace": ["bp", "mf"],
                             "depth": [0, 1], "n_genes": [2, 1]})
    splits = pd.DataFrame({"random": ["train", "valid", "test"], "homology": ["train", "train", "test"]})
    return Dataset(name, genes, labels, terms, ancestors, go, go_terms, splits, {"config": {"min_genes": 1}})
