"""GWAS gene-trait tables: TIGA gt_stats.csv and the official GWAS Catalog associations TSV."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from genepheno_core.errors import InputFormatError
import pandas as pd

from genepheno_core.sources.gwas import (
    genome_wide_significant,
    read_gwas_catalog_associations,
    read_tiga_gene_trait,
    trait_uri_to_id,
)

DATA = Path(__file__).parent / "data" / "sources"
needs_mirror = pytest.mark.skipif(not os.environ.get("GENEPHENO_MIRROR"), reason="GENEPHENO_MIRROR not set")


def test_trait_uri_to_id():
    assert trait_uri_to_id("http://www.ebi.ac.uk/efo/EFO_0007789") == "EFO:0007789"
    assert trait_uri_to_id("http://purl.obolibrary.org/obo/MONDO_0005090") == "MONDO:0005090"
    assert trait_uri_to_id("http://www.orpha.net/ORDO/Orphanet_1020") == "Orphanet:1020"
    assert trait_uri_to_id("http://purl.obolibrary.org/obo/HP_0001513 ") == "HP:0001513"
    assert trait_uri_to_id("http://example.org/trait") is None


@pytest.mark.parametrize("name", ["gt_stats_tiny.csv", "gt_stats_tiny.csv.gz"])
def test_tiga(name):
    frame = read_tiga_gene_trait(DATA / name)
    assert list(frame["gene_symbol"]) == ["TSEN15", "APOE", "APOE/APOC1", "FTO"]  # leading space stripped
    assert list(frame["trait_id"]) == ["EFO:0007789", "EFO:0000249", "Orphanet:1020", "HP:0001513"]
    assert list(frame["n_study"]) == [1, 12, 1, 3]
    assert list(frame["clean_symbol"]) == [True, True, False, True]
    assert frame["pvalue_mlog_median"].iloc[1] == pytest.approx(25.5)
    assert frame["or_median"].isna().tolist() == [True, False, True, False]  # "NA" -> missing
    assert frame["trait_name"].iloc[2] == "Alzheimer disease, familial"  # quoted comma kept


def test_tiga_errors(tmp_path):
    lines = (DATA / "gt_stats_tiny.csv").read_text().splitlines()
    path = tmp_path / "gt.csv"
    path.write_text("\n".join(lines[:2] + [lines[2].replace("EFO_0000249", "trait")]) + "\n")
    with pytest.raises(InputFormatError, match="line 3: trait URI 'http://www.ebi.ac.uk/efo/trait' has no ontology id"):
        read_tiga_gene_trait(path)
    path.write_text("\n".join(lines[:3] + [lines[3].replace(",1,1,1,3,", ",x,1,1,3,")]) + "\n")
    with pytest.raises(InputFormatError, match="line 4: bad n_study value 'x'"):
        read_tiga_gene_trait(path)
    path.write_text('"gene","trait"\n"A","B"\n')
    with pytest.raises(InputFormatError, match="missing columns"):
        read_tiga_gene_trait(path)


def test_genome_wide_significant():
    # TIGA's 15-digit -log10(5e-8) is just below the float -log10(5e-8): still p <= 5e-8
    mlog = pd.Series([7.30102999566398, 7.3010299, 25.5, None, 5.0], dtype="Float64")
    assert genome_wide_significant(mlog, 5e-8).tolist() == [True, False, True, False, False]
    assert genome_wide_significant(mlog, 1e-5).tolist() == [True, True, True, False, True]
    # on the reader's output: TSEN15 11.4, APOE 25.5, FTO 9.1 pass 1e-9; APOE/APOC1's 7.2 does not
    frame = read_tiga_gene_trait(DATA / "gt_stats_tiny.csv")
    assert genome_wide_significant(frame["pvalue_mlog_median"], 1e-9).tolist() == [True, True, False, True]
    with pytest.raises(ValueError, match="max_p"):
        genome_wide_significant(mlog, 0.0)


@pytest.mark.parametrize("name", ["gwas_catalog_associations_tiny.tsv", "gwas_catalog_associations_tiny.tsv.gz"])
def test_catalog_mapped_genes(name):
    frame = read_gwas_catalog_associations(DATA / name)
    rows = frame[["gene_symbol", "trait_id", "n_study", "n_snp"]].values.tolist()
    assert rows == [["APOE", "EFO:0000249", 2, 2], ["FTO", "EFO:0004340", 1, 1], ["TOMM40", "EFO:0000249", 1, 1]]
    apoe = frame.iloc[0]
    assert apoe["pvalue_mlog_median"] == pytest.approx((50 + -math.log10(2e-20)) / 2)
    assert apoe["or_median"] == pytest.approx(2.15)
    assert apoe["trait_name"] == "Alzheimer disease"
    assert frame["or_median"].isna().tolist() == [False, True, False]


def test_catalog_options():
    path = DATA / "gwas_catalog_associations_tiny.tsv"
    with_intergenic = read_gwas_catalog_associations(path, intergenic=True)
    extra = with_intergenic[with_intergenic["gene_symbol"].isin(["LINC01", "GENE2"])]
    assert sorted(map(tuple, extra[["gene_symbol", "trait_id", "trait_name"]].values.tolist())) == [
        ("GENE2", "EFO:0004340", "body mass index"),
        ("GENE2", "EFO:0004342", "waist circumference"),
        ("LINC01", "EFO:0004340", "body mass index"),
        ("LINC01", "EFO:0004342", "waist circumference"),
    ]
    strict = read_gwas_catalog_associations(path, max_pvalue=1e-15)
    assert sorted(strict["gene_symbol"]) == ["APOE", "TOMM40"]
    reported = read_gwas_catalog_associations(path, gene_column="REPORTED GENE(S)", intergenic=True)
    assert sorted(reported["gene_symbol"]) == ["APOE", "FTO", "TOMM40"]  # "NR" gives no gene


def test_catalog_errors(tmp_path):
    lines = (DATA / "gwas_catalog_associations_tiny.tsv").read_text().splitlines()
    path = tmp_path / "assoc.tsv"
    path.write_text("\n".join(lines[:2] + [lines[2].replace("\t2E-20\t", "\tsmall\t")]) + "\n")
    with pytest.raises(InputFormatError) as err:
        read_gwas_catalog_associations(path)
    assert str(path) in str(err.value) and "line 3: bad P-VALUE 'small'" in str(err.value)
    path.write_text("\n".join(lines[:3] + ["\t".join(lines[3].split("\t")[:-2])]) + "\n")
    with pytest.raises(InputFormatError, match="line 4: expected 38 tab-separated columns, found 36"):
        read_gwas_catalog_associations(path)
    path.write_text("SNPS\tP-VALUE\nrs1\t1e-8\n")
    with pytest.raises(InputFormatError, match="line 1: missing columns"):
        read_gwas_catalog_associations(path)


@pytest.mark.integration
@needs_mirror
def test_mirror_tiga():
    from genepheno_core.sources.registry import resource_path

    frame = read_tiga_gene_trait(resource_path("gwas", "gt_stats.csv.gz"))
    assert len(frame) == 186013
    assert not frame["gene_symbol"].str.startswith(" ").any()
    assert frame["trait_id"].str.fullmatch(r"(EFO|GO|HP|Orphanet):\d+").all()
    assert frame["clean_symbol"].mean() > 0.99


@pytest.mark.parametrize("data", [b"", b"\n\n"])
def test_tiga_empty_file(tmp_path, data):
    # found by fuzzing: pandas' EmptyDataError escaped
    path = tmp_path / "gt_stats.csv"
    path.write_bytes(data)
    with pytest.raises(InputFormatError, match="empty file"):
        read_tiga_gene_trait(path)


@pytest.mark.parametrize("value", ["1.5", "1e300"])
def test_tiga_count_that_is_not_a_count(tmp_path, value):
    # found by fuzzing: a fractional (or huge) n_study crashed the Int64 cast with a TypeError
    lines = (DATA / "gt_stats_tiny.csv").read_text().splitlines()
    fields = lines[2].split(",")
    fields[3] = value  # n_study
    path = tmp_path / "gt_stats.csv"
    path.write_text("\n".join([lines[0], lines[1], ",".join(fields), *lines[3:]]) + "\n")
    with pytest.raises(InputFormatError, match=f"line 3: bad n_study value '{value}'"):
        read_tiga_gene_trait(path)
