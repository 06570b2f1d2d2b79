"""`genepheno benchmark`: options, --tables-only, and the --smoke run on real data (CI)."""

import json
import os
import time

import pandas as pd
import pytest

from genepheno_core import cli
from genepheno_core.cli.benchmark import build_config, command_line

MIRROR = os.environ.get("GENEPHENO_MIRROR")


def _args(argv):
    return cli.get_parser().parse_args(["benchmark", *argv])


def test_defaults_and_command_line():
    args = _args([])
    cfg = build_config(args)
    assert cfg.datasets == ("mpo", "hpo", "gwas", "hpo-temporal") and cfg.seeds == (0, 1, 2)
    assert cfg.encoder == "unirep256" and "genepheno-no-concept" in cfg.methods
    assert cfg.splits_for("hpo") == ("random", "homology") and cfg.splits_for("hpo-temporal") == ("temporal",)
    args = _args(["--datasets", "hpo", "--methods", "naive", "genepheno", "--seeds", "0", "--train-config", '{"max_epochs": 3}'])
    assert command_line(args) == (
        "python -m genepheno_core benchmark --datasets hpo --methods naive genepheno --seeds 0 "
        "--train-config '{\"max_epochs\": 3}' --out results"
    )
    assert build_config(args).train_config == {"max_epochs": 3}


def test_smoke_config():
    cfg = build_config(_args(["--smoke"]))
    assert cfg.datasets == ("hpo",) and cfg.seeds == (0,) and cfg.subsample == 600
    assert cfg.splits_for("hpo") == ("random",) and cfg.encoder == "composition"


def test_bad_train_config_is_a_user_error(capsys, tmp_path):
    assert cli.main(["benchmark", "--train-config", "{oops", "--out", str(tmp_path)]) == 1
    assert "--train-config is not valid JSON" in capsys.readouterr().err


def test_tables_only_rebuilds_from_cells(tmp_path, capsys):
    cells = tmp_path / "cells"
    cells.mkdir()
    from genepheno_core.benchmark.config import cell_config_key, json_safe

    for seed, f in enumerate((0.40, 0.42, 0.10)):
        # seed 2 was computed with another configuration (an older default): left out
        key = cell_config_key("genepheno", "unirep256", "random", seed, {"lr": 0.5} if seed == 2 else {})
        rec = {
            "dataset": "hpo", "split": "random", "method": "genepheno", "seed": seed, "encoder": "x",
            "metrics": {"fmax": f, "auc": 0.7, "auc_bins": {"11-30": 0.6}, "fmax_bins": {"11-30": 0.3}},
            "wall_time_s": 1.0, "peak_rss_mb": 100.0, "config_key": json_safe(key), "subsample": None,
        }
        (cells / f"hpo__random__genepheno__seed{seed}.json").write_text(json.dumps(rec))
    assert cli.main(["-q", "benchmark", "--tables-only", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "benchmark.md").read_text()
    assert "41.00 ± 1.41 / 70.00 ± 0.00" in md and "Left out: 1 cells" in md
    # a second --tables-only keeps the command recorded by the first
    payload = json.loads((tmp_path / "benchmark.json").read_text())
    payload["command"] = "python -m genepheno_core benchmark --seeds 0 1"
    (tmp_path / "benchmark.json").write_text(json.dumps(payload))
    assert cli.main(["-q", "benchmark", "--tables-only", "--out", str(tmp_path)]) == 0
    assert "--seeds 0 1" in (tmp_path / "benchmark.md").read_text()
    assert len(pd.read_csv(tmp_path / "benchmark.csv")) == 2


@pytest.mark.integration
@pytest.mark.skipif(not MIRROR, reason="GENEPHENO_MIRROR not set")
def test_smoke_benchmark_runs_end_to_end(tmp_path, capsys):
    start = time.perf_counter()
    assert cli.main(["-q", "benchmark", "--smoke", "--out", str(tmp_path)]) == 0
    elapsed = time.perf_counter() - start
    df = pd.read_csv(tmp_path / "benchmark.csv")
    assert set(df.method) == {"naive", "mlp-bce", "go-mlp", "genepheno"}
    assert not (tmp_path / "failed").exists() or not any((tmp_path / "failed").iterdir())
    assert (df.fmax > 0.1).all() and (df.auc > 0.4).all()
    md = (tmp_path / "benchmark.md").read_text()
    assert "python -m genepheno_core benchmark --out" in md and "--smoke" in md
    # resumable: a second run finds every cell and is quick
    t2 = time.perf_counter()
    assert cli.main(["-q", "benchmark", "--smoke", "--out", str(tmp_path)]) == 0
    assert time.perf_counter() - t2 < max(30.0, elapsed / 2)
