"""Shared reading helpers: decompression errors become InputFormatError naming the file."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest
import zstandard

from genepheno_core.errors import InputFormatError
from genepheno_core.sources import _util
from genepheno_core.sources.fasta import read_fasta
from genepheno_core.sources.gaf import read_gaf

TEXT = b"a\tb\n" * 200


def _zlib_corrupt() -> bytes:
    """gzip of TEXT with a reserved deflate block type: gzip raises zlib.error."""
    packed = bytearray(gzip.compress(TEXT, mtime=0))
    packed[10] = 0x07
    with pytest.raises(zlib.error):
        gzip.decompress(bytes(packed))
    return bytes(packed)


def _bad_method() -> bytes:
    """gzip header with compression method 9: gzip raises BadGzipFile (an OSError)."""
    packed = bytearray(gzip.compress(TEXT, mtime=0))
    packed[2] = 9
    return bytes(packed)


def _zstd_corrupt() -> bytes:
    packed = bytearray(zstandard.ZstdCompressor().compress(TEXT))
    del packed[len(packed) // 2:]
    packed += b"\xff" * 8
    return bytes(packed)


READS = {
    "open_text": lambda p: _util.open_text(p).read(),
    "iter_lines": lambda p: list(_util.iter_lines(p)),
    "read_tsv": lambda p: _util.read_tsv(p, 2),
    "read_tsv_rows": lambda p: _util.read_tsv_rows(p, 2),
    "read_fasta": read_fasta,
    "read_gaf": read_gaf,
}
def _zstd_truncated() -> bytes:
    """A zstd file cut inside its frame (zstandard's stream_reader reads it as empty)."""
    return zstandard.ZstdCompressor().compress(TEXT)[:-4]


ARCHIVES = {"zlib-error": (_zlib_corrupt, ".gz"), "zstd-error": (_zstd_corrupt, ".zst"),
            "zstd-truncated": (_zstd_truncated, ".zst")}


@pytest.mark.parametrize("archive", sorted(ARCHIVES))
@pytest.mark.parametrize("read", sorted(READS))
def test_corrupt_archive_is_an_input_format_error(tmp_path, read, archive):
    make, suffix = ARCHIVES[archive]
    path = tmp_path / f"input{suffix}"
    path.write_bytes(make())
    with pytest.raises(InputFormatError, match="cannot decompress") as err:
        READS[read](path)
    assert str(path) in str(err.value)


def test_bad_gzip_header_read_whole_is_an_input_format_error(tmp_path):
    path = tmp_path / "input.gz"
    path.write_bytes(_bad_method())
    with _util.open_text(path) as handle, pytest.raises(InputFormatError, match="cannot decompress"):
        handle.read()


def test_directory_is_an_input_format_error(tmp_path):
    with pytest.raises(InputFormatError, match="cannot read") as err:
        _util.read_tsv(tmp_path, 2)
    assert str(tmp_path) in str(err.value)


def test_zstd_frames_read_whole_and_a_cut_in_the_last_one_is_an_error(tmp_path):
    half = len(TEXT) // 2
    frames = zstandard.ZstdCompressor().compress(TEXT[:half]) + zstandard.ZstdCompressor().compress(TEXT[half:])
    path = tmp_path / "t.tsv.zst"
    path.write_bytes(frames)
    assert _util._decompressed(path) == TEXT
    frame, lines, _ = _util.read_tsv(path, 2)
    assert frame.shape == (200, 2) and list(lines) == list(range(1, 201))
    path.write_bytes(frames[:-3])  # the second frame cut short: not a shorter file
    with pytest.raises(InputFormatError, match="ends inside a zstd frame"):
        _util.read_tsv(path, 2)


def test_duplicate_header_column(tmp_path):
    with pytest.raises(InputFormatError, match=r"line 3: header has column 'hpo_id' twice"):
        _util.check_unique_columns(Path("f.tsv"), ["ncbi_gene_id", "hpo_id", "hpo_id"], 3)
    _util.check_unique_columns(Path("f.tsv"), ["a", "b"], 1)
