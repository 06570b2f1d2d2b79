"""Validation-only comparison of GenePheno configurations on accuracy and evidence quality
(prints a Markdown table; the test split is never scored here).

    python scripts/validation_evidence.py --dataset hpo --set '{}' --set '{"ortholog_mapped": true}'

Each `--set` is a JSON object of TrainConfig fields; every run trains GenePheno on the
dataset's random split (seed 0 unless given) and reports validation Fmax / AUC and the
evidence measures (genepheno_core.evaluation.evidence) on the validation genes: the share of
each phenotype's five largest homolog-phenotype weights backed by a curated MP-HP mapping,
the share of |logit - bias| in the ten largest evidence items (every ontology term an item,
and as an explanation shows them: evaluation.evidence.group_evidence), the concept
correlation and the deletion check. Results are also appended as JSON lines to --out (resumable: a
configuration already there is not retrained).

    python scripts/validation_evidence.py --dataset hpo --summary

prints, from --out alone, each configuration's mean ± sd over the seeds run (the trade-off
curve in docs/VALIDATION_RUNS.md). A run's key spells out the fields its dataset has a default
of its own for (mpo: the mapped homolog pairs, rank 32), so `--set '{}'` on mpo is the
`{"ortholog_mapped": true, "ortholog_rank": 32}` row and "global defaults" always means
rank 256 without mapped pairs.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="hpo")
    parser.add_argument("--split", default="random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=None, help="TrainConfig fields as JSON (repeatable)")
    parser.add_argument("--out", default="results/validation_evidence.jsonl")
    parser.add_argument("--summary", action="store_true", help="only print mean ± sd over seeds from --out")
    args = parser.parse_args(argv)
    if args.summary:
        print("\n".join(summary_table(read_runs(Path(args.out)), args.dataset, args.split)))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from genepheno_core.datasets import load_dataset
    from genepheno_core.training import TrainConfig
    from genepheno_core.training.trainer import evidence_measures, run

    out = Path(args.out)
    done = {json.dumps(rec["key"], sort_keys=True): rec for rec in read_runs(out)}
    ds = load_dataset(args.dataset)
    rows = []
    for text in args.set or ["{}"]:
        fields = json.loads(text)
        key = run_key(args.dataset, args.split, args.seed, fields)
        rec = done.get(json.dumps(key, sort_keys=True))
        if rec is None:
            config = TrainConfig(dataset=args.dataset, split=args.split, seed=args.seed, **fields)
            start = time.perf_counter()
            result = run(config, ds)
            evidence = evidence_measures(result, result.data.valid)
            rec = {"key": key, "valid": {k: result.valid_metrics.get(k) for k in ("fmax", "auc", "concept_auc")},
                   "evidence": evidence, "seconds": time.perf_counter() - start}
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("a") as handle:
                handle.write(json.dumps(rec, default=float) + "\n")
        rows.append(rec)
    print("| configuration | valid Fmax % | valid AUC % | mapped homolog weights % (random) | top-10 share % "
          "| top-10 share as shown % | concept ρ | deletion % |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for rec in rows:
        ev = rec["evidence"] or {}
        plaus = ev.get("plausibility") or {}
        fields = {k: v for k, v in rec["key"].items() if k not in ("dataset", "split", "seed")}
        print(f"| {json.dumps(fields) if fields else GLOBAL_LABEL} | {100 * rec['valid']['fmax']:.2f} "
              f"| {100 * rec['valid']['auc']:.2f} "
              f"| {100 * plaus.get('share', float('nan')):.1f} ({100 * plaus.get('random_share', float('nan')):.1f}) "
              f"| {100 * (ev.get('concentration') or {}).get('share', float('nan')):.1f} "
              f"| {100 * (ev.get('concentration_grouped') or {}).get('share', float('nan')):.1f} "
              f"| {(ev.get('concepts') or {}).get('median_spearman', float('nan')):.2f} "
              f"| {100 * (ev.get('deletion') or {}).get('pass_rate', float('nan')):.1f} |")
    return 0


# the label of a run with every field at its global default (training.config.GLOBAL_DEFAULTS)
GLOBAL_LABEL = "global defaults"


def run_key(dataset: str, split: str, seed: int, fields: dict) -> dict:
    """The run's key: `fields` plus each field the dataset gives a default of its own
    (training.config.DATASET_DEFAULTS) spelled out, so that a key means one configuration
    whatever the defaults were when it ran (`{}` = the global defaults)."""
    from genepheno_core.training.config import GLOBAL_DEFAULTS, dataset_default

    implied = {name: dataset_default(dataset, name) for name in GLOBAL_DEFAULTS if name not in fields}
    implied = {name: value for name, value in implied.items() if value != GLOBAL_DEFAULTS[name]}
    return {"dataset": dataset, "split": split, "seed": seed, **implied, **fields}


def read_runs(path: Path) -> list[dict]:
    """The JSON lines of `path` (none when it does not exist)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# (column, how to read it from a run, scale, decimals)
MEASURES = (("valid Fmax %", lambda r: r["valid"]["fmax"], 100, 2),
            ("valid AUC %", lambda r: r["valid"]["auc"], 100, 2),
            ("mapped homolog weights %", lambda r: (r["evidence"].get("plausibility") or {})["share"], 100, 1),
            ("top-10 share %", lambda r: r["evidence"]["concentration"]["share"], 100, 1),
            # runs before the grouped share was measured have none (shown as nan)
            ("top-10 share as shown %", lambda r: (r["evidence"].get("concentration_grouped") or {}).get(
                "share", float("nan")), 100, 1),
            ("concept ρ", lambda r: r["evidence"]["concepts"]["median_spearman"], 1, 2),
            ("deletion %", lambda r: r["evidence"]["deletion"]["pass_rate"], 100, 1))


def summary_table(runs: list[dict], dataset: str, split: str) -> list[str]:
    """Markdown: one row per configuration (the run key without its seed), each measure as
    mean ± sample sd over its seeds, in the order configurations first appear."""
    import numpy as np

    groups: dict[str, list[dict]] = {}
    for rec in runs:
        key = {k: v for k, v in rec["key"].items() if k != "seed"}
        if key.get("dataset") != dataset or key.get("split") != split:
            continue
        fields = {k: v for k, v in key.items() if k not in ("dataset", "split")}
        groups.setdefault(json.dumps(fields, sort_keys=True), []).append(rec)
    lines = ["| configuration | seeds | " + " | ".join(m[0] for m in MEASURES) + " |",
             "| --- | --- |" + " --- |" * len(MEASURES)]
    for name, recs in groups.items():
        cells = []
        for _, read, scale, digits in MEASURES:
            values = np.array([scale * read(r) for r in recs], dtype=float)
            if np.isnan(values).all():
                cells.append("-")
                continue
            cells.append(f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}" if len(values) > 1
                         else f"{values.mean():.{digits}f}")
        seeds = ",".join(str(r["key"]["seed"]) for r in sorted(recs, key=lambda r: r["key"]["seed"]))
        lines.append(f"| {GLOBAL_LABEL if name == '{}' else name} | {seeds} | " + " | ".join(cells) + " |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
