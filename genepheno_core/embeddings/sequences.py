"""User-supplied sequences: FASTA (plain or gzip), raw sequence lines, nucleotide CDS.

`parse_sequences(text_or_path)` returns `[(id, protein_sequence)]` and raises
InputFormatError (naming the file, record and problem) on anything it cannot read.

Accepted input
- FASTA: ids are the UniProt accession for UniProt headers (`>sp|P01308|INS_HUMAN ...`),
  else the first word of the header. Gzip is detected from the file's magic bytes.
- Raw sequences without headers: one sequence per non-empty line, ids `seq1`, `seq2`, ...
- Nucleotide coding sequences (only A C G T U N, length a multiple of 3) are translated
  with the standard genetic code (Biopython) and a log message says so; one trailing stop
  codon is dropped, an internal stop codon is an error.

Protein alphabet: the 20 standard residues plus the rare letters U (selenocysteine),
O (pyrrolysine), B (D/N), Z (E/Q), J (I/L) and X (unknown). They are kept as they are;
each encoder maps them through its own vocabulary (UniRep: U and O own tokens, X B Z J one
"unknown" token; composition: counted in the length only; ESM-2: J becomes X, the others
are ESM tokens; hf: left to the model's tokenizer). Lower case is upper-cased, whitespace
and a trailing `*` are removed; any other character (digits, gaps `-`, `.`, ...) is an error
naming the record and the character.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import re
from pathlib import Path

from Bio.Seq import translate
from Bio.SeqIO.FastaIO import SimpleFastaParser

from genepheno_core.errors import InputFormatError, MissingDataError

logger = logging.getLogger(__name__)

STANDARD_AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
RARE_AMINO_ACIDS = "UOBZJX"
PROTEIN_LETTERS = frozenset(STANDARD_AMINO_ACIDS + RARE_AMINO_ACIDS)
NUCLEOTIDE_LETTERS = frozenset("ACGTUN")
# shorter all-ACGTUN strings are too ambiguous to call nucleotide (e.g. peptide "GATTACA")
MIN_NUCLEOTIDE_LENGTH = 30

_UNIPROT_HEADER = re.compile(r"^(?:sp|tr)\|([^|\s]+)\|")
_WHITESPACE = re.compile(r"\s+")


def record_id(header: str) -> str:
    """UniProt accession for `sp|ACC|NAME ...` / `tr|ACC|NAME ...` headers, else the first word."""
    match = _UNIPROT_HEADER.match(header)
    if match:
        return match.group(1)
    words = header.split()
    return words[0] if words else ""


def _looks_like_path(text: str) -> bool:
    return "\n" not in text and (os.sep in text or "." in text or text.endswith(".gz"))


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise MissingDataError(f"{path}: no such file")
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputFormatError(path, f"corrupt gzip file ({exc})") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFormatError(path, f"not a text file (byte {exc.start} is not UTF-8)") from exc


def clean_protein(
    seq: str, source: object = "<sequences>", record: str | None = None, translate: bool = True
) -> str:
    """Upper-case, drop whitespace and one trailing '*', translate nucleotide CDS, validate.

    translate=False keeps nucleotide sequences as they are (for nucleotide language models
    through `hf:`); A C G T U N are all letters of the accepted alphabet."""
    seq = _WHITESPACE.sub("", seq).upper()
    if seq.endswith("*"):
        seq = seq[:-1]
    if not seq:
        raise InputFormatError(source, "empty sequence", record=record)
    if translate and is_nucleotide(seq):
        protein = translate_cds(seq, source, record)
        logger.info(
            "%s: record %r looks like a nucleotide coding sequence (%d nt); "
            "translated to %d residues",
            source, record, len(seq), len(protein),
        )
        seq = protein
    bad = set(seq) - PROTEIN_LETTERS
    if bad:
        position = min(seq.index(ch) for ch in bad)
        raise InputFormatError(
            source,
            f"invalid character {seq[position]!r} at residue {position + 1} "
            f"(allowed: {STANDARD_AMINO_ACIDS} and rare {RARE_AMINO_ACIDS})",
            record=record,
        )
    return seq


def is_nucleotide(seq: str) -> bool:
    """Only A C G T U N, at least MIN_NUCLEOTIDE_LENGTH long."""
    return len(seq) >= MIN_NUCLEOTIDE_LENGTH and set(seq) <= NUCLEOTIDE_LETTERS


def translate_cds(seq: str, source: object = "<sequences>", record: str | None = None) -> str:
    """Translate a coding sequence (standard code); one trailing stop codon is dropped."""
    if len(seq) % 3:
        raise InputFormatError(
            source,
            f"looks like a nucleotide sequence but its length {len(seq)} is not a multiple of 3",
            record=record,
        )
    if "T" in seq and "U" in seq:
        raise InputFormatError(source, "nucleotide sequence mixes T and U", record=record)
    protein = str(translate(seq.replace("U", "T")))
    if protein.endswith("*"):
        protein = protein[:-1]
    if "*" in protein:
        raise InputFormatError(
            source,
            f"nucleotide sequence has an internal stop codon at codon {protein.index('*') + 1}",
            record=record,
        )
    if not protein:
        raise InputFormatError(source, "nucleotide sequence is only a stop codon", record=record)
    return protein


def _parse_fasta(text: str, source: object, translate: bool) -> list[tuple[str, str]]:
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and not lines[first].startswith(">"):
        raise InputFormatError(source, "text before the first FASTA header ('>')", line=first + 1)
    records = []
    for header, seq in SimpleFastaParser(io.StringIO(text)):
        rid = record_id(header)
        if not rid:
            raise InputFormatError(source, "FASTA header without an id", record=header)
        records.append((rid, clean_protein(seq, source, rid, translate)))
    return records


def _parse_raw(text: str, source: object, translate: bool) -> list[tuple[str, str]]:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        rid = f"seq{len(records) + 1}"
        try:
            records.append((rid, clean_protein(line, source, rid, translate)))
        except InputFormatError as exc:
            raise InputFormatError(source, exc.problem, line=number, record=rid) from exc
    return records


def parse_sequences(text_or_path: str | os.PathLike, translate: bool = True) -> list[tuple[str, str]]:
    """[(id, protein sequence)] from a FASTA/raw/CDS file path (gz ok) or the text itself.

    A `Path` (or a one-line string that looks like a file name and exists) is read as a
    file; any other string is parsed as sequence text. Empty input, empty records and
    duplicate ids raise InputFormatError. translate=False keeps nucleotide sequences as
    they are (for nucleotide language models through `hf:`).
    """
    if isinstance(text_or_path, os.PathLike) or (
        isinstance(text_or_path, str) and _looks_like_path(text_or_path.strip())
        and Path(text_or_path.strip()).expanduser().exists()
    ):
        source: object = Path(os.fspath(text_or_path)).expanduser()
        text = _read_text(source)
    elif isinstance(text_or_path, str):
        stripped = text_or_path.strip()
        if _looks_like_path(stripped) and re.search(r"\.(fa|fasta|faa|fna|txt|gz)$", stripped):
            raise MissingDataError(f"{stripped}: no such file")
        source, text = "<input>", text_or_path
    else:
        raise TypeError(f"expected a path or a string, got {type(text_or_path).__name__}")

    if not text.strip():
        raise InputFormatError(source, "no sequences (empty input)")
    has_header = any(line.startswith(">") for line in text.splitlines())
    parse = _parse_fasta if has_header else _parse_raw
    records = parse(text, source, translate)
    seen: dict[str, int] = {}
    for number, (rid, _) in enumerate(records, start=1):
        if rid in seen:
            raise InputFormatError(
                source, f"duplicate id (records {seen[rid]} and {number})", record=rid
            )
        seen[rid] = number
    if not records:
        raise InputFormatError(source, "no sequences found")
    return records
