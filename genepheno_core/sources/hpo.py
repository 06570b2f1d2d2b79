"""HPO gene annotation files: genes_to_phenotype.txt and phenotype_to_genes.txt.

Both the 2025 layout (plain header row) and the 2020-era layout ('#Format:' header) are
detected from the header and returned with the same normalised columns:

    ncbi_gene_id (str of digits), gene_symbol, hpo_id, hpo_name, disease_id,
    frequency (genes_to_phenotype only; "" elsewhere), source ("" unless the file
    has a G-D source column), then any further upstream columns (snake_case)

Note: phenotype_to_genes lists each gene under the term and all its ancestors (it is
propagated upstream); genes_to_phenotype lists direct annotations.
"""

from __future__ import annotations

import logging
import re

import pandas as pd

from genepheno_core.errors import InputFormatError
from genepheno_core.sources._util import (
    PathLike,
    check_column,
    check_unique_columns,
    id_pattern,
    iter_lines,
    read_tsv,
)

logger = logging.getLogger(__name__)

COLUMNS = ["ncbi_gene_id", "gene_symbol", "hpo_id", "hpo_name", "disease_id", "frequency", "source"]

_HP_ID = id_pattern("HP")
_GENE_ID = re.compile(r"\d+")

# header field (lower case, normalised) -> output column
_ALIASES = {
    "ncbi_gene_id": "ncbi_gene_id",
    "entrez-gene-id": "ncbi_gene_id",
    "gene_symbol": "gene_symbol",
    "entrez-gene-symbol": "gene_symbol",
    "hpo_id": "hpo_id",
    "hpo-term-id": "hpo_id",
    "hpo-id": "hpo_id",
    "hpo_name": "hpo_name",
    "hpo-term-name": "hpo_name",
    "hpo label": "hpo_name",
    "frequency": "frequency",
    "frequency-raw": "frequency",
    "frequency-hpo": "frequency_hpo",
    "disease_id": "disease_id",
    "disease-id for link": "disease_id",
    "g-d source": "source",
    "additional info from g-d source": "additional_info",
}

# Layouts for files without any header: (number of columns) -> column names
_HEADERLESS = {
    # 2020 phenotype_to_genes body: HPO-id, HPO label, entrez-gene-id, entrez-gene-symbol,
    # Additional Info, G-D source, disease-ID
    7: ["hpo_id", "hpo_name", "ncbi_gene_id", "gene_symbol", "additional_info", "source", "disease_id"],
}


def _parse_header(path: PathLike, line: str, number: int) -> list[str]:
    text = line.lstrip("#").strip()
    if text.lower().startswith("format:"):
        text = text[len("format:"):].strip()
        # 2020-era: fields joined by the literal "<tab>"
        fields = re.split(r"<tab>|\t", text)
    else:
        fields = text.split("\t")
    names = []
    for field in fields:
        key = field.strip().lower()
        names.append(_ALIASES.get(key, re.sub(r"\W+", "_", key).strip("_")))
    check_unique_columns(path, names, number)
    missing = {"ncbi_gene_id", "hpo_id"} - set(names)
    if missing:
        raise InputFormatError(
            path, f"header lacks {sorted(missing)}: not an HPO gene annotation file? ({line[:80]!r})", line=number
        )
    return names


def _read(path: PathLike) -> pd.DataFrame:
    first, first_no = None, 0
    for number, line in iter_lines(path):
        if line.strip():
            first, first_no = line, number
            break
    if first is None:
        raise InputFormatError(path, "empty file")
    headerless = first.startswith("HP:") or first.split("\t", 1)[0].isdigit()
    if headerless:
        n = len(first.split("\t"))
        if n not in _HEADERLESS:
            raise InputFormatError(path, "no header line and unknown column layout", line=first_no)
        names = _HEADERLESS[n]
    else:
        names = _parse_header(path, first, first_no)
    table, lines, _ = read_tsv(path, len(names), header=not headerless)
    table.columns = names
    frame = table
    if len(frame):
        check_column(path, frame, "hpo_id", _HP_ID, lines, what="HPO id")
        check_column(path, frame, "ncbi_gene_id", _GENE_ID, lines, what="NCBI gene id")
    for column in COLUMNS:
        if column not in frame:
            frame[column] = pd.Series([""] * len(frame), dtype="string", index=frame.index)
    extra = [c for c in frame.columns if c not in COLUMNS]
    return frame[COLUMNS + extra]


def read_genes_to_phenotype(path: PathLike) -> pd.DataFrame:
    """genes_to_phenotype.txt (2025: ncbi_gene_id gene_symbol hpo_id hpo_name frequency
    disease_id; 2020-era '#Format: entrez-gene-id<tab>entrez-gene-symbol<tab>HPO-Term-ID...')."""
    return _read(path)


def read_phenotype_to_genes(path: PathLike) -> pd.DataFrame:
    """phenotype_to_genes.txt (2025: hpo_id hpo_name ncbi_gene_id gene_symbol disease_id;
    2020: '#Format: HPO-id<tab>HPO label<tab>entrez-gene-id<tab>entrez-gene-symbol<tab>
    Additional Info from G-D source<tab>G-D source<tab>disease-ID for link')."""
    return _read(path)


def read_hpo_gene_annotations(path: PathLike) -> pd.DataFrame:
    """Either file; the layout is detected from the header."""
    return _read(path)


HPOA_COLUMNS = [
    "disease_id",
    "disease_name",
    "qualifier",
    "hpo_id",
    "reference",
    "evidence",
    "onset",
    "frequency",
    "sex",
    "modifier",
    "aspect",
    "biocuration",
]


def read_hpoa(path: PathLike) -> pd.DataFrame:
    """phenotype.hpoa (disease -> HPO term), 2020 (DatabaseID ...) and 2025 (database_id ...)
    headers; '#' metadata lines are skipped and kept in `frame.attrs["metadata"]`.

    Columns: HPOA_COLUMNS (all strings) plus `negated` (qualifier == "NOT").
    """
    metadata: dict[str, str] = {}
    header_line = None
    for number, line in iter_lines(path):
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            metadata[key.strip()] = value.strip()
            continue
        if line.strip():
            header_line = (number, line)
            break
    if header_line is None:
        raise InputFormatError(path, "no header row: not a phenotype.hpoa file?")
    number, line = header_line
    fields = [f.strip().lower() for f in line.split("\t")]
    if len(fields) != 12 or fields[3] not in ("hpo_id", "hpo-id") or not fields[0].startswith("database"):
        raise InputFormatError(path, f"unexpected header {line[:80]!r} (expected the 12 phenotype.hpoa columns)", line=number)
    table, lines, _ = read_tsv(path, 12, comment="#", header=True)
    table.columns = HPOA_COLUMNS
    if len(table):
        check_column(path, table, "hpo_id", _HP_ID, lines, what="HPO id")
    table["negated"] = (table["qualifier"] == "NOT").astype(bool)
    table.attrs["metadata"] = metadata
    return table
