"""The core's user-input layer (genepheno_core/interpret/user_input.py), shared by the
dashboard's Predict page and the REST API: property-based fuzzing (hypothesis, bounded and
derandomized) of every input function, which must either parse or raise the project's own
error type; the gzip cap; CDS translation, wrapped lines, gene names; JSON records.
"""

from __future__ import annotations

import gzip
import re
import tempfile
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genepheno_core.errors import GenePhenoError, InputFormatError
from genepheno_core.interpret import user_input as inputs
from _proteins import FIXTURE_FASTA, IMAGE, INSULIN

TMP = tempfile.gettempdir()
FUZZ = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- the input functions, fuzzed --------------------------------------------------------

FASTA_ALPHABET = list("ACDEFGHIKLMNPQRSTVWYXBZJUOacgtu*>|\n\r\t -./~\\!()[]<>:`_#$&\x00\x85\u2028é")
user_text = st.one_of(
    st.text(alphabet=st.sampled_from(FASTA_ALPHABET), max_size=300),
    st.text(max_size=200),
    st.lists(st.sampled_from([">sp|P01308|INS_HUMAN Insulin", INSULIN[:40], "X" * 30, "M", IMAGE, "",
                              "/etc/passwd", str(FIXTURE_FASTA)]), max_size=6).map("\n".join),
)


def _check_records(records) -> None:
    assert 1 <= len(records) <= inputs.MAX_SEQUENCES
    min_length, _ = inputs.sequence_limits()
    for rid, seq in records:
        assert isinstance(rid, str) and rid
        assert min_length <= len(seq) <= inputs.MAX_RESIDUES and seq.isalpha() and seq.isupper()


@FUZZ
@given(text=user_text)
def test_fuzz_pasted_text_parses_or_gives_our_error(text):
    try:
        records = inputs.parse_user_sequences(text=text)
    except GenePhenoError as exc:
        assert str(exc).startswith("pasted text")  # names what the user gave, not "<input>"
        assert "no such file" not in str(exc)  # never a probe of the server's files
    else:
        _check_records(records)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # lone surrogates too: not valid UTF-8


uploads = st.one_of(
    st.binary(max_size=300),
    user_text.map(_utf8),
    user_text.map(lambda s: gzip.compress(_utf8(s))),
    st.tuples(user_text, st.integers(0, 60)).map(lambda p: gzip.compress(_utf8(p[0]))[: -p[1] or None]),  # cut
    st.tuples(user_text, st.binary(max_size=20)).map(lambda p: gzip.compress(_utf8(p[0])) + p[1]),  # + junk
)


@FUZZ
@given(data=uploads, name=st.sampled_from(["p.fa", "p.fa.gz", "dir/../x.fa", "C:\\Users\\me\\p.fasta", IMAGE]))
def test_fuzz_upload_parses_or_gives_our_error(data, name):
    try:
        records = inputs.parse_user_sequences(upload=data, upload_name=name)
    except GenePhenoError as exc:
        assert TMP not in str(exc)
        assert str(exc).startswith(re.split(r"[/\\]", name)[-1])  # the file's name, no directory
    else:
        _check_records(records)


@FUZZ
@given(text=st.one_of(st.text(max_size=80),
                      st.lists(st.from_regex(r"GO:[0-9]{7}", fullmatch=True) | st.text(max_size=12),
                               max_size=6).map(" ".join)))
def test_fuzz_go_text_parses_or_gives_our_error(text):
    try:
        ids = inputs.parse_go_text(text)
    except GenePhenoError as exc:
        assert str(exc).startswith("GO terms: not a GO id")
    else:
        assert ids == sorted(set(ids)) and all(re.fullmatch(r"GO:[0-9]{7}", i) for i in ids)


def test_go_ids_are_ascii_digits_only():
    # \d would accept GO:١٢٣٤٥٦٧ (Arabic-Indic digits) and pass it on to the core
    with pytest.raises(InputFormatError, match="not a GO id"):
        inputs.parse_go_text("GO:\u0661\u0662\u0663\u0664\u0665\u0666\u0667")


def test_gzip_bomb_is_refused_without_decompressing_it():
    bomb = gzip.compress(b">a\n" + b"M" * 64_000_000)  # 62 KB -> 64 MB
    tracemalloc.start()
    try:
        with pytest.raises(InputFormatError, match="after decompression") as info:
            inputs.parse_user_sequences(upload=bomb, upload_name="bomb.fa.gz")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(info.value).startswith("bomb.fa.gz: ")
    assert peak < 4 * inputs.MAX_INPUT_BYTES, f"{peak / 1e6:.1f} MB held while refusing it"


