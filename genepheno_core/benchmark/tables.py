"""Benchmark tables: per-cell rows -> mean +- sd over seeds -> Markdown, CSV and JSON.

Pure functions from the per-cell DataFrame (`grid.collect_cells`) to text, plus
`write_tables` which writes benchmark.csv / .json / .md atomically.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from genepheno_core.benchmark.config import (
    ABLATIONS,
    LEAKAGE_DATASET,
    METHODS,
    REFERENCES,
    json_safe,
)
from genepheno_core.benchmark.resources import environment
from genepheno_core.evaluation.metrics import FREQUENCY_BINS
from genepheno_core.io import atomic_write_text
from genepheno_core.methods import is_ablation, method_spec

logger = logging.getLogger(__name__)

BIN_LABELS = tuple(label for label, _, _ in FREQUENCY_BINS)
METRIC_COLUMNS = (
    ("fmax", "auc")
    + tuple(f"fmax_{b}" for b in BIN_LABELS)
    + tuple(f"auc_{b}" for b in BIN_LABELS)
    + ("aupr", "smin", "precision", "recall", "coverage", "threshold", "wall_time_s", "peak_rss_mb")
)


def _method_order(methods: Sequence[str]) -> list[str]:
    known = [m for m in METHODS if m in set(methods)]
    return known + sorted(set(methods) - set(known))


def summarize(cells: pd.DataFrame) -> pd.DataFrame:
    """Mean, sd (ddof=1; NaN for one seed) and seed count per (dataset, split, method)."""
    if cells.empty:
        return pd.DataFrame()
    cols = [c for c in METRIC_COLUMNS if c in cells.columns]
    grouped = cells.groupby(["dataset", "split", "method"], sort=False)[cols]
    mean = grouped.mean().add_suffix("_mean")
    sd = grouped.std(ddof=1).add_suffix("_sd")
    n = cells.groupby(["dataset", "split", "method"], sort=False)["seed"].nunique().rename("n_seeds")
    return pd.concat([mean, sd, n], axis=1).reset_index()


def pct(mean: float, sd: float | None = None) -> str:
    """'31.14 ± 0.42' in percent; '-' for missing; no sd part for a single seed."""
    if mean is None or not np.isfinite(mean):
        return "-"
    text = f"{100 * mean:.2f}"
    if sd is not None and np.isfinite(sd):
        text += f" ± {100 * sd:.2f}"
    return text


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(summary: pd.DataFrame, dataset: str, split: str, method: str, metrics=("fmax", "auc")) -> str:
    sel = summary[(summary.dataset == dataset) & (summary.split == split) & (summary.method == method)]
    if sel.empty:
        return "-"
    r = sel.iloc[0]
    return " / ".join(pct(r.get(f"{m}_mean"), r.get(f"{m}_sd")) for m in metrics)


def _best_marks(summary: pd.DataFrame, dataset: str, split: str, methods: Sequence[str]) -> dict[str, str]:
    """Bold the best Fmax and best AUC mean among `methods`."""
    sel = summary[(summary.dataset == dataset) & (summary.split == split) & summary.method.isin(methods)]
    marks = {}
    for metric in ("fmax", "auc"):
        col = f"{metric}_mean"
        if col in sel and sel[col].notna().any():
            best = sel[col].max()
            marks[metric] = set(sel.loc[np.isclose(sel[col], best, rtol=0, atol=5e-5), "method"])  # ties: all
    return marks


def main_table(summary: pd.DataFrame, columns: Sequence[tuple[str, str]], methods: Sequence[str]) -> str:
    """Methods x (dataset, split): "Fmax / AUC" (All), best of each column in bold."""
    header = ["method"] + [f"{d} ({s})" for d, s in columns]
    rows = []
    marks = {c: _best_marks(summary, c[0], c[1], methods) for c in columns}
    for method in methods:
        row = [method]
        for d, s in columns:
            parts = _cell(summary, d, s, method).split(" / ")
            if len(parts) == 2:
                parts = [f"**{p}**" if method in marks[(d, s)].get(m, ()) and p != "-" else p for p, m in zip(parts, ("fmax", "auc"))]
            row.append(" / ".join(parts))
        if any(c != "-" for c in row[1:]):  # methods not run on these columns are left out
            rows.append(row)
    return markdown_table(header, rows)


def bin_table(summary: pd.DataFrame, dataset: str, split: str, methods: Sequence[str]) -> str:
    """Methods x (All, 11-30, 31-100, 101-300, >=301): "Fmax / AUC", the paper's Table 1 layout."""
    header = ["method", "All"] + list(BIN_LABELS)
    rows = []
    for method in methods:
        sel = summary[(summary.dataset == dataset) & (summary.split == split) & (summary.method == method)]
        if sel.empty:
            continue
        r = sel.iloc[0]
        row = [method, f"{pct(r.get('fmax_mean'), r.get('fmax_sd'))} / {pct(r.get('auc_mean'), r.get('auc_sd'))}"]
        for b in BIN_LABELS:
            row.append(f"{pct(r.get(f'fmax_{b}_mean'))} / {pct(r.get(f'auc_{b}_mean'))}")
        rows.append(row)
    return markdown_table(header, rows)


