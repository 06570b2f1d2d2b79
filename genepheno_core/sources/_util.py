"""Shared helpers for the parsers: transparent decompression and checked tabular reading."""

from __future__ import annotations

import csv
import gzip
import io
import logging
import os
import re
import zlib
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


class _CheckedStream(io.RawIOBase):
    """A decompressing binary stream whose read errors (a corrupt or truncated archive:
    zlib.error, gzip.BadGzipFile, EOFError, zstandard.ZstdError) become InputFormatError
    naming the file, so that no reader lets them reach the user raw."""

    def __init__(self, stream, path: Path, errors: tuple[type[BaseException], ...]):
        super().__init__()
        self._stream, self._path, self._errors = stream, path, errors

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            return self._stream.readinto(buffer)
        except self._errors as exc:
            raise _corrupt(self._path, exc) from exc

    def readall(self) -> bytes:  # one call instead of 8 KB readinto steps
        try:
            return self._stream.read()
        except self._errors as exc:
            raise _corrupt(self._path, exc) from exc

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()


class _ZstdStream(io.RawIOBase):
    """zstd-decompressed content of a binary file, frame after frame. Unlike
    zstandard's stream_reader, which ends quietly on a cut frame (a truncated file would
    read as a shorter one), EOFError is raised when the file ends inside a frame."""

    def __init__(self, raw: IO[bytes]):
        import zstandard

        super().__init__()
        self._raw, self._new = raw, zstandard.ZstdDecompressor().decompressobj
        self._frame, self._in_frame = self._new(), False
        self._pending, self._pos = b"", 0  # decompressed bytes not yet handed out

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._pos == len(self._pending):
            self._pos = 0
            if self._frame.eof:  # a frame ended: what follows starts the next one
                rest, self._frame = self._frame.unused_data, self._new()
                self._in_frame = bool(rest)
                self._pending = self._frame.decompress(rest) if rest else b""
                continue
            chunk = self._raw.read(1 << 16)
            if not chunk:
                if self._in_frame:
                    raise EOFError("file ends inside a zstd frame")
                self._pending = b""
                return 0
            self._in_frame = True
            self._pending = self._frame.decompress(chunk)
        n = min(len(buffer), len(self._pending) - self._pos)
        buffer[:n] = memoryview(self._pending)[self._pos:self._pos + n]
        self._pos += n
        return n

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def _corrupt(path: PathLike, exc: BaseException) -> InputFormatError:
    return InputFormatError(path, f"cannot decompress ({exc or type(exc).__name__}): corrupt or truncated archive")


def _open_binary(path: Path) -> IO[bytes]:
    """Binary stream of the file's content: gzip (by magic bytes) and zstd (by magic or
    .zst suffix) decompressed, with decompression errors turned into InputFormatError."""
    if not path.exists():
        raise MissingDataError(f"{path}: file not found")
    try:
        with open(path, "rb") as probe:
            magic = probe.read(4)
    except OSError as exc:  # a directory, no permission, ...
        raise InputFormatError(path, f"cannot read: {exc.strerror or exc}") from exc
    if magic[:2] == b"\x1f\x8b":
        stream = _CheckedStream(gzip.open(path, "rb"), path, (OSError, EOFError, zlib.error))
    elif magic == b"\x28\xb5\x2f\xfd" or path.suffix == ".zst":
        import zstandard

        stream = _CheckedStream(_ZstdStream(open(path, "rb")), path, (OSError, EOFError, zstandard.ZstdError))
    else:
        return open(path, "rb")
    return io.BufferedReader(stream)


def open_text(path: PathLike, encoding: str = "utf-8") -> IO[str]:
    """Open a text file, decompressing .gz (by magic bytes) and .zst (by suffix).

    The gzip check looks at the first two bytes rather than the suffix, so a
    decompressed copy that kept its `.gz` name (or the reverse) still reads. A corrupt
    or truncated archive raises InputFormatError (when read), not zlib.error/EOFError.
    """
    return io.TextIOWrapper(_open_binary(Path(path)), encoding=encoding, newline="")


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
    """The whole decompressed content; InputFormatError for a corrupt archive."""
    with _open_binary(Path(path)) as handle:
        return handle.read()


def _fast_table(
    path: PathLike, accepted: set[int], comment: str | None, header: bool
) -> tuple[pd.DataFrame, range, list[str] | None] | None:
    """pandas C-engine read of a regular TSV; None when the file is irregular in any way
    (blank or comment lines inside the body, ragged rows, bad bytes): the caller then uses
    the line-by-line reader, which reports the exact line of a problem."""
    raw = _decompressed(path)  # a corrupt archive is an error either way: let it raise
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


def check_unique_columns(path: PathLike, names: Sequence[str], line: int | None) -> None:
    """Raise InputFormatError when a header names the same column twice (after renaming),
    which would make every lookup of that column ambiguous."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputFormatError(path, f"header has column {name!r} twice", line=line)
        seen.add(name)


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
