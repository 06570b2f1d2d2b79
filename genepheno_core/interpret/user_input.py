"""What a user hands a service: sequences (pasted text, an uploaded FASTA with a streaming
gzip cap, or a request body) and GO ids, checked against the services' input limits.

The dashboard's Predict page and the REST API (genepheno_core/server) both read user input
here, so they accept and refuse the same things with the same words. Everything is parsed
in memory (no file is written on the server) with the core's parser (`parse_sequences(
text=True)`: user text is never taken for a file name) and the core's query checks
(`check_query_sequences`, the same as the CLI's). Every refusal is an InputFormatError whose
message names what the user gave (the pasted text, the uploaded file's name, the request
field, the GO terms), the record and the problem.
"""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass, field

from genepheno_core.embeddings.sequences import (
    MAX_NONSTANDARD_FRACTION,
    MIN_QUERY_LENGTH,
    check_query_sequences,
    is_nucleotide,
    parse_sequences,
)
from genepheno_core.errors import InputFormatError

logger = logging.getLogger(__name__)

# Input limits of the dashboard's Predict page and of one API request (both state them).
MAX_SEQUENCES = 20
MAX_RESIDUES = 5000
# Most bytes of text (pasted, uploaded, or an upload after gunzip) the page reads. A nucleotide
# CDS takes 3 bytes per residue, so 4 per residue leaves room for line breaks, and 64 KiB for
# the headers; anything longer breaks the limits above anyway. Reading first and checking
# after is how a 194 KB gzip upload once took 1.1 GB of memory.
MAX_INPUT_BYTES = 4 * MAX_SEQUENCES * MAX_RESIDUES + 64 * 1024
# the public names (genepheno_core.MAX_USER_*)
MAX_USER_SEQUENCES, MAX_USER_RESIDUES, MAX_USER_INPUT_BYTES = MAX_SEQUENCES, MAX_RESIDUES, MAX_INPUT_BYTES
GZIP_MAGIC = b"\x1f\x8b"
GO_ID = re.compile(r"^GO:[0-9]{7}$")  # [0-9], not \d: \d also matches other scripts' digits


@dataclass(frozen=True)
class UserInput:
    """Parsed user input: (name, protein) records, where they came from, and what was done to
    them in words (CDS translated, wrapped lines joined), for the page to say."""

    records: list[tuple[str, str]]
    source: str
    notes: list[str] = field(default_factory=list)


def parse_user_sequences(text: str | None = None, upload: bytes | None = None,
                         upload_name: str = "uploaded file") -> list[tuple[str, str]]:
    """The records of parse_user_input (names, proteins)."""
    return parse_user_input(text, upload, upload_name).records


def parse_user_input(text: str | None = None, upload: bytes | None = None,
                     upload_name: str = "uploaded file", source: str | None = None,
                     gene_names: bool = True) -> UserInput:
    """Parse pasted text or an uploaded FASTA (gzip ok) and apply the input limits.

    Everything is read in memory (no file on the server), gzip with a cap on the decompressed
    size. Proteins are named by their FASTA header's gene symbol and accession (`GN=TP53` in
    `>sp|P04637|P53_HUMAN ... GN=TP53` gives "TP53 (P04637)"), else the header's id. A
    nucleotide coding sequence is translated (and a note says so); other nucleotide text is
    refused. Raw (header-less) text whose lines all have the same width but the last is one
    wrapped sequence, not one sequence per line. Raises a GenePhenoError (InputFormatError)
    whose message names the pasted text (or `source`, e.g. an API request's field) or the
    uploaded file's name, the record and the problem. gene_names=False keeps the core's record
    ids (an API's callers match results by the ids they sent).
    """
    if upload is not None:
        source = upload_name.replace("\\", "/").rsplit("/", 1)[-1] or "uploaded file"
        _check_size(len(upload), source)
        data = _gunzip(upload, source) if upload[:2] == GZIP_MAGIC else upload
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputFormatError(
                source, f"not a text FASTA file (byte {exc.start} is not UTF-8)") from None
    else:
        source = source or "pasted text"
        text = text or ""
        _check_size(len(text.encode("utf-8", "surrogatepass")), source)
    text, notes = _join_wrapped(text)
    records = _parse_text(text, source)
    if gene_names:
        records, names_notes = _name_records(text, records)
        notes += names_notes
    notes += _translation_notes(text, records)
    if len(records) > MAX_SEQUENCES:
        raise InputFormatError(
            source, f"{len(records)} sequences: at most {MAX_SEQUENCES} are taken at once "
            "(use python -m genepheno_core predict for more)")
    for seq_id, seq in records:
        if len(seq) > MAX_RESIDUES:
            raise InputFormatError(
                source, f"sequence is {len(seq):,} residues long; the limit is {MAX_RESIDUES:,}", record=seq_id)
    return UserInput(records, source, notes)


MAX_ID_LENGTH = 200
_BAD_ID = re.compile(r"[\s>]|[\x00-\x1f\x7f]")