def test_multi_member_gzip_and_size_limits():
    records = [f">s{i}\n{INSULIN}\n".encode() for i in range(3)]
    member_wise = b"".join(gzip.compress(r) for r in records)  # like `cat a.gz b.gz`
    parsed = inputs.parse_user_sequences(upload=member_wise, upload_name="m.gz")
    assert [rid for rid, _ in parsed] == ["s0", "s1", "s2"]
    big = b">a\n" + b"MKV\n" * (inputs.MAX_INPUT_BYTES // 4 + 1)
    with pytest.raises(InputFormatError, match="KiB"):
        inputs.parse_user_sequences(upload=big, upload_name="big.fa")
    with pytest.raises(InputFormatError, match="KiB"):
        inputs.parse_user_sequences(text=big.decode())



def _cds(protein: str) -> str:
    """A coding sequence for `protein` (one fixed codon per residue) with a stop codon."""
    from Bio.Data.CodonTable import standard_dna_table

    codon = {}
    for c, aa in sorted(standard_dna_table.forward_table.items()):
        codon.setdefault(aa, c)
    return "".join(codon[aa] for aa in protein) + "TAA"


def test_a_cds_is_translated_and_said_so():
    protein = INSULIN
    dna = _cds(protein)
    parsed = inputs.parse_user_input(text=f">ins_cds\n{dna}\n")
    assert parsed.records == [("ins_cds", protein)]
    assert len(parsed.notes) == 1 and "translated" in parsed.notes[0] and f"{len(dna):,}-nt" in parsed.notes[0]
    assert f"{len(protein):,} residues" in parsed.notes[0]
    # RNA (U for T) too
    rna = dna.replace("T", "U")
    assert inputs.parse_user_input(text=f">ins_rna\n{rna}\n").records == [("ins_rna", protein)]


def test_dna_that_is_not_a_cds_is_refused_with_the_reason():
    dna = _cds(INSULIN)
    with pytest.raises(InputFormatError, match="not a multiple of 3"):
        inputs.parse_user_input(text=dna[:-4] + "\n")
    with pytest.raises(InputFormatError, match="internal stop codon at codon 3"):
        inputs.parse_user_input(text="ATGGCTTAA" + dna[3:] + "\n")
    # IUPAC ambiguity codes: nucleotide text the core would otherwise read as a protein
    with pytest.raises(InputFormatError, match="looks like a nucleotide sequence") as err:
        inputs.parse_user_input(text=dna[:120] + "RY" + dna[120:240] + "\n")
    assert "R, Y" in str(err.value)


def test_wrapped_raw_lines_are_one_sequence():
    protein = INSULIN * 2  # 220 residues
    lines = [protein[i:i + 60] for i in range(0, len(protein), 60)]
    parsed = inputs.parse_user_input(text="\n".join(lines))
    assert parsed.records == [("seq1", protein)]
    assert any("4 lines of 60 letters" in n for n in parsed.notes)
    # a wrapped CDS: joined, then translated (it used to become 5 "proteins" of 20 residues)
    dna = _cds(INSULIN)
    parsed = inputs.parse_user_input(text="\n".join(dna[i:i + 60] for i in range(0, len(dna), 60)))
    assert parsed.records == [("seq1", INSULIN)]
    # lines of different lengths stay one sequence per line
    parsed = inputs.parse_user_input(text=INSULIN[:50] + "\n" + INSULIN[:70])
    assert [r[0] for r in parsed.records] == ["seq1", "seq2"]


def test_records_are_named_by_gene_symbol_and_accession():
    text = (f">sp|P01308|INS_HUMAN Insulin OS=Homo sapiens OX=9606 GN=INS PE=1 SV=1\n{INSULIN}\n"
            f">tr|A0A000|A0A000_HUMAN Uncharacterized protein OS=Homo sapiens OX=9606 PE=4\n{INSULIN[::-1]}\n"
            f">my_protein\n{INSULIN}\n")
    names = [r[0] for r in inputs.parse_user_input(text=text).records]
    assert names == ["INS (P01308)", "A0A000", "my_protein"]


def test_limits_are_stated_with_the_numbers():
    text = inputs.input_limits_text()
    for number in (str(inputs.MAX_SEQUENCES), f"{inputs.MAX_RESIDUES:,}", str(inputs.sequence_limits()[0])):
        assert number in text
    assert "nucleotide" in text


def test_json_records_are_checked_like_pasted_text():
    parsed = inputs.parse_user_records([("ins", INSULIN), ("ins2", INSULIN.lower())], source="sequences")
    assert parsed.records == [("ins", INSULIN), ("ins2", INSULIN)] and parsed.source == "sequences"
    cases = [
        ([], "no sequence"),
        ([("a b", INSULIN)], "item 1: the id must be"),
        ([("a", INSULIN), ("a", INSULIN)], "item 2: the id 'a' is given twice"),
        ([("a", INSULIN[:50] + "\n>b\n" + INSULIN)], "invalid character"),
        ([("a", INSULIN + "1")], r"invalid character\(s\) '1'"),
        ([("a", "MKV")], "the minimum is 20"),
        ([("a", "M" * (inputs.MAX_RESIDUES + 1))], "the limit is"),
        ([(f"p{i}", INSULIN) for i in range(inputs.MAX_SEQUENCES + 1)], "at most"),
    ]
    for items, problem in cases:
        with pytest.raises(InputFormatError, match=problem) as err:
            inputs.parse_user_records(items, source="sequences")
        assert str(err.value).startswith("sequences")
