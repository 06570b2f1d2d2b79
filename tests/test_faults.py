"""Fault tests (issue 14): SIGKILL `embed`, `train` and `data build` at random points, run
them again, and get what an uninterrupted run gives, with no partial or temporary files.

Each test times an uninterrupted run, then kills a second run (in its own process group,
so nothing survives) at delays drawn from a seeded RNG over that duration, three times in
a row on the same output and cache, and finally lets it finish. After every kill the
output must be absent or complete; at the end it must equal the uninterrupted run's.
`train` and `data build` run the CLI through a small wrapper that serves the tiny test
fixtures (tests/_tiny_dataset.py, tests/_datasets_inputs.py), as the in-process
CLI tests do; `embed` runs `python -m genepheno_core` itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).parent
ROOT = TESTS.parent

# `python run_cli.py ARGS` = `python -m genepheno_core ARGS` with the tiny fixtures patched in
# (the helper modules import from tests/, which _env puts on PYTHONPATH)
_WRAPPER = """
import sys
from genepheno_core.cli import main
if sys.argv[1] == "data":
    from _pytest.monkeypatch import MonkeyPatch
    from _datasets_inputs import use_fixture_inputs
    use_fixture_inputs(MonkeyPatch())
else:
    from _tiny_dataset import make_tiny_dataset
    from genepheno_core.training import trainer
    trainer.load_dataset_by_name = lambda name: make_tiny_dataset()
sys.exit(main(sys.argv[1:]))
"""


def _env(home: Path) -> dict:
    env = dict(os.environ, GENEPHENO_HOME=str(home), PYTHONPATH=os.pathsep.join([str(ROOT), str(TESTS)]))
    env.pop("GENEPHENO_MIRROR", None)  # fixtures only
    return env


def _run(cmd: list[str], home: Path) -> float:
    """Run to completion; the wall time in seconds."""
    start = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, env=_env(home), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    return time.monotonic() - start


def _kill_after(cmd: list[str], home: Path, delay: float) -> bool:
    """Start `cmd`, SIGKILL its process group after `delay` s. True if it was killed."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(home), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, preexec_fn=os.setsid)
    try:
        proc.wait(timeout=delay)
        return False  # finished first
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return True


def _kill_and_finish(make_cmd, tmp_path: Path, seed: int, check_after_kill, kills: int) -> tuple[Path, Path]:
    """An uninterrupted run, moved to tmp_path/ref, then `kills` random kills and a final
    run in tmp_path/run. `make_cmd(dir)` gives the command writing under `dir`; both runs
    use the same dir (outputs may record their own path). Returns (ref, run)."""
    ref, run = tmp_path / "ref", tmp_path / "run"
    duration = _run(make_cmd(run), run / "home")
    run.rename(ref)
    rng = np.random.default_rng(seed)
    for _ in range(kills):
        _kill_after(make_cmd(run), run / "home", float(rng.uniform(0.05, 1.0)) * duration)
        check_after_kill(ref, run)
    _run(make_cmd(run), run / "home")
    return ref, run


