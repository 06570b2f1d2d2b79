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

    def __reduce__(self):  # pickled by Ray / multiprocessing: rebuilt from its parts, not its message
        return (type(self), (self.path, self.problem, self.line, self.record))


class ChecksumError(GenePhenoError):
    def __init__(self, path: object, expected: str, actual: str):
        super().__init__(f"checksum mismatch for {path}: expected sha256 {expected}, got {actual}")
        self.path, self.expected, self.actual = path, expected, actual

    def __reduce__(self):
        return (type(self), (self.path, self.expected, self.actual))


class MissingDataError(GenePhenoError, FileNotFoundError):
    """A required file or artifact is not there; the message says how to get it."""


class ModelMismatchError(GenePhenoError):
    """A checkpoint does not fit the data or encoder it is used with."""


class ModelLoadError(GenePhenoError):
    """A model file is missing, unreadable, corrupt or inconsistent with the rest of the
    checkpoint. One line: the file and the problem (newlines in a library's message are
    folded, so the CLI and the dashboard can show it as it is)."""

    def __init__(self, path: object, problem: str):
        problem = " ".join(str(problem).split())
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem

    def __reduce__(self):
        return (type(self), (self.path, self.problem))


class UnknownGeneError(GenePhenoError):
    """A gene name that is neither a known symbol / accession of the model nor a file.
    `suggestions` holds close matches among the known names (may be empty)."""

    def __init__(self, query: str, suggestions: list[str] | tuple = (), hint: str = ""):
        message = f"unknown gene {query!r}"
        if suggestions:
            message += f"; did you mean {', '.join(suggestions)}?"
        if hint:
            message += f" ({hint})"
        super().__init__(message)
        self.query = query
        self.suggestions = list(suggestions)
        self.hint = hint

    def __reduce__(self):
        return (type(self), (self.query, self.suggestions, self.hint))
