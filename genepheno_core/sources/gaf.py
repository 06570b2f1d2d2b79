"""GO Annotation File (GAF 2.x) reader.

Returns one row per annotation line with the 17 GAF 2.x columns:

    db, accession, symbol, qualifier, go_id, reference, evidence, with_from, aspect,
    db_object_name, synonyms, object_type, taxon, date, assigned_by, extension,
    gene_product_form

plus `negated` (True when the qualifier contains NOT: such lines state that the gene
product does NOT have the function; drop them before building labels), `taxon_id`
(first NCBI taxon id, as int) and `line` (line number). The `!gaf-version` header is
read; GAF 1.0 files (15 columns) are accepted and padded.
"""

from __future__ import annotations

import logging
import re

import pandas as pd

from genepheno_core.errors import InputFormatError
from genepheno_core.sources._util import PathLike, check_column, id_pattern, iter_lines

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
    rows: list[list[str]] = []
    lines: list[int] = []
    for number, line in iter_lines(path):
        if line.startswith("!"):
            if line.lower().startswith("!gaf-version:"):
                version = line.split(":", 1)[1].strip()
            continue
        if not line.strip():
            continue
        if version is None:
            raise InputFormatError(path, "annotation line before the '!gaf-version:' header: not a GAF file?", line=number)
        fields = line.split("\t")
        if len(fields) == 15 and version.startswith("1"):
            fields += ["", ""]
        elif len(fields) == 16:  # trailing empty gene_product_form dropped by some writers
            fields.append("")
        if len(fields) != 17:
            raise InputFormatError(path, f"expected 17 tab-separated GAF {version} columns, found {len(fields)}", line=number)
        rows.append(fields)
        lines.append(number)
    if version is None:
        raise InputFormatError(path, "no '!gaf-version:' header: not a GAF file?")
    frame = pd.DataFrame(rows, columns=GAF_COLUMNS, dtype="string")
    if len(frame):
        check_column(path, frame, "go_id", _GO_ID, lines, what="GO id")
        check_column(path, frame, "aspect", _ASPECT, lines, what="aspect")
    frame["negated"] = frame["qualifier"].str.contains(r"(?:^|\|)NOT(?:\||$)", regex=True).astype(bool)
    taxa = frame["taxon"].str.extract(_TAXON.pattern, expand=False)
    frame["taxon_id"] = pd.to_numeric(taxa, errors="coerce").astype("Int64")
    frame["line"] = lines
    frame.attrs["gaf_version"] = version
    logger.debug("%s: GAF %s, %d annotations", path, version, len(frame))
    return frame
