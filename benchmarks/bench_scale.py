"""Batch prediction of a proteome, in process and on Ray (prints a Markdown table).

    python benchmarks/bench_scale.py [--limit N] [--block-size 500] [--model hpo]
                                     [--configs local ray1 ray2] [--out results/scale_speed.md]

The human Swiss-Prot proteins of the data mirror (those `predict` accepts: at least 20
residues, at most half non-standard) predicted end to end with the shipped model (encoding,
the GO-transfer and cross-species DIAMOND searches, the model, the evidence columns,
Parquet parts): with the in-process engine (torch and DIAMOND on all cores), and with
`--engine ray` at 1 and 2 workers of one CPU each on a local Ray instance. Every
configuration runs in its own process with a cold cache: a fresh GENEPHENO_HOME that only
links the reference DIAMOND databases and the GO reference (built once per machine), so
that no embedding or alignment of these proteins is reused. Prints proteins/s, residues/s,
the peak memory of the largest worker, the scaling efficiency of 2 workers against 1, where
a block's time goes (summed over blocks), and Ray's overhead on a 100-protein input.

The overhead step runs the same 100 new proteins, each in a fresh process with a cold cache:
in process; on Ray with a local instance the run starts and stops itself (no `--address`);
and twice on Ray joining an instance already running (`ray start --head` on 127.0.0.1,
started before and stopped after, untimed; the first run on it also starts Ray Data's
helper actors, which later runs reuse). For each: the wall time, the seconds a worker spent
predicting the block, and the rest (start-up and shut-down: Python, imports, the model load,
Ray's instance and actors). Ray's overhead is the Ray run's rest minus the in-process run's
rest: what Ray adds to the same input. Targets (issue 20) on 2 cores: 2 workers >= 1.7x the
rate of 1, overhead < 10 s. The step runs `ray stop --force` at its end: no other Ray
instance may run on the machine during the benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIGS = {"local": dict(engine="local"), "ray1": dict(engine="ray", workers=1), "ray2": dict(engine="ray", workers=2)}
STAGES = ("embed", "go_transfer", "model", "evidence", "write")


def proteome(out: Path, limit: int | None, skip: int = 0) -> tuple[Path, int, int]:
    """Human Swiss-Prot (the mirror's release) as plain FASTA: (path, proteins, residues)."""
    from genepheno_core.embeddings import parse_sequences
    from genepheno_core.embeddings.sequences import MAX_NONSTANDARD_FRACTION, MIN_QUERY_LENGTH, _STANDARD
    from genepheno_core.sources import resource_path

    records = parse_sequences(resource_path("uniprot", "swissprot_human.fasta.gz"))
    kept = [(r, s) for r, s in records if len(s) >= MIN_QUERY_LENGTH
            and sum(c not in _STANDARD for c in s) / len(s) <= MAX_NONSTANDARD_FRACTION]
    kept = kept[skip:skip + limit] if limit else kept[skip:]
    with open(out, "w") as handle:
        for rid, seq in kept:
            handle.write(f">{rid}\n{seq}\n")
    return out, len(kept), sum(len(s) for _, s in kept)


def cold_home(base: Path, name: str) -> Path:
    """A GENEPHENO_HOME with the machine's reference databases and GO reference linked in,
    and no embeddings or alignments."""
    from genepheno_core.environment import home

    warm = home()
    cold = base / f"home-{name}"
    (cold / "diamond").mkdir(parents=True)
    for db in (warm / "diamond").glob("db-*.dmnd"):
        (cold / "diamond" / db.name).symlink_to(db)
    for name_ in ("go_reference", "cache"):
        if (warm / name_).exists():
            (cold / name_).symlink_to(warm / name_)
    return cold


def warm_references(model: str) -> None:
    """Build the machine-wide references (the GO reference tables) in the warm cache home
    before any timed run: they are built once per machine, not per input, so a cold-cache
    run links them instead of building them inside its timing."""
    from genepheno_core.interpret.model_store import resolve_model

    start = time.perf_counter()
    resolve_model(model).go_reference()
    print(f"references ready in {time.perf_counter() - start:.0f} s", flush=True)


def run_child(config: str, fasta: Path, out: Path, model: str, block_size: int, home: Path,
              address: str | None = None) -> dict:
    env = {**os.environ, "GENEPHENO_HOME": str(home), "RAY_USAGE_STATS_ENABLED": "0"}
    cmd = [sys.executable, __file__, "--child", config, "--fasta", str(fasta), "--child-out", str(out),
           "--model", model, "--block-size", str(block_size)] + (["--address", address] if address else [])
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{config} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    return result


def child(args) -> None:
    """One configuration in this (fresh) process: prints its summary as one JSON line."""
    import logging
    import resource

    from genepheno_core.scale.batch import BatchOptions, predict_blocks

    logging.basicConfig(level=logging.WARNING)
    spec = CONFIGS[args.child]
    start = time.perf_counter()
    extra = {"address": args.address} if args.address else {}
    summary = predict_blocks(args.fasta, args.child_out, args.model, BatchOptions(), block_size=args.block_size,
                             **spec, **extra)
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"config": args.child, "seconds": time.perf_counter() - start, "run_s": summary.seconds,
                      "proteins": summary.proteins, "residues": summary.residues, "blocks": summary.blocks,
                      "workers": summary.workers,
                      "peak_worker_mb": summary.peak_rss_mb if spec["engine"] == "ray" else own_peak,
                      "driver_peak_mb": own_peak, "stages": summary.stage_seconds,
                      "block_seconds": summary.block_seconds}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="the first N proteins only (default: all)")
    parser.add_argument("--block-size", type=int, default=500)
    parser.add_argument("--model", default="hpo")
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=list(CONFIGS),
                        help="configurations to run (none: only Ray's overhead on a small input)")
    parser.add_argument("--overhead-proteins", type=int, default=100)
    parser.add_argument("--out", default=None, metavar="FILE.md", help="also write the table here")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--fasta", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--address", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    base = Path(tempfile.mkdtemp(prefix="genepheno-bench-scale-"))
    try:
        warm_references(args.model)
        fasta, n, residues = proteome(base / "human.fa", args.limit)
        print(f"{n} human Swiss-Prot proteins, {residues:,} residues; model {args.model}; blocks of "
              f"{args.block_size}; {os.cpu_count()} CPUs", flush=True)
        results = {}
        for config in args.configs:
            print(f"running {config} ...", flush=True)
            results[config] = run_child(config, fasta, base / f"out-{config}", args.model, args.block_size,
                                        cold_home(base, config))
            r = results[config]
            print(f"  {r['proteins']} proteins in {r['run_s']:.0f} s ({r['proteins'] / r['run_s']:.1f}/s)", flush=True)
            # every finished configuration in full, so that a later failure loses none of it
            print("  " + json.dumps(r), flush=True)
        # Ray's overhead: 100 proteins in fresh processes with cold caches (new proteins when
        # the set above leaves any; else its first ones, which the new cold homes never saw)
        small, n_small, _ = proteome(base / "small.fa", args.overhead_proteins, skip=n)
        if n_small < args.overhead_proteins:
            small, n_small, _ = proteome(base / "small.fa", args.overhead_proteins)
        overhead = small_input_runs(small, base, args)
        lines = table(results, n, residues, args, overhead, n_small)
        text = "\n".join(lines) + "\n"
        print(text)
        if args.out:
            Path(args.out).write_text(text)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _ray_command() -> str:
    found = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    if not Path(found).exists():
        raise SystemExit("the `ray` command is missing (installed with ray: requirements.txt)")
    return found


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def small_input_runs(small: Path, base: Path, args) -> dict:
    """The overhead step (module docstring): {"local", "ray2", "ray2-joined", "ray2-joined-again": summary}."""
    runs = {}
    for config in ("local", "ray2"):
        runs[config] = run_child(config, small, base / f"small-{config}", args.model, args.block_size,
                                 cold_home(base, f"small-{config}"))
    port = _free_port()
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    subprocess.run([_ray_command(), "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                    "--num-cpus", str(os.cpu_count() or 1), "--include-dashboard", "false",
                    "--disable-usage-stats"], check=True, capture_output=True, text=True, env=env, timeout=300)
    try:
        time.sleep(5)  # the head's own processes finish starting, as on a cluster that is already up
        for name in ("ray2-joined", "ray2-joined-again"):
            runs[name] = run_child("ray2", small, base / f"small-{name}", args.model, args.block_size,
                                   cold_home(base, f"small-{name}"), address=f"127.0.0.1:{port}")
    finally:
        subprocess.run([_ray_command(), "stop", "--force"], capture_output=True, env=env, timeout=300)
    return runs


