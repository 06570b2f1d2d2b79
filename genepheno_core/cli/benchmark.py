"""`benchmark [--datasets ...] [--methods ...] [--splits ...] [--seeds 0 1 2] [--encoder unirep256]
[--subsample N] [--out results/] [--smoke] [--engine local|ray [--address ADDR | --cpus N] [--cpus-per-cell N]]`."""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

SMOKE_SUBSAMPLE = 600
SMOKE_ENCODER = "composition"  # no weights to load, fast: the smoke test checks the plumbing
SMOKE_TRAIN_CONFIG = {"max_epochs": 5, "min_epochs": 1, "patience": 2}  # TrainConfig fields


def register(subparsers) -> None:
    from genepheno_core.benchmark import DATASETS, LEAKAGE_DATASETS, METHODS

    p = subparsers.add_parser(
        "benchmark",
        help="run every method on every dataset/split/seed and write the comparison tables",
        description=(
            "Resumable benchmark: each finished (dataset, split, method, seed) cell is stored in "
            "OUT/cells/ and skipped next time; OUT/benchmark.{csv,json,md} are rewritten from all "
            f"cells at the end. Datasets: {', '.join(DATASETS)} and the leakage checks "
            f"{', '.join(LEAKAGE_DATASETS)} (without IMP/IGI/HMP/HGI GO evidence). Splits default to "
            "random + homology (temporal for hpo-temporal). Each split is trained and scored on the "
            "terms with >= 11 of its training genes."
        ),
    )
    p.add_argument("--datasets", nargs="+", default=None, metavar="NAME", help=f"default: {' '.join(DATASETS)}")
    p.add_argument("--methods", nargs="+", default=None, metavar="METHOD", help=f"default: {' '.join(METHODS)}")
    p.add_argument("--splits", nargs="+", default=None, metavar="SPLIT", help="random, homology, temporal")
    p.add_argument("--seeds", nargs="+", type=int, default=None, help="default: 0 1 2")
    p.add_argument("--encoder", default=None, help="sequence encoder (default unirep256, as the main job and the default model)")
    p.add_argument("--subsample", type=int, default=None, metavar="N", help="keep N genes of each dataset")
    p.add_argument(
        "--train-config",
        default=None,
        metavar="JSON",
        help='TrainConfig fields passed to the trainer, e.g. \'{"max_epochs": 30}\'',
    )
    p.add_argument("--out", default="results", help="output directory (default: results)")
    p.add_argument("--write-predictions", action="store_true", help="also write CAFA prediction files per cell")
    p.add_argument("--tables-only", action="store_true", help="only rebuild the tables from OUT/cells")
    p.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: the cells one after another in this process (default); ray: each cell a Ray task "
        "(OUT, GENEPHENO_HOME and GENEPHENO_MIRROR must be on storage every node shares)",
    )
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="with --engine ray: join this Ray cluster (HOST:PORT of `ray start --head`, or auto) "
                   "instead of starting a local instance")
    p.add_argument("--cpus", type=int, default=None, metavar="N",
                   help="with --engine ray: CPUs of the local Ray instance (default: all of this machine's)")
    p.add_argument("--cpus-per-cell", type=int, default=None, metavar="N",
                   help="with --engine ray: CPUs (= torch threads) of a neural or kmer-lr cell (default: the "
                   "trainer's num_threads, 1 unless --train-config sets it, so cells equal a local run's)")
    p.add_argument(
        "--smoke",
        action="store_true",
        help=f"CI check: hpo, random split, seed 0, {SMOKE_SUBSAMPLE} genes, composition encoder, a few methods",
    )
    p.set_defaults(func=handler)


