"""`embed` and `cache` subcommands, in process."""

import logging
from pathlib import Path

import numpy as np
import pytest

from genepheno_core.cli import main
from genepheno_core.embeddings.composition import composition_features
from genepheno_core.embeddings.sequences import parse_sequences

DATA = Path(__file__).parent / "data" / "embeddings"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    import torch

    threads = torch.get_num_threads()
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path / "home"))
    yield tmp_path / "home"
    logging.getLogger("genepheno_core").handlers.clear()
    torch.set_num_threads(threads)  # --threads must not leak into other tests


def test_embed_writes_npz_and_second_run_uses_cache(tmp_path, capsys):
    out = tmp_path / "out.npz"
    assert main(["embed", str(DATA / "proteins.fasta.gz"), "--encoder", "composition", "-o", str(out), "--no-progress"]) == 0
    data = np.load(out)
    assert list(data["ids"]) == ["P01308", "P02144", "P0CG48", "P61769"]
    seqs = [s for _, s in parse_sequences(DATA / "proteins.fasta")]
    np.testing.assert_array_equal(data["embeddings"], composition_features(seqs))
    capsys.readouterr()
    assert main(["embed", str(DATA / "proteins.fasta"), "-e", "composition", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "4 of 4 unique sequences from the cache" in captured.err
    assert "embedded 4 sequences with composition" in captured.out


def test_embed_unirep_and_no_cache(tmp_path, home, capsys):
    out = tmp_path / "u.npz"
    args = ["embed", str(DATA / "cds.fasta"), "-e", "unirep64", "-o", str(out), "--no-cache", "--batch-tokens", "50", "--threads", "1"]
    assert main(args) == 0
    assert np.load(out)["embeddings"].shape == (1, 64)
    assert "translated" in capsys.readouterr().err
    assert not (home / "embeddings" / "unirep64").exists()


def test_bad_input_is_an_error_without_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.fasta"
    bad.write_text(">a\nMKV\n>a\nMKL\n")
    assert main(["embed", str(bad), "-e", "composition"]) == 1
    err = capsys.readouterr().err
    assert "duplicate id" in err and "Traceback" not in err
    assert main(["embed", str(DATA / "proteins.fasta"), "-e", "nonsense"]) == 1
    assert "unknown encoder" in capsys.readouterr().err
    assert main(["embed", str(tmp_path / "missing.fasta"), "-e", "composition"]) == 1


def test_cache_info_and_clear(capsys):
    main(["embed", str(DATA / "proteins.fasta"), "-e", "composition", "--no-progress"])
    capsys.readouterr()
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert "composition" in out and "total: 4 vectors" in out
    assert main(["cache", "clear", "--encoder", "unirep64"]) == 0
    assert "removed 0" in capsys.readouterr().out
    assert main(["cache", "clear"]) == 0
    assert "removed 1" in capsys.readouterr().out
    main(["cache", "info"])
    assert "(empty)" in capsys.readouterr().out


def test_output_onto_an_existing_directory_is_refused(tmp_path, monkeypatch, capsys):
    results = tmp_path / "results"
    results.mkdir()
    (results / "old.npz").write_bytes(b"precious")
    for output in (str(results), f"{results}/"):
        assert main(["embed", str(DATA / "proteins.fasta"), "-e", "composition", "-o", output, "--no-progress"]) == 1
        err = capsys.readouterr().err
        assert f"{results} is an existing directory; name an output file" in err
        assert "Traceback" not in err
        assert [p.name for p in results.iterdir()] == ["old.npz"]
        assert (results / "old.npz").read_bytes() == b"precious"
    monkeypatch.chdir(results)
    for output in (".", ".."):
        assert main(["embed", str(DATA / "proteins.fasta"), "-e", "composition", "-o", output, "--no-progress"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "name an output file" in err and "Traceback" not in err
    assert [p.name for p in results.iterdir()] == ["old.npz"]
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == ["results"]  # no temporaries


@pytest.mark.parametrize("argv_tail, message", [
    (["--workers", "2"], "--address, --workers, --cpus and --block-size need --engine ray"),
    (["--engine", "ray", "--no-cache"], "--no-cache does not apply"),
    (["--engine", "ray", "--batch-tokens", "100"], "--batch-tokens applies to --engine local"),
    (["--engine", "ray", "--workers", "0"], "--workers must be >= 1"),
])
def test_ray_engine_options_are_checked(tmp_path, capsys, argv_tail, message):
    fasta = tmp_path / "q.fa"
    fasta.write_text(">a\nMKVLAAGIVALLLAAGCSSS\n")
    assert main(["embed", str(fasta), "--encoder", "composition", *argv_tail]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