def overhead_lines(overhead: dict, n_small: int) -> list[str]:
    """The overhead table: each run's wall time, the seconds spent predicting, the rest, and
    what Ray adds to the in-process run's rest."""
    names = {"local": "in-process (2 threads)", "ray2": "Ray, a local instance started and stopped by the run",
             "ray2-joined": "Ray, joining a running instance (first run on it)",
             "ray2-joined-again": "Ray, joining a running instance (a later run)"}
    rest = {k: r["wall_s"] - sum(r["block_seconds"]) for k, r in overhead.items()}
    lines = ["", f"Ray's overhead on {n_small} new proteins (one block, each run in a fresh process with a cold cache; "
             "the rest is start-up and shut-down: Python, imports, the model load, and for Ray its instance and "
             "actors; Ray's overhead is its rest minus the in-process rest; target < 10 s):", "",
             "| run | wall time | predicting | rest | Ray's overhead |", "| --- | ---: | ---: | ---: | ---: |"]
    for key, r in overhead.items():
        added = "" if key == "local" else f"**{rest[key] - rest['local']:.1f} s**"
        lines.append(f"| {names[key]} | {r['wall_s']:.1f} s | {sum(r['block_seconds']):.1f} s | {rest[key]:.1f} s | "
                     f"{added} |")
    lines += ["", "For a small input the in-process engine stays the default; on Ray, a running instance "
              "(`ray start --head`, then `--address`) saves the instance's start and stop on every run."]
    return lines