def parse_user_records(items, source: str = "sequences") -> UserInput:
    """(id, sequence) pairs given as data (an API's JSON list), checked like pasted text: the
    same limits, translation of a coding sequence, the same refusals. An id must be 1 to
    MAX_ID_LENGTH characters without whitespace, '>' or control characters, and a sequence
    may hold letters, '*' and whitespace only (no FASTA inside a field)."""
    pairs = list(items)
    if not pairs:
        raise InputFormatError(source, "no sequence: give at least one protein sequence")
    if len(pairs) > MAX_SEQUENCES:
        raise InputFormatError(source, f"{len(pairs)} sequences: at most {MAX_SEQUENCES} are taken at once "
                               "(use python -m genepheno_core predict for more)")
    seen: set[str] = set()
    lines = []
    for n, (rid, seq) in enumerate(pairs, start=1):
        if not isinstance(rid, str) or not 0 < len(rid) <= MAX_ID_LENGTH or _BAD_ID.search(rid):
            raise InputFormatError(source, f"item {n}: the id must be 1 to {MAX_ID_LENGTH} characters without "
                                   "spaces, '>' or control characters", record=str(rid)[:40] if rid else None)
        if rid in seen:
            raise InputFormatError(source, f"item {n}: the id {rid!r} is given twice (ids must be unique)", record=rid)
        seen.add(rid)
        if not isinstance(seq, str):
            raise InputFormatError(source, "the sequence must be text", record=rid)
        bad = sorted({c for c in seq if not (c.isascii() and (c.isalpha() or c == "*" or c.isspace()))})
        if bad:
            raise InputFormatError(source, f"invalid character(s) {', '.join(repr(c) for c in bad[:5])} in the "
                                   "sequence (letters only)", record=rid)
        lines.append(f">{rid}\n{seq}\n")
    return parse_user_input(text="".join(lines), source=source, gene_names=False)


def input_limits_text() -> str:
    """The input limits in one sentence, shown before the user hits them."""
    return (f"Up to {MAX_SEQUENCES} sequences of at most {MAX_RESIDUES:,} residues each "
            f"({MAX_INPUT_BYTES // 1024:,} KiB of text, also after unzipping); {sequence_limits_text()} "
            "A nucleotide coding sequence (A C G T/U only, whole codons, no internal stop) is translated; "
            "other nucleotide text is refused.")


# --- names, nucleotides, wrapped lines ---------------------------------------------------

_GENE_NAME = re.compile(r"\bGN=([^\s=]+)")
# share of A C G T U N letters above which a sequence is nucleotide text, not a protein (real
# proteins: ~25 %; a protein made only of Ala, Cys, Gly, Thr, Asn would be a curiosity)
NUCLEOTIDE_SHARE = 0.9
WRAP_MIN_WIDTH = 40  # raw lines of one equal width >= this are one wrapped sequence


def _headers(text: str) -> list[str]:
    return [line[1:].strip() for line in text.splitlines() if line.startswith(">")]


def _name_records(text: str, records: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[str]]:
    """Records renamed "SYMBOL (id)" from their headers' GN= field (ids kept when absent)."""
    headers = _headers(text)
    if len(headers) != len(records):
        return records, []
    out, taken = [], set()
    for (rid, seq), header in zip(records, headers):
        match = _GENE_NAME.search(header)
        name = f"{match.group(1)} ({rid})" if match and match.group(1) != rid else rid
        if name in taken:  # the core already made the ids unique; keep them so
            name = rid
        taken.add(name)
        out.append((name, seq))
    return out, []


def _translation_notes(text: str, records: list[tuple[str, str]]) -> list[str]:
    """One note per record the core translated from a nucleotide coding sequence."""
    raw = _raw_sequences(text)
    if len(raw) != len(records):
        return []
    return [f"{name}: a {len(nt):,}-nt coding sequence, translated to {len(seq):,} residues "
            "(standard genetic code, reading frame 1)"
            + ("" if nt.startswith(("ATG", "AUG")) else "; it does not start with ATG, check the frame")
            for (name, seq), nt in zip(records, raw) if is_nucleotide(nt)]


def _raw_sequences(text: str) -> list[str]:
    """The sequences of FASTA or raw text as typed (upper case, no whitespace)."""
    if text.lstrip().startswith(">"):
        seqs, current = [], None
        for line in text.splitlines():
            if line.startswith(">"):
                if current is not None:
                    seqs.append(current)
                current = ""
            elif current is not None:
                current += re.sub(r"\s+", "", line).upper()
        if current is not None:
            seqs.append(current)
        return [s[:-1] if s.endswith("*") else s for s in seqs]
    seqs = [re.sub(r"\s+", "", line).upper() for line in text.splitlines()]
    return [s[:-1] if s.endswith("*") else s for s in seqs if s]


def check_not_nucleotide_like(records_raw: list[str], names: list[str], source: str) -> None:
    """Refuse sequences that are nucleotide text the core would take as protein: mostly
    A C G T U N but with other letters (IUPAC ambiguity codes such as R, Y, K)."""
    for name, seq in zip(names, records_raw):
        letters = [c for c in seq if c.isalpha()]
        if len(letters) < 30 or is_nucleotide(seq):
            continue
        share = sum(c in "ACGTUN" for c in letters) / len(letters)
        if share >= NUCLEOTIDE_SHARE:
            other = sorted({c for c in letters if c not in "ACGTUN"})
            raise InputFormatError(
                source, f"looks like a nucleotide sequence ({share:.0%} A/C/G/T/U/N) but also has "
                f"{', '.join(other[:5])}: only a coding sequence of A, C, G, T (or U) and N is translated; "
                "paste the protein sequence or the clean CDS", record=name)


