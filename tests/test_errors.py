"""The user-facing exceptions (genepheno_core/errors.py): messages, and a round trip through
pickle, as Ray and multiprocessing send an error raised in a worker back to the driver (the
exception is rebuilt from its parts, so its message and fields survive)."""

from __future__ import annotations

import pickle

import pytest

from genepheno_core.errors import (
    ChecksumError,
    GenePhenoError,
    InputFormatError,
    MissingDataError,
    ModelLoadError,
    UnknownGeneError,
)


@pytest.mark.parametrize("exc", [
    InputFormatError("in.fa", "invalid character '1'", line=12, record="P1"),
    InputFormatError("in.fa", "no sequences (empty input)"),
    ChecksumError("x.gz", "ab" * 32, "cd" * 32),
    ModelLoadError("model/config.json", "not JSON\n at line 3"),
    UnknownGeneError("CFRT", ["CFTR"], hint="a symbol of the model"),
    MissingDataError("x: no such file"),
    GenePhenoError("plain"),
])
def test_errors_survive_pickling_with_their_fields(exc):
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc) and str(back) == str(exc)
    assert vars(back) == vars(exc)


def test_input_format_error_names_file_line_and_record():
    exc = InputFormatError("in.fa", "too short", line=3, record="Q9")
    assert str(exc) == "in.fa, line 3, record 'Q9': too short"
    assert (exc.path, exc.line, exc.record, exc.problem) == ("in.fa", 3, "Q9", "too short")
