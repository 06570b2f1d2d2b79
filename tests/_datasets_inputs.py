"""Test helper (not a test module): point the dataset builders at the tiny fixtures in
tests/data/datasets instead of the registry (registry files are checksum-pinned)."""

from __future__ import annotations

from pathlib import Path

from genepheno_core.datasets import builders

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