def _join_wrapped(text: str) -> tuple[str, list[str]]:
    """Raw text of >= 2 lines, all of one width >= WRAP_MIN_WIDTH but a shorter last line, is
    one sequence wrapped over lines (a FASTA body pasted without its header), not one
    sequence per line: joined, with a note."""
    if text.lstrip().startswith(">"):
        return text, []
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) < 2:
        return text, []
    width = len(lines[0])
    if width < WRAP_MIN_WIDTH or any(len(line) != width for line in lines[:-1]) or len(lines[-1]) > width:
        return text, []
    if any(not line.replace(" ", "").isalpha() for line in lines):
        return text, []
    return "".join(lines) + "\n", [f"the {len(lines)} lines of {width} letters were read as one sequence "
                                    "wrapped over lines (give each sequence a FASTA header to paste several)"]


def sequence_limits() -> tuple[int, float]:
    """The core's checks on a query (the same in the CLI): (fewest residues, largest share of
    unknown or non-standard residues X B Z J U O)."""
    return MIN_QUERY_LENGTH, MAX_NONSTANDARD_FRACTION


def sequence_limits_text() -> str:
    """The query checks as a sentence (for a page or an API's documentation)."""
    min_length, max_nonstandard = sequence_limits()
    return (f"sequences shorter than {min_length} residues, or with more than {max_nonstandard:.0%} "
            "unknown or non-standard residues (X, B, Z, J, U, O), are refused.")


def parse_go_text(text: str | None) -> list[str]:
    """GO ids typed by the user (separated by spaces, commas or new lines), sorted, unique."""
    ids = [t for t in re.split(r"[\s,;]+", (text or "").strip()) if t]
    bad = [t for t in ids if not GO_ID.match(t.upper())]
    if bad:
        raise InputFormatError(
            "GO terms", f"not a GO id: {', '.join(bad[:3])} (expected GO:0005515-style ids)")
    return sorted({t.upper() for t in ids})


def _check_size(n_bytes: int, source: str) -> None:
    if n_bytes > MAX_INPUT_BYTES:
        raise InputFormatError(source, _too_large(f"{n_bytes / 1024:,.0f} KiB"))


def _too_large(size: str) -> str:
    return (f"{size} of text, more than is read at once ({MAX_INPUT_BYTES // 1024:,} KiB: up to "
            f"{MAX_SEQUENCES} sequences of at most {MAX_RESIDUES:,} residues); use "
            "python -m genepheno_core predict for larger inputs")


def _gunzip(data: bytes, source: str) -> bytes:
    """Decompress gzip `data` (all members) in chunks, refusing it as soon as the output
    passes MAX_INPUT_BYTES: a small gzip can expand a thousandfold."""
    out = bytearray()
    while data:
        unzip = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # 16+: gzip header and trailer
        try:
            # max_length = room left + 1 (never 0, which means "no limit"): going over is detected
            out += unzip.decompress(data, MAX_INPUT_BYTES + 1 - len(out))
            while unzip.unconsumed_tail and len(out) <= MAX_INPUT_BYTES:
                out += unzip.decompress(unzip.unconsumed_tail, MAX_INPUT_BYTES + 1 - len(out))
        except zlib.error as exc:
            raise InputFormatError(source, f"corrupt gzip file ({exc})") from None
        if len(out) > MAX_INPUT_BYTES:
            raise InputFormatError(source, _too_large(f"more than {MAX_INPUT_BYTES // 1024:,} KiB "
                                                         "after decompression"))
        if not unzip.eof:
            raise InputFormatError(source, "truncated gzip file (it ends before its last block)")
        # another gzip member may follow (like gzip.decompress, trailing zero bytes are padding)
        data = unzip.unused_data.lstrip(b"\x00")
        if data and data[:2] != GZIP_MAGIC:
            raise InputFormatError(source, "corrupt gzip file (data after the end of the gzip stream)")
    return bytes(out)


def _parse_text(text: str, source: str) -> list[tuple[str, str]]:
    """The core's parse_sequences on user text, its errors naming `source`."""
    stripped = text.strip()
    if not stripped:
        raise InputFormatError(source, "no sequence: paste a protein sequence or FASTA")
    # text=True: user text is never taken for a file name on the server
    raw = _raw_sequences(stripped)
    headers = _headers(stripped)
    names = ([(h.split() or [""])[0] for h in headers] if len(headers) == len(raw)
             else [f"seq{i + 1}" for i in range(len(raw))])
    check_not_nucleotide_like(raw, names, source)
    records = parse_sequences(stripped + "\n", text=True, source=source)
    min_length, max_nonstandard = sequence_limits()
    return check_query_sequences(records, source, min_length, max_nonstandard, hint="")
