"""`predict` and `explain` (the interpret area): ranked phenotypes for proteins, and the GO concepts behind them."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from genepheno_core.cli.options import add_model_options

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "predict",
        help="rank phenotypes for protein sequences (FASTA or raw), with the top GO concepts",
        description="Predict knockout phenotypes for proteins: FASTA file (.gz ok), raw sequences one per "
        "line, or '-' for stdin. Without --model the default model shipped in assets/ is used. "
        "GO annotations are optional (--go GAF, matched by accession or symbol).",
    )
    p.add_argument("input", metavar="INPUT", help="FASTA / raw sequence file, or '-' for stdin")
    add_model_options(p)
    p.add_argument("--go", default=None, metavar="ANNOTATIONS.gaf", help="GO annotations of the queries (GAF)")
    p.add_argument("--no-go-transfer", dest="go_transfer", action="store_false",
                   help="a protein without GO gets no GO input (default: the GO of its sequence homologs "
                        "among annotated human and mouse proteins)")
    p.add_argument("--top", default="10", metavar="N|all",
                   help="phenotypes per protein (default 10; 'all': every term of the model, e.g. for evaluate)")
    p.add_argument("--threshold", type=float, default=None, metavar="T",
                   help="score cut-off for above_threshold (default: the model's validation-optimal one)")
    p.add_argument("--concepts", type=int, default=3, metavar="N",
                   help="top contributing GO concepts listed per prediction, and the top GO terms and homolog "
                   "phenotypes for models with those weights (0: none; tsv/json)")
    p.add_argument("--view", choices=("all", "specific"), default="all",
                   help="specific: the most specific predictions: of the terms above the threshold, each one "
                        "implied by another is folded under it (--top counts the shown terms; unrelated terms "
                        "below the threshold fill up when fewer pass it); every row has the term's prior "
                        "(training frequency), gain (logit minus bias: what the protein adds beyond the prior) "
                        "and ic (-log2 prior)")
    p.add_argument("--format", choices=("tsv", "json", "cafa", "parquet"), default="tsv",
                   help="parquet: a directory of Parquet parts, one per block of --block-size proteins (the tsv "
                        "columns plus go_origin), written as blocks finish; a rerun resumes (for large FASTA files)")
    p.add_argument("-o", "--output", default=None, metavar="OUT",
                   help="output file (default: stdout); with --format parquet, the output directory")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: this process; ray: blocks predicted in parallel by Ray Data workers that each load "
                        "the model once (needs --format parquet)")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="with --engine ray: join this Ray cluster ('auto', or HOST:PORT of 'ray start --head'; "
                        "default: a local Ray instance sized to this machine)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="with --engine ray: workers of one CPU each (default: one per CPU of the cluster)")
    p.add_argument("--cpus", type=int, default=None, metavar="N",
                   help="with --engine ray and no --address: CPUs of the local Ray instance (default: all)")
    p.add_argument("--block-size", type=int, default=None, metavar="N",
                   help="with --format parquet: proteins per block (default 500)")
    _add_min_length(p)
    p.set_defaults(func=predict_handler)

    e = subparsers.add_parser(
        "explain",
        help="why a protein gets a phenotype: GO concept contributions W_p[k, j] * sigmoid(c_j)",
        description="Explain one protein's predictions. The protein is either GENE_OR_FASTA, a gene "
        "symbol/accession of a case study or training gene of the model (CFTR, P13569) or a FASTA file "
        "with one record, or a raw sequence given with --sequence SEQ. A name that is neither a known gene "
        "nor a file is an error listing close matches; it is never read as a sequence. Prints, per "
        "phenotype, the GO concepts with the largest contributions; contributions + bias = logit.",
    )
    e.add_argument("gene", metavar="GENE_OR_FASTA", nargs="?", default=None,
                   help="gene symbol / accession (case study or training gene), or a FASTA file with one record")
    e.add_argument("--sequence", default=None, metavar="SEQ",
                   help="explain this raw protein sequence (one-letter codes) instead of GENE_OR_FASTA")
    add_model_options(e)
    e.add_argument("--phenotype", action="append", default=None, metavar="TERM",
                   help="phenotype term id (repeatable; default: the top predicted ones)")
    e.add_argument("--go", default=None, metavar="GO_IDS_OR_GAF",
                   help="GO annotations: comma-separated GO ids or a GAF file")
    e.add_argument("--no-go-transfer", dest="go_transfer", action="store_false",
                   help="without GO, no GO input (default: the GO of the protein's sequence homologs)")
    e.add_argument("--top", type=int, default=10, metavar="N", help="concepts shown per phenotype")
    e.add_argument("--format", choices=("text", "tsv", "json"), default="text")
    e.add_argument("-o", "--output", default=None, metavar="OUT")
    e.add_argument("--residues", default=None, metavar="OUT.tsv",
                   help="also write per-residue Integrated Gradients (captum, through UniRep) for the first "
                        "phenotype explained: position, residue, attribution")
    e.add_argument("--residue-method", choices=("hidden", "input"), default="hidden",
                   help="IG on UniRep's per-residue states (fast, default) or on its input embeddings (slow)")
    e.add_argument("--max-residues", type=int, default=None, metavar="N",
                   help="longest protein for --residues (default: the core's limit, 10,000 residues; time and "
                        "memory grow with length: about 0.9 GB and minutes at 10,000)")
    _add_min_length(e)
    e.set_defaults(func=explain_handler)


def _add_min_length(parser) -> None:
    parser.add_argument("--min-length", type=int, default=None, metavar="N",
                        help="shortest sequence accepted (default 20 residues); sequences with more than half "
                             "unknown or non-standard residues (X B Z J U O) are refused too")


def _check_outputs(*paths: str | None) -> None:
    """Refuse an output that names a directory (or lies below a file) before any work."""
    from genepheno_core.io import check_output_file

    for path in paths:
        if path:
            check_output_file(path)


def _read_input(value: str):
    from genepheno_core.errors import InputFormatError, MissingDataError

    if value == "-":
        text = sys.stdin.read()
        if not text.strip():
            raise InputFormatError("<stdin>", "no sequences (empty input)")
        return text
    path = Path(value)
    if not path.exists():
        raise MissingDataError(f"{value}: no such file")
    return path


def _write(text: str, output: str | None) -> None:
    if output:
        from genepheno_core.io import atomic_write_text

        atomic_write_text(output, text)
        logger.info("written to %s", output)
    else:
        sys.stdout.write(text)


def _parse_top(value: str) -> int | None:
    """--top N (N >= 1) or 'all' (None: every term)."""
    from genepheno_core.errors import GenePhenoError

    if str(value).strip().lower() == "all":
        return None
    try:
        top = int(value)
    except ValueError:
        raise GenePhenoError(f"--top must be a number >= 1 or 'all', got {value!r}") from None
    if top < 1:
        raise GenePhenoError(f"--top must be >= 1 or 'all', got {top}")
    return top


def predict_handler(args: argparse.Namespace) -> int:
    from genepheno_core.errors import GenePhenoError

    top = _parse_top(args.top)
    if args.threshold is not None and not 0 <= args.threshold <= 1:
        raise GenePhenoError(f"--threshold must be within [0, 1], got {args.threshold}")
    if args.format == "parquet" or args.engine == "ray":
        # before the imports below: the Ray engine's driver never imports torch (~2.5 s)
        return _predict_parquet(args, top)

    from genepheno_core.interpret.contributions import top_concepts, top_evidence
    from genepheno_core.interpret.inference import (
        logit_matrix,
        parse_records,
        prepare_inputs,
        ranked_frame,
        score_matrix,
        unknown_go_by_gene,
    )
    from genepheno_core.interpret.inference import read_go_annotations
    from genepheno_core.interpret.model_store import choose_model, model_label, resolve_model

    if args.address or args.workers is not None or args.cpus is not None or args.block_size is not None:
        raise GenePhenoError("--address, --workers, --cpus and --block-size need --format parquet (and the first "
                             "three --engine ray)")
    if args.view != "all" and args.format == "cafa":
        raise GenePhenoError("--view specific folds terms: the cafa format lists every scored term (use --view all)")
    _check_outputs(args.output)
    records = parse_records(_read_input(args.input), min_length=args.min_length)
    go = read_go_annotations(args.go, [r for r, _ in records])
    model = args.model
    if args.auto_model:
        model = choose_model(model, go_given=any(go.get(r) for r, _ in records), transfer_go=args.go_transfer)
    model = resolve_model(model)
    inputs = prepare_inputs(model, records, go, transfer_go=args.go_transfer)
    logits = logit_matrix(model, inputs)
    scores = score_matrix(model, inputs, logits=logits)
    if args.format == "cafa":
        from genepheno_core.evaluation.cafa_io import format_score

        frame = ranked_frame(model, inputs.ids, scores, top, args.threshold)
        lines = ["AUTHOR\tGenePheno", "MODEL\t1", "KEYWORDS\tmachine learning."]
        lines += [f"{g}\t{t}\t{format_score(s)}" for g, t, s in zip(frame["gene"], frame["term_id"], frame["score"])]
        _write("\n".join(lines + ["END"]) + "\n", args.output)
        return 0
    frame = ranked_frame(model, inputs.ids, scores, top, args.threshold, logits=logits, view=args.view)
    if args.concepts > 0:
        frame["top_concepts"] = top_concepts(model, inputs, frame, args.concepts)
        evidence = top_evidence(model, inputs, frame, args.concepts)
        if any(evidence):  # models with GO term / homolog weights: their largest contributions
            frame["top_evidence"] = evidence
    logger.info("%d proteins, model %s (threshold %.2f)", len(records), model_label(model), frame.attrs["threshold"])
    if args.format == "json":
        out = {"model": model_label(model), "threshold": frame.attrs["threshold"],
               "go_unknown": unknown_go_by_gene(inputs),
               "go_origin": {g: inputs.go_origin(i) for i, g in enumerate(inputs.ids)},
               "predictions": frame.to_dict("records")}
        _write(json.dumps(out, indent=1, default=str) + "\n", args.output)
    else:
        frame = frame.assign(score=frame["score"].map(lambda v: f"{v:.4f}"))
        _write(frame.to_csv(sep="\t", index=False), args.output)
    return 0


def _predict_parquet(args: argparse.Namespace, top: int | None) -> int:
    """--format parquet: the FASTA in blocks, in this process or on Ray (genepheno_core.scale)."""
    from genepheno_core.errors import GenePhenoError
    from genepheno_core.scale.batch import DEFAULT_BLOCK_SIZE, BatchOptions, predict_blocks

    if args.format != "parquet":
        raise GenePhenoError("--engine ray writes Parquet parts: add --format parquet -o OUT_DIR")
    if not args.output:
        raise GenePhenoError("--format parquet needs -o OUT_DIR (a directory of Parquet parts)")
    if args.input == "-":
        raise GenePhenoError("--format parquet reads a FASTA file (.gz ok), not stdin")
    if args.go:
        raise GenePhenoError("--go is not read with --format parquet: proteins without GO get their homologs' GO "
                             "(or none with --no-go-transfer)")
    if args.engine != "ray" and (args.address or args.workers is not None or args.cpus is not None):
        raise GenePhenoError("--address, --workers and --cpus need --engine ray")
    for name in ("workers", "cpus", "block_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise GenePhenoError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    options = BatchOptions(top=top, threshold=args.threshold, concepts=args.concepts, view=args.view,
                           go_transfer=args.go_transfer, min_length=args.min_length)
    model = args.model
    if args.auto_model:  # --go is not read here: every protein is given no GO
        from genepheno_core.interpret.model_store import choose_model

        model = choose_model(model, go_given=False, transfer_go=args.go_transfer)
    summary = predict_blocks(args.input, args.output, model, options, engine=args.engine, address=args.address,
                             workers=args.workers, cpus=args.cpus, block_size=args.block_size or DEFAULT_BLOCK_SIZE,
                             progress=sys.stderr.isatty())
    print(f"{summary.blocks} blocks in {summary.out_dir} ({summary.computed} computed, {summary.reused} already "
          f"there): {summary.proteins} proteins predicted in {summary.seconds:.1f} s ({summary.engine}"
          + (f", {summary.workers} workers" if summary.engine == "ray" else "") + ")")
    return 0


def explain_handler(args: argparse.Namespace) -> int:
    from genepheno_core.errors import GenePhenoError, MissingDataError
    from genepheno_core.interpret.contributions import explain
    from genepheno_core.interpret.model_store import NO_GO_SUFFIX, resolve_model

    if (args.gene is None) == (args.sequence is None):
        raise GenePhenoError("explain takes one protein: GENE_OR_FASTA (a gene name or FASTA file) "
                             "or --sequence SEQ, not " + ("both" if args.gene else "neither"))
    if args.max_residues is not None and args.max_residues < 1:
        raise GenePhenoError(f"--max-residues must be >= 1, got {args.max_residues}")
    _check_outputs(args.output, args.residues)
    go = None
    if args.go:
        if Path(args.go).exists():
            go = args.go
        elif args.go.upper().startswith("GO:"):
            go = [g for g in args.go.replace(";", ",").split(",") if g.strip()]
        else:
            raise MissingDataError(f"--go {args.go}: neither a file nor GO ids")
    model = resolve_model(args.model)
    if args.sequence is not None:
        gene = ("query", args.sequence)
    elif Path(args.gene).exists():
        from genepheno_core.interpret.inference import parse_records

        records = parse_records(Path(args.gene), min_length=args.min_length)
        gene = records[0] if len(records) == 1 else Path(args.gene)
    else:
        gene = args.gene
    result = explain(args.model if args.auto_model else model, gene, phenotype=args.phenotype, go_annotations=go,
                     min_length=args.min_length, transfer_go=args.go_transfer, auto_model=args.auto_model)
    model = resolve_model(result.model)  # the model used (NAME-go-transfer for a protein without GO)
    table = result.contribution_table(top=args.top)
    if args.residues:
        from genepheno_core.interpret.attributions import (
            MAX_ATTRIBUTION_RESIDUES,
            residue_attributions,
        )
        from genepheno_core.io import atomic_write_text

        first = str(result.terms["term_id"].iloc[0])
        track = residue_attributions(model, (result.gene, result.sequence), phenotype=first,
                                     go_annotations=result.go_annotations or None, method=args.residue_method,
                                     max_residues=args.max_residues or MAX_ATTRIBUTION_RESIDUES,
                                     min_length=args.min_length)
        header = (f"# {result.gene} {first} {track.attrs['target_name']}: IG ({track.attrs['method']}) from "
                  f"{track.attrs['baseline']}; logit {track.attrs['logit']:+.4f}, baseline "
                  f"{track.attrs['baseline_logit']:+.4f}, completeness gap {track.attrs['delta']:+.2e}\n")
        atomic_write_text(Path(args.residues), header + track.to_csv(sep="\t", index=False, float_format="%.6g"))
        logger.info("residue attributions for %s written to %s", first, args.residues)
    if args.format == "json":
        out = result.to_dict()
        out["contributions"] = table.to_dict("records")
        _write(json.dumps(out, indent=1, default=str) + "\n", args.output)
        return 0
    if args.format == "tsv":
        _write(table.to_csv(sep="\t", index=False, float_format="%.4f"), args.output)
        return 0
    lines = [f"gene {result.gene} ({len(result.sequence)} aa), model {result.model}, threshold {result.threshold:.2f}"]
    if result.model.endswith(NO_GO_SUFFIX) and args.auto_model and not str(args.model or "").endswith(NO_GO_SUFFIX):
        lines.append(f"no GO given: explained by {result.model}, the model trained on GO transferred from homologs "
                     "(--exact-model for the named one)")
    if result.go_given:
        line = f"GO annotations given: {len(result.go_given)}, used: {len(result.go_used)}"
        if result.go_unknown:
            line += f" (unknown: {', '.join(result.go_unknown)})"
        lines.append(line)
    if result.go_origin == "transferred":
        hits = result.go_transfer
        lines.append(f"no GO given: GO of {len(hits)} sequence homolog(s) used ("
                     + ", ".join(f"{r.target} {r.species} {r.identity:.0%} w{r.weight:.2f}"
                                 for r in hits.itertuples(index=False)) + ")")
    elif not result.go_used:
        lines.append("no GO annotations used" + (" (no annotated homolog found)" if result.go_origin == "no homolog"
                                                 else "") + ": sequence-only prediction")
    for row in result.terms.to_dict("records"):
        t = row["term_id"]
        lines.append("")
        totals = result.source_totals(t)
        parts = f"bias {row['bias']:+.3f} + concepts {totals['concept']:+.3f}"
        if getattr(model.module, "go_term_head", None) is not None:
            parts += f" + GO terms {totals['GO term']:+.3f}"
        if model.uses_ortholog:
            parts += f" + {result.ortholog_dataset} homolog phenotypes {totals['ortholog phenotype']:+.3f}"
        if result.neighbour_alpha:
            parts += f" + functional neighbours {totals['functional neighbour']:+.3f}"
        lines.append(f"{t} {row['term_name']}: score {row['propagated_score']:.3f} (rank {row['rank']}), "
                     f"logit {row['logit']:+.3f} = {parts}")
        sub = table[table["term_id"] == t]
        lines.append("  concepts:")
        for c in sub.to_dict("records"):
            lines.append(f"  {c['contribution']:+.3f}  = W {c['weight']:+.3f} x a {c['activation']:.3f}  "
                         f"(vs average protein {c['relative_contribution']:+.3f})  "
                         f"{c['concept_id']} {c['concept_name']} [{c['namespace']}]")
        other = result.evidence_table(t)
        other = other[other["source"] != "concept"].head(args.top or 10)
        if len(other):
            lines.append("  GO terms, homolog phenotypes" + (" and functional neighbours:" if result.neighbour_alpha else ":"))
            for c in other.to_dict("records"):
                detail = f"  [{c['detail']}]" if c.get("detail") else ""
                lines.append(f"  {c['contribution']:+.3f}  {c['source']:<20} {c['id']} {c['name']}{detail}")
    _write("\n".join(lines) + "\n", args.output)
    return 0
