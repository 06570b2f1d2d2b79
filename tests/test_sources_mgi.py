"""MGI report parsers on hand-written fixtures in the official layouts (+ gzip copies)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genepheno_core.errors import InputFormatError
from genepheno_core.sources.mgi import read_mgi_gene_model_coord, read_mgi_genepheno

DATA = Path(__file__).parent / "data" / "sources"
needs_mirror = pytest.mark.skipif(not os.environ.get("GENEPHENO_MIRROR"), reason="GENEPHENO_MIRROR not set")


@pytest.mark.parametrize("name", ["MGI_GenePheno.rpt", "MGI_GenePheno.rpt.gz"])
def test_genepheno_9_columns(name):
    frame = read_mgi_genepheno(DATA / name)
    assert len(frame) == 4
    first = frame.iloc[0]
    assert first["mp_id"] == "MP:0000600" and first["marker_id"] == "MGI:97874"
    assert first["genotype_id"] == "MGI:2166359" and first["pubmed_id"] == "12529408"
    assert first["allelic_composition"] == "Rb1<tm1Tyj>/Rb1<tm1Tyj>"
    assert list(frame["single_gene"]) == [True, True, False, False]
    # Lta/Tnf allele names two genes even though one marker is listed
    assert frame.iloc[2]["allele_genes"] == ("lta", "lta/tnf")
    # the Apoe/Ldlr double knockout lists two markers
    multi = frame.iloc[3]
    assert multi["marker_ids"] == ("MGI:88057", "MGI:96765") and multi["n_markers"] == 2
    assert multi["marker_id"] == ""


def test_genepheno_8_columns_comma_markers():
    frame = read_mgi_genepheno(DATA / "MGI_GenePheno_8col.rpt")
    assert list(frame["genotype_id"]) == ["MGI:2169285", "MGI:3611205"]
    assert frame.iloc[1]["marker_ids"] == ("MGI:88057", "MGI:96765")
    assert list(frame["single_gene"]) == [True, False]


def _write(tmp_path, text, name="bad.rpt"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_genepheno_wrong_column_count(tmp_path):
    good = (DATA / "MGI_GenePheno.rpt").read_text().splitlines()
    path = _write(tmp_path, "\n".join(good[:2] + ["a\tb\tc"]) + "\n")
    with pytest.raises(InputFormatError) as err:
        read_mgi_genepheno(path)
    message = str(err.value)
    assert str(path) in message and "line 3" in message and "found 3" in message
    assert err.value.line == 3


def test_genepheno_bad_mp_id(tmp_path):
    lines = (DATA / "MGI_GenePheno.rpt").read_text().splitlines()
    lines[1] = lines[1].replace("MP:0002169", "MP_0002169")
    path = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(InputFormatError, match=r"line 2: bad MP id 'MP_0002169'"):
        read_mgi_genepheno(path)


def test_genepheno_bad_marker_id(tmp_path):
    lines = (DATA / "MGI_GenePheno.rpt").read_text().splitlines()
    lines[3] = lines[3].replace("MGI:88057|MGI:96765", "MGI:88057|96765")
    path = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(InputFormatError, match=r"line 4: bad MGI marker id '96765'"):
        read_mgi_genepheno(path)


@pytest.mark.parametrize("name", ["MGI_Gene_Model_Coord.rpt", "MGI_Gene_Model_Coord.rpt.gz"])
def test_gene_model_coord(name):
    frame = read_mgi_gene_model_coord(DATA / name)
    assert list(frame["marker_id"]) == ["MGI:87853", "MGI:87859", "MGI:1915609"]
    assert list(frame["symbol"]) == ["a", "Abl1", "Novel1"]
    assert list(frame["entrez_id"]) == ["50518", "11350", ""]  # "null" -> ""
    assert frame.iloc[1]["ensembl_id"] == "ENSMUSG00000026842"
    assert frame.iloc[1]["name"] == "c-abl oncogene 1, non-receptor tyrosine kinase"


def test_gene_model_coord_errors(tmp_path):
    path = _write(tmp_path, "id\tsymbol\nMGI:1\tx\n", "coord.rpt")
    with pytest.raises(InputFormatError, match="line 1: header lacks"):
        read_mgi_gene_model_coord(path)
    lines = (DATA / "MGI_Gene_Model_Coord.rpt").read_text().splitlines()
    lines[2] = lines[2].replace("MGI:87859", "87859")
    path = _write(tmp_path, "\n".join(lines) + "\n", "coord2.rpt")
    with pytest.raises(InputFormatError, match="line 3: bad MGI marker id '87859'"):
        read_mgi_gene_model_coord(path)
    lines = (DATA / "MGI_Gene_Model_Coord.rpt").read_text().splitlines()
    lines[1] = "\t".join(lines[1].split("\t")[:5])
    path = _write(tmp_path, "\n".join(lines) + "\n", "coord3.rpt")
    with pytest.raises(InputFormatError, match="line 2: expected 15 tab-separated columns, found 5"):
        read_mgi_gene_model_coord(path)


@pytest.mark.integration
@needs_mirror
def test_mirror_mgi_reports():
    from genepheno_core.sources.registry import resource_path

    pheno = read_mgi_genepheno(resource_path("mgi", "MGI_GenePheno.rpt.gz"))
    assert len(pheno) == 194394
    assert pheno["single_gene"].sum() > 194000
    assert pheno["mp_id"].str.startswith("MP:").all()
    coord = read_mgi_gene_model_coord(resource_path("mgi", "MGI_Gene_Model_Coord.rpt.gz"))
    assert len(coord) == 61005
    assert (coord.loc[coord["symbol"] == "Trp53", "marker_id"] == "MGI:98834").all()


def test_truncated_gzip_is_a_format_error(tmp_path):
    data = (DATA / "MGI_GenePheno.rpt.gz").read_bytes()
    path = tmp_path / "cut.rpt.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFormatError, match="cannot decompress"):
        read_mgi_genepheno(path)


def test_gene_model_coord_header_checks(tmp_path):
    path = tmp_path / "coord.rpt"
    # the same column twice (found by fuzzing: AttributeError deep in pandas)
    path.write_text("1. MGI accession id\t3. marker symbol\t1. MGI accession id\nMGI:1\ta\tMGI:2\n")
    with pytest.raises(InputFormatError, match=r"line 1: header has column 'MGI accession id' twice"):
        read_mgi_gene_model_coord(path)
    # no Entrez column (found by fuzzing: KeyError 'entrez_id'): read, nothing to check
    path.write_text("1. MGI accession id\t3. marker symbol\nMGI:1\ta\n")
    frame = read_mgi_gene_model_coord(path)
    assert frame["marker_id"].tolist() == ["MGI:1"] and "entrez_id" not in frame
