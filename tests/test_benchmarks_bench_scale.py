"""benchmarks/bench_scale.py: the tables it prints, on hand-made run summaries (the expected
numbers are computed by hand in the comments)."""
import importlib.util
from argparse import Namespace
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_scale.py"
_spec = importlib.util.spec_from_file_location("bench_scale", _PATH)
mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mod)


def _run(wall, blocks, proteins=100, residues=50_000, workers=1, peak=1000.0, run_s=None, stages=None):
    return {"wall_s": wall, "run_s": run_s or wall, "block_seconds": blocks, "proteins": proteins,
            "residues": residues, "workers": workers, "peak_worker_mb": peak, "stages": stages or {}}


def _row(lines, start):
    return [c.strip() for c in next(line for line in lines if line.startswith(start)).strip("|").split("|")]


def test_overhead_is_the_ray_runs_rest_minus_the_in_process_rest():
    runs = {"local": _run(16.8, [14.0]),  # rest 2.8 s
            "ray2": _run(33.3, [18.9]),  # rest 14.4 s: 11.6 s more than in process
            "ray2-joined": _run(30.6, [18.4]),  # rest 12.2 s: 9.4 s
            "ray2-joined-again": _run(27.6, [10.0, 10.1])}  # rest 7.5 s (blocks summed): 4.7 s
    lines = mod.overhead_lines(runs, 100)
    assert _row(lines, "| in-process") == ["in-process (2 threads)", "16.8 s", "14.0 s", "2.8 s", ""]
    assert _row(lines, "| Ray, a local instance") == [
        "Ray, a local instance started and stopped by the run", "33.3 s", "18.9 s", "14.4 s", "**11.6 s**"]
    assert _row(lines, "| Ray, joining a running instance (first")[-1] == "**9.4 s**"
    assert _row(lines, "| Ray, joining a running instance (a later")[2:] == ["20.1 s", "7.5 s", "**4.7 s**"]
    assert any("100 new proteins" in line for line in lines)


def test_rates_scaling_and_stage_shares():
    # 1,000 proteins: ray1 in 100 s (10/s), ray2 in 59 s (16.95/s): 1.69x, 85 % efficiency
    stages = {"embed": 30.0, "go_transfer": 10.0, "model": 5.0, "evidence": 15.0, "write": 0.0}
    results = {"local": _run(70, [], proteins=1000, residues=500_000, run_s=70, stages=stages),
               "ray1": _run(100, [], proteins=1000, residues=500_000, run_s=100, stages=stages),
               "ray2": _run(59, [], proteins=1000, residues=500_000, workers=2, run_s=59, stages=stages)}
    args = Namespace(model="hpo", block_size=500, limit=1000)
    lines = mod.table(results, 1000, 500_000, args, {}, 0)
    assert "--limit 1000" in lines[0]
    assert _row(lines, "| in-process") == ["in-process", "1 (2 threads)", "70 s", "14.3", "7,143", "1,000 MB", ""]
    assert _row(lines, "| Ray Data | 2") == ["Ray Data", "2", "59 s", "16.9", "8,475", "1,000 MB",
                                            "1.69x (85% efficiency)"]
    # embed 30 of 60 s: 50 %
    assert _row(lines, "| ray1")[1] == "30 (50%)"


def test_overhead_only_table_has_no_empty_throughput_tables():
    runs = {"local": _run(17.9, [14.7]), "ray2": _run(31.4, [19.4])}  # rests 3.2 s and 12.0 s: 8.8 s
    lines = mod.table({}, 18_154, 10_000_000, Namespace(model="hpo", block_size=500, limit=None), runs, 100)
    assert lines[0].startswith("100 human Swiss-Prot proteins") and "--configs" in lines[0]
    assert not any(line.startswith("| engine") for line in lines)
    assert _row(lines, "| Ray, a local instance")[-1] == "**8.8 s**"