def _leftovers(directory: Path) -> list[str]:
    """atomic_path temporaries (`.<name>.<pid>.*.tmp`) and other hidden entries."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob(".*") if p.name != ".compact.lock")


def _same_files(a: Path, b: Path, skip: tuple[str, ...] = ()) -> None:
    names = sorted(p.name for p in a.iterdir())
    assert sorted(p.name for p in b.iterdir()) == names
    for name in names:
        if name not in skip:
            assert (b / name).read_bytes() == (a / name).read_bytes(), name


# ---------------------------------------------------------------------------- embed

def _fasta(path: Path) -> Path:
    rng = np.random.default_rng(0)
    letters = list("ACDEFGHIKLMNPQRSTVWY")
    with open(path, "w") as handle:
        for i in range(200):
            handle.write(f">p{i}\n{''.join(rng.choice(letters, size=int(rng.integers(50, 400))))}\n")
    return path


def _same_embeddings(a: Path, b: Path) -> None:
    with np.load(a) as x, np.load(b) as y:
        np.testing.assert_array_equal(y["ids"], x["ids"])
        np.testing.assert_array_equal(y["embeddings"], x["embeddings"])


@pytest.mark.slow
def test_killed_embed_reruns_to_the_same_vectors(tmp_path):
    fasta = _fasta(tmp_path / "in.fa")

    def cmd(d):
        return [sys.executable, "-m", "genepheno_core", "embed", str(fasta), "-e", "unirep64", "--threads", "1",
                "--batch-tokens", "4000", "--no-progress", "-o", str(d / "out" / "emb.npz")]

    def after_kill(ref, run):
        if (run / "out" / "emb.npz").exists():
            _same_embeddings(ref / "out" / "emb.npz", run / "out" / "emb.npz")

    ref, run = _kill_and_finish(cmd, tmp_path, seed=14, check_after_kill=after_kill, kills=2)
    _same_embeddings(ref / "out" / "emb.npz", run / "out" / "emb.npz")
    assert [p.name for p in (run / "out").iterdir()] == ["emb.npz"]
    assert _leftovers(run / "home" / "embeddings") == []


# ---------------------------------------------------------------------------- train

def _same_checkpoint(a: Path, b: Path) -> None:
    # metrics.json records wall times; everything else must be byte-identical
    _same_files(a, b, skip=("metrics.json",))
    x, y = (json.loads((d / "metrics.json").read_text()) for d in (a, b))
    for key in ("valid", "threshold", "epochs", "best_epoch"):
        assert y[key] == x[key], key
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in x["history"]]
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in y["history"]] == strip


@pytest.mark.slow
def test_killed_train_resumes_to_the_same_model(tmp_path):
    wrapper = tmp_path / "run_cli.py"
    wrapper.write_text(_WRAPPER)

    def cmd(d):
        return [sys.executable, str(wrapper), "-q", "train", "--dataset", "tiny", "--model", "genepheno",
                "--encoder", "composition", "--seed", "1", "--max-epochs", "6", "--hidden", "16",
                "--concept-min-genes", "5", "--go-min-genes", "2", "--resume", "--no-progress",
                "--out", str(d / "out" / "ck"), "--predictions-out", str(d / "out" / "test.tsv")]

    def after_kill(ref, run):
        if (run / "out" / "ck").exists():
            _same_checkpoint(ref / "out" / "ck", run / "out" / "ck")
        if (run / "out" / "test.tsv").exists():
            assert (run / "out" / "test.tsv").read_bytes() == (ref / "out" / "test.tsv").read_bytes()

    ref, run = _kill_and_finish(cmd, tmp_path, seed=15, check_after_kill=after_kill, kills=2)
    _same_checkpoint(ref / "out" / "ck", run / "out" / "ck")
    assert (run / "out" / "test.tsv").read_bytes() == (ref / "out" / "test.tsv").read_bytes()
    # the per-epoch resume state (ck.partial) is gone once the checkpoint is written
    assert sorted(p.name for p in (run / "out").iterdir()) == ["ck", "test.tsv"]
    assert _leftovers(run / "out") == []


# ---------------------------------------------------------------------------- data build

def _same_dataset(a: Path, b: Path) -> None:
    _same_files(a, b, skip=("manifest.json",))
    x, y = (json.loads((d / "manifest.json").read_text()) for d in (a, b))
    assert {k: v for k, v in y.items() if "seconds" not in k} == {k: v for k, v in x.items() if "seconds" not in k}


@pytest.mark.slow
def test_killed_data_build_reruns_to_the_same_dataset(tmp_path):
    wrapper = tmp_path / "run_cli.py"
    wrapper.write_text(_WRAPPER)

    def cmd(d):
        return [sys.executable, str(wrapper), "data", "build", "hpo", "--min-genes", "2", "--no-homology",
                "--out", str(d / "out" / "hpo")]

    def after_kill(ref, run):
        if (run / "out" / "hpo").exists():
            _same_dataset(ref / "out" / "hpo", run / "out" / "hpo")

    ref, run = _kill_and_finish(cmd, tmp_path, seed=16, check_after_kill=after_kill, kills=3)
    _same_dataset(ref / "out" / "hpo", run / "out" / "hpo")
    assert [p.name for p in (run / "out").iterdir()] == ["hpo"]
    assert _leftovers(run / "out") == []
