"""NCBI Gene id mapping TSVs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genepheno_core.errors import InputFormatError
from genepheno_core.sources.idmapping import read_entrez_uniprot, read_gene_refseq_uniprotkb_collab, read_idmapping

DATA = Path(__file__).parent / "data" / "sources"
needs_mirror = pytest.mark.skipif(not os.environ.get("GENEPHENO_MIRROR"), reason="GENEPHENO_MIRROR not set")


@pytest.mark.parametrize("name", ["entrez_uniprot_tiny.tsv", "entrez_uniprot_tiny.tsv.gz"])
def test_entrez_uniprot(name):
    frame = read_entrez_uniprot(DATA / name)
    assert frame.values.tolist() == [["1", "P04217"], ["1", "V9HWD8"], ["7157", "P04637"]]


def test_errors(tmp_path):
    path = tmp_path / "m.tsv"
    path.write_text("entrez\tuniprot\n1\tP04217\nx7\tP04637\n")
    with pytest.raises(InputFormatError, match="line 3: bad NCBI gene id 'x7'"):
        read_idmapping(path)
    path.write_text("entrez\tuniprot\n1\tP04217\n2\tnot-an-acc\n")
    with pytest.raises(InputFormatError, match="line 3: bad UniProt accession 'not-an-acc'"):
        read_idmapping(path)
    path.write_text("entrez\tuniprot\n1\tP04217\t3\n")
    with pytest.raises(InputFormatError, match="line 2: expected 2 tab-separated columns, found 3"):
        read_idmapping(path)


def test_refseq_uniprot_collab(tmp_path):
    path = tmp_path / "gene_refseq_uniprotkb_collab"
    path.write_text("#NCBI_protein_accession\tUniProtKB_protein_accession\tNCBI_tax_id\tUniProtKB_tax_id\tmethod\n"
                    "NP_000537.3\tP04637\t9606\t9606\tidentical\n")
    frame = read_gene_refseq_uniprotkb_collab(path)
    assert frame[["refseq_protein", "uniprot"]].values.tolist() == [["NP_000537.3", "P04637"]]


@pytest.mark.integration
@needs_mirror
def test_mirror_idmapping():
    from genepheno_core.sources.registry import fetch

    files = fetch("idmapping")
    uniprot = read_entrez_uniprot(files["entrez_uniprot.tsv.gz"])
    assert len(uniprot) == 32265 and ("7157", "P04637") in set(map(tuple, uniprot.values.tolist()))
    symbols = read_idmapping(files["entrez_symbol_type.tsv.gz"])
    assert list(symbols.columns) == ["ncbi_gene_id", "symbol", "name", "gene_type"]
    assert len(read_idmapping(files["entrez_ensembl.tsv.gz"])) == 40102


@pytest.mark.parametrize(
    "reader, header, column",
    [
        (read_idmapping, "entrez\tuniprot\tentrez", "ncbi_gene_id"),
        (read_gene_refseq_uniprotkb_collab, "#NCBI_protein_accession\tUniProtKB_protein_accession\tuniprot", "uniprot"),
    ],
)
def test_header_naming_a_column_twice(tmp_path, reader, header, column):
    path = tmp_path / "map.tsv"
    path.write_text(f"{header}\n1\tP04217\tP04218\n")
    with pytest.raises(InputFormatError, match=f"header has column '{column}' twice"):
        reader(path)


def test_blank_lines_before_the_header(tmp_path):
    # found by fuzzing: the width came from the blank first line, the columns from the
    # header after it (pandas ValueError)
    path = tmp_path / "map.tsv"
    path.write_text("\nentrez\tuniprot\n1\tP04217\n")
    assert read_idmapping(path)["uniprot"].tolist() == ["P04217"]
    path.write_text("\n\tentrez\n!\n")
    with pytest.raises(InputFormatError, match="line 3: expected 2 tab-separated columns, found 1"):
        read_idmapping(path)