def table(results: dict, n: int, residues: int, args, overhead: dict, n_small: int) -> list[str]:
    lines = [f"Batch prediction of {n:,} human Swiss-Prot proteins ({residues:,} residues), model {args.model}, "
             f"blocks of {args.block_size}, cold cache, {os.cpu_count()} CPUs "
             f"(`python benchmarks/bench_scale.py{' --limit ' + str(args.limit) if args.limit else ''}`).", "",
             "| engine | workers | wall time | proteins/s | residues/s | peak memory per worker | scaling vs 1 worker |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    one = results.get("ray1")
    for config, r in results.items():
        rate = r["proteins"] / r["run_s"]
        scaling = ""
        if config == "ray2" and one:
            speedup = rate / (one["proteins"] / one["run_s"])
            scaling = f"{speedup:.2f}x ({speedup / 2:.0%} efficiency)"
        name = "in-process" if config == "local" else "Ray Data"
        workers = "1 (2 threads)" if config == "local" else str(r["workers"])
        lines.append(f"| {name} | {workers} | {r['run_s']:.0f} s | {rate:.1f} | {r['residues'] / r['run_s']:,.0f} | "
                     f"{r['peak_worker_mb']:,.0f} MB | {scaling} |")
    lines += ["", "Where a block's time goes (seconds summed over blocks; with 2 workers the sum is twice the wall):", "",
              "| engine | " + " | ".join(STAGES) + " |", "| --- |" + " ---: |" * len(STAGES)]
    for config, r in results.items():
        total = sum(r["stages"].get(s, 0.0) for s in STAGES) or 1.0
        lines.append(f"| {config} | " + " | ".join(f"{r['stages'].get(s, 0.0):.0f} ({r['stages'].get(s, 0.0) / total:.0%})"
                                                   for s in STAGES) + " |")
    if not results:  # `--configs` alone: only the overhead step ran
        lines = [f"{n_small} human Swiss-Prot proteins, model {args.model}, {os.cpu_count()} CPUs "
                 "(`python benchmarks/bench_scale.py --configs`)."]
    if overhead:
        lines += overhead_lines(overhead, n_small)
    return lines


if __name__ == "__main__":
    main()
