"""Dataset builders end to end on tiny hand-written fixtures (official formats), with
every expected count worked out by hand in the comments."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pandas as pd
import pytest

from genepheno_core.datasets import DatasetConfig, build_dataset, builders, load_dataset, save_dataset
from genepheno_core.errors import ChecksumError, GenePhenoError
from genepheno_core.sources import registry

NO_HOMOLOGY = DatasetConfig(min_genes=2, homology=False)
# the registry-reading method, kept before the fixture swaps in the fixture files
REGISTRY_INPUTS_PATH = builders._Inputs.path

# every test: the builders read tests/data/datasets, GENEPHENO_HOME is a temp dir (conftest.py)
pytestmark = pytest.mark.usefixtures("fixture_inputs")


def dense(matrix):
    return matrix.toarray().tolist()


def test_hpo_join_propagation_and_filters():
    ds = build_dataset("hpo", NO_HOMOLOGY)
    # 101 AAA1 -> P00001 (GOA symbol); 102, 103 likewise; 105 EEE5 has no GOA symbol
    # match (GOA says EEE5X) but NCBI gene 105 -> P00005 in the id mapping (Q00000 has
    # no sequence); 106 FFF6 has no protein; 104 only has an obsolete term and an
    # inheritance mode (outside Phenotypic abnormality) -> no labels.
    assert ds.genes["gene_id"].tolist() == ["NCBIGene:101", "NCBIGene:102", "NCBIGene:103", "NCBIGene:105"]
    assert ds.genes["accession"].tolist() == ["P00001", "P00002", "P00003", "P00005"]
    assert ds.genes["symbol"].tolist() == ["AAA1", "BBB2", "CCC3", "EEE5"]
    assert ds.genes["sequence"].iloc[3].startswith("MAHHHHHH")
    drops = ds.manifest["drops"]
    assert drops["genes_without_labels"] == 1
    assert drops["genes_without_protein"] == 1
    assert drops["genes_without_protein_no_accession"] == 1
    assert drops["genes_without_protein_accession_without_sequence"] == 0
    assert drops["annotations_outside_phenotypic_abnormality"] == 2
    # HP:0001249 reaches only gene 103 (< min_genes 2)
    assert drops["terms_below_min_genes"] == 1
    # alt_id HP:0002279 -> HP:0001250; obsolete HP:0000999 replaced by HP:0001627;
    # HP:0000998 obsolete without replacement (counted, not silently dropped)
    assert drops["label_remap"]["counts"] == {"alt_id": 1, "obsolete": 1, "ok": 7, "replaced": 1}
    assert ds.manifest["protein_mapping"] == {"entrez_idmapping": 1, "goa_symbol": 3}
    # roots (HP:0000001, HP:0000118) excluded; propagated to ancestors
    assert ds.terms["term_id"].tolist() == ["HP:0000707", "HP:0001250", "HP:0001626", "HP:0001627"]
    assert ds.terms["n_genes"].tolist() == [3, 2, 3, 3]
    assert ds.terms["depth"].tolist() == [2, 3, 2, 3]
    assert ds.terms["name"].iloc[1] == "Seizure"
    assert dense(ds.labels) == [[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 1]]
    assert ds.labels.dtype == np.uint8
    # term_ancestors[i, j] = 1: j proper ancestor of i within the vocabulary
    assert dense(ds.term_ancestors) == [[0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]]


def test_hpo_go_matrix_evidence_not_and_propagation():
    ds = build_dataset("hpo", NO_HOMOLOGY)
    # P00001: GO:0000003 IDA (+ancestors GO:0000002, GO:0008150); its IEA line is dropped,
    # and the AAA1 line of P99999 (no sequence) is ignored.
    # P00002: NOT GO:0000003 excluded; GO:0000005 IMP kept (+GO:0003674).
    # P00003: GO:0000008 HDA (+GO:0005575 over is_a). P00005: only IEA -> no GO.
    assert ds.go_terms["go_id"].tolist() == [
        "GO:0000002", "GO:0000003", "GO:0000005", "GO:0000008", "GO:0003674", "GO:0005575", "GO:0008150",
    ]
    assert dense(ds.go) == [
        [1, 1, 0, 0, 0, 0, 1],
        [0, 0, 1, 0, 1, 0, 0],
        [0, 0, 0, 1, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 0],
    ]
    assert ds.go_terms["namespace"].tolist()[:2] == ["biological_process"] * 2
    assert ds.go_terms["n_genes"].tolist() == [1, 1, 1, 1, 1, 1, 1]
    assert ds.manifest["go"]["gaf"]["not_qualified"] == 1
    assert ds.stats()["genes_with_go"] == 3

    no_mutant = build_dataset("hpo", NO_HOMOLOGY.replace(drop_imp_igi=True))
    assert "GO:0000005" not in no_mutant.go_terms["go_id"].tolist()
    assert no_mutant.go[1].nnz == 0

    part_of = build_dataset("hpo", NO_HOMOLOGY.replace(go_relations=("is_a", "part_of")))
    row = part_of.go[2].indices
    assert sorted(part_of.go_terms["go_id"].iloc[row]) == ["GO:0000007", "GO:0000008", "GO:0005575"]


def test_min_genes_changes_the_vocabulary():
    ds = build_dataset("hpo", NO_HOMOLOGY.replace(min_genes=3))
    assert ds.terms["term_id"].tolist() == ["HP:0000707", "HP:0001626", "HP:0001627"]
    ds1 = build_dataset("hpo", NO_HOMOLOGY.replace(min_genes=1))
    assert "HP:0001249" in ds1.terms["term_id"].tolist()


def test_mpo_single_gene_genotypes_and_no_abnormal_phenotype():
    ds = build_dataset("mpo", NO_HOMOLOGY)
    # MGI:1000001 Aaa1 and MGI:1000002 Bbb2 by GOA symbol; MGI:1000004 Ddd4 via the GOA
    # synonym (GOA symbol Ddd4new); MGI:1000005 has no symbol in the coordinate file;
    # MGI:1000003 Ccc3 only has MP:0002169 "no abnormal phenotype detected".
    assert ds.genes["gene_id"].tolist() == ["MGI:1000001", "MGI:1000002", "MGI:1000004"]
    assert ds.genes["accession"].tolist() == ["Q00001", "Q00002", "Q00004"]
    drops = ds.manifest["drops"]
    assert drops["multi_gene_genotypes"] == 1
    assert drops["annotations_multi_gene_genotypes"] == 1
    assert drops["annotations_no_abnormal_phenotype"] == 1
    assert drops["genes_only_no_abnormal_phenotype"] == 1
    assert drops["genes_without_symbol"] == 1
    assert drops["genes_without_protein"] == 1
    assert drops["label_remap"]["counts"] == {"alt_id": 1, "obsolete": 1, "ok": 4}
    assert ds.manifest["protein_mapping"] == {"goa_symbol": 2, "goa_synonym": 1}
    assert ds.terms["term_id"].tolist() == ["MP:0000266", "MP:0001764", "MP:0005376", "MP:0005385"]
    assert "MP:0002169" not in ds.terms["term_id"].tolist()
    assert dense(ds.labels) == [[1, 0, 0, 1], [1, 1, 1, 1], [0, 1, 1, 0]]
    assert dense(ds.term_ancestors) == [[0, 0, 0, 1], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    # Aaa1's only GO annotation is IMP: gone with --drop-imp-igi
    assert ds.go[0].nnz == 3
    assert build_dataset("mpo", NO_HOMOLOGY.replace(drop_imp_igi=True)).go[0].nnz == 0


@pytest.fixture
def gwas_inputs(fixture_inputs, monkeypatch):
    """The gwas builder reads tests/data/datasets/gwas_gt_stats.csv and efo_gwas.json (the
    other inputs: the shared fixtures). Worked out by hand for the default rules (p <= 5e-8,
    >= 1 study, propagated over is_a, terms on > half of the genes dropped):
    - APOE/APOC1 is not one symbol; CCC3-heart disease has no p-value (NA); BBB2-lipid
      (7.2) and BBB2-heart disease (6.0) miss 5e-8; BBB2-blood at 7.30102999566398 is
      p = 5e-8 exactly (15-digit -log10) and kept. 10 pairs left.
    - 7 traits: EFO:0000011/12/21 current, EFO:0000099 replaced by EFO:0000021,
      EFO:0000098 obsolete (replaced by a MONDO id outside the file), EFO:0000097 obsolete
      without replacement, HP:0001250 missing; EEE5X keeps no trait.
    - protein genes AAA1 (+ its alias A1, merged), BBB2, CCC3, DDD4 (ZZZ9 has none):
      measurement EFO:0000010 is on 4 of 4 (> half: dropped); blood measurement on
      AAA1, BBB2 and lipid measurement on CCC3, DDD4: 2 of 4 = half, kept.
    """
    registry_path = builders._Inputs.path  # the fixture_inputs version
    own = {"gwas": "gwas_gt_stats.csv", "efo": "efo_gwas.json"}

    def path(self, source, filename, release=None):
        found = registry_path(self, source, filename, release)
        return found.with_name(own[source]) if source in own else found

    monkeypatch.setattr(builders._Inputs, "path", path)


def test_gwas_pair_and_trait_rules(gwas_inputs):
    ds = build_dataset("gwas", NO_HOMOLOGY.replace(min_genes=1))
    drops = ds.manifest["drops"]
    assert {k: drops[k] for k in (
        "pairs_read", "pairs_with_unclean_symbol", "pairs_without_pvalue", "pairs_above_p_threshold",
        "pairs_below_min_studies", "pairs_kept", "traits", "traits_current", "traits_remapped", "traits_obsolete",
        "traits_obsolete_replacement_not_in_efo", "traits_missing_from_efo", "pairs_trait_not_in_efo",
        "genes_only_traits_not_in_efo", "terms_above_max_gene_fraction", "genes_without_protein",
        "genes_duplicate_accession",
    )} == {
        "pairs_read": 14, "pairs_with_unclean_symbol": 1, "pairs_without_pvalue": 1, "pairs_above_p_threshold": 2,
        "pairs_below_min_studies": 0, "pairs_kept": 10, "traits": 7, "traits_current": 3, "traits_remapped": 1,
        "traits_obsolete": 2, "traits_obsolete_replacement_not_in_efo": 1, "traits_missing_from_efo": 1,
        "pairs_trait_not_in_efo": 3, "genes_only_traits_not_in_efo": 1, "terms_above_max_gene_fraction": 1,
        "genes_without_protein": 1, "genes_duplicate_accession": 1,
    }
    assert ds.manifest["terms_above_max_gene_fraction"] == {"EFO:0000010": {"name": "measurement", "fraction": 1.0}}
    assert ds.genes["gene_id"].tolist() == ["AAA1", "BBB2", "CCC3", "DDD4"]
    # AAA1: blood (p 1e-9) + heart disease via obsolete EFO:0000099 and via its alias A1,
    # propagated to disease; the root and measurement are not labels
    assert ds.terms["term_id"].tolist() == ["EFO:0000011", "EFO:0000012", "EFO:0000020", "EFO:0000021"]
    assert ds.terms["name"].tolist() == ["blood measurement", "lipid measurement", "disease", "heart disease"]
    assert ds.terms["depth"].tolist() == [2, 2, 1, 2]
    assert dense(ds.labels) == [[1, 0, 1, 1], [1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0]]
    assert dense(ds.term_ancestors) == [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]]
    # min_genes (2) is _finish's rule: disease and heart disease are on AAA1 only
    assert build_dataset("gwas", NO_HOMOLOGY).terms["term_id"].tolist() == ["EFO:0000011", "EFO:0000012"]


def test_gwas_p_threshold_and_min_studies(gwas_inputs):
    # p <= 1e-8 (-log10 >= 8): BBB2's only pair left (p = 5e-8) goes; 8.0 exactly stays.
    # Of the 3 protein genes left, lipid measurement is now on 2 (CCC3, DDD4): > half,
    # dropped with measurement, so only AAA1 keeps labels
    strict = build_dataset("gwas", NO_HOMOLOGY.replace(min_genes=1, gwas_max_p=1e-8))
    assert strict.manifest["drops"]["pairs_above_p_threshold"] == 3
    assert sorted(strict.manifest["terms_above_max_gene_fraction"]) == ["EFO:0000010", "EFO:0000012"]
    assert strict.genes["gene_id"].tolist() == ["AAA1"]
    assert strict.manifest["drops"]["genes_without_labels"] == 2
    # >= 2 studies: AAA1-blood, DDD4-lipid, EEE5X-HP:0001250 (missing from EFO) are left;
    # measurement is on both protein genes (dropped), blood and lipid on one each
    replicated = build_dataset("gwas", NO_HOMOLOGY.replace(min_genes=1, gwas_min_studies=2))
    drops = replicated.manifest["drops"]
    assert (drops["pairs_below_min_studies"], drops["pairs_kept"], drops["traits"]) == (7, 3, 3)
    assert replicated.genes["gene_id"].tolist() == ["AAA1", "DDD4"]
    assert replicated.terms["term_id"].tolist() == ["EFO:0000011", "EFO:0000012"]
    assert dense(replicated.labels) == [[1, 0], [0, 1]]


def test_gwas_max_gene_fraction_and_flat_labels(gwas_inputs):
    # fraction 1.0: nothing is on more than all genes, measurement (4 of 4) stays
    everything = build_dataset("gwas", NO_HOMOLOGY.replace(min_genes=1, gwas_max_gene_fraction=1.0))
    assert everything.manifest["drops"]["terms_above_max_gene_fraction"] == 0
    assert everything.terms["term_id"].tolist()[:2] == ["EFO:0000010", "EFO:0000011"]
    assert everything.terms["n_genes"].tolist() == [4, 2, 2, 1, 1]
    # fraction 0.4: blood and lipid (2 of 4) go too; the disease terms are on AAA1 only
    fewer = build_dataset("gwas", NO_HOMOLOGY.replace(min_genes=1, gwas_max_gene_fraction=0.4))
    assert sorted(fewer.manifest["terms_above_max_gene_fraction"]) == ["EFO:0000010", "EFO:0000011", "EFO:0000012"]
    assert fewer.genes["gene_id"].tolist() == ["AAA1"]
    assert fewer.manifest["drops"]["genes_without_labels"] == 4  # BBB2, CCC3, DDD4 and ZZZ9 (no protein)
    # flat: the remapped traits themselves, no ancestors, depth from EFO
    flat = build_dataset("gwas", NO_HOMOLOGY.replace(min_genes=1, propagate_gwas=False))
    assert flat.terms["term_id"].tolist() == ["EFO:0000011", "EFO:0000012", "EFO:0000021"]
    assert flat.terms["depth"].tolist() == [2, 2, 2]
    assert dense(flat.labels) == [[1, 0, 1], [1, 0, 0], [0, 1, 0], [0, 1, 0]]
    assert flat.term_ancestors.nnz == 0
    assert flat.manifest["flat_labels"] is True


def test_hpo_temporal():
    ds = build_dataset("hpo-temporal", NO_HOMOLOGY)
    # 2020 genes 101-103 (104 only has inheritance terms); 2025 genes without any 2020
    # annotation: 105 (mapped) and 106 (no protein). 2020 HP:0000999 is obsolete in 2025
    # and replaced by HP:0001627; 2020 HP:0000998 is obsolete without replacement.
    assert ds.genes["gene_id"].tolist() == ["NCBIGene:101", "NCBIGene:102", "NCBIGene:103", "NCBIGene:105"]
    assert ds.splits["temporal"].tolist() == ["train", "train", "train", "test"]
    drops = ds.manifest["drops"]
    assert drops["training_terms_remapped_to_2025"] == {"obsolete": 1, "ok": 3, "replaced": 1}
    assert drops["training_terms_obsolete_without_replacement"] == 1
    assert drops["release_2025_genes_already_in_2020"] == 3
    assert ds.manifest["test_genes_candidates"] == 2
    assert ds.terms["term_id"].tolist() == ["HP:0000707", "HP:0001250", "HP:0001626", "HP:0001627"]
    # gene 103's 2020 labels: HP:0001626 + HP:0000999 -> HP:0001627 (2025 ids)
    assert dense(ds.labels) == [[1, 1, 0, 0], [1, 1, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]]
    assert set(ds.splits.columns) == {"random", "temporal"}


def test_unknown_dataset_name():
    with pytest.raises(GenePhenoError, match="unknown dataset"):
        build_dataset("cafa9")


def _files_digest(path, names):
    return {n: hashlib.sha256((path / n).read_bytes()).hexdigest() for n in names}


def test_build_twice_is_byte_identical_with_homology_split(tmp_path, monkeypatch):
    # DIAMOND itself is exercised in test_datasets_splits.py; here stubs link P00001 with
    # P00003 (rows 0 and 2) and report no residual hits.
    from genepheno_core.datasets import splits

    def fake_components(sequences, *args, **kwargs):
        return np.array([0 if i in (0, 2) else i for i in range(len(sequences))], dtype=np.int64)

    monkeypatch.setattr(splits, "local_homology_components", fake_components)
    monkeypatch.setattr(splits, "_held_out_hits", lambda *a, **k: splits.linking_hits(
        pd.DataFrame({"query": [], "target": [], "identity": [], "length": []})))
    monkeypatch.setattr(builders, "residual_similarity", lambda ids, seqs, parts, *a: {"parts": list(map(str, parts))})
    config = DatasetConfig(min_genes=2)
    first = save_dataset(build_dataset("hpo", config), tmp_path / "one")
    second = save_dataset(build_dataset("hpo", config), tmp_path / "two")
    names = ["labels.indptr.npy", "labels.indices.npy", "splits.tsv", "genes.tsv", "terms.tsv",
             "go.indptr.npy", "go.indices.npy", "term_ancestors.indices.npy"]
    assert _files_digest(first, names) == _files_digest(second, names)
    ds = load_dataset(first)
    assert set(ds.splits.columns) == {"random", "homology"}
    assert ds.manifest["homology_clusters"] == 3
    parts = ds.splits["homology"].tolist()
    assert parts[0] == parts[2]  # P00001 and P00003 share a cluster -> same part
    assert ds.manifest["homology_components"]["clusters"] == 3
    # the residual similarity of every split column is recorded for `data stats`
    assert ds.manifest["residual_similarity"]["homology"] == {"parts": parts}
    assert set(ds.manifest["residual_similarity"]) == {"random", "homology"}


# ---------------------------------------------------------------- input hashes in manifests

GOOD = b"gene\tterm\n1\tHP:0000001\n2\tHP:0000002\n"


@pytest.fixture
def tmp_mirror(tmp_path, monkeypatch):
    """A one-source registry served from a tmp mirror: pinned.tsv (pinned) and current.tsv."""
    mirror = tmp_path / "mirror"
    (mirror / "toy" / "1").mkdir(parents=True)
    (mirror / "toy" / "1" / "pinned.tsv").write_bytes(GOOD)
    (mirror / "toy" / "1" / "current.tsv").write_bytes(GOOD)
    entries = (
        registry.Resource("toy", "1", "pinned.tsv", None, hashlib.sha256(GOOD).hexdigest(), "CC0", downloadable=False),
        registry.Resource("toy", "1", "current.tsv", None, None, "CC0", downloadable=False),
    )
    monkeypatch.setattr(registry, "RESOURCES", entries)
    monkeypatch.setattr(registry, "DEFAULT_RELEASES", {"toy": "1"})
    monkeypatch.setenv("GENEPHENO_MIRROR", str(mirror))
    return mirror / "toy" / "1"


def _tamper_keeping_size_and_mtime(path, data: bytes) -> None:
    stat = path.stat()
    assert len(data) == stat.st_size
    path.write_bytes(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _recorded(name):
    inputs = builders._Inputs()
    path = REGISTRY_INPUTS_PATH(inputs, "toy", name)
    (entry,) = inputs.files
    return path, entry


def test_manifest_records_the_hash_of_the_bytes_read(tmp_mirror):
    path, entry = _recorded("current.tsv")
    assert entry["sha256"] == hashlib.sha256(GOOD).hexdigest() and not entry["pinned"]
    changed = GOOD.replace(b"HP:0000002", b"HP:0000003")
    _tamper_keeping_size_and_mtime(path, changed)
    # a new build: the manifest holds the hash of what is read now, not a remembered one
    assert _recorded("current.tsv")[1]["sha256"] == hashlib.sha256(changed).hexdigest()


def test_tampered_pinned_input_stops_the_build(tmp_mirror):
    path, entry = _recorded("pinned.tsv")
    assert entry["sha256"] == hashlib.sha256(GOOD).hexdigest() and entry["pinned"]
    # a third of the lines removed, padded back to the same size, mtime restored
    tampered = GOOD.replace(b"2\tHP:0000002\n", b"")
    tampered += b" " * (len(GOOD) - len(tampered))
    _tamper_keeping_size_and_mtime(path, tampered)
    with pytest.raises(ChecksumError) as err:
        _recorded("pinned.tsv")
    assert err.value.actual == hashlib.sha256(tampered).hexdigest()
