"""UniProt FASTA reading (Biopython SimpleFastaParser) on a fixture (+ gzip copy)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genepheno_core.errors import InputFormatError
from genepheno_core.sources.fasta import fasta_frame, parse_header, read_fasta

DATA = Path(__file__).parent / "data" / "sources"
needs_mirror = pytest.mark.skipif(not os.environ.get("GENEPHENO_MIRROR"), reason="GENEPHENO_MIRROR not set")


@pytest.mark.parametrize("name", ["uniprot_tiny.fasta", "uniprot_tiny.fasta.gz"])
def test_read_fasta(name):
    records = read_fasta(DATA / name)
    assert [r.id for r in records] == ["P04637", "A0A024R161", "custom_id"]
    assert records[0].sequence == "MEEPQSDPSVEPPLSQETFSDLWKLLPENN"  # spaces, newline and '*' removed
    assert records[0].gene == "TP53" and records[0].taxon == 9606 and records[0].entry_name == "P53_HUMAN"
    assert records[0].description.startswith("sp|P04637|P53_HUMAN Cellular")
    assert records[1].sequence == "MSKGELF" and records[1].gene is None
    assert records[2].gene is None and records[2].taxon is None


def test_parse_header():
    assert parse_header("sp|Q9Y2K1|ZBT1_HUMAN x OS=Homo sapiens OX=9606 GN=ZBTB1") == ("Q9Y2K1", "ZBT1_HUMAN", "ZBTB1", 9606)


def test_frame():
    frame = fasta_frame(DATA / "uniprot_tiny.fasta")
    assert list(frame["accession"]) == ["P04637", "A0A024R161", "custom_id"]
    assert frame["sequence"].str.len().tolist() == [30, 7, 9]


def test_errors(tmp_path):
    path = tmp_path / "junk.fasta"
    path.write_text("hello\n>sp|P1|X\nACD\n")
    with pytest.raises(InputFormatError, match="line 1: does not start with '>'"):
        read_fasta(path)
    path.write_text(">sp|P11111|X\nAC1D\n")
    with pytest.raises(InputFormatError, match=r"record 'P11111': invalid sequence characters \['1'\]"):
        read_fasta(path)
    path.write_text(">sp|P11111|X\n>sp|P22222|Y\nACD\n")
    with pytest.raises(InputFormatError, match="record 'P11111': empty sequence"):
        read_fasta(path)


@pytest.mark.integration
@needs_mirror
def test_mirror_swissprot():
    from genepheno_core.sources.registry import resource_path

    human = read_fasta(resource_path("uniprot", "swissprot_human.fasta.gz"))
    mouse = read_fasta(resource_path("uniprot", "swissprot_mouse.fasta.gz"))
    assert (len(human), len(mouse)) == (18154, 16470)
    assert {r.taxon for r in human} == {9606} and {r.taxon for r in mouse} == {10090}
    p53 = [r for r in human if r.id == "P04637"]
    assert p53 and p53[0].gene == "TP53" and p53[0].sequence.startswith("MEEPQSDPSV")
