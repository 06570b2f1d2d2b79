"""`pairs`: list the exclusive phenotype pairs of a dataset with the rule behind each."""

from __future__ import annotations

import argparse
import logging
import sys

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "pairs",
        help="list exclusive phenotype pairs (antonym siblings, co-annotation, user TSV)",
        description="List the mutually exclusive phenotype pairs used by the exclusivity loss, "
        "with term names and the rule that found each pair.",
    )
    p.add_argument("dataset", help="dataset name or directory")
    p.add_argument("--tsv", default=None, help="user pairs: two term ids per line")
    p.add_argument("--co-annotation", action="store_true",
                   help="also list frequent sibling pairs never co-annotated in training")
    p.add_argument("--split", default="random", help="split whose training genes define co-annotation")
    p.add_argument("--max-overlap", type=float, default=0.1,
                   help="drop automatic pairs co-annotated in training above this overlap "
                   "(|both| / min(|a|, |b|)); negative = keep all")
    p.add_argument("--out", default=None, help="write the table as TSV here instead of stdout")
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from genepheno_core.io import atomic_path
    from genepheno_core.models.pairs import dataset_pairs
    from genepheno_core.training import trainer

    dataset = trainer.load_dataset_by_name(args.dataset)
    max_overlap = None if args.max_overlap < 0 else args.max_overlap
    table = dataset_pairs(dataset, split=args.split, co_annotation=args.co_annotation, user_tsv=args.tsv,
                          max_overlap=max_overlap)
    table["overlap"] = table["overlap"].round(3)
    table = table.drop(columns=["index_a", "index_b"])
    if args.out:
        with atomic_path(args.out) as tmp:
            table.to_csv(tmp, sep="\t", index=False)
    else:
        table.to_csv(sys.stdout, sep="\t", index=False)
    counts = table["rule"].str.split(",").explode().str.split(":").str[0].value_counts()
    summary = ", ".join(f"{rule}: {n}" for rule, n in counts.items()) or "none"
    print(f"{len(table)} pairs ({summary})", file=sys.stderr)
    return 0