def build_config(args: argparse.Namespace):
    from genepheno_core.errors import GenePhenoError
    from genepheno_core.benchmark import DATASETS, METHODS, SMOKE_METHODS, BenchmarkConfig

    train_config = {}
    if args.train_config:
        try:
            train_config = json.loads(args.train_config)
        except json.JSONDecodeError as exc:
            raise GenePhenoError(f"--train-config is not valid JSON: {exc}") from None
        if not isinstance(train_config, dict):
            raise GenePhenoError("--train-config must be a JSON object")
    if args.smoke:
        return BenchmarkConfig(
            datasets=tuple(args.datasets or ("hpo",)),
            methods=tuple(args.methods or SMOKE_METHODS),
            splits=tuple(args.splits or ("random",)),
            seeds=tuple(args.seeds or (0,)),
            encoder=args.encoder or SMOKE_ENCODER,
            subsample=args.subsample or SMOKE_SUBSAMPLE,
            train_config={**SMOKE_TRAIN_CONFIG, **train_config},
            write_predictions=args.write_predictions,
        )
    return BenchmarkConfig(
        datasets=tuple(args.datasets or DATASETS),
        methods=tuple(args.methods or METHODS),
        splits=tuple(args.splits) if args.splits else None,
        seeds=tuple(args.seeds if args.seeds is not None else (0, 1, 2)),
        encoder=args.encoder or "unirep256",
        subsample=args.subsample,
        train_config=train_config,
        write_predictions=args.write_predictions,
    )


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run (options as given)."""
    words = ["python", "-m", "genepheno_core", "benchmark"]
    for flag in ("datasets", "methods", "splits", "seeds"):
        value = getattr(args, flag)
        if value:
            words += [f"--{flag}", *map(str, value)]
    for flag in ("encoder", "subsample", "train_config"):
        value = getattr(args, flag)
        if value is not None:
            words += [f"--{flag.replace('_', '-')}", str(value)]
    words += ["--out", str(args.out)]
    if args.write_predictions:
        words.append("--write-predictions")
    if args.smoke:
        words.append("--smoke")
    # where it ran (--address, --cpus) is not recorded: the cells do not depend on it; the
    # threads of a cell (--cpus-per-cell) can change their last bits
    if getattr(args, "engine", "local") == "ray":
        words += ["--engine", "ray"]
        if args.cpus_per_cell is not None:
            words += ["--cpus-per-cell", str(args.cpus_per_cell)]
    return shlex.join(words)


def check_engine_options(args: argparse.Namespace) -> None:
    """Clear errors for engine options that do not go together."""
    from genepheno_core.errors import GenePhenoError

    engine = getattr(args, "engine", "local")
    ray_only = [flag for flag, value in (("--address", args.address), ("--cpus", args.cpus),
                                         ("--cpus-per-cell", args.cpus_per_cell)) if value is not None]
    if ray_only and engine != "ray":
        raise GenePhenoError(f"{', '.join(ray_only)} needs --engine ray")
    if args.address is not None and args.cpus is not None:
        raise GenePhenoError("--cpus sizes a local Ray instance; a cluster joined with --address brings its own")
    for flag, value in (("--cpus", args.cpus), ("--cpus-per-cell", args.cpus_per_cell)):
        if value is not None and value < 1:
            raise GenePhenoError(f"{flag} must be at least 1")
    if args.tables_only and ray_only:
        raise GenePhenoError(f"--tables-only rebuilds the tables here from OUT/cells; {', '.join(ray_only)} "
                             "does not apply")


def _cached_manifest(name: str) -> dict | None:
    """Manifest summary of a cached dataset artifact (never builds one)."""
    from genepheno_core.errors import GenePhenoError
    from genepheno_core.benchmark import dataset_manifest_summary

    try:
        from genepheno_core.datasets import load_dataset

        return dataset_manifest_summary(load_dataset(name))
    except (GenePhenoError, OSError, ImportError) as exc:
        logger.warning("no manifest for dataset %s: %s", name, exc)
        return None


def handler(args: argparse.Namespace) -> int:
    from genepheno_core.benchmark import collect_cells, run_benchmark
    from genepheno_core.benchmark import write_tables

    check_engine_options(args)
    config = build_config(args)
    command = command_line(args)
    out = Path(args.out)
    if args.tables_only:
        # keep the command and manifests of the run that produced the cells
        manifests = None
        previous = out / "benchmark.json"
        if previous.exists():
            try:
                payload = json.loads(previous.read_text())
                explicit = any(getattr(args, k) for k in ("datasets", "methods", "splits", "seeds"))
                if not explicit:  # no selection given: keep the command of the run
                    command = payload.get("command") or command
                manifests = payload.get("manifests") or None
            except (json.JSONDecodeError, OSError) as exc:
                logger.warning("could not read %s: %s", previous, exc)
        df = collect_cells(out, config)
        manifests = dict(manifests or {})
        for name in sorted(set(df["dataset"]) if not df.empty else ()):
            if name not in manifests:
                manifests[name] = _cached_manifest(name)
        write_tables(df, out, manifests={k: v for k, v in manifests.items() if v}, command=command, config=config)
    else:
        from genepheno_core.benchmark import load_smoke_dataset

        loader = load_smoke_dataset if args.smoke else None
        if args.engine == "ray":
            from genepheno_core.scale.grid import run_benchmark_ray
            from genepheno_core.scale.runtime import unwrap_error

            try:
                df = run_benchmark_ray(config, out, address=args.address, num_cpus=args.cpus,
                                       cpus_per_cell=args.cpus_per_cell, command=command, load_dataset=loader,
                                       progress=not args.quiet and sys.stderr.isatty())
            except Exception as exc:  # a GenePhenoError from a worker: the user-facing message
                raise unwrap_error(exc) from None
        else:
            df = run_benchmark(config, out, command=command, load_dataset=loader)
    print(f"{len(df)} cells in {out / 'cells'}; tables: {out / 'benchmark.md'}")
    if not df.empty:
        cols = [c for c in ("dataset", "split", "method", "seed", "fmax", "auc") if c in df.columns]
        print(df[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0
