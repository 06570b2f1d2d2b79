"""Validation-only measure of a seed ensemble: K GenePheno models of one configuration, trained
with different seeds, scored by the mean of their logits (prints a Markdown table; the test
split is never scored here).

    python scripts/validation_ensemble.py --dataset hpo --split homology --seeds 0 1 2 3 4 5 \
        --members 3 --set '{"ablations": ["go-transfer"]}'

Each seed's model is trained once (`training.trainer.run`, the benchmark's training of that
cell) and its validation logits are kept in GENEPHENO_HOME/cache/validation_ensemble/ as
.npy (resumable: a member already there is not retrained). The seeds are cut into
consecutive groups of --members; each group is one ensemble. Why the mean of logits and not
of probabilities: a GenePheno logit is a sum of evidence terms plus a bias, so the mean of K
models' logits is again such a sum (each item's contribution averaged over the members) and
an explanation stays exact. Results are appended as JSON lines to --out.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def mean_logit_probabilities(members: list[np.ndarray]) -> np.ndarray:
    """Probabilities (n, K) of the ensemble whose logit is the mean of the members' logits;
    `members` are the members' probabilities, each (n, K)."""
    eps = 1e-7
    logits = [np.log(np.clip(p, eps, 1 - eps)) - np.log1p(-np.clip(p, eps, 1 - eps)) for p in members]
    return 1.0 / (1.0 + np.exp(-np.mean(logits, axis=0)))


def member_path(home: Path, key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return home / "cache" / "validation_ensemble" / f"{key['dataset']}-{key['split']}-s{key['seed']}-{digest}.npy"


def parse_fields(parser: argparse.ArgumentParser, text: str) -> dict:
    """--set's TrainConfig fields, or a usage error (exit 2) that names what is wrong."""
    from dataclasses import fields as dataclass_fields

    from genepheno_core.training import TrainConfig

    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        parser.error(f"--set {text!r} is not JSON: {exc}")
    if not isinstance(value, dict):
        parser.error(f"--set {text!r} must be a JSON object of TrainConfig fields")
    unknown = sorted(set(value) - {f.name for f in dataclass_fields(TrainConfig)})
    if unknown:
        parser.error(f"--set: not TrainConfig fields: {', '.join(unknown)}")
    return value


def member_probabilities(home: Path, ds, dataset: str, split: str, seed: int, fields: dict):
    """(validation probabilities (n_valid, K), the run's PreparedData or None): one seed's model of
    the configuration, trained unless its cached probabilities exist (then PreparedData is None)."""
    from genepheno_core.training import TrainConfig
    from genepheno_core.training.trainer import run

    from validation_evidence import run_key

    path = member_path(home, run_key(dataset, split, seed, fields))
    data = None
    if not path.exists():
        result = run(TrainConfig(dataset=dataset, split=split, seed=seed, **fields), ds)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, result.valid_scores.astype(np.float32))
        tmp.replace(path)  # never a half-written member
        data = result.data
    return np.load(path, allow_pickle=False), data


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="hpo")
    parser.add_argument("--split", default="random")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--members", type=int, default=3, help="models per ensemble")
    parser.add_argument("--set", default="{}", help="TrainConfig fields as JSON")
    parser.add_argument("--train-only", action="store_true", help="train the missing members, print nothing")
    parser.add_argument("--out", default="results/validation_ensemble.jsonl")
    args = parser.parse_args(argv)
    if args.members < 1:
        parser.error(f"--members must be >= 1, got {args.members}")
    fields = parse_fields(parser, args.set)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from genepheno_core.environment import home as genepheno_home
    from genepheno_core.datasets import load_dataset
    from genepheno_core.training import TrainConfig
    from genepheno_core.training.trainer import full_metrics, prepare_data

    from validation_evidence import run_key

    home = Path(genepheno_home())
    ds = load_dataset(args.dataset)
    members, data = {}, None
    for seed in args.seeds:
        members[seed], trained = member_probabilities(home, ds, args.dataset, args.split, seed, fields)
        data = trained or data
    if args.train_only:
        return 0
    if data is None:
        split_ds = ds.for_split(args.split) if hasattr(ds, "for_split") else ds
        data = prepare_data(split_ds, TrainConfig(dataset=args.dataset, split=args.split, seed=args.seeds[0], **fields))

    def scored(probabilities):
        m = full_metrics(data, probabilities, data.valid)
        return {"fmax": float(m["fmax"]), "auc": float(m["auc"])}

    singles = {seed: scored(p) for seed, p in members.items()}
    groups = [args.seeds[i:i + args.members] for i in range(0, len(args.seeds), args.members)]
    print(f"{args.dataset}, {args.split} split, {json.dumps(fields)}: validation Fmax / AUC %\n")
    print("| seeds | members (each) | member mean | ensemble (mean logit) | ensemble - member mean |")
    print("| --- | --- | --- | --- | --- |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for group in groups:
        ens = scored(mean_logit_probabilities([members[s] for s in group]))
        mean = {k: float(np.mean([singles[s][k] for s in group])) for k in ("fmax", "auc")}
        each = ", ".join(f"{100 * singles[s]['fmax']:.2f} / {100 * singles[s]['auc']:.2f}" for s in group)
        print(f"| {' '.join(map(str, group))} | {each} | {100 * mean['fmax']:.2f} / {100 * mean['auc']:.2f} "
              f"| {100 * ens['fmax']:.2f} / {100 * ens['auc']:.2f} "
              f"| {100 * (ens['fmax'] - mean['fmax']):+.2f} / {100 * (ens['auc'] - mean['auc']):+.2f} |")
        rec = {"key": {**run_key(args.dataset, args.split, group[0], fields), "seed": group},
               "members": {str(s): singles[s] for s in group}, "ensemble": ens}
        with out.open("a") as handle:
            handle.write(json.dumps(rec) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
