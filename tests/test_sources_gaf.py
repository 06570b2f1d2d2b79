"""GAF 2.x reader on a hand-written fixture (+ gzip copy)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genepheno_core.errors import InputFormatError
from genepheno_core.sources.gaf import GAF_COLUMNS, read_gaf

DATA = Path(__file__).parent / "data" / "sources"
needs_mirror = pytest.mark.skipif(not os.environ.get("GENEPHENO_MIRROR"), reason="GENEPHENO_MIRROR not set")


@pytest.mark.parametrize("name", ["goa_tiny.gaf", "goa_tiny.gaf.gz"])
def test_read_gaf(name):
    frame = read_gaf(DATA / name)
    assert list(frame.columns[:17]) == GAF_COLUMNS
    assert list(frame["accession"]) == ["P04637", "P04637", "P38398", "Q9Y2K1"]
    assert list(frame["go_id"]) == ["GO:0006915", "GO:0005739", "GO:0004842", "GO:0005634"]
    assert list(frame["negated"]) == [False, True, False, True]
    assert list(frame["evidence"]) == ["IDA", "IDA", "IBA", "IEA"]
    assert list(frame["aspect"]) == ["P", "C", "F", "C"]
    assert list(frame["taxon_id"]) == [9606, 9606, 9606, 9606]
    assert frame.iloc[2]["with_from"] == "PANTHER:PTN000130009|UniProtKB:Q9Y2K1"
    assert frame.attrs["gaf_version"] == "2.1"


def _edit(tmp_path, index, edit):
    lines = (DATA / "goa_tiny.gaf").read_text().splitlines()
    lines[index] = edit(lines[index])
    path = tmp_path / "bad.gaf"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_bad_go_id(tmp_path):
    path = _edit(tmp_path, 4, lambda s: s.replace("GO:0005739", "GO:5739a"))
    with pytest.raises(InputFormatError) as err:
        read_gaf(path)
    assert str(path) in str(err.value) and "line 5" in str(err.value) and "bad GO id 'GO:5739a'" in str(err.value)


def test_wrong_column_count(tmp_path):
    path = _edit(tmp_path, 5, lambda s: "\t".join(s.split("\t")[:10]))
    with pytest.raises(InputFormatError, match=r"line 6: expected 16 or 17 tab-separated columns, found 10 \(GAF 2.1 has 17\)"):
        read_gaf(path)


def test_bad_aspect(tmp_path):
    path = _edit(tmp_path, 3, lambda s: s.replace("\tP\t", "\tX\t"))
    with pytest.raises(InputFormatError, match="line 4: bad aspect 'X'"):
        read_gaf(path)


def test_missing_header(tmp_path):
    lines = (DATA / "goa_tiny.gaf").read_text().splitlines()
    path = tmp_path / "nohead.gaf"
    path.write_text("\n".join(lines[3:]) + "\n")
    with pytest.raises(InputFormatError, match="line 1: annotation line before the '!gaf-version:' header"):
        read_gaf(path)


@pytest.mark.integration
@needs_mirror
def test_mirror_goa_files():
    from genepheno_core.sources.registry import resource_path

    for name, n_lines, taxon in (("goa_human.gaf.gz", 475402, 9606), ("goa_mouse.gaf.gz", 396273, 10090)):
        frame = read_gaf(resource_path("goa", name))
        assert len(frame) == n_lines
        assert (frame["taxon_id"] == taxon).mean() > 0.99
        assert 0 < frame["negated"].sum() < 2000


def test_irregular_files_take_the_line_reader_with_same_result(tmp_path):
    """Comment/blank lines inside the body and CRLF endings give the same table."""
    reference = read_gaf(DATA / "goa_tiny.gaf")
    lines = (DATA / "goa_tiny.gaf").read_text().splitlines()
    irregular = tmp_path / "irregular.gaf"
    irregular.write_text("\n".join(lines[:5] + ["! a comment in the body", ""] + lines[5:]) + "\n")
    crlf = tmp_path / "crlf.gaf"
    crlf.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    for path in (irregular, crlf):
        frame = read_gaf(path)
        assert frame.astype(str).values.tolist() == reference.astype(str).values.tolist()