def other_metrics_table(summary: pd.DataFrame, dataset: str, split: str, methods: Sequence[str]) -> str:
    header = ["method", "AUPR %", "Smin", "precision %", "recall %", "coverage %", "threshold", "train s", "peak MiB", "seeds"]
    rows = []
    for method in methods:
        sel = summary[(summary.dataset == dataset) & (summary.split == split) & (summary.method == method)]
        if sel.empty:
            continue
        r = sel.iloc[0]

        def num(key, fmt):
            v = r.get(key)
            return "-" if v is None or not np.isfinite(v) else fmt.format(v)

        rows.append(
            [
                method,
                pct(r.get("aupr_mean"), r.get("aupr_sd")),
                num("smin_mean", "{:.3f}"),
                pct(r.get("precision_mean")),
                pct(r.get("recall_mean")),
                pct(r.get("coverage_mean")),
                num("threshold_mean", "{:.2f}"),
                num("wall_time_s_mean", "{:.1f}"),
                num("peak_rss_mb_mean", "{:.0f}"),
                str(int(r.get("n_seeds", 0))),
            ]
        )
    return markdown_table(header, rows)


def render_markdown(
    cells: pd.DataFrame,
    *,
    manifests: dict | None = None,
    command: str | None = None,
    config=None,
    history: Sequence[str] = (),
) -> str:
    out = ["# GenePheno benchmark", ""]
    out.append(
        "Fmax / AUC in %, mean ± sd over seeds (no ± when one seed). Fmax: gene-centric, CAFA "
        "protocol (scores max-propagated to ancestors, roots excluded, thresholds 0.01..0.99 as "
        "cafaeval). AUC: phenotype-centric ROC AUC macro-averaged over terms with both classes "
        "among the test genes. Bins: the term's number of annotated genes in the dataset "
        "(`terms.n_genes`); per-bin Fmax uses only that bin's terms. Best value of a column in bold."
    )
    out.append("")
    if command:
        out += ["Command (regenerates every table from the cells in this directory; finished cells are reused):",
                "", "```", command, "```", ""]
    earlier = [c for c in history if c != command]
    if earlier:
        out += ["Earlier commands that added cells here:", "", "```", *earlier, "```", ""]
    if cells.empty:
        out.append("No finished cells yet.")
        return "\n".join(out) + "\n"
    summary = summarize(cells)
    methods = _method_order(cells["method"].unique())
    main_methods = [m for m in methods if m not in ABLATIONS and m not in REFERENCES]
    pairs = list(dict.fromkeys(zip(summary.dataset, summary.split)))

    for split in ("random", "homology", "temporal"):
        cols = [(d, s) for d, s in pairs if s == split and d != LEAKAGE_DATASET]
        if cols:
            out += [f"## Main table: {split} split (All)", "", main_table(summary, cols, main_methods), ""]

    if any(m in REFERENCES for m in methods):
        cols = [(d, s) for d, s in pairs if d != LEAKAGE_DATASET]
        # the methods that read GO, to compare with the reference (go-mlp, go-orth-mlp, genepheno)
        ref_methods = [m for m in methods if m in METHODS and not is_ablation(m) and method_spec(m).reads_go]
        out += ["## Reference: GenePheno's non-sequence inputs in a plain MLP (All)", "",
                "go-orth-mlp is not one of the specified baselines: it feeds the GO bag and the other "
                "species' homolog phenotypes (GenePheno's cross-species input) into the go-mlp network, "
                "without a bottleneck or readable weights. It shows how much of GenePheno's result the "
                "inputs alone give.", "", main_table(summary, cols, ref_methods), ""]

    ablation_methods = [m for m in methods if m == "genepheno" or m in ABLATIONS]
    if any(m in ABLATIONS for m in ablation_methods):
        cols = [(d, s) for d, s in pairs if d != LEAKAGE_DATASET]
        out += ["## Ablations (All)", "", main_table(summary, cols, ablation_methods), ""]

    if LEAKAGE_DATASET in set(summary.dataset):
        cols = [(d, s) for d, s in pairs if d in ("mpo", LEAKAGE_DATASET)]
        out += [
            "## Leakage check: mpo with and without IMP/IGI GO evidence (All)",
            "",
            "`mpo-no-imp-igi` is mpo built with the IMP/IGI evidence codes dropped from the GO "
            "inputs (mouse GO annotations inferred from the same knockout papers as the MP labels).",
            "",
            main_table(summary, cols, methods),
            "",
        ]

    out += ["## Per frequency bin (Fmax / AUC)", ""]
    for d, s in pairs:
        out += [f"### {d}, {s} split", "", bin_table(summary, d, s, methods), ""]
    out += ["## Other metrics and cost", ""]
    for d, s in pairs:
        out += [f"### {d}, {s} split", "", other_metrics_table(summary, d, s, methods), ""]

    if manifests:
        out += ["## Datasets", ""]
        for name, manifest in manifests.items():
            out += [f"### {name}", "", "```json", json.dumps(manifest, indent=1, sort_keys=True, default=str), "```", ""]
    if config is not None:
        out += ["## Run configuration", "", "```json", json.dumps(_config_dict(config), indent=1, default=str), "```", ""]
    stale = cells.attrs.get("stale") or []
    if stale:
        out += [f"Left out: {len(stale)} cells computed with another configuration than this run's "
                "(older defaults); the command above reruns them:", "", ", ".join(f"`{c}`" for c in stale), ""]
    n_cells = len(cells)
    out.append(f"{n_cells} cells; generated {time.strftime('%Y-%m-%d %H:%M %Z')}.")
    return "\n".join(out) + "\n"


