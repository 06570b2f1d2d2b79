"""`benchmark --engine ray`: the grid's cells as Ray tasks on a real local Ray instance (2 CPUs).

The tiny dataset of tests/_tiny_dataset.py, real training in the workers (naive, kmer-lr, go-mlp)
next to a fake but deterministic "genepheno"; the Ray run's cells must equal a local run's cell
for cell. Functions handed to Ray are module-level here: the workers import this module (the
fixture puts tests/ on the PYTHONPATH the Ray instance is started with).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _tiny_dataset import make_tiny_dataset
from genepheno_core import cli
from genepheno_core.benchmark.config import BenchmarkConfig, cell_id
from genepheno_core.benchmark.grid import run_benchmark, trainer_train_and_predict

ray = pytest.importorskip("ray")

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

# Real training kept tiny. num_threads 2: the trainer's thread count, which is also the
# CPUs (and torch threads) of a torch cell on Ray (scale.grid.cell_cpus). The local run uses
# the same config and so the same threads: kmer-lr's test scores differ between 1 and 2 torch
# threads (up to ~4e-4 measured on this dataset; its aggregate metrics happened to agree, which
# nothing guarantees), so exact equality needs equal thread counts; with them every cell is
# bit-identical (asserted with ==, no tolerance).
TRAIN_CONFIG = {"num_threads": 2, "max_epochs": 3, "min_epochs": 1, "patience": 2, "hidden": 32,
                "go_min_genes": 2, "batch_size": 16}
METHODS = ("naive", "kmer-lr", "go-mlp", "genepheno")
# fields that measure the run, not its result
VOLATILE = ("wall_time_s", "eval_time_s", "peak_rss_mb", "peak_rss_delta_mb", "finished")


# ------------------------------------------------------------ module-level: pickled to Ray


def load_tiny(name: str):
    """The benchmark loader: the tiny dataset under `name`."""
    ds = make_tiny_dataset()
    ds.name = name
    return ds


def grid_trainer(ds, method, encoder, split, seed, config, variants=()):
    """The real trainer, except "genepheno": deterministic noise around the test labels, its
    info recording the thread count it was given."""
    if method == "genepheno":
        y = ds.labels[ds.splits[split].to_numpy() == "test"].toarray().astype(float)
        scores = np.clip(0.7 * y + 0.3 * np.random.default_rng(seed).random(y.shape), 0, 1)
        return scores, {"fake": True, "num_threads": config.get("num_threads")}
    return trainer_train_and_predict(ds, method, encoder, split, seed, config, variants)


def failing_trainer(ds, method, encoder, split, seed, config, variants=()):
    if method == "go-mlp":
        raise RuntimeError("no GPU today")
    return grid_trainer(ds, method, encoder, split, seed, config, variants)


def refusing_trainer(*args, **kwargs):
    raise AssertionError("a current cell was computed again")


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def ray_instance(tmp_path_factory):
    """A local Ray instance with 2 CPUs; its workers get tests/ on PYTHONPATH and a fresh
    GENEPHENO_HOME (composition embeddings are cached there). Returns that home."""
    from genepheno_core.scale.runtime import connect

    if ray.is_initialized():  # another module's instance: ours must have 2 CPUs
        ray.shutdown()
    home = tmp_path_factory.mktemp("ray_grid_home")
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "GENEPHENO_HOME")}
    # the raylet, and so every worker, inherits this process's environment
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), str(ROOT), saved["PYTHONPATH"]) if p)
    os.environ["GENEPHENO_HOME"] = str(home)
    try:
        connection = connect(num_cpus=2)
        assert connection.started_here and connection.cpus == 2
        yield home
    finally:
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _config(**kw) -> BenchmarkConfig:
    base = dict(datasets=("tiny",), methods=METHODS, splits=("random",), seeds=(0, 1), encoder="composition",
                train_config=TRAIN_CONFIG)
    base.update(kw)
    return BenchmarkConfig(**base)


def _cells(out: Path) -> dict[str, dict]:
    """Every cell record without the fields that measure the run."""
    cells = {}
    for path in sorted((out / "cells").glob("*.json")):
        rec = json.loads(path.read_text())
        for key in VOLATILE:
            rec.pop(key)
        rec["info"].pop("seconds", None)  # the trainer's own wall time
        cells[path.stem] = rec
    return cells


def _table(out: Path) -> pd.DataFrame:
    df = pd.read_csv(out / "benchmark.csv")
    return df.drop(columns=[c for c in df.columns if c.startswith(("wall_time", "peak_rss"))])


# ------------------------------------------------------------------------------- tests


def test_cell_cpus_follow_the_registry_and_the_cluster():
    from genepheno_core.scale.grid import cell_cpus

    default = BenchmarkConfig()
    assert cell_cpus("naive", default) == 1
    assert cell_cpus("diamond-score", default) == 2  # TrainConfig.diamond_threads
    assert cell_cpus("diamond-score", BenchmarkConfig(train_config={"diamond_threads": 4})) == 4
    # torch cells: the trainer's num_threads (1 by default), or cpus_per_cell
    assert cell_cpus("go-mlp", default) == 1 and cell_cpus("kmer-lr", default) == 1
    assert cell_cpus("genepheno-pasted", BenchmarkConfig(train_config={"num_threads": 3})) == 3
    assert cell_cpus("genepheno", default, cpus_per_cell=4) == 4
    assert cell_cpus("naive", default, cpus_per_cell=4) == 1
    # never more than the largest node holds
    assert cell_cpus("genepheno", default, cpus_per_cell=8, max_cpus=2) == 2
    assert cell_cpus("diamond-score", BenchmarkConfig(train_config={"diamond_threads": 4}), max_cpus=2.0) == 2


def test_cells_start_in_plan_order_and_a_wide_cell_is_not_starved():
    """The grid of 2026-12-03: on 2 CPUs, 1-CPU cells around a 2-CPU diamond-score cell. With
    every cell submitted at once Ray kept starting later 1-CPU cells on each freed CPU; the
    window hands the wide cell over as soon as both CPUs are free and nothing after it before."""
    from genepheno_core.benchmark.grid import CellWork
    from genepheno_core.scale.grid import CpuWindow

    def work(method, seed=0):
        return CellWork("gwas", "homology", method, seed, method)

    cells = [work("go-mlp"), work("mlp-bce"), work("kmer-lr"), work("diamond-score"), work("genepheno"),
             work("genepheno", 1)]
    window = CpuWindow(2, cells, lambda w: cell_cpus_of(w.method))
    started = [w.method for w in window.ready()]
    assert started == ["go-mlp", "mlp-bce"]  # both CPUs taken
    window.finished(cells[0])
    assert [w.method for w in window.ready()] == ["kmer-lr"]
    window.finished(cells[1])
    assert window.ready() == []  # one CPU free: diamond-score needs two and nothing overtakes it
    window.finished(cells[2])
    assert [w.method for w in window.ready()] == ["diamond-score"]
    assert window.ready() == []
    window.finished(cells[3])
    assert [(w.method, w.seed) for w in window.ready()] == [("genepheno", 0), ("genepheno", 1)]
    assert window.in_flight == 2 and window.queue == []
    # a cell wider than the whole cluster starts alone rather than never
    wide = CpuWindow(2, [work("genepheno"), work("diamond-score")], lambda w: 4 if w.method == "diamond-score" else 1)
    assert [w.method for w in wide.ready()] == ["genepheno"]
    wide.finished(work("genepheno"))
    assert [w.method for w in wide.ready()] == ["diamond-score"]


def cell_cpus_of(method: str) -> int:
    from genepheno_core.scale.grid import cell_cpus

    return cell_cpus(method, BenchmarkConfig())


def test_ray_grid_equals_the_local_run_and_resumes(ray_instance, tmp_path, monkeypatch):
    from genepheno_core.benchmark import grid as local_grid
    from genepheno_core.scale.grid import run_benchmark_ray

    monkeypatch.setenv("GENEPHENO_HOME", str(ray_instance))  # the local run shares the workers' caches
    cfg = _config()
    local = run_benchmark(cfg, tmp_path / "local", command="cmd", train_and_predict=grid_trainer,
                          load_dataset=load_tiny, keep_going=False)

    writes = []
    original = local_grid.write_tables
    monkeypatch.setattr(local_grid, "write_tables", lambda *a, **k: (writes.append(a[1]), original(*a, **k))[1])
    out = tmp_path / "ray"
    df = run_benchmark_ray(cfg, out, command="cmd", train_and_predict=grid_trainer, load_dataset=load_tiny,
                           keep_going=False, progress=True)
    assert writes == [out.resolve()]  # the tables, once, at the end
    assert len(df) == len(local) == len(METHODS) * 2

    # cell for cell: identical records (metrics, keys, the trainer's info) but for run measures
    mine, theirs = _cells(out), _cells(tmp_path / "local")
    assert sorted(mine) == sorted(theirs) and len(mine) == 8
    for cid in theirs:
        assert mine[cid] == theirs[cid], cid
    # real training ran in the workers with the thread count of the cell's CPUs
    gomlp = mine[cell_id("tiny", "random", "go-mlp", 1)]
    assert gomlp["info"]["config"]["num_threads"] == 2 and gomlp["info"]["epochs"] >= 1
    assert mine[cell_id("tiny", "random", "genepheno", 0)]["info"]["num_threads"] == 2
    # seed-independent methods: computed once, seed 1 copied from seed 0 as locally
    assert mine[cell_id("tiny", "random", "kmer-lr", 1)]["info"]["reused_from_seed"] == 0
    pd.testing.assert_frame_equal(_table(out), _table(tmp_path / "local"))
    assert not (out / "failed").exists()

    # a second run reuses every cell: nothing trains (the trainer refuses), no cell is rewritten
    mtimes = {p.name: p.stat().st_mtime_ns for p in (out / "cells").iterdir()}
    again = run_benchmark_ray(cfg, out, command="cmd", train_and_predict=refusing_trainer, load_dataset=load_tiny)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "cells").iterdir()} == mtimes
    assert not (out / "failed").exists() and len(again) == 8 and len(writes) == 2
    pd.testing.assert_frame_equal(_table(out), _table(tmp_path / "local"))
    assert ray.is_initialized()  # a joined instance (the fixture's) is left running


def test_a_failing_cell_is_recorded_and_the_others_finish(ray_instance, tmp_path, monkeypatch):
    from genepheno_core.scale.grid import run_benchmark_ray

    cfg = _config(methods=("naive", "go-mlp", "genepheno"), seeds=(0,))
    df = run_benchmark_ray(cfg, tmp_path / "ray", train_and_predict=failing_trainer, load_dataset=load_tiny)
    assert sorted(df.method) == ["genepheno", "naive"]
    failed = tmp_path / "ray" / "failed" / f"{cell_id('tiny', 'random', 'go-mlp', 0)}.txt"
    # the same record as a local run's
    run_benchmark(cfg, tmp_path / "local", train_and_predict=failing_trainer, load_dataset=load_tiny)
    local = tmp_path / "local" / "failed" / failed.name
    assert failed.read_text() == local.read_text() == "RuntimeError: no GPU today\n"
    assert sorted(p.name for p in (tmp_path / "ray" / "failed").iterdir()) == [failed.name]
    # the next run retries it; once it succeeds its failure record goes
    run_benchmark_ray(cfg, tmp_path / "ray", train_and_predict=grid_trainer, load_dataset=load_tiny)
    assert not failed.exists()
    # keep_going=False: the first failure is raised as the cell raised it
    with pytest.raises(RuntimeError, match="no GPU today"):
        run_benchmark_ray(cfg, tmp_path / "strict", train_and_predict=failing_trainer, load_dataset=load_tiny,
                          keep_going=False)


def test_engine_options_are_checked(tmp_path, capsys):
    for argv, message in (
        (["--address", "auto"], "--address needs --engine ray"),
        (["--cpus", "2"], "--cpus needs --engine ray"),
        (["--cpus-per-cell", "2"], "--cpus-per-cell needs --engine ray"),
        (["--engine", "ray", "--address", "auto", "--cpus", "2"], "a cluster joined with --address"),
        (["--engine", "ray", "--cpus", "0"], "--cpus must be at least 1"),
        (["--engine", "ray", "--tables-only", "--address", "auto"], "--tables-only"),
    ):
        assert cli.main(["benchmark", *argv, "--out", str(tmp_path)]) == 1, argv
        assert message in capsys.readouterr().err, argv
    args = cli.get_parser().parse_args(["benchmark", "--engine", "ray", "--cpus-per-cell", "2", "--address", "h:1"])
    from genepheno_core.cli.benchmark import command_line

    assert command_line(args).endswith("--out results --engine ray --cpus-per-cell 2")  # not where it ran


def _save_tiny_artifact(home: Path) -> None:
    """The tiny dataset as a cached artifact `tiny` in `home` (the default loader's)."""
    from genepheno_core.datasets import Dataset, save_dataset

    tiny = make_tiny_dataset()
    ds = Dataset("tiny", tiny.genes, tiny.labels, tiny.terms, tiny.term_ancestors, tiny.go, tiny.go_terms,
                 tiny.splits, {"config": {"min_genes": 5}})
    save_dataset(ds, home / "datasets" / "tiny")


def test_cli_joins_the_cluster_by_address_end_to_end(ray_instance, tmp_path, monkeypatch):
    """`python -m genepheno_core benchmark --engine ray --address ADDR` in a subprocess: a
    second driver joins the fixture's instance, the default loader reads the cached artifact."""
    home = tmp_path / "home"
    _save_tiny_artifact(home)
    argv = ["benchmark", "--datasets", "tiny", "--methods", "naive", "go-mlp", "--splits", "random",
            "--seeds", "0", "--encoder", "composition", "--train-config", json.dumps(TRAIN_CONFIG)]
    address = ray.get_runtime_context().gcs_address
    env = {**os.environ, "GENEPHENO_HOME": str(home), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "genepheno_core", "-q", *argv, "--engine", "ray", "--address",
                           address, "--out", str(tmp_path / "ray")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 cells in" in proc.stdout
    # the same command on the local engine gives the same cells
    monkeypatch.setenv("GENEPHENO_HOME", str(home))
    assert cli.main(["-q", *argv, "--out", str(tmp_path / "local")]) == 0
    mine, theirs = _cells(tmp_path / "ray"), _cells(tmp_path / "local")
    assert sorted(mine) == [cell_id("tiny", "random", m, 0) for m in ("go-mlp", "naive")]
    assert mine == theirs
    md = (tmp_path / "ray" / "benchmark.md").read_text()
    assert "--engine ray" in md and address not in md
    pd.testing.assert_frame_equal(_table(tmp_path / "ray"), _table(tmp_path / "local"))
    assert ray.is_initialized() and ray.cluster_resources().get("CPU") == 2  # the joined instance still runs
