"""genepheno_core.io: atomic writes and hashing."""

import hashlib
import os
import subprocess
import sys

import pytest

from genepheno_core.errors import GenePhenoError
from genepheno_core.io import (
    atomic_path,
    atomic_write_text,
    check_output_file,
    genepheno_home,
    remove_stale_temps,
    sha256_file,
)


def test_atomic_write_replaces_file(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_failed_write_keeps_old_content(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def _write_artifact(target, *files):
    with atomic_path(target) as tmp:
        tmp.mkdir()
        for name in files:
            (tmp / name).write_text(name)


def test_atomic_directory_replace(tmp_path):
    target = tmp_path / "artifact"
    _write_artifact(target, "manifest.json", "a")
    _write_artifact(target, "manifest.json", "b")
    assert sorted(p.name for p in target.iterdir()) == ["b", "manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["artifact"]
    empty = tmp_path / "empty"
    empty.mkdir()
    _write_artifact(empty, "config.json")  # an empty directory may become an artifact
    assert [p.name for p in empty.iterdir()] == ["config.json"]


def _assert_untouched(directory, files):
    assert sorted(p.name for p in directory.iterdir()) == sorted(files)
    for name, text in files.items():
        assert (directory / name).read_text() == text


@pytest.mark.parametrize("empty", [False, True])
def test_file_never_replaces_a_directory(tmp_path, empty):
    results = tmp_path / "results"
    results.mkdir()
    files = {} if empty else {"old.tsv": "precious"}
    for name, text in files.items():
        (results / name).write_text(text)
    for target in (results, f"{results}/"):
        with pytest.raises(GenePhenoError, match="is an existing directory; name an output file"):
            atomic_write_text(target, "output")
        _assert_untouched(results, files)
        with pytest.raises(GenePhenoError, match="is an existing directory; name an output file"):
            check_output_file(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]  # no temporaries left


def test_directory_replaces_only_the_same_kind_of_artifact(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(GenePhenoError, match="mine is an existing directory; name an output file or a new directory"):
        _write_artifact(mine, "manifest.json")
    _assert_untouched(mine, {"notes.txt": "mine"})
    dataset = tmp_path / "dataset"
    _write_artifact(dataset, "manifest.json", "terms.tsv")
    with pytest.raises(GenePhenoError, match="different kind of artifact"):
        _write_artifact(dataset, "config.json", "manifest.json", "terms.tsv")  # a checkpoint
    _assert_untouched(dataset, {"manifest.json": "manifest.json", "terms.tsv": "terms.tsv"})
    plain = tmp_path / "plain.txt"
    plain.write_text("keep")
    with pytest.raises(GenePhenoError, match="existing file; cannot replace it with a directory"):
        _write_artifact(plain, "manifest.json")
    assert plain.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset", "mine", "plain.txt"]


@pytest.mark.parametrize("name", [".", "..", "sub/..", ""])
def test_paths_without_a_name_are_refused(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "keep").write_text("x")
    with pytest.raises(GenePhenoError, match="not a file name; name an output file"):
        atomic_write_text(name, "output")
    with pytest.raises(GenePhenoError, match="not a file name"):
        check_output_file(name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep", "sub"]


def test_parent_that_is_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("keep")
    for target in (tmp_path / "file" / "out.txt", tmp_path / "file" / "deeper" / "out.txt"):
        with pytest.raises(GenePhenoError, match=f"{tmp_path / 'file'} is not a directory"):
            atomic_write_text(target, "output")
        with pytest.raises(GenePhenoError, match="is not a directory"):
            check_output_file(target)
    assert (tmp_path / "file").read_text() == "keep"


def test_temporaries_of_killed_writers_are_removed(tmp_path):
    # a writer SIGKILLed inside atomic_path leaves its hidden temporary directory
    code = (
        "import os, signal, sys\n"
        "from genepheno_core.io import atomic_path\n"
        "with atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_text('half')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    target = tmp_path / "out.txt"
    subprocess.run([sys.executable, "-c", code, str(target)], check=False)
    other = tmp_path / "other.txt"
    subprocess.run([sys.executable, "-c", code, str(other)], check=False)
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert len(leftovers) == 2 and all(name.endswith(".tmp") for name in leftovers)
    atomic_write_text(target, "whole")  # the next write of a target sweeps its own leftovers
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".other")) == ["out.txt"]
    assert target.read_text() == "whole"
    # a live writer's temporary is kept; the dead one's goes
    live = tmp_path / f".other.txt.{os.getpid()}.abcd1234.tmp"
    live.mkdir()
    assert remove_stale_temps(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "out.txt"]


def test_sha256_file(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"abc" * 1000)
    assert sha256_file(path, chunk=7) == hashlib.sha256(b"abc" * 1000).hexdigest()


def test_genepheno_home_env(monkeypatch, tmp_path):
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    assert genepheno_home() == tmp_path
