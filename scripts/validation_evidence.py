"""Validation-only comparison of GenePheno configurations on accuracy and evidence quality
(prints a Markdown table; the test split is never scored here).

    python scripts/validation_evidence.py --dataset hpo --set '{}' --set '{"ortholog_mapped": true}'

Each `--set` is a JSON object of TrainConfig fields; every run trains GenePheno on the
dataset's random split (seed 0 unless given) and reports validation Fmax / AUC and the
evidence measures (genepheno_core.evaluation.evidence) on the validation genes: the share of
each phenotype's five largest homolog-phenotype weights backed by a curated MP-HP mapping,
the share of |logit - bias| in the ten largest evidence items, the concept correlation and
the deletion check. Results are also appended as JSON lines to --out (resumable: a
configuration already there is not retrained).
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from genepheno_core.datasets import load_dataset
    from genepheno_core.training import TrainConfig
    from genepheno_core.training.trainer import evidence_measures, run

    out = Path(args.out)
    done = {}
    if out.exists():
        for line in out.read_text().splitlines():
            rec = json.loads(line)
            done[json.dumps(rec["key"], sort_keys=True)] = rec
    ds = load_dataset(args.dataset)
    rows = []
    for text in args.set or ["{}"]:
        fields = json.loads(text)
        key = {"dataset": args.dataset, "split": args.split, "seed": args.seed, **fields}
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
          "| concept ρ | deletion % |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for rec in rows:
        ev = rec["evidence"] or {}
        plaus = ev.get("plausibility") or {}
        fields = {k: v for k, v in rec["key"].items() if k not in ("dataset", "split", "seed")}
        print(f"| {json.dumps(fields) if fields else 'default'} | {100 * rec['valid']['fmax']:.2f} "
              f"| {100 * rec['valid']['auc']:.2f} "
              f"| {100 * plaus.get('share', float('nan')):.1f} ({100 * plaus.get('random_share', float('nan')):.1f}) "
              f"| {100 * (ev.get('concentration') or {}).get('share', float('nan')):.1f} "
              f"| {(ev.get('concepts') or {}).get('median_spearman', float('nan')):.2f} "
              f"| {100 * (ev.get('deletion') or {}).get('pass_rate', float('nan')):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
