"""Exceptions with messages meant for users (the CLI prints them without a traceback)."""

from __future__ import annotations


class GenePhenoError(Exception):
    """Base class: anything the user can fix (bad input, missing data, mismatch)."""


class InputFormatError(GenePhenoError, ValueError):
    """A malformed file or record. The message names the file, line/record and problem."""

    def __init__(self, path: object, problem: str, line: int | None = None, record: str | None = None):
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if record is not None:
            where += f", record {record!r}"
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.line = line
        self.record = record
        self.problem = problem


class ChecksumError(GenePhenoError):
    def __init__(self, path: object, expected: str, actual: str):
        super().__init__(f"checksum mismatch for {path}: expected sha256 {expected}, got {actual}")
        self.path, self.expected, self.actual = path, expected, actual


class MissingDataError(GenePhenoError, FileNotFoundError):
    """A required file or artifact is not there; the message says how to get it."""


class ModelMismatchError(GenePhenoError):
    """A checkpoint does not fit the data or encoder it is used with."""
