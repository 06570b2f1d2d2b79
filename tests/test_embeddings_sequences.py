"""parse_sequences: FASTA, gz, raw lines, nucleotide CDS, rare letters and bad input."""

import gzip
import logging
from pathlib import Path

import pytest

from genepheno_core.embeddings.sequences import clean_protein, parse_sequences, record_id
from genepheno_core.errors import InputFormatError, MissingDataError

DATA = Path(__file__).parent / "data" / "embeddings"
INS = (
    "MALWMRLLPLLALLALWGPDPAAAFVNQHLCGSHLVEALYLVCGERGFFYTPKTRREAED"
    "LQVGQVELGGGPGAGSLQPLALEGSLQKRGIVEQCCTSICSLYQLENYCN"
)


def test_fasta_uniprot_ids_and_wrapped_lines():
    records = parse_sequences(DATA / "proteins.fasta")
    assert [rid for rid, _ in records] == ["P01308", "P02144", "P0CG48", "P61769"]
    assert records[0][1] == INS  # two wrapped lines joined
    assert [len(s) for _, s in records] == [110, 154, 685, 119]


def test_gzip_same_as_plain_and_string_path():
    assert parse_sequences(DATA / "proteins.fasta.gz") == parse_sequences(DATA / "proteins.fasta")
    assert parse_sequences(str(DATA / "proteins.fasta.gz")) == parse_sequences(DATA / "proteins.fasta")


def test_raw_lines_get_numbered_ids_and_upper_case():
    records = parse_sequences(DATA / "raw_sequences.txt")
    assert records == [("seq1", INS[:60]), ("seq2", "MVLSGEDKSNIKAAWGKIGGH")]
    assert parse_sequences("MKV\nACD*\n") == [("seq1", "MKV"), ("seq2", "ACD")]


def test_nucleotide_cds_is_translated_and_logged(caplog):
    with caplog.at_level(logging.INFO, logger="genepheno_core"):
        records = parse_sequences(DATA / "cds.fasta")
    assert records == [("INS_cds_synthetic", INS[:60])]
    assert "nucleotide coding sequence" in caplog.text
    # RNA alphabet too
    rna = (DATA / "cds.fasta").read_text().replace("T", "U")
    assert parse_sequences(rna)[0][1] == INS[:60]


def test_rare_letters_kept():
    assert parse_sequences(">a\nMUOBZJXK\n") == [("a", "MUOBZJXK")]


@pytest.mark.parametrize(
    "text, message",
    [
        (">a\nMK1V\n", "invalid character '1' at residue 3"),
        (">a\nMKV\n>b\n\n>c\nMK\n", "empty sequence"),
        (">a\nMKV\n>a\nMKL\n", "duplicate id"),
        ("junk\n>a\nMKV\n", "text before the first FASTA header"),
        (">a\nMK-V\n", "invalid character '-'"),
        (">a\n" + "ATG" * 20 + "A\n", "not a multiple of 3"),
        (">a\n" + "ATG" * 10 + "TAA" + "ATG" * 10 + "\n", "internal stop codon"),
        ("   \n", "empty input"),
    ],
)
def test_bad_input_names_record_and_problem(text, message):
    with pytest.raises(InputFormatError, match=message):
        parse_sequences(text)


def test_error_names_file_and_record(tmp_path):
    path = tmp_path / "bad.fasta.gz"
    path.write_bytes(gzip.compress(b">sp|Q1|X_HUMAN\nMKV\n>sp|Q2|Y_HUMAN\nMKB@\n"))
    with pytest.raises(InputFormatError) as info:
        parse_sequences(path)
    assert str(path) in str(info.value) and "'Q2'" in str(info.value) and "'@'" in str(info.value)


def test_raw_line_error_has_line_number():
    with pytest.raises(InputFormatError, match="line 3, record 'seq2'"):
        parse_sequences("MKV\n\nMK%\n")


def test_missing_file():
    with pytest.raises(MissingDataError):
        parse_sequences(Path("/nonexistent/x.fasta"))
    with pytest.raises(MissingDataError):
        parse_sequences("/nonexistent/x.fasta")


def test_record_id_and_short_acgt_protein_not_translated():
    assert record_id("sp|P01308|INS_HUMAN Insulin") == "P01308"
    assert record_id("my_protein some description") == "my_protein"
    # a short all-ACGT string is a peptide, not DNA
    assert clean_protein("GATTACA") == "GATTACA"


@pytest.mark.integration
def test_real_swissprot_file_from_mirror():
    import os

    mirror = os.environ.get("GENEPHENO_MIRROR")
    if not mirror:
        pytest.skip("GENEPHENO_MIRROR is not set")
    records = parse_sequences(Path(mirror) / "uniprot" / "2014-01" / "swissprot_human.fasta.gz")
    assert len(records) == 18154  # as counted in the mirror's README
    ids = dict(records)
    assert ids["P01308"] == INS
    assert len(ids["Q8WZ42"]) == 34350  # titin


def test_translate_false_keeps_nucleotides():
    cds = (DATA / "cds.fasta").read_text()
    (rid, seq), = parse_sequences(cds, translate=False)
    assert rid == "INS_cds_synthetic" and seq.startswith("ATGGCCCTG") and len(seq) == 183


def test_query_checks_length_and_ambiguity():
    from genepheno_core.embeddings.sequences import MAX_NONSTANDARD_FRACTION, MIN_QUERY_LENGTH, check_query_sequences

    ok = [("a", "M" * MIN_QUERY_LENGTH)]
    assert check_query_sequences(ok) is ok
    with pytest.raises(InputFormatError, match=rf"q\.fa, record 'b': sequence is 19 residues long; the minimum is 20"):
        check_query_sequences([("b", "M" * 19)], "q.fa")
    half = int(40 * MAX_NONSTANDARD_FRACTION)
    assert check_query_sequences([("c", "M" * (40 - half) + "X" * half)])
    with pytest.raises(InputFormatError, match="record 'c': 21 of 40 residues are unknown or non-standard"):
        check_query_sequences([("c", "M" * 19 + "BZJXUO" * 3 + "XXX")])
    assert check_query_sequences([("d", "X")], min_length=1, max_nonstandard=1.0)
    # parse_sequences leaves length alone unless asked (embedding a short peptide is legitimate)
    assert parse_sequences("MKV\n") == [("seq1", "MKV")]
    with pytest.raises(InputFormatError, match="record 'seq1'.*the minimum is 20"):
        parse_sequences("MKV\n", min_length=MIN_QUERY_LENGTH)


def test_duplicate_ids_error_or_rename(caplog):
    text = ">a\nMKV\n>a\nMKA\n>a\nMKW\n"
    with pytest.raises(InputFormatError, match="duplicate id"):
        parse_sequences(text)
    with caplog.at_level("WARNING"):
        assert parse_sequences(text, duplicates="rename") == [("a", "MKV"), ("a_2", "MKA"), ("a_3", "MKW")]
    assert "record 3 is reported as 'a_3'" in caplog.text
