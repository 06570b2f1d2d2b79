"""UniProt FASTA files (plain or .gz), read with Biopython's SimpleFastaParser."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass

import pandas as pd
from Bio.SeqIO.FastaIO import SimpleFastaParser

from genepheno_core.errors import InputFormatError
from genepheno_core.sources._util import PathLike, open_text

logger = logging.getLogger(__name__)

# >sp|P04637|P53_HUMAN Cellular tumor antigen p53 OS=Homo sapiens OX=9606 GN=TP53 PE=1 SV=4
_UNIPROT = re.compile(r"^(sp|tr)\|([^|\s]+)\|(\S+)")
_GN = re.compile(r"\bGN=(\S+)")
_OX = re.compile(r"\bOX=(\d+)")
_RESIDUES = re.compile(r"[A-Za-z*\-]+")


@dataclass(frozen=True)
class FastaRecord:
    """One FASTA record.

    id: the UniProt accession for `sp|ACC|NAME` / `tr|ACC|NAME` headers, else the first
        word of the header.
    description: the whole header line without '>'.
    sequence: residues, upper-case, no whitespace (a trailing '*' stop is removed).
    gene: GN= value when present, else None. taxon: OX= value when present, else None.
    """

    id: str
    description: str
    sequence: str
    gene: str | None = None
    taxon: int | None = None
    entry_name: str | None = None


def parse_header(header: str) -> tuple[str, str | None, str | None, int | None]:
    """header (without '>') -> (id, entry name, gene symbol, taxon)."""
    match = _UNIPROT.match(header)
    if match:
        ident, entry = match.group(2), match.group(3)
    else:
        ident, entry = (header.split() or [""])[0], None
    gene = _GN.search(header)
    taxon = _OX.search(header)
    return ident, entry, gene.group(1) if gene else None, int(taxon.group(1)) if taxon else None


def read_fasta(path: PathLike) -> list[FastaRecord]:
    """All records of a FASTA file. Raises InputFormatError (with record number) on text
    before the first '>', an empty header, an empty sequence or non-letter characters."""
    records: list[FastaRecord] = []
    try:
        with open_text(path) as handle:
            text = handle.read()
    except (EOFError, OSError) as exc:
        raise InputFormatError(path, f"cannot decompress: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputFormatError(path, f"not UTF-8 text ({exc.reason})") from exc
    stripped = text.lstrip()
    if stripped and not stripped.startswith(">"):
        raise InputFormatError(path, "does not start with '>': not a FASTA file", line=1)
    for number, (header, raw) in enumerate(SimpleFastaParser(io.StringIO(text)), start=1):
        ident, entry, gene, taxon = parse_header(header)
        if not ident:
            raise InputFormatError(path, "empty FASTA header", record=f"#{number}")
        sequence = "".join(raw.split()).upper().rstrip("*")
        if not sequence:
            raise InputFormatError(path, "empty sequence", record=ident)
        if not _RESIDUES.fullmatch(sequence):
            bad = sorted(set(re.sub(r"[A-Za-z*\-]", "", sequence)))
            raise InputFormatError(path, f"invalid sequence characters {bad}", record=ident)
        records.append(FastaRecord(ident, header, sequence, gene, taxon, entry))
    return records


def fasta_frame(path: PathLike) -> pd.DataFrame:
    """read_fasta as a DataFrame: accession, gene, taxon, entry_name, description, sequence."""
    records = read_fasta(path)
    return pd.DataFrame(
        {
            "accession": [r.id for r in records],
            "gene": [r.gene for r in records],
            "taxon": pd.array([r.taxon for r in records], dtype="Int64"),
            "entry_name": [r.entry_name for r in records],
            "description": [r.description for r in records],
            "sequence": [r.sequence for r in records],
        }
    )
