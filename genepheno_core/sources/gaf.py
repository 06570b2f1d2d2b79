"""GO Annotation File (GAF 2.x) reader.

Returns one row per annotation line with the 17 GAF 2.x columns:

    db, accession, symbol, qualifier, go_id, reference, evidence, with_from, aspect,
    db_object_name, synonyms, object_type, taxon, date, assigned_by, extension,
    gene_product_form

plus `negated` (True when the qualifier contains NOT: such lines state that the gene
product does NOT have the function; drop them before building labels), `taxon_id`
(first NCBI taxon id, as int). The `!gaf-version` header is
read; GAF 1.0 files (15 columns) are accepted and padded.
"""

from __future__ import annotations

import logging
import re

import pandas as pd

from genepheno_core.errors import InputFormatError
from genepheno_core.sources._util import PathLike, check_column, id_pattern, iter_lines, read_tsv

logger = logging.getLogger(__name__)

GAF_COLUMNS = [
    "db",
    "accession",
    "symbol",
    "qualifier",
    "go_id",
    "reference",
    "evidence",
    "with_from",
    "aspect",
    "db_object_name",
    "synonyms",
    "object_type",
    "taxon",
    "date",
    "assigned_by",
    "extension",
    "gene_product_form",
]

EXPERIMENTAL_CODES = frozenset({"EXP", "IDA", "IPI", "IMP", "IGI", "IEP"})
HIGH_THROUGHPUT_CODES = frozenset({"HTP", "HDA", "HMP", "HGI", "HEP"})
_GO_ID = id_pattern("GO")
_ASPECT = re.compile(r"[PFC]")
_TAXON = re.compile(r"taxon:(\d+)")


def read_gaf(path: PathLike) -> pd.DataFrame:
    """Parse a GAF 2.x file (plain or .gz); see the module docstring for the columns.

    Raises InputFormatError naming the file and line for a wrong column count, a GO id not
    matching GO:digits, an aspect other than P/F/C or a missing gaf-version header.
    """
    version: str | None = None
    for number, line in iter_lines(path):
        if line.startswith("!"):
            if line.lower().startswith("!gaf-version:"):
                version = line.split(":", 1)[1].strip()
                break
            continue
        if line.strip():
            raise InputFormatError(
                path, "annotation line before the '!gaf-version:' header: not a GAF file?", line=number
            )
    if version is None:
        raise InputFormatError(path, "no '!gaf-version:' header: not a GAF file?")
    widths = (15, 16, 17) if version.startswith("1") else (16, 17)
    try:
        table, lines, _ = read_tsv(path, widths, comment="!")
    except InputFormatError as exc:
        raise InputFormatError(path, f"{exc.problem} (GAF {version} has 17)", line=exc.line) from None
    for column in range(table.shape[1], 17):  # GAF 1.0 / dropped trailing empty column
        table[column] = ""
    table.columns = GAF_COLUMNS
    frame = table
    if len(frame):
        check_column(path, frame, "go_id", _GO_ID, lines, what="GO id")
        check_column(path, frame, "aspect", _ASPECT, lines, what="aspect")
    frame["negated"] = frame["qualifier"].str.contains(r"(?:^|\|)NOT(?:\||$)", regex=True).astype(bool)
    # few distinct taxon strings: parse each once
    taxa = {v: (int(m.group(1)) if (m := _TAXON.search(v)) else None) for v in frame["taxon"].unique()}
    frame["taxon_id"] = pd.array(frame["taxon"].map(taxa).tolist(), dtype="Int64")
    frame.attrs["gaf_version"] = version
    logger.debug("%s: GAF %s, %d annotations", path, version, len(frame))
    return frame
