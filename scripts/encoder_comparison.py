"""Sequence encoders compared on the sequence-only rows (issue 17): a Markdown table.

    python -m genepheno_core benchmark --out results/encoders/ENC --encoder ENC \\
        --datasets hpo --splits random --seeds 0 --methods mlp-bce genepheno-seq-only
    python scripts/encoder_comparison.py [--out results/encoders/encoders.md]

Reads the benchmark cells of each `results/encoders/<encoder>/cells` directory and the
unirep256 cells (`results/encoders/unirep256/cells` when it exists: the grid's cells kept
from the training configuration the other encoders were measured with; else the main grid's
`results/cells`), and prints, per
dataset, split, method and encoder, validation Fmax / AUC (what a choice of encoder may be
made on) next to test Fmax / AUC (each scored once), mean over the seeds that every encoder
of a method has (so that encoders are compared on the same seeds). The
genepheno-pasted row (the default model fed transferred GO) is scored from the genepheno
model: its validation column is that model's (validated on the genes' own GO, as training
selects). Cells are compared only under one training configuration: cells of one row that
differ in anything but the encoder (e.g. a default changed since) stop the script with
their names, instead of a table that mixes configurations.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("mlp-bce", "genepheno-seq-only", "genepheno", "genepheno-pasted")
ORDER = ("composition", "unirep64", "unirep256", "unirep1900")


# the fields of a cell's config_key that may differ between cells compared in one row
_VARYING = ("encoder", "data", "seed")


def read_cells(results: Path) -> dict:
    """{(dataset, split, method, encoder): {seed: (valid fmax, valid auc, test fmax, test auc)}}

    Raises ValueError, naming the cells, when the cells of one (dataset, split, method) were
    trained with different configurations apart from the encoder."""
    found = defaultdict(dict)
    configs = defaultdict(dict)  # (dataset, split, method) -> {config: first cell path}
    encoders = [d for d in sorted((results / "encoders").glob("*")) if d.is_dir()]
    directories = [] if any(d.name == "unirep256" for d in encoders) else [(results / "cells", "unirep256")]
    directories += [(d / "cells", d.name) for d in encoders]
    for directory, encoder in directories:
        for path in sorted(directory.glob("*.json")):
            cell = json.loads(path.read_text(encoding="utf-8"))
            if cell.get("method") not in METHODS or (cell.get("encoder") or encoder) != encoder:
                continue
            valid = (cell.get("info") or {}).get("valid_metrics") or {}
            test = cell.get("metrics") or {}
            if "fmax" not in valid or "fmax" not in test:
                continue  # a cell from before validation metrics were recorded
            key = (cell["dataset"], cell["split"], cell["method"], encoder)
            found[key][int(cell["seed"])] = (valid["fmax"], valid["auc"], test["fmax"], test["auc"])
            config = json.dumps({k: v for k, v in (cell.get("config_key") or {}).items() if k not in _VARYING},
                                sort_keys=True)
            configs[key[:3]].setdefault(config, path)
    # the pasted-protein row is scored from the genepheno model: its validation column is that
    # model's (newer pasted cells also record their own inputs' validation; older ones do not)
    for (dataset, split, method, encoder), runs in found.items():
        if method != "genepheno-pasted":
            continue
        model = found.get((dataset, split, "genepheno", encoder), {})
        for seed in runs.keys() & model.keys():
            runs[seed] = model[seed][:2] + runs[seed][2:]
    for row, seen in configs.items():
        if len(seen) > 1:
            raise ValueError(f"{', '.join(row)}: cells trained with different configurations (apart from the "
                             f"encoder) would be compared: {', '.join(str(p) for p in seen.values())}; rerun the "
                             "older ones or keep the grid's cells of that configuration in "
                             "results/encoders/unirep256/cells")
    return found


def table(found: dict) -> str:
    lines = ["| dataset, split | method | encoder | seeds | valid Fmax / AUC % | test Fmax / AUC % |",
             "| --- | --- | --- | --- | --- | --- |"]
    rank = {e: i for i, e in enumerate(ORDER)}
    pairs = {(d, s) for d, s, _, _ in found}
    for dataset, split in sorted(pairs):
        encoders = {e for d, s, _, e in found if (d, s) == (dataset, split)}
        if encoders == {"unirep256"}:
            continue  # no other encoder measured on this dataset and split
        for method in METHODS:
            runs = {e: found[(dataset, split, method, e)] for e in encoders if found.get((dataset, split, method, e))}
            # like for like: the seeds every encoder of this row group has
            common = sorted(set.intersection(*(set(r) for r in runs.values()))) if runs else []
            for encoder in sorted(runs, key=lambda e: (rank.get(e, 99), e)):
                rows = [runs[encoder][seed] for seed in common]
                if not rows:
                    continue
                mean = [100 * sum(r[i] for r in rows) / len(rows) for i in range(4)]
                seeds = " ".join(map(str, common))
                lines.append(f"| {dataset}, {split} | {method} | {encoder} | {seeds} | "
                             f"{mean[0]:.2f} / {mean[1]:.2f} | {mean[2]:.2f} / {mean[3]:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", default=str(ROOT / "results"))
    parser.add_argument("--out", default=None, help="also write the table here")
    args = parser.parse_args(argv)
    try:
        found = read_cells(Path(args.results))
    except ValueError as err:
        print(f"encoder_comparison: {err}", file=sys.stderr)
        return 1
    text = table(found)
    print(text, end="")
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
