"""`data` subcommands: fetch upstream files, build / inspect benchmark datasets.

    genepheno data fetch SOURCE... [--release R]
    genepheno data build NAME [--min-genes N] [--evidence CODE...] [--drop-imp-igi]
                              [--go-part-of] [--seed S] [--no-homology] [--out DIR] [--force]
    genepheno data stats NAME_OR_DIR [--json] [--no-similarity]
    genepheno data list
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from genepheno_core.errors import GenePhenoError

logger = logging.getLogger(__name__)

# = genepheno_core.datasets.config.DATASET_NAMES; not imported here so that building the
# parser does not pull pandas/scipy (every CLI command builds it)
_NAMES = ("mpo", "hpo", "gwas", "hpo-temporal")


def register(subparsers) -> None:
    data = subparsers.add_parser(
        "data", help="fetch upstream data, build and inspect the benchmark datasets",
        description="Upstream files come from $GENEPHENO_MIRROR when set, else are downloaded "
        "into $GENEPHENO_HOME/downloads; datasets are written to $GENEPHENO_HOME/datasets/NAME.",
    )
    sub = data.add_subparsers(dest="data_command", metavar="ACTION")

    fetch = sub.add_parser("fetch", help="download (or locate in the mirror) and verify upstream files")
    fetch.add_argument("sources", nargs="+", metavar="SOURCE",
                       help="source names (mgi, mp, hpo, go, goa, uniprot, gwas, efo, idmapping, cafa2) or 'all'")
    fetch.add_argument("--release", default=None, help="release (default: the one the datasets use)")
    fetch.add_argument("--no-progress", action="store_true", help="no download progress bar")
    fetch.set_defaults(func=run_fetch)

    build = sub.add_parser("build", help="build a benchmark dataset artifact")
    build.add_argument("name", metavar="NAME", choices=_NAMES, help=" | ".join(_NAMES))
    build.add_argument("--min-genes", type=int, default=None, metavar="N",
                       help="keep label terms with >= N annotated genes (default 11)")
    build.add_argument("--evidence", nargs="+", default=None, metavar="CODE",
                       help="GO evidence codes kept for the GO input (default: experimental "
                       "EXP IDA IPI IMP IGI IEP and high-throughput HTP HDA HMP HGI HEP)")
    build.add_argument("--drop-imp-igi", action="store_true",
                       help="drop the mutant-phenotype GO codes IMP, IGI (and HMP, HGI): in mouse they "
                       "often come from the same knockout papers as the labels")
    build.add_argument("--go-part-of", action="store_true", help="propagate GO over is_a and part_of")
    build.add_argument("--seed", type=int, default=None, help="split seed (default 0)")
    build.add_argument("--no-homology", action="store_true", help="skip the homology split (its all-vs-all DIAMOND search takes minutes)")
    build.add_argument("--out", default=None, metavar="DIR",
                       help="write the artifact here (default $GENEPHENO_HOME/datasets/NAME)")
    build.add_argument("--force", action="store_true", help="rebuild even if the artifact exists")
    build.add_argument("--no-progress", action="store_true", help="no progress bar")
    build.set_defaults(func=run_build)

    stats = sub.add_parser("stats", help="print the statistics of a built dataset")
    stats.add_argument("name", metavar="NAME_OR_DIR", help="dataset name or artifact directory")
    stats.add_argument("--json", action="store_true", help="print JSON instead of text")
    stats.add_argument("--no-similarity", action="store_true",
                       help="skip the residual similarity of valid/test to training when the dataset's "
                       "manifest does not store it (computing it runs DIAMOND, about a minute per split)")
    stats.set_defaults(func=run_stats)

    lst = sub.add_parser("list", help="list the datasets and whether they are built")
    lst.set_defaults(func=run_list)

    data.set_defaults(func=lambda args: (data.print_help(), 2)[1])


def run_fetch(args: argparse.Namespace) -> int:
    from genepheno_core.sources import registry

    names = registry.sources() if "all" in args.sources else args.sources
    known = set(registry.sources())
    unknown = [s for s in names if s not in known]
    if unknown:
        raise GenePhenoError(f"unknown source(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    for source in names:
        files = registry.fetch(source, args.release, progress=not args.no_progress)
        for filename, path in files.items():
            print(f"{source}\t{args.release or registry.default_release(source)}\t{filename}\t{path}")
    return 0


def _config_from_args(args: argparse.Namespace):
    from genepheno_core.datasets import DatasetConfig

    changes = {}
    if args.min_genes is not None:
        changes["min_genes"] = args.min_genes
    if args.evidence is not None:
        changes["evidence"] = tuple(code.upper() for code in args.evidence)
    if args.drop_imp_igi:
        changes["drop_imp_igi"] = True
    if args.go_part_of:
        changes["go_relations"] = ("is_a", "part_of")
    if args.seed is not None:
        changes["seed"] = args.seed
    if args.no_homology:
        changes["homology"] = False
    try:
        return DatasetConfig(**changes)
    except ValueError as exc:
        raise GenePhenoError(str(exc)) from exc


def run_build(args: argparse.Namespace) -> int:
    from genepheno_core.datasets import build_dataset, dataset_dir, format_stats, save_dataset

    config = _config_from_args(args)
    target = Path(args.out) if args.out else dataset_dir(args.name)
    if (target / "manifest.json").is_file() and not args.force:
        print(f"{args.name}: already built at {target} (use --force to rebuild)")
        return 0
    ds = build_dataset(args.name, config, progress=not args.no_progress and sys.stderr.isatty())
    path = save_dataset(ds, target)
    print(format_stats(ds.stats()))
    print(f"written to {path} in {ds.manifest.get('build_seconds', 0):.0f} s")
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from genepheno_core.datasets import format_stats, load_dataset
    from genepheno_core.datasets.stats import split_similarity
    from genepheno_core.errors import MissingDataError

    ds = load_dataset(args.name)
    stats = ds.stats()
    try:
        similarity = split_similarity(ds, compute=not args.no_similarity)
    except MissingDataError as exc:  # no DIAMOND: the counts are still worth printing
        logger.warning("no residual similarity: %s", exc)
        similarity = split_similarity(ds, compute=False)
    if similarity:
        stats["residual_similarity"] = similarity
    print(json.dumps(stats, indent=2) if args.json else format_stats(stats))
    return 0


def run_list(args: argparse.Namespace) -> int:
    from genepheno_core.datasets import dataset_dir

    print("name\tstatus\tgenes\tterms\tpath")
    for name in _NAMES:
        path = dataset_dir(name)
        manifest_path = path / "manifest.json"
        if manifest_path.is_file():
            try:
                counts = json.loads(manifest_path.read_text()).get("counts", {})
            except ValueError:
                counts = {}
            print(f"{name}\tbuilt\t{counts.get('genes', '?')}\t{counts.get('terms', '?')}\t{path}")
        else:
            print(f"{name}\tnot built\t-\t-\t{path}")
    return 0
