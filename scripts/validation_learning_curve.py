"""Would more labelled proteins help? A validation-only learning curve.

    python scripts/validation_learning_curve.py --dataset hpo --fractions 0.25 0.5 1 \
        --set '{"ablations": ["seq-only"]}' --set '{"ablations": ["go-transfer"]}' [--seed 0]

Issue 17 lists "both species at once" among the candidates for genes nobody has
characterised: one trunk trained on human and mouse genes together, so that the sequence
model sees ~3x the labelled proteins. Before building a two-species trainer this measures
what more training genes buy the models a pasted protein meets: each `--set` configuration
(TrainConfig fields as JSON, as in scripts/validation_evidence.py) is trained on a seeded
random `fraction` of the split's training genes, with the validation genes, the label
vocabulary (the full training set's, `Dataset.for_split`) and every other input unchanged,
and scored on the validation genes. If going from half to all the training genes moves
validation little, tripling them with another species' genes (whose labels are in another
ontology, so worth less than the same species' own) is not where the missing points are.
The test split is never scored.

Prints a Markdown table (configuration, fraction, training genes, valid Fmax %, valid AUC %);
runs are appended to --out as JSON lines and not retrained when already there.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def training_subset(dataset, split: str, fraction: float, seed: int):
    """`dataset` in the label vocabulary of `split`'s full training set, with only a seeded
    random `fraction` of its training genes left in "train" (the others are marked
    "unused": no training, validation or test gene; kept as rows so that the cached DIAMOND
    searches of the full gene set are reused). Validation and test genes are unchanged. The
    vocabulary rule is switched off on the result (min_genes 0), so that training on it does
    not drop the terms the smaller training set has fewer genes of: every fraction is scored
    on the same terms."""
    import numpy as np

    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    full = dataset.for_split(split)
    train = full.split_indices("train", split)
    rng = np.random.default_rng(seed)
    n = max(1, int(round(fraction * train.size)))
    dropped = np.setdiff1d(train, rng.choice(train, size=n, replace=False))
    out = full.subset(np.arange(len(full.genes)))  # a copy: the caller's dataset is not changed
    out.splits = out.splits.copy()
    out.splits.loc[dropped, split] = "unused"
    out.manifest = {**out.manifest, "config": {**(out.manifest.get("config") or {}), "min_genes": 0}}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="hpo")
    parser.add_argument("--split", default="random")
    parser.add_argument("--seed", type=int, default=0, help="training seed and the seed of the gene sample")
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5, 1.0])
    parser.add_argument("--set", action="append", default=None, help="TrainConfig fields as JSON (repeatable)")
    parser.add_argument("--out", default="results/validation_learning_curve.jsonl")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from genepheno_core.datasets import load_dataset
    from genepheno_core.training import TrainConfig
    from genepheno_core.training.trainer import run

    out = Path(args.out)
    done = {json.dumps(rec["key"], sort_keys=True): rec for rec in read_runs(out)}
    ds = load_dataset(args.dataset)
    rows = []
    for text in args.set or ["{}"]:
        fields = json.loads(text)
        for fraction in args.fractions:
            key = {"dataset": args.dataset, "split": args.split, "seed": args.seed, "fraction": fraction, **fields}
            rec = done.get(json.dumps(key, sort_keys=True))
            if rec is None:
                subset = training_subset(ds, args.split, fraction, args.seed)
                config = TrainConfig(dataset=args.dataset, split=args.split, seed=args.seed, **fields)
                start = time.perf_counter()
                result = run(config, subset)
                rec = {"key": key, "train_genes": int(result.data.train.size),
                       "valid": {k: result.valid_metrics.get(k) for k in ("fmax", "auc")},
                       "seconds": time.perf_counter() - start}
                out.parent.mkdir(parents=True, exist_ok=True)
                with out.open("a") as handle:
                    handle.write(json.dumps(rec, default=float) + "\n")
            rows.append(rec)
    print("\n".join(table(rows)))
    return 0


def read_runs(path: Path) -> list[dict]:
    """The JSON lines of `path` (none when it does not exist)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def table(runs: list[dict]) -> list[str]:
    """Markdown, a row per run: its configuration (the key without dataset, split, seed and
    fraction), fraction, training genes, validation Fmax and AUC in %."""
    lines = ["| configuration | seed | fraction | training genes | valid Fmax % | valid AUC % |",
             "| --- | --- | --- | --- | --- | --- |"]
    for rec in runs:
        key = rec["key"]
        fields = {k: v for k, v in key.items() if k not in ("dataset", "split", "seed", "fraction")}
        lines.append(f"| {json.dumps(fields) if fields else 'defaults'} | {key['seed']} | {key['fraction']:g} "
                     f"| {rec['train_genes']} | {100 * rec['valid']['fmax']:.2f} | {100 * rec['valid']['auc']:.2f} |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
