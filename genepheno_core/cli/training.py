"""`train`: fit GenePheno or a baseline on a dataset split and write a checkpoint."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from genepheno_core.errors import GenePhenoError
from genepheno_core.methods import ABLATIONS, METHODS

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="train GenePheno or a baseline; writes a checkpoint directory",
        description="Train a model on one dataset split (early stopping on validation Fmax) "
        "and write a checkpoint directory; optionally write test predictions (CAFA TSV).",
    )
    p.add_argument("--dataset", required=True, help="dataset name (mpo, hpo, gwas, hpo-temporal) or directory")
    p.add_argument("--model", default="genepheno", choices=tuple(METHODS))
    p.add_argument("--encoder", default="unirep256", help="sequence encoder (composition, unirep64|256|1900, ...)")
    p.add_argument("--split", default="random", choices=("random", "homology", "temporal"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ablation", action="append", default=[], choices=tuple(ABLATIONS),
                   help="GenePheno ablation (repeatable)")
    p.add_argument("--homology", action="store_true", help="GenePheno: add the Diamond-score homology branch")
    p.add_argument("--out", default=None, help="checkpoint directory (default: GENEPHENO_HOME/models/<run>)")
    p.add_argument("--predictions-out", default=None, metavar="FILE.tsv",
                   help="write test-gene predictions in CAFA format (gene, term, score)")
    p.add_argument("--resume", action="store_true", help="continue a killed run from its last epoch")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--hidden", type=int, default=None)
    p.add_argument("--tau", type=float, default=None)
    p.add_argument("--lambda-excl", type=float, default=None)
    p.add_argument("--lambda-concept", type=float, default=None)
    p.add_argument("--max-epochs", type=int, default=None)
    p.add_argument("--concept-min-genes", type=int, default=None,
                   help="GO concepts need this many annotated training genes")
    p.add_argument("--go-min-genes", type=int, default=None, help="GO input terms need this many training genes")
    p.add_argument("--co-annotation-pairs", action="store_true", help="also use never-co-annotated sibling pairs")
    p.add_argument("--pairs-tsv", default=None, help="extra exclusive pairs (two term ids per line)")
    p.add_argument("--ortholog-mapped", action=argparse.BooleanOptionalAction, default=None,
                   help="GenePheno: one weight of its own per homolog-phenotype pair a curated MP-HP mapping "
                        "relates, next to the low-rank W_o (more plausible homolog evidence; default: on for mpo, "
                        "off otherwise, chosen on validation: docs/VALIDATION_RUNS.md)")
    p.add_argument("--ortholog-rank", type=int, default=None,
                   help="GenePheno: rank of W_o's low-rank part (default: 32 for mpo, 256 otherwise; on hpo "
                        "--ortholog-mapped with 32 makes ~29%% of the largest homolog weights mapped at ~1 AUC point)")
    p.add_argument("--mapped-lr-scale", type=float, default=None,
                   help="GenePheno with --ortholog-mapped: the mapped pairs learn at this multiple of the learning "
                        "rate, so they can own the largest homolog weights before the low-rank part does "
                        "(default 1; docs/VALIDATION_RUNS.md)")
    p.add_argument("--concept-init", type=float, default=None,
                   help="GenePheno: W_p (concept -> phenotype) starts at this multiple of each concept's "
                        "log-odds enrichment among the training genes with the phenotype instead of at random "
                        "(default 0 = off; docs/VALIDATION_RUNS.md)")
    p.add_argument("--concept-init-min-genes", type=int, default=None,
                   help="GenePheno with --concept-init: only phenotypes with at least this many GO-annotated "
                        "training genes start at their enrichment, the others at random (default 0 = all; "
                        "validation chose 20)")
    p.add_argument("--init-from", default=None, metavar="MODEL_DIR",
                   help="GenePheno: start the shared parts (sequence and GO projections, trunk, concept head; "
                        "matched by GO id) from this trained GenePheno model, e.g. the other species' "
                        "(default: a fresh start)")
    p.add_argument("--cross-species-rows", type=float, default=None, metavar="WEIGHT",
                   help="train on the other species' genes too (hpo <- mouse, mpo <- human), their phenotypes "
                        "carried through equivalent MP-HP mappings, each weighing WEIGHT against one of this "
                        "dataset's genes (default 0 = off; docs/VALIDATION_RUNS.md)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=handler)


def _config(args):
    from genepheno_core.training import TrainConfig

    if args.init_from is not None and not Path(args.init_from, "config.json").is_file():
        raise GenePhenoError(f"--init-from {args.init_from}: not a trained model directory (no config.json)")
    overrides = {
        "lr": args.lr, "hidden": args.hidden, "tau": args.tau, "lambda_excl": args.lambda_excl,
        "lambda_concept": args.lambda_concept, "max_epochs": args.max_epochs,
        "concept_min_genes": args.concept_min_genes, "go_min_genes": args.go_min_genes,
        "ortholog_mapped": args.ortholog_mapped, "ortholog_rank": args.ortholog_rank,
        "mapped_lr_scale": args.mapped_lr_scale, "concept_init": args.concept_init,
        "concept_init_min_genes": args.concept_init_min_genes, "init_from": args.init_from,
        "cross_species_rows": args.cross_species_rows,
    }
    try:
        return TrainConfig(
            dataset=args.dataset, model=args.model, encoder=args.encoder, split=args.split,
            seed=args.seed, ablations=tuple(dict.fromkeys(args.ablation)), out_dir=args.out,
            homology=args.homology, resume=args.resume, co_annotation_pairs=args.co_annotation_pairs,
            pairs_tsv=args.pairs_tsv, num_threads=args.threads, progress=not args.no_progress,
            **{k: v for k, v in overrides.items() if v is not None},
        )
    except ValueError as exc:
        raise GenePhenoError(str(exc)) from exc


def handler(args: argparse.Namespace) -> int:
    from genepheno_core.training import trainer

    config = _config(args)
    out_dir = config.out_dir or str(trainer.default_out_dir(config))
    config = config.replace(out_dir=out_dir)
    start = time.perf_counter()
    dataset = trainer.load_dataset_by_name(config.dataset)
    result = trainer.run_and_save(config, dataset)
    metrics = result.valid_metrics
    print(f"checkpoint: {out_dir}")
    kept, total = len(result.dataset.terms), len(dataset.terms)
    min_genes = getattr(dataset, "min_genes", None)
    print(f"vocabulary: {kept} terms" + (f" with >= {min_genes} training genes" if min_genes else "")
          + (f" ({total - kept} more reach it only with valid/test genes: not trained or scored)" if kept < total else ""))
    print(f"validation: Fmax {metrics['fmax']:.4f} (threshold {metrics['threshold']:.2f}), "
          f"AUC {metrics['auc']:.4f}, AUPR {metrics['aupr']:.4f}"
          + (f", concept AUC {metrics['concept_auc']:.4f}" if "concept_auc" in metrics else ""))
    if args.predictions_out:
        from genepheno_core.evaluation.cafa_io import write_predictions

        scores = result.test_scores()
        genes = dataset.genes["gene_id"].iloc[result.data.test].astype(str).tolist()
        terms = result.dataset.terms["term_id"].astype(str).tolist()  # the split's training-genes vocabulary
        n = write_predictions(args.predictions_out, genes, terms, scores)
        print(f"test predictions: {n} rows for {len(genes)} genes -> {args.predictions_out}")
    print(f"time: {time.perf_counter() - start:.1f} s")
    logger.debug("%s", json.dumps({k: v for k, v in metrics.items() if not isinstance(v, dict)}, default=str))
    return 0
