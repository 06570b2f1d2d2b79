"""MGI reports: MGI_GenePheno.rpt (genotype -> MP term) and MGI_Gene_Model_Coord.rpt."""

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

GENEPHENO_COLUMNS = [
    "allelic_composition",
    "allele_symbols",
    "allele_ids",
    "genetic_background",
    "mp_id",
    "pubmed_id",
    "marker_ids_raw",
    "genotype_id",
]
_MGI_ID = id_pattern("MGI")
_MP_ID = id_pattern("MP")
_MARKER_SPLIT = re.compile(r"[|,]")


def read_mgi_genepheno(path: PathLike) -> pd.DataFrame:
    """Parse MGI_GenePheno.rpt (tab-separated, no header).

    Upstream columns: allelic composition, allele symbol(s), allele id(s), genetic
    background, MP id, PubMed id, MGI marker accession id(s), MGI genotype accession id.
    Some releases (the 2016 one in the mirror) have an extra empty column before the
    genotype id; 8 and 9 columns are both accepted.

    Returns one row per line with the columns of GENEPHENO_COLUMNS, `extra` (the extra
    column of the 9-column layout, else ""), plus:
      marker_ids: tuple of MGI marker ids (the raw column may hold several, split on '|'/',')
      marker_id: the marker id when there is exactly one, else "" (multi-gene genotypes)
      n_markers: number of distinct marker ids
      allele_genes: tuple of lower-cased gene symbols named by the allele symbols (text
        before '<'; the wild-type '+' is ignored)
      single_gene: n_markers == 1 and at most one allele gene (keep these for single-gene
        knockout labels)
    Raises InputFormatError on a wrong column count, a bad MP id or a bad MGI marker id.
    """
    table, lines, _ = read_tsv(path, (8, 9))
    if table.shape[1] == 9:
        # 9-column layout: an extra column (empty in the 2016 report) before the genotype
        # id; rows of 8 columns were padded at the end by read_tsv
        late = table[8] != ""
        genotype = table[8].where(late, table[7])
        extra = table[7].where(late, "")
    else:
        genotype, extra = table[7], pd.Series([""] * len(table), dtype="string")
    frame = pd.DataFrame({name: table[i] for i, name in enumerate(GENEPHENO_COLUMNS[:7])})
    frame["genotype_id"] = genotype
    frame["extra"] = extra
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    if len(frame):
        check_column(path, frame, "mp_id", _MP_ID, lines, what="MP id")
        check_column(path, frame, "genotype_id", _MGI_ID, lines, what="MGI genotype id", allow_empty=True)
    markers: list[tuple[str, ...]] = []
    parsed: dict[str, tuple[str, ...]] = {}  # raw column value -> ids (values repeat a lot)
    for index, raw in enumerate(frame["marker_ids_raw"].tolist()):
        ids = parsed.get(raw)
        if ids is None:
            ids = tuple(dict.fromkeys(p.strip() for p in _MARKER_SPLIT.split(raw or "") if p.strip()))
            for marker in ids:
                if not _MGI_ID.fullmatch(marker):
                    raise InputFormatError(
                        path, f"bad MGI marker id {marker!r} (expected MGI:digits)", line=lines[index]
                    )
            parsed[raw] = ids
        markers.append(ids)
    frame["marker_ids"] = pd.Series(markers, index=frame.index, dtype=object)
    frame["n_markers"] = [len(m) for m in markers]
    frame["marker_id"] = pd.Series([m[0] if len(m) == 1 else "" for m in markers], dtype="string")
    # genes named by the allele symbols ("Kdr<tm1Jrt>|Kdr<+>" -> {"Kdr"}); a transgene or
    # a second locus shows up here even when the marker column lists one id
    # ("+" is the wild-type allele; case is ignored: "A<sy>" is an allele of gene "a")
    allele_genes = [
        tuple(sorted({g for a in (raw or "").split("|") if (g := a.split("<", 1)[0].strip().lower()) not in ("", "+")}))
        for raw in frame["allele_symbols"].tolist()
    ]
    frame["allele_genes"] = pd.Series(allele_genes, index=frame.index, dtype=object)
    frame["single_gene"] = (frame["n_markers"] == 1) & pd.Series([len(g) <= 1 for g in allele_genes], index=frame.index)
    logger.debug("%s: %d annotations, %d multi-gene", path, len(frame), int((frame["n_markers"] > 1).sum()))
    return frame


COORD_COLUMNS = {
    "MGI accession id": "marker_id",
    "marker type": "marker_type",
    "marker symbol": "symbol",
    "marker name": "name",
    "genome build": "genome_build",
    "Entrez gene id": "entrez_id",
    "NCBI gene chromosome": "ncbi_chromosome",
    "NCBI gene start": "ncbi_start",
    "NCBI gene end": "ncbi_end",
    "NCBI gene strand": "ncbi_strand",
    "Ensembl gene id": "ensembl_id",
    "Ensembl gene chromosome": "ensembl_chromosome",
    "Ensembl gene start": "ensembl_start",
    "Ensembl gene end": "ensembl_end",
    "Ensembl gene strand": "ensembl_strand",
}


def _header_name(field: str) -> str:
    # "1. MGI accession id" -> "MGI accession id"
    return re.sub(r"^\s*\d+\.\s*", "", field).strip()


def read_mgi_gene_model_coord(path: PathLike) -> pd.DataFrame:
    """Parse MGI_Gene_Model_Coord.rpt (header row with numbered column names).

    Returns marker_id, marker_type, symbol, name, genome_build, entrez_id, ncbi_chromosome,
    ncbi_start, ncbi_end, ncbi_strand, ensembl_id, ensembl_chromosome, ensembl_start,
    ensembl_end, ensembl_strand (all strings; "null"/empty -> ""), plus any further
    upstream columns under snake_case names (VEGA columns in older releases).
    """
    # The header decides the width; rows may carry one trailing empty field.
    head: list[str] | None = None
    head_line: int | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        fields = line.split("\t")
        if head is None:
            names = [_header_name(f) for f in fields]
            while names and not names[-1]:
                names.pop()
            if "MGI accession id" not in names or "marker symbol" not in names:
                raise InputFormatError(
                    path, "header lacks '1. MGI accession id' / '3. marker symbol': not an "
                    "MGI_Gene_Model_Coord.rpt file", line=number,
                )
            check_unique_columns(path, names, number)
            head, head_line = names, number
            continue
        while len(fields) > len(head) and fields[-1] == "":
            fields.pop()
        if len(fields) != len(head):
            raise InputFormatError(
                path, f"expected {len(head)} tab-separated columns, found {len(fields)}", line=number
            )
        rows.append(fields)
        lines.append(number)
    if head is None:
        raise InputFormatError(path, "empty file")
    columns = [COORD_COLUMNS.get(h, re.sub(r"\W+", "_", h.lower()).strip("_")) for h in head]
    check_unique_columns(path, columns, head_line)
    frame = pd.DataFrame(rows, columns=columns, dtype="string")
    frame = frame.replace("null", "")
    if len(frame):
        check_column(path, frame, "marker_id", _MGI_ID, lines, what="MGI marker id")
        if "entrez_id" in frame:  # older layouts may lack it; nothing else needs it
            check_column(path, frame, "entrez_id", re.compile(r"\d+"), lines, what="Entrez gene id", allow_empty=True)
    return frame
