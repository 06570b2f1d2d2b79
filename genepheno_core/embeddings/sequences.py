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

Query checks (`check_query_sequences`, applied to every sequence a model predicts on or
explains: the CLI, `predict`/`explain`/attributions/nearest proteins and the dashboard):
sequences shorter than MIN_QUERY_LENGTH residues, or with more than
MAX_NONSTANDARD_FRACTION of their residues outside the 20 standard amino acids (X B Z J U
O), are refused: the models would still return confident-looking scores for them.
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
_STANDARD = frozenset(STANDARD_AMINO_ACIDS)
NUCLEOTIDE_LETTERS = frozenset("ACGTUN")
# shorter all-ACGTUN strings are too ambiguous to call nucleotide (e.g. peptide "GATTACA")
MIN_NUCLEOTIDE_LENGTH = 30
# Shortest sequence a model is asked about. The shipped hpo model's shortest training
# protein has 51 residues; below ~20 a query is more likely a gene symbol, a typo or a
# peptide fragment than a protein, has no usable DIAMOND homologs (the ortholog and
# nearest-protein inputs), and its embedding is mostly the encoder's start state.
MIN_QUERY_LENGTH = 20
# Largest share of non-standard letters (X B Z J U O) in a query: above it the
# prediction mostly reflects the encoder's "unknown residue" token, not the protein.
MAX_NONSTANDARD_FRACTION = 0.5

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


LOWER_MINIMUM_HINT = "a gene symbol or a fragment? lower the minimum with min_length= / --min-length"


def check_query_sequences(records: list[tuple[str, str]], source: object = "<sequences>",
                          min_length: int = MIN_QUERY_LENGTH,
                          max_nonstandard: float = MAX_NONSTANDARD_FRACTION,
                          hint: str = LOWER_MINIMUM_HINT) -> list[tuple[str, str]]:
    """Refuse (InputFormatError naming the source and record) query sequences shorter than
    `min_length` residues or with more than `max_nonstandard` of their residues outside
    the 20 standard amino acids. Returns `records` unchanged. min_length=1 and
    max_nonstandard=1.0 turn the checks off (e.g. for deliberate peptide queries). `hint`
    follows the too-short message in parentheses (an interface without the option passes
    its own, or "")."""
    for rid, seq in records:
        if len(seq) < min_length:
            raise InputFormatError(
                source, f"sequence is {len(seq)} residue{'s' if len(seq) != 1 else ''} long; the minimum is "
                f"{min_length}" + (f" ({hint})" if hint else ""), record=rid)
        odd = sum(1 for ch in seq if ch not in _STANDARD)
        if seq and odd / len(seq) > max_nonstandard:
            raise InputFormatError(
                source, f"{odd} of {len(seq)} residues are unknown or non-standard ({RARE_AMINO_ACIDS}); "
                f"at most {max_nonstandard:.0%} are allowed", record=rid)
    return records


def rename_duplicate_ids(records: list[tuple[str, str]], source: object) -> list[tuple[str, str]]:
    """Later records with an id already seen get `ID_2`, `ID_3`, ... (with a warning), so
    every output row still maps to exactly one input record."""
    taken = {rid for rid, _ in records}
    first: dict[str, int] = {}
    out = []
    for number, (rid, seq) in enumerate(records, start=1):
        if rid not in first:
            first[rid] = number
            out.append((rid, seq))
            continue
        k = 2
        while f"{rid}_{k}" in taken:
            k += 1
        new = f"{rid}_{k}"
        taken.add(new)
        logger.warning("%s: duplicate id %r (records %d and %d); record %d is reported as %r",
                       source, rid, first[rid], number, number, new)
        out.append((new, seq))
    return out


def parse_sequences(text_or_path: str | os.PathLike, translate: bool = True, duplicates: str = "error",
                    min_length: int | None = None,
                    max_nonstandard: float = MAX_NONSTANDARD_FRACTION, *, text: bool = False,
                    source: str | None = None) -> list[tuple[str, str]]:
    """[(id, protein sequence)] from a FASTA/raw/CDS file path (gz ok) or the text itself.

    A `Path` (or a one-line string that looks like a file name and exists) is read as a
    file; any other string is parsed as sequence text. Empty input and empty records raise
    InputFormatError; so do duplicate ids unless duplicates="rename" (a warning, and the
    later records become `ID_2`, `ID_3`, ...). translate=False keeps nucleotide sequences
    as they are (for nucleotide language models through `hf:`). With `min_length`, the
    records also pass `check_query_sequences(records, source, min_length, max_nonstandard)`
    (off by default: embedding a short peptide is legitimate; predicting on one is not).
    text=True: the string is sequence text, never a file name (input from people over a
    network: it must not make the server read or probe its own files); `source` names it
    in errors (default "<input>").
    """
    if duplicates not in ("error", "rename"):
        raise ValueError(f"duplicates must be 'error' or 'rename', got {duplicates!r}")
    if text:
        if not isinstance(text_or_path, str):
            raise TypeError(f"text=True expects a string, got {type(text_or_path).__name__}")
        return _parse_text(text_or_path, source or "<input>", translate, duplicates, min_length, max_nonstandard)
    if isinstance(text_or_path, os.PathLike) or (
        isinstance(text_or_path, str) and _looks_like_path(text_or_path.strip())
        and Path(text_or_path.strip()).expanduser().exists()
    ):
        path = Path(os.fspath(text_or_path)).expanduser()
        return _parse_text(_read_text(path), path, translate, duplicates, min_length, max_nonstandard)
    if not isinstance(text_or_path, str):
        raise TypeError(f"expected a path or a string, got {type(text_or_path).__name__}")
    stripped = text_or_path.strip()
    if _looks_like_path(stripped) and re.search(r"\.(fa|fasta|faa|fna|txt|gz)$", stripped):
        raise MissingDataError(f"{stripped}: no such file")
    return _parse_text(text_or_path, source or "<input>", translate, duplicates, min_length, max_nonstandard)


def _parse_text(text: str, source: object, translate: bool, duplicates: str, min_length: int | None,
                max_nonstandard: float) -> list[tuple[str, str]]:
    if not text.strip():
        raise InputFormatError(source, "no sequences (empty input)")
    has_header = any(line.startswith(">") for line in text.splitlines())
    parse = _parse_fasta if has_header else _parse_raw
    records = parse(text, source, translate)
    if not records:
        raise InputFormatError(source, "no sequences found")
    if min_length is not None:
        check_query_sequences(records, source, min_length, max_nonstandard)
    if duplicates == "rename":
        return rename_duplicate_ids(records, source)
    seen: dict[str, int] = {}
    for number, (rid, _) in enumerate(records, start=1):
        if rid in seen:
            raise InputFormatError(
                source, f"duplicate id (records {seen[rid]} and {number})", record=rid
            )
        seen[rid] = number
    return records
