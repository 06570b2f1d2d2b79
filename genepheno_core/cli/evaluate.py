"""`evaluate PREDICTIONS.tsv TRUTH.tsv --ontology OBO [--ia IA.tsv] [--json] [--no-propagate]
[--exclude TERM ... | --dataset NAME | --model DIR]`."""

from __future__ import annotations

import argparse
import json
import logging
import math

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="CAFA-style evaluation of a prediction file against a ground-truth file",
        description=(
            "Gene-centric Fmax (with its threshold, precision, recall, coverage), micro AUPR, "
            "Smin and phenotype-centric macro AUC of CAFA prediction files (gene, term, score; "
            "AUTHOR/MODEL/KEYWORDS/END lines allowed) against a truth file (gene, term). Truth and "
            "predictions are propagated over the ontology (max over descendants). Excluded terms: "
            "with --dataset or --model, those the dataset never uses as labels (the benchmark's: for "
            "hpo the root, HP:0000118 Phenotypic abnormality and terms outside its subtree); with "
            "--exclude, the ontology's roots and the terms given; by default the roots only, as "
            "cafaeval -no_orphans. Thresholds 0.01..0.99 (cafaeval's)."
        ),
    )
    p.add_argument("predictions", help="CAFA prediction file (.gz ok)")
    p.add_argument("truth", help="ground-truth file: gene, term per line (.gz ok)")
    p.add_argument("--ontology", required=True, help="ontology file (OBO, .gz ok; EFO JSON)")
    p.add_argument("--ia", default=None, help="information accretion file (term, ia) for Smin; default: unit weights")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument(
        "--no-propagate",
        dest="propagate",
        action="store_false",
        help="the files are already propagated: do not propagate truth or scores",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--exclude", nargs="+", action="extend", default=None, metavar="TERM",
                        help="also leave out these terms, besides the ontology's roots (space- or "
                        "comma-separated, repeatable)")
    source.add_argument("--dataset", default=None, metavar="NAME",
                        help="leave out the terms this dataset (name or directory) never uses as labels")
    source.add_argument("--model", default=None, metavar="DIR",
                        help="leave out the terms the dataset of this checkpoint never uses as labels")
    p.set_defaults(func=handler)


def format_metrics(result: dict) -> str:
    """A plain-text table of the metrics."""
    def num(v, pct=False):
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return "n/a"
        return f"{v:.4f}"

    rows = [
        ("Fmax", num(result["fmax"])),
        ("threshold", num(result["threshold"])),
        ("precision", num(result["precision"])),
        ("recall", num(result["recall"])),
        ("coverage", num(result["coverage"])),
        ("micro AUPR", num(result["aupr"])),
        ("Smin", num(result["smin"])),
        ("macro AUC", num(result["auc"]) + f" ({result['n_auc_terms']} terms)"),
        ("genes", f"{result['n_annotated_genes']} annotated, {result.get('n_predicted_genes', 'n/a')} predicted"),
        ("terms", str(result["n_terms"])),
    ]
    for label, auc in result.get("auc_bins", {}).items():
        rows.append((f"AUC {label}", num(auc)))
    excluded = result.get("excluded")
    if excluded:
        rows.append(("excluded", format_excluded(excluded)))
        rows.append(("exclusion", excluded["source"]))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def format_excluded(excluded: dict, limit: int = 10) -> str:
    """"N terms: ID name, ..." (the first `limit` terms met; --json lists all)."""
    terms, names = excluded["terms"], excluded.get("names") or [""] * len(excluded["terms"])
    listed = ", ".join(f"{t} {n}".strip() for t, n in zip(terms[:limit], names[:limit]))
    if len(terms) > limit:
        listed += f", ... ({len(terms) - limit} more; --json lists all)"
    count = f"{len(terms)} term{'s' if len(terms) != 1 else ''}"
    return f"{count}: {listed}" if terms else count


def handler(args: argparse.Namespace) -> int:
    from genepheno_core.evaluation.cafa_io import evaluate_files, load_evaluation_ontology
    from genepheno_core.io import json_safe

    ontology = load_evaluation_ontology(args.ontology)
    exclude = [t for item in args.exclude for t in item.split(",") if t.strip()] if args.exclude else None
    result = evaluate_files(args.predictions, args.truth, ontology, ia_path=args.ia, propagate=args.propagate,
                            exclude=exclude, dataset=args.dataset, model=args.model)
    if args.json:
        print(json.dumps(json_safe(result), sort_keys=True))
    else:
        print(format_metrics(result))
        ignored = {k: v for k, v in result["ignored"].items() if v}
        if ignored:
            print("ignored lines: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in ignored.items()))
        for message in result.get("warnings", []):
            print(f"warning: {message}")
    return 0
