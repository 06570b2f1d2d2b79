"""Shared helpers for the parsers: transparent decompression and checked tabular reading."""

from __future__ import annotations

import csv
import gzip
import io
import logging
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import pandas as pd

from genepheno_core.errors import InputFormatError, MissingDataError

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike

# CURIE patterns checked by the parsers: an ontology id is PREFIX:digits (HP:0000118,
# MP:0002169, GO:0008150), an MGI id is MGI:digits.
ONTOLOGY_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*:\d+")


def id_pattern(prefix: str) -> re.Pattern[str]:
    """Regex for `PREFIX:digits` (e.g. id_pattern("HP") matches "HP:0000118")."""
    return re.compile(re.escape(prefix) + r":\d+")


def open_text(path: PathLike, encoding: str = "utf-8") -> IO[str]:
    """Open a text file, decompressing .gz (by magic bytes) and .zst (by suffix).

    The gzip check looks at the first two bytes rather than the suffix, so a
    decompressed copy that kept its `.gz` name (or the reverse) still reads.
    """
    path = Path(path)
    if not path.exists():
        raise MissingDataError(f"{path}: file not found")
    with open(path, "rb") as probe:
        magic = probe.read(4)
    if magic[:2] == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding=encoding, newline="")
    if magic == b"\x28\xb5\x2f\xfd" or path.suffix == ".zst":
        import zstandard

        raw = open(path, "rb")
        reader = zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)
        return io.TextIOWrapper(reader, encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")


def iter_lines(path: PathLike) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line without its line ending)."""
    number = 0
    with open_text(path) as handle:
        try:
            for number, line in enumerate(handle, start=1):
                yield number, line.rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise InputFormatError(path, f"not UTF-8 text ({exc.reason})", line=number + 1) from exc
        except (EOFError, OSError) as exc:  # truncated / corrupt gzip
            raise InputFormatError(path, f"cannot decompress: {exc}") from exc


def read_tsv_rows(
    path: PathLike,
    n_columns: int | Sequence[int],
    *,
    comment: str | None = None,
    header: bool = False,
    sep: str = "\t",
    skip_blank: bool = True,
) -> tuple[list[list[str]], list[int], list[str] | None]:
    """Split a delimited file into rows, checking the number of fields on every line.

    Returns (rows, line_numbers, header_fields). `n_columns` may list several accepted
    counts. Lines starting with `comment` are skipped. Raises InputFormatError naming the
    file and line on a wrong field count.
    """
    accepted = {n_columns} if isinstance(n_columns, int) else set(n_columns)
    rows: list[list[str]] = []
    numbers: list[int] = []
    head: list[str] | None = None
    for number, line in iter_lines(path):
        if comment is not None and line.startswith(comment):
            continue
        if skip_blank and not line.strip():
            continue
        fields = line.split(sep)
        if header and head is None:
            head = fields
            continue
        if len(fields) not in accepted:
            want = " or ".join(str(n) for n in sorted(accepted))
            raise InputFormatError(
                path, f"expected {want} tab-separated columns, found {len(fields)}", line=number
            )
        rows.append(fields)
        numbers.append(number)
    return rows, numbers, head


def _decompressed(path: PathLike) -> bytes:
    path = Path(path)
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic[:2] == b"\x1f\x8b":
        with gzip.open(path, "rb") as handle:
            return handle.read()
    if magic == b"\x28\xb5\x2f\xfd":
        import zstandard

        with open(path, "rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as reader:
            return reader.read()
    return path.read_bytes()


def _fast_table(
    path: PathLike, accepted: set[int], comment: str | None, header: bool
) -> tuple[pd.DataFrame, range, list[str] | None] | None:
    """pandas C-engine read of a regular TSV; None when the file is irregular in any way
    (blank or comment lines inside the body, ragged rows, bad bytes): the caller then uses
    the line-by-line reader, which reports the exact line of a problem."""
    try:
        raw = _decompressed(path)
    except (OSError, EOFError):
        return None
    pos, line_no, head = 0, 0, None
    prefix = comment.encode() if comment else None
    while pos < len(raw):  # leading comment / header lines
        end = raw.find(b"\n", pos)
        end = len(raw) if end < 0 else end
        line = raw[pos:end].rstrip(b"\r")
        if prefix is not None and line.startswith(prefix):
            pass
        elif not line.strip():
            pass
        elif header and head is None:
            try:
                head = line.decode("utf-8").split("\t")
            except UnicodeDecodeError:
                return None
        else:
            break
        pos, line_no = end + 1, line_no + 1
    body = raw[pos:]
    if not body.strip():
        return None
    if b"\n\n" in body or b"\n\r\n" in body or (prefix is not None and b"\n" + prefix in body):
        return None
    n_lines = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    tabs = body.count(b"\t")
    # pandas errors on rows wider than the first and pads narrower ones silently: with
    # the total tab count equal to n_lines * (n - 1), no row can be narrower either.
    width = next((n for n in sorted(accepted) if tabs == n_lines * (n - 1)), None)
    if width is None:
        return None
    try:
        frame = pd.read_csv(
            io.BytesIO(body), sep="\t", header=None, dtype=str, na_filter=False,
            quoting=csv.QUOTE_NONE, engine="c", skip_blank_lines=False, encoding="utf-8",
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError):
        return None
    if len(frame) != n_lines or frame.shape[1] != width:
        return None
    return frame, range(line_no + 1, line_no + 1 + n_lines), head


def read_tsv(
    path: PathLike,
    n_columns: int | Sequence[int],
    *,
    comment: str | None = None,
    header: bool = False,
) -> tuple[pd.DataFrame, Sequence[int], list[str] | None]:
    """Tab-separated file -> (frame with integer column labels 0..n-1 (strings), line
    numbers of the rows, header fields or None).

    Regular files take a fast pandas path; anything irregular goes through
    `read_tsv_rows`, which raises InputFormatError at the offending line. With several
    accepted widths the narrower rows are padded with "" up to the widest.
    """
    accepted = {n_columns} if isinstance(n_columns, int) else set(n_columns)
    fast = _fast_table(path, accepted, comment, header)
    if fast is not None:
        frame, lines, head = fast
    else:
        rows, lines, head = read_tsv_rows(path, accepted, comment=comment, header=header)
        width = max(len(r) for r in rows) if rows else max(accepted)
        frame = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], columns=range(width), dtype=str)
    frame = frame.astype("string")
    return frame, lines, head


def check_column(
    path: PathLike,
    frame: pd.DataFrame,
    column: str,
    pattern: re.Pattern[str],
    line_numbers: Sequence[int] | None,
    *,
    allow_empty: bool = False,
    what: str | None = None,
) -> None:
    """Raise InputFormatError at the first value of `column` not fully matching `pattern`."""
    values = frame[column].astype("string")
    ok = values.str.fullmatch(pattern.pattern).fillna(False)
    if allow_empty:
        ok |= values.fillna("") == ""
    if bool(ok.all()):
        return
    first = int((~ok.to_numpy()).nonzero()[0][0])
    line = line_numbers[first] if line_numbers is not None else None
    label = what or column
    raise InputFormatError(
        path,
        f"bad {label} {values.iloc[first]!r} (expected {pattern.pattern})",
        line=line,
    )
