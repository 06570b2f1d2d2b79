"""NCBI Gene id mappings: the mirror's two-column TSVs (entrez -> uniprot / symbol /
ensembl, from org.Hs.eg.db) and NCBI's gene_refseq_uniprotkb_collab file.
"""

from __future__ import annotations

import logging
import re

import pandas as pd

from genepheno_core.errors import InputFormatError
from genepheno_core.sources._util import PathLike, check_column, check_unique_columns, read_tsv_rows

logger = logging.getLogger(__name__)

_GENE_ID = re.compile(r"\d+")
# UniProt accession (https://www.uniprot.org/help/accession_numbers), optional isoform
_UNIPROT = re.compile(r"(?:[OPQ][0-9][A-Z0-9]{3}[0-9]|[A-NR-Z][0-9](?:[A-Z][A-Z0-9]{2}[0-9]){1,2})(?:-\d+)?")

_RENAME = {"entrez": "ncbi_gene_id", "gene_id": "ncbi_gene_id", "uniprot": "uniprot", "ensembl_gene": "ensembl_gene"}


def read_idmapping(path: PathLike) -> pd.DataFrame:
    """A mirror id-mapping TSV with a header row (e.g. `entrez<TAB>uniprot`).

    Columns are renamed: entrez -> ncbi_gene_id; others keep their header name
    (uniprot, symbol, name, gene_type, ensembl_gene). All values are strings. Raises
    InputFormatError on a wrong column count, a non-numeric gene id or (for a uniprot
    column) a value that is not a UniProt accession.
    """
    rows, lines, head = read_tsv_rows(path, _width(path), header=True)
    if head is None:
        raise InputFormatError(path, "empty file")
    columns = [_RENAME.get(h.strip().lower(), h.strip().lower()) for h in head]
    if "ncbi_gene_id" not in columns:
        raise InputFormatError(path, f"header {head} has no 'entrez' column", line=1)
    check_unique_columns(path, columns, 1)
    frame = pd.DataFrame(rows, columns=columns, dtype="string")
    if len(frame):
        check_column(path, frame, "ncbi_gene_id", _GENE_ID, lines, what="NCBI gene id")
        if "uniprot" in frame:
            check_column(path, frame, "uniprot", _UNIPROT, lines, what="UniProt accession")
    return frame


def _width(path: PathLike) -> int:
    """Number of fields of the header: the first non-blank line, as read_tsv_rows takes it
    (a blank first line used to give width 1 against a wider header: ValueError)."""
    from genepheno_core.sources._util import iter_lines

    for _, line in iter_lines(path):
        if line.strip():
            return len(line.split("\t"))
    raise InputFormatError(path, "empty file")


def read_entrez_uniprot(path: PathLike) -> pd.DataFrame:
    """entrez_uniprot.tsv(.gz) -> ncbi_gene_id, uniprot."""
    frame = read_idmapping(path)
    if "uniprot" not in frame:
        raise InputFormatError(path, "no 'uniprot' column")
    return frame[["ncbi_gene_id", "uniprot"]]


def read_gene_refseq_uniprotkb_collab(path: PathLike) -> pd.DataFrame:
    """NCBI gene_refseq_uniprotkb_collab(.gz): '#NCBI_protein_accession<TAB>UniProtKB_protein_accession...'.

    Returns refseq_protein, uniprot (+ further upstream columns, snake_case). This file maps
    RefSeq proteins, not genes: join with gene2refseq to reach NCBI gene ids.
    """
    rows, lines, head = read_tsv_rows(path, _width(path), header=True)
    if head is None:
        raise InputFormatError(path, "empty file")
    columns = [re.sub(r"\W+", "_", h.lstrip("#").strip().lower()).strip("_") for h in head]
    columns = ["refseq_protein" if c.startswith("ncbi_protein") else "uniprot" if c.startswith("uniprotkb_protein") else c for c in columns]
    check_unique_columns(path, columns, 1)
    frame = pd.DataFrame(rows, columns=columns, dtype="string")
    if len(frame) and "uniprot" in frame:
        check_column(path, frame, "uniprot", _UNIPROT, lines, what="UniProt accession")
    return frame