def _config_dict(config) -> dict:
    import dataclasses

    if dataclasses.is_dataclass(config):
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(config).items()}
    return dict(config)


def write_tables(
    cells: pd.DataFrame,
    out_dir: str | os.PathLike,
    *,
    manifests: dict | None = None,
    command: str | None = None,
    config=None,
) -> dict[str, Path]:
    """Write benchmark.csv (one row per cell), benchmark.json (cells, summary, manifests,
    command, config, environment) and benchmark.md. Returns the paths."""
    out_dir = Path(out_dir)
    paths = {k: out_dir / f"benchmark.{k}" for k in ("csv", "json", "md")}
    # every command that added cells to this directory, oldest first
    commands: list[str] = []
    if paths["json"].exists():
        try:
            old = json.loads(paths["json"].read_text())
            commands = list(old.get("commands") or ([old["command"]] if old.get("command") else []))
            manifests = {**(old.get("manifests") or {}), **(manifests or {})}
        except (json.JSONDecodeError, OSError) as exc:
            logger.warning("could not read %s: %s", paths["json"], exc)
    if command and command not in commands:
        commands.append(command)
    atomic_write_text(paths["csv"], cells.to_csv(index=False))
    summary = summarize(cells)
    payload = {
        "command": command,
        "commands": commands,
        "config": _config_dict(config) if config is not None else None,
        "environment": environment(),
        "manifests": manifests or {},
        "summary": summary.to_dict("records") if not summary.empty else [],
        "cells": cells.to_dict("records"),
    }
    atomic_write_text(paths["json"], json.dumps(json_safe(payload), indent=1, default=str))
    atomic_write_text(
        paths["md"], render_markdown(cells, manifests=manifests, command=command, config=config, history=commands)
    )
    return paths
