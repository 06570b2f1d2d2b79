"""Build every benchmark dataset from the data mirror (GENEPHENO_MIRROR) and check counts,
splits and determinism. The artifacts are built once per test session into a temporary
GENEPHENO_HOME (session-scoped fixture) so the whole module takes a few minutes.

Only hpo is built with the (slow: an all-vs-all DIAMOND search) homology split, twice: the
second build must be byte-identical and reuses the cached search. The others skip it.
"""

from __future__ import annotations

import hashlib
import os
import shutil

import numpy as np
import pytest

from genepheno_core.datasets import DatasetConfig, build_dataset, load_dataset, save_dataset

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.environ.get("GENEPHENO_MIRROR"), reason="GENEPHENO_MIRROR not set"),
]

# plausible ranges around the counts in the mirror README (mpo 8,225 genes, hpo 4,895) and
# what these builds measured (gwas: 4,394 genes, 267 terms after the p <= 5e-8 filter, the
# EFO remap and propagation)
RANGES = {
    "mpo": {"genes": (7500, 8800), "terms": (3000, 6000)},
    "hpo": {"genes": (4500, 5400), "terms": (3500, 6500)},
    "gwas": {"genes": (3500, 5500), "terms": (150, 450)},
    "hpo-temporal": {"genes": (4000, 5400), "terms": (3000, 6500)},
}


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """{name: (Dataset loaded back from disk, artifact dir)}, built into a temporary home."""
    home = tmp_path_factory.mktemp("genepheno_home")
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GENEPHENO_HOME", str(home))
        for name in ("hpo", "mpo", "gwas", "hpo-temporal"):
            homology = name == "hpo" and shutil.which("diamond") is not None
            ds = build_dataset(name, DatasetConfig(homology=homology))
            path = save_dataset(ds)
            out[name] = (load_dataset(path), path)
        if shutil.which("diamond") is not None:
            again = build_dataset("hpo", DatasetConfig())
            out["hpo-again"] = (again, save_dataset(again, home / "hpo-again"))
        out["_home"] = home
    return out


@pytest.mark.parametrize("name", ["mpo", "hpo", "gwas", "hpo-temporal"])
def test_counts_in_plausible_ranges(built, name):
    ds, _ = built[name]
    stats = ds.stats()
    low, high = RANGES[name]["genes"]
    assert low <= stats["genes"] <= high
    low, high = RANGES[name]["terms"]
    assert low <= stats["terms"] <= high
    assert ds.terms["n_genes"].min() >= 11
    # every kept gene has a label, a sequence and a unique accession
    assert (np.diff(ds.labels.indptr) > 0).all()
    assert ds.genes["sequence"].str.len().min() > 0
    assert ds.genes["accession"].is_unique and ds.genes["gene_id"].is_unique
    assert stats["go_coverage"] > 0.6
    drops = ds.manifest["drops"]
    assert drops["genes_without_protein"] >= 0 and "terms_below_min_genes" in drops
    assert all(entry["sha256"] and len(entry["sha256"]) == 64 for entry in ds.manifest["inputs"])


@pytest.mark.parametrize("name", ["mpo", "hpo"])
def test_labels_are_closed_under_ancestors_and_roots_excluded(built, name):
    ds, _ = built[name]
    labels = ds.labels.astype(np.int32)
    implied = (labels @ ds.term_ancestors.astype(np.int32)).minimum(1)
    assert (implied - labels).max() <= 0
    terms = set(ds.terms["term_id"])
    assert not terms & {"HP:0000001", "HP:0000118", "MP:0000001", "MP:0002169"}
    assert ds.term_ancestors.nnz > ds.n_terms  # a real hierarchy


def test_hpo_terms_are_under_phenotypic_abnormality(built):
    ds, _ = built["hpo"]
    onto = ds.label_ontology()
    allowed = onto.descendants("HP:0000118")
    assert set(ds.terms["term_id"]) <= allowed


@pytest.mark.parametrize("name", ["mpo", "hpo", "gwas", "hpo-temporal"])
def test_random_split_sizes(built, name):
    ds, _ = built[name]
    counts = ds.splits["random"].value_counts()
    n = ds.n_genes
    assert abs(counts["valid"] - 0.1 * n) <= 1 and abs(counts["test"] - 0.1 * n) <= 1


@pytest.mark.skipif(shutil.which("diamond") is None, reason="DIAMOND not installed")
def test_homology_split_leaves_no_local_hit_to_training(built):
    ds, _ = built["hpo"]
    counts = ds.splits["homology"].value_counts()
    n = ds.n_genes
    assert abs(counts["test"] - 0.1 * n) <= 0.03 * n
    assert abs(counts["valid"] - 0.1 * n) <= 0.03 * n
    residual = ds.manifest["residual_similarity"]
    # the rule: no valid/test protein with a local alignment of >= 30 % identity over >= 50
    # residues to a training protein; the random split has plenty (~60 % of its test genes)
    assert residual["homology"]["test"]["linked"] == 0 and residual["homology"]["valid"]["linked"] == 0
    assert residual["random"]["test"]["linked"] > 0.3
    assert ds.manifest["homology_components"]["largest"] > 1


@pytest.mark.skipif(shutil.which("diamond") is None, reason="DIAMOND not installed")
def test_rebuild_is_byte_identical(built):
    _, first = built["hpo"]
    _, second = built["hpo-again"]
    for name in ("labels.indptr.npy", "labels.indices.npy", "splits.tsv", "genes.tsv", "terms.tsv",
                 "go.indices.npy", "term_ancestors.indices.npy"):
        assert hashlib.sha256((first / name).read_bytes()).digest() == \
            hashlib.sha256((second / name).read_bytes()).digest(), name


def test_hpo_temporal_test_genes_are_new(built):
    ds, _ = built["hpo-temporal"]
    from genepheno_core.sources.hpo import read_phenotype_to_genes
    from genepheno_core.sources.registry import resource_path

    old = read_phenotype_to_genes(resource_path("hpo", "phenotype_to_genes.txt.gz", "2020-10-12"))
    old_ids = set("NCBIGene:" + old["ncbi_gene_id"].astype(str))
    temporal = ds.splits["temporal"]
    test_genes = set(ds.genes.loc[temporal == "test", "gene_id"])
    assert 300 <= len(test_genes) <= 1500
    assert not test_genes & old_ids
    assert set(ds.genes.loc[temporal != "test", "gene_id"]) <= old_ids
    valid_share = (temporal == "valid").sum() / (temporal != "test").sum()
    assert abs(valid_share - 0.1) < 0.01


def test_gwas_is_propagated_over_efo_and_counts_its_drops(built):
    ds, _ = built["gwas"]
    assert ds.term_ancestors.nnz > 0  # propagated over is_a
    assert ds.terms["term_id"].str.startswith("EFO:").all()
    # labels are closed under the ancestor matrix: a gene with a term has its ancestors
    labels = ds.labels.toarray().astype(bool)
    implied = (ds.labels @ ds.term_ancestors).toarray() > 0
    assert not (implied & ~labels).any()
    # no term on more than half of the genes; every filter step is counted
    assert labels.mean(axis=0).max() <= 0.5
    drops = ds.manifest["drops"]
    assert drops["pairs_above_p_threshold"] > 0 and drops["terms_above_max_gene_fraction"] >= 1
