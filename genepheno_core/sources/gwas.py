"""GWAS gene-trait tables: the TIGA/GWAX gt_stats.csv.gz of the mirror and the official
GWAS Catalog associations TSV (gwas_catalog_v1.0-associations*.tsv).

Both readers return a gene-trait table with the columns

    gene_symbol, trait_id ("EFO:0007789" style CURIE), trait_name, trait_uri,
    n_study, n_snp, pvalue_mlog_median, or_median, clean_symbol

clean_symbol is False for entries that are not one plain gene symbol (TIGA keeps some
upstream oddities: "APOE/APOC1", "CDKN2A/B", "C20:2", "ABLIM1x CASC8").

pvalue_mlog_median is the only p-value TIGA's gt_stats gives: the median -log10(p) of the
pair's catalog associations (NA when none has a p-value); `genome_wide_significant` turns
it into the p <= threshold rule.
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict

import numpy as np
import pandas as pd

from genepheno_core.errors import InputFormatError
from genepheno_core.sources._util import PathLike, iter_lines, open_text

logger = logging.getLogger(__name__)

COLUMNS = [
    "gene_symbol",
    "trait_id",
    "trait_name",
    "trait_uri",
    "n_study",
    "n_snp",
    "pvalue_mlog_median",
    "or_median",
    "clean_symbol",
]

_URI_TAIL = re.compile(r"([A-Za-z][A-Za-z0-9]*)_([A-Za-z0-9]+)$")
_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]*")


def trait_uri_to_id(uri: str) -> str | None:
    """'http://www.ebi.ac.uk/efo/EFO_0007789' -> 'EFO:0007789' (also MONDO_, HP_, GO_,
    Orphanet_ ...); None when the URI has no PREFIX_LOCAL tail."""
    tail = uri.strip().rstrip("/").rsplit("/", 1)[-1]
    match = _URI_TAIL.fullmatch(tail)
    return f"{match.group(1)}:{match.group(2)}" if match else None


def genome_wide_significant(pvalue_mlog: pd.Series, max_p: float) -> pd.Series:
    """Boolean mask: -log10(p) at least -log10(max_p), i.e. p <= max_p (NA: False).

    TIGA writes -log10(p) with 15 significant digits, so p = 5e-8 exactly reads back as
    7.30102999566398 < -log10(5e-8) = 7.301029995663981: compare with a relative tolerance
    of 1e-12 (far below any real difference between two p-values).
    """
    if not 0 < max_p <= 1:
        raise ValueError(f"max_p must be in (0, 1], got {max_p}")
    threshold = -math.log10(max_p)
    values = pd.to_numeric(pvalue_mlog, errors="coerce").astype(float)
    return pd.Series(np.nan_to_num(values.to_numpy(), nan=-np.inf) >= threshold - 1e-12 * abs(threshold),
                     index=pvalue_mlog.index)


def _clean_symbol(symbols: pd.Series) -> pd.Series:
    return symbols.str.fullmatch(_SYMBOL.pattern).fillna(False).astype(bool)


TIGA_REQUIRED = ["gsymb", "trait_uri", "trait", "n_study", "n_snp", "pvalue_mlog_median", "or_median"]


def read_tiga_gene_trait(path: PathLike) -> pd.DataFrame:
    """TIGA/GWAX gt_stats.csv(.gz): one row per gene-trait pair.

    Gene symbols are stripped (the upstream file has leading spaces); trait URIs become
    CURIEs. Raises InputFormatError (with line number) on a missing column, a row with
    the wrong number of fields, a trait URI without an id, or non-numeric counts.
    """
    try:
        with open_text(path) as handle:  # gzip detected by content, not by suffix
            frame = pd.read_csv(handle, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:
        raise InputFormatError(path, "empty file: no CSV header") from exc
    except pd.errors.ParserError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise InputFormatError(path, f"malformed CSV row: {exc}", line=int(match.group(1)) if match else None) from exc
    except (UnicodeDecodeError, EOFError, OSError) as exc:
        raise InputFormatError(path, f"cannot read CSV: {exc}") from exc
    missing = [c for c in TIGA_REQUIRED if c not in frame.columns]
    if missing:
        raise InputFormatError(path, f"missing columns {missing} (have {list(frame.columns)})", line=1)
    # pandas pads short rows with "" (keep_default_na=False); catch them by the
    # first required numeric field being empty
    lines = np.arange(len(frame)) + 2  # header is line 1 (no embedded newlines in this file)
    out = pd.DataFrame(
        {
            "gene_symbol": frame["gsymb"].str.strip(),
            "trait_uri": frame["trait_uri"].str.strip(),
            "trait_name": frame["trait"].str.strip(),
        }
    )
    ids = [trait_uri_to_id(u) for u in out["trait_uri"].tolist()]
    for i, value in enumerate(ids):
        if value is None:
            raise InputFormatError(path, f"trait URI {out['trait_uri'].iloc[i]!r} has no ontology id", line=int(lines[i]))
    out["trait_id"] = pd.Series(ids, dtype="string")
    for column, kind in (("n_study", "Int64"), ("n_snp", "Int64"), ("pvalue_mlog_median", "Float64"), ("or_median", "Float64")):
        raw = frame[column].str.strip().replace({"NA": "", "NaN": ""})
        numeric = pd.to_numeric(raw.replace("", np.nan), errors="coerce")
        bad = numeric.isna() & (raw != "")
        if column in ("n_study", "n_snp"):
            # counts: present, whole and in range (the Int64 cast raises TypeError on 1.5 or 1e20)
            count = np.isfinite(numeric) & (numeric == numeric.round()) & (numeric >= 0) & (numeric < 2**53)
            bad |= (raw == "") | (numeric.notna() & ~count)
        if bool(bad.any()):
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputFormatError(path, f"bad {column} value {raw.iloc[i]!r}", line=int(lines[i]))
        out[column] = numeric.astype(kind)
    if bool((out["gene_symbol"] == "").any()):
        i = int(np.flatnonzero((out["gene_symbol"] == "").to_numpy())[0])
        raise InputFormatError(path, "empty gene symbol", line=int(lines[i]))
    out["clean_symbol"] = _clean_symbol(out["gene_symbol"])
    return out[COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# official GWAS Catalog associations TSV

CATALOG_REQUIRED = ["MAPPED_GENE", "REPORTED GENE(S)", "MAPPED_TRAIT", "MAPPED_TRAIT_URI", "P-VALUE", "SNPS", "PUBMEDID"]
_GENE_SPLIT = re.compile(r"\s*[,;]\s*")


def _split_genes(text: str, intergenic: bool) -> list[str]:
    """'A, B' -> [A, B]; 'A - B' (SNP between A and B) -> [A, B] if intergenic else [];
    'A x B' (interaction) -> [A, B]; 'NR' / 'intergenic' -> []."""
    text = (text or "").strip()
    if not text or text.upper() in ("NR", "NA", "INTERGENIC"):
        return []
    out: list[str] = []
    for part in _GENE_SPLIT.split(text):
        if " - " in part:
            if not intergenic:
                continue
            pieces = part.split(" - ")
        else:
            pieces = part.split(" x ")
        for piece in pieces:
            piece = piece.strip()
            if piece and piece.upper() not in ("NR", "NA", "INTERGENIC"):
                out.append(piece)
    return list(dict.fromkeys(out))


def read_gwas_catalog_associations(
    path: PathLike,
    gene_column: str = "MAPPED_GENE",
    max_pvalue: float | None = None,
    intergenic: bool = False,
) -> pd.DataFrame:
    """GWAS Catalog associations TSV -> gene-trait table (same columns as
    read_tiga_gene_trait).

    gene_column: "MAPPED_GENE" (Ensembl-mapped genes, default) or "REPORTED GENE(S)".
    max_pvalue: keep associations with P-VALUE <= max_pvalue (None: all; the catalog lists
        p < 1e-5).
    intergenic: also use both flanking genes of intergenic SNPs ("A - B").
    n_study counts distinct PUBMEDIDs, n_snp distinct SNPS; pvalue_mlog_median is the
    median of -log10(p); or_median the median "OR or BETA" (NaN when absent).
    Raises InputFormatError on missing columns, a wrong field count or a bad P-VALUE.
    """
    header: list[str] | None = None
    pairs: dict[tuple[str, str], dict] = defaultdict(lambda: {"studies": set(), "snps": set(), "mlogp": [], "or": []})
    names: dict[str, tuple[str, str]] = {}
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        fields = line.split("\t")
        if header is None:
            header = [f.strip() for f in fields]
            missing = [c for c in CATALOG_REQUIRED if c not in header]
            if gene_column not in header:
                missing.append(gene_column)
            if missing:
                raise InputFormatError(path, f"missing columns {sorted(set(missing))}: not a GWAS Catalog associations file?", line=number)
            col = {name: i for i, name in enumerate(header)}
            continue
        if len(fields) != len(header):
            raise InputFormatError(path, f"expected {len(header)} tab-separated columns, found {len(fields)}", line=number)
        try:
            pvalue = float(fields[col["P-VALUE"]])
        except ValueError:
            raise InputFormatError(path, f"bad P-VALUE {fields[col['P-VALUE']]!r}", line=number) from None
        if max_pvalue is not None and pvalue > max_pvalue:
            continue
        genes = _split_genes(fields[col[gene_column]], intergenic)
        uris = [u.strip() for u in fields[col["MAPPED_TRAIT_URI"]].split(",") if u.strip()]
        trait_names = [t.strip() for t in fields[col["MAPPED_TRAIT"]].split(",")]
        if len(trait_names) != len(uris):  # trait names may contain commas: keep the whole text
            trait_names = [fields[col["MAPPED_TRAIT"]].strip()] * len(uris)
        odds = np.nan
        if "OR or BETA" in col:
            try:
                odds = float(fields[col["OR or BETA"]])
            except ValueError:
                odds = np.nan
        mlogp = -math.log10(pvalue) if pvalue > 0 else math.inf
        for uri, trait_name in zip(uris, trait_names):
            trait_id = trait_uri_to_id(uri)
            if trait_id is None:
                raise InputFormatError(path, f"MAPPED_TRAIT_URI {uri!r} has no ontology id", line=number)
            names.setdefault(trait_id, (trait_name, uri))
            for gene in genes:
                entry = pairs[(gene, trait_id)]
                entry["studies"].add(fields[col["PUBMEDID"]])
                entry["snps"].add(fields[col["SNPS"]])
                entry["mlogp"].append(mlogp)
                if not math.isnan(odds):
                    entry["or"].append(odds)
    if header is None:
        raise InputFormatError(path, "empty file")
    rows = []
    for (gene, trait_id), entry in sorted(pairs.items()):
        rows.append(
            {
                "gene_symbol": gene,
                "trait_id": trait_id,
                "trait_name": names[trait_id][0],
                "trait_uri": names[trait_id][1],
                "n_study": len(entry["studies"]),
                "n_snp": len(entry["snps"]),
                "pvalue_mlog_median": float(np.median(entry["mlogp"])),
                "or_median": float(np.median(entry["or"])) if entry["or"] else np.nan,
            }
        )
    out = pd.DataFrame(rows, columns=COLUMNS[:-1])
    out = out.astype({"gene_symbol": "string", "trait_id": "string", "trait_name": "string", "trait_uri": "string",
                      "n_study": "Int64", "n_snp": "Int64", "pvalue_mlog_median": "Float64", "or_median": "Float64"})
    out["clean_symbol"] = _clean_symbol(out["gene_symbol"])
    return out[COLUMNS]
