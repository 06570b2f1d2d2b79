"""Small file helpers shared by every area: atomic writes, hashing, cache directory."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import glob
import gzip
import hashlib
import logging
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path

import numpy as np

from genepheno_core import environment
from genepheno_core.errors import GenePhenoError

logger = logging.getLogger(__name__)

# Files that identify the directory artifacts atomic_path may replace with a new version:
# a dataset (datasets/artifact.py: manifest.json, terms.tsv), a checkpoint
# (training/checkpoint.py: config.json, manifest.json, terms.tsv) and a model's explain/
# extras (interpret/model_store.py: terms.tsv). A directory is only replaced by one with
# the same markers, so a user's own directory is never swapped for an artifact.
ARTIFACT_MARKERS = ("manifest.json", "config.json", "terms.tsv")

# atomic_path's temporary directories: .<target name>.<pid>.<mkdtemp random>.tmp
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[a-z0-9_]+\.tmp$")


def genepheno_home() -> Path:
    """Cache/data directory: $GENEPHENO_HOME, else the platform cache dir (environment.home)."""
    return environment.home()


def sha256_file(path: str | os.PathLike, decompressed: bool = False, chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes (or of its gzip-decompressed content), read now: the one hash
    helper (never remembered by path, size or mtime, so a rewritten file is always seen).
    decompressed=True on a corrupt gzip raises OSError, EOFError or zlib.error."""
    digest = hashlib.sha256()
    with (gzip.open if decompressed else open)(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def json_safe(value, max_array: int | None = None):
    """`value` made of JSON types: the one JSON-cleaning helper. numpy scalars and arrays,
    tuples, sets (sorted), paths and dataclasses are converted; non-finite floats become
    None (strict JSON has no NaN); arrays longer than `max_array` become a placeholder
    string; anything else unknown becomes its repr."""
    if isinstance(value, dict):
        return {str(k): json_safe(v, max_array) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, max_array) for v in value]
    if isinstance(value, (set, frozenset)):
        return [json_safe(v, max_array) for v in sorted(value)]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        if max_array is not None and value.size > max_array:
            return f"<array {value.shape}>"
        return json_safe(value.tolist(), max_array)
    if isinstance(value, (str, int)) or value is None:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_safe(dataclasses.asdict(value), max_array)
    return repr(value)


def check_output_file(target: str | os.PathLike) -> Path:
    """`target` as a Path if a file may be written there; else a GenePhenoError saying why.

    Call it before long work so that a bad `-o` fails at once; atomic_path checks again."""
    target = Path(target)
    _check_name(target)
    if target.is_dir() and not target.is_symlink():
        raise GenePhenoError(f"{target} is an existing directory; name an output file")
    _check_parents(target)
    return target


def _check_name(target: Path) -> None:
    # Path(".").name == "" and Path("x/..").name == "..": neither names a new entry
    if target.name in ("", ".", ".."):
        raise GenePhenoError(f"{str(target) or '.'} is a directory, not a file name; name an output file")


def _check_parents(target: Path) -> None:
    """Refuse a target below an existing file (mkdir would fail with a bare OSError)."""
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise GenePhenoError(f"cannot write {target}: {parent} is not a directory")
            return


def _markers(directory: Path) -> frozenset[str]:
    return frozenset(m for m in ARTIFACT_MARKERS if (directory / m).is_file())


def _check_replace_dir(target: Path, new: Path | None) -> None:
    """Refuse to replace the existing directory `target` unless it is empty or an artifact
    of the same kind as `new` (None: not written yet, so only rule out foreign content)."""
    if new is not None and not (new.is_dir() and not new.is_symlink()):
        raise GenePhenoError(f"{target} is an existing directory; name an output file")
    old = _markers(target)
    if not old and any(target.iterdir()):
        raise GenePhenoError(
            f"{target} is an existing directory; name an output file or a new directory "
            "(its content is left as it is)"
        )
    if new is not None and old and old != _markers(new):
        raise GenePhenoError(
            f"{target} is an existing directory holding a different kind of artifact "
            f"({', '.join(sorted(old))}); name a new directory"
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temps(directory: str | os.PathLike, name: str = "*") -> int:
    """Delete atomic_path temporaries in `directory` (for targets matching the glob `name`)
    left by killed processes: their creator's pid is in the name and no longer runs.
    Returns how many were removed."""
    removed = 0
    directory = Path(directory)
    if not directory.is_dir():
        return 0
    for path in directory.glob(".*.tmp"):
        match = _TEMP_NAME.match(path.name)
        if match and fnmatchcase(match["name"], name) and not _pid_alive(int(match["pid"])):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    if removed:
        logger.debug("removed %d stale temporary file(s) in %s", removed, directory)
    return removed


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: this filesystem cannot
        return False
    raise OSError(errno, os.strerror(errno), str(b))


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `target`; rename it onto `target` only on success.

    Works for files and directories. A crash leaves `target` untouched (old content or
    absent) and at most a hidden `.<name>.<pid>.*.tmp` sibling, which the next atomic_path
    on the same target removes. Never replaces a directory with a file, a file with a
    directory, or a directory with one that is not the same kind of artifact
    (ARTIFACT_MARKERS; an empty directory may be replaced by any directory): those raise
    GenePhenoError before the existing content is touched.
    """
    target = Path(target)
    _check_name(target)
    if target.is_dir() and not target.is_symlink():
        _check_replace_dir(target, None)  # fail before the caller's work when we can
    _check_parents(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GenePhenoError(f"cannot create the directory of {target}: {exc.strerror}") from exc
    remove_stale_temps(target.parent, glob.escape(target.name))
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent))
    tmp_target = tmp / target.name
    try:
        yield tmp_target
        if target.is_dir() and not target.is_symlink():
            _check_replace_dir(target, tmp_target)
            # Directories cannot be renamed over a non-empty one: swap them in one step, or
            # (where the filesystem cannot) move the old one into the temporary directory.
            if not _exchange(tmp_target, target):
                os.replace(target, tmp / ".old")
                os.replace(tmp_target, target)
        elif tmp_target.is_dir() and target.exists() and not target.is_symlink():
            raise GenePhenoError(f"{target} is an existing file; cannot replace it with a directory")
        else:
            os.replace(tmp_target, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def atomic_write_bytes(target: str | os.PathLike, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))
