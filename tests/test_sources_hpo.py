"""HPO gene annotation files in the 2025 and 2020 layouts (+ gzip copies)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genepheno_core.errors import InputFormatError
from genepheno_core.sources.hpo import read_genes_to_phenotype, read_hpo_gene_annotations, read_phenotype_to_genes

DATA = Path(__file__).parent / "data" / "sources"
needs_mirror = pytest.mark.skipif(not os.environ.get("GENEPHENO_MIRROR"), reason="GENEPHENO_MIRROR not set")
NORMALISED = ["ncbi_gene_id", "gene_symbol", "hpo_id", "hpo_name", "disease_id"]


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_genes_to_phenotype_2025(suffix):
    frame = read_genes_to_phenotype(DATA / f"genes_to_phenotype_2025.txt{suffix}")
    assert frame[NORMALISED].values.tolist() == [
        ["10", "NAT2", "HP:0000007", "Autosomal recessive inheritance", "OMIM:243400"],
        ["16", "AARS1", "HP:0002460", "Distal muscle weakness", "OMIM:613287"],
        ["16", "AARS1", "HP:0008619", "Bilateral sensorineural hearing impairment", "ORPHA:33364"],
    ]
    assert list(frame["frequency"]) == ["-", "15/15", "HP:0040283"]


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_genes_to_phenotype_2020(suffix):
    frame = read_genes_to_phenotype(DATA / f"genes_to_phenotype_2020.txt{suffix}")
    assert frame[NORMALISED].values.tolist() == [
        ["8192", "CLPP", "HP:0000013", "Hypoplasia of the uterus", "OMIM:614129"],
        ["8192", "CLPP", "HP:0004322", "Short stature", "OMIM:614129"],
    ]
    assert list(frame["source"]) == ["mim2gene", "mim2gene"]


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_phenotype_to_genes_2025(suffix):
    frame = read_phenotype_to_genes(DATA / f"phenotype_to_genes_2025.txt{suffix}")
    assert frame[NORMALISED].values.tolist() == [
        ["8200", "GDF5", "HP:6001052", "Tibiotalar synostosis", "OMIM:200700"],
        ["6597", "SMARCA4", "HP:0000002", "Abnormality of body height", "ORPHA:1465"],
    ]


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_phenotype_to_genes_2020(suffix):
    frame = read_phenotype_to_genes(DATA / f"phenotype_to_genes_2020.txt{suffix}")
    assert frame[NORMALISED].values.tolist() == [
        ["6597", "SMARCA4", "HP:0000002", "Abnormality of body height", "ORPHA:1465"],
        ["83550", "GPR101", "HP:0000002", "Abnormality of body height", "OMIM:300942"],
    ]
    assert list(frame["source"]) == ["orphadata", "mim2gene"]


def test_same_columns_for_both_layouts():
    a = read_hpo_gene_annotations(DATA / "phenotype_to_genes_2020.txt")
    b = read_hpo_gene_annotations(DATA / "phenotype_to_genes_2025.txt")
    assert list(a.columns[:7]) == list(b.columns[:7])


def _bad(tmp_path, source, line_index, edit):
    lines = (DATA / source).read_text().splitlines()
    lines[line_index] = edit(lines[line_index])
    path = tmp_path / source
    path.write_text("\n".join(lines) + "\n")
    return path


def test_bad_hpo_id(tmp_path):
    path = _bad(tmp_path, "genes_to_phenotype_2025.txt", 2, lambda s: s.replace("HP:0002460", "HP:00024X0"))
    with pytest.raises(InputFormatError) as err:
        read_genes_to_phenotype(path)
    assert str(path) in str(err.value) and "line 3" in str(err.value) and "bad HPO id 'HP:00024X0'" in str(err.value)


def test_bad_gene_id(tmp_path):
    path = _bad(tmp_path, "phenotype_to_genes_2020.txt", 1, lambda s: s.replace("6597", "NA"))
    with pytest.raises(InputFormatError, match="line 2: bad NCBI gene id 'NA'"):
        read_phenotype_to_genes(path)


def test_wrong_column_count(tmp_path):
    path = _bad(tmp_path, "phenotype_to_genes_2025.txt", 2, lambda s: s + "\textra")
    with pytest.raises(InputFormatError, match="line 3: expected 5 tab-separated columns, found 6"):
        read_phenotype_to_genes(path)


def test_unrecognised_header(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("gene\tterm\nA\tB\n")
    with pytest.raises(InputFormatError, match="line 1: header lacks"):
        read_phenotype_to_genes(path)


@pytest.mark.integration
@needs_mirror
def test_mirror_hpo_gene_files():
    from genepheno_core.sources.registry import resource_path

    g2p = read_genes_to_phenotype(resource_path("hpo", "genes_to_phenotype.txt.gz"))
    assert len(g2p) == 316589 and g2p["ncbi_gene_id"].nunique() > 5000
    p2g = read_phenotype_to_genes(resource_path("hpo", "phenotype_to_genes.txt.gz"))
    assert len(p2g) == 1040432 and set(p2g["gene_symbol"]) >= {"TP53", "BRCA1"}
    p2g_old = read_phenotype_to_genes(resource_path("hpo", "phenotype_to_genes.txt.gz", release="2020-10-12"))
    assert len(p2g_old) == 919672
    assert p2g_old["hpo_id"].str.fullmatch(r"HP:\d{7}").all()


@pytest.mark.parametrize("name", ["phenotype_tiny.hpoa", "phenotype_tiny.hpoa.gz"])
def test_hpoa(name):
    from genepheno_core.sources.hpo import read_hpoa

    frame = read_hpoa(DATA / name)
    assert list(frame["hpo_id"]) == ["HP:0011097", "HP:0002187"]
    assert list(frame["negated"]) == [False, True]
    assert frame.attrs["metadata"]["version"] == "2025-01-16"
    assert frame["disease_id"].iloc[0] == "OMIM:619340"


def test_hpoa_bad_id(tmp_path):
    from genepheno_core.sources.hpo import read_hpoa

    path = tmp_path / "p.hpoa"
    path.write_text((DATA / "phenotype_tiny.hpoa").read_text().replace("HP:0002187", "HP:2187x"))
    with pytest.raises(InputFormatError, match="line 5: bad HPO id 'HP:2187x'"):
        read_hpoa(path)


@pytest.mark.integration
@needs_mirror
def test_mirror_hpoa_both_releases():
    from genepheno_core.sources.hpo import read_hpoa
    from genepheno_core.sources.registry import resource_path

    assert len(read_hpoa(resource_path("hpo", "phenotype.hpoa.gz"))) == 271702
    assert len(read_hpoa(resource_path("hpo", "phenotype.hpoa.gz", release="2020-10-12"))) == 209218


def test_header_naming_a_column_twice(tmp_path):
    path = tmp_path / "g2p.txt"
    path.write_text("ncbi_gene_id\tgene_symbol\thpo_id\tHPO-Term-ID\n1\ta\tHP:0000001\tHP:0000002\n")
    with pytest.raises(InputFormatError, match=r"line 1: header has column 'hpo_id' twice"):
        read_genes_to_phenotype(path)
