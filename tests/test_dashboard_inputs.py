"""Hostile and malformed input to the dashboard (issue 14): dashboard/inputs.py and the Predict page.

Two kinds of test: property-based fuzzing (hypothesis, bounded and derandomized) of the
input functions of dashboard/inputs.py, which must either parse or raise the project's own
error type; and AppTest runs of the Predict page with hostile input (Markdown/HTML injection
in FASTA headers, a gzip bomb, invalid bytes, a server path), which must show a clear
one-line message, no traceback, no server path and no unescaped injected Markdown. Also
the `make run` command line.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import inputs, models
from dashboard import testing as t
from dashboard.safe_text import md_unescape
from genepheno_core.errors import GenePhenoError, InputFormatError

needs_model = pytest.mark.skipif(t.model_missing_reason() is not None and not os.environ.get("CI"),
                                 reason=str(t.model_missing_reason()))

FUZZ = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

IMAGE = t.IMAGE  # the injection of the issue: renders as an image
HEADER_ID = IMAGE + "<b>B</b>"  # one word: a FASTA header's id (the first word)
INSULIN = t.sequence("P01308") if t.FIXTURE_FASTA.exists() else "M" * 110
TMP = t.TMP


# --- the input functions, fuzzed --------------------------------------------------------

FASTA_ALPHABET = list("ACDEFGHIKLMNPQRSTVWYXBZJUOacgtu*>|\n\r\t -./~\\!()[]<>:`_#$&\x00\x85\u2028é")
user_text = st.one_of(
    st.text(alphabet=st.sampled_from(FASTA_ALPHABET), max_size=300),
    st.text(max_size=200),
    st.lists(st.sampled_from([">sp|P01308|INS_HUMAN Insulin", INSULIN[:40], "X" * 30, "M", IMAGE, "",
                              "/etc/passwd", str(t.FIXTURE_FASTA)]), max_size=6).map("\n".join),
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


# --- the pages, with hostile input (AppTest) --------------------------------------------

@pytest.fixture(scope="module")
def predict_page():
    """The Predict page after the model is loaded once (shared: each test sets its own input)."""
    at = t.app()
    at.run()
    return at


def _upload(at, name: str, data: bytes):
    at.get("file_uploader")[0].upload(name, data).run()
    at.button(key="predict_button").click().run()
    return at


@needs_model
def test_injected_fasta_header_is_shown_literally(predict_page):
    at = t.predict(predict_page, f">{HEADER_ID} desc\n{INSULIN}")
    t.assert_clean(at)
    t.assert_safe_page(at)
    # the reader sees the header as it is, as text
    assert md_unescape(at.subheader[0].value) == f"Predicted phenotypes for {HEADER_ID}"
    title = t.plotly_specs(at)[0]["layout"]["title"]["text"]
    assert "<b>" not in title and "&lt;b&gt;B&lt;/b&gt;" in title  # plotly shows it as text


@needs_model
@pytest.mark.parametrize("text, problem", [
    pytest.param(f">{IMAGE}\nMKTAYIAK1QRQISFVKSHFSRQ", "invalid character '1'", id="injection-in-error"),
    pytest.param("M", "minimum is", id="one-residue"),
    pytest.param("X" * 40, "non-standard", id="all-x"),
    pytest.param(">q\n" + "X" * 30 + INSULIN[:20], "non-standard", id="mostly-x"),
    pytest.param(str(t.FIXTURE_FASTA), "invalid character '/'", id="server-path"),
    pytest.param("\x00\x01\ufeff", "invalid character", id="control-bytes"),
])
def test_hostile_paste_gives_one_clear_error(predict_page, text, problem):
    at = t.predict(predict_page, text)
    t.assert_safe_page(at)
    errors = t.messages(at)["error"]
    assert len(errors) == 1 and problem in errors[0], errors
    assert "no such file" not in errors[0]  # the server's files are neither read nor probed
    assert at.session_state["predictions"] is None


@needs_model
@pytest.mark.parametrize("name, data, problem", [
    pytest.param("bomb.fa.gz", gzip.compress(b">a\n" + b"M" * 50_000_000), "after decompression", id="gzip-bomb"),
    pytest.param("my proteins.fa.gz", b"\x1f\x8b" + b"not gzip" * 8, "corrupt gzip", id="corrupt-gzip"),
    pytest.param("cut.fa.gz", gzip.compress(f">a\n{INSULIN}\n".encode())[:-12], "truncated gzip", id="truncated-gzip"),
    pytest.param("![t](x.png)<img src=x>.fa", b">a\n\xff\xfe" + INSULIN.encode(), "not UTF-8", id="invalid-bytes"),
])
def test_hostile_upload_gives_one_clear_error(name, data, problem):
    at = t.app()
    at.run()
    _upload(at, name, data)
    t.assert_safe_page(at)
    errors = t.messages(at)["error"]
    assert len(errors) == 1 and problem in errors[0] and name in errors[0], errors


def test_make_run_listens_on_localhost_unless_told_otherwise():
    if not shutil.which("make"):
        pytest.skip("make is not installed")

    def command(*args):
        out = subprocess.run(["make", "-n", "dashboard", *args], cwd=models.REPO_ROOT,
                             capture_output=True, text=True, check=True).stdout
        return next(line for line in out.splitlines() if "streamlit run" in line)

    assert "--server.address 127.0.0.1" in command()
    assert "--server.address 0.0.0.0" in command("ADDRESS=0.0.0.0")


# --- issue 19: nucleotides, wrapped lines, GN= names, limits ------------------------------

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
    text = inputs.limits_text()
    for number in (str(inputs.MAX_SEQUENCES), f"{inputs.MAX_RESIDUES:,}", str(inputs.sequence_limits()[0])):
        assert number in text
    assert "nucleotide" in text
