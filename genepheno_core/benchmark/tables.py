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
    LEAKAGE_DATASETS,
    METHODS,
    NEGATIVE_CONTROL_DATASETS,
    json_safe,
)
from genepheno_core.benchmark.resources import environment
from genepheno_core.evaluation.metrics import FREQUENCY_BINS
from genepheno_core.io import atomic_write_text
from genepheno_core.methods import ABLATIONS as ABLATION_SPECS
from genepheno_core.methods import main_row_label, reads, split_method

logger = logging.getLogger(__name__)

BIN_LABELS = tuple(label for label, _, _ in FREQUENCY_BINS)
# benchmark v2: specificity of the predictions (grid.collect_cells; NaN in older cells)
SPECIFIC_COLUMNS = ("wfmax", "top10_ic", "top10_precision", "excl_rate_pred", "excl_rate_true")
# the same metrics on the novel test genes (no hit in the other species)
NOVEL_COLUMNS = ("novel_fmax", "novel_auc", "novel_wfmax", "novel_top10_ic", "novel_top10_precision", "novel_n_genes")
# GenePheno rows: what the explanations show (evaluation.evidence; grid.collect_cells)
EVIDENCE_COLUMNS = ("evidence_plausibility", "evidence_plausibility_random", "evidence_concentration",
                    "evidence_concentration_grouped", "evidence_concept_rho", "evidence_deletion")
METRIC_COLUMNS = (
    ("fmax", "auc")
    + tuple(f"fmax_{b}" for b in BIN_LABELS)
    + tuple(f"auc_{b}" for b in BIN_LABELS)
    + ("aupr", "smin", "precision", "recall", "coverage", "threshold", "wall_time_s", "peak_rss_mb")
    + SPECIFIC_COLUMNS
    + NOVEL_COLUMNS
    + ("concept_auc", "concept_auc_without_go")
    + EVIDENCE_COLUMNS
)
# per dataset x split, the same in every cell of it (grid.collect_cells)
VOCABULARY_COLUMNS = ("n_terms", "terms_not_in_train", "n_test_genes")
KEYS = ["dataset", "split", "method"]
# footnote mark of a difference computed on means (no seed in common) instead of per seed
ON_MEANS = "†"


def _method_order(methods: Sequence[str]) -> list[str]:
    known = [m for m in METHODS if m in set(methods)]
    return known + sorted(set(methods) - set(known))


def _finite(value) -> bool:
    try:
        return value is not None and bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


def _variant_label(method: str) -> str | None:
    """"pasted protein" for an input-variant row ("genepheno-go-transfer"), None for every other method."""
    try:
        return main_row_label(method)
    except ValueError:  # a method the registry does not know (older cells)
        return None


def main_row_names(methods: Sequence[str]) -> dict[str, str]:
    """The main tables' row names of the input-variant rows: "genepheno-go-transfer" -> "genepheno (pasted protein)"."""
    return {m: f"{split_method(m)[0]} ({_variant_label(m)})" for m in methods if _variant_label(m)}


def _row_name(method: str) -> str:
    """A row name in the tables of every method: "genepheno-go-transfer (pasted protein)"."""
    label = _variant_label(method)
    return f"{method} ({label})" if label else method


def _per_seed(cells: pd.DataFrame, dataset: str, split: str, method: str, metric: str) -> pd.Series:
    """metric by seed of one (dataset, split, method); missing values dropped."""
    if metric not in cells.columns:
        return pd.Series(dtype=float)
    sel = cells[(cells.dataset == dataset) & (cells.split == split) & (cells.method == method)]
    values = pd.to_numeric(sel[metric], errors="coerce")
    return values.groupby(sel["seed"]).mean().dropna()


def paired_difference(a: pd.Series, b: pd.Series) -> dict:
    """a - b for two Series indexed by seed: mean and sd (ddof=1) over the seeds both have
    (paired), else the difference of the means (not paired, sd NaN); NaN when one is empty."""
    a, b = a.dropna(), b.dropna()
    if a.empty or b.empty:
        return {"mean": np.nan, "sd": np.nan, "n_pairs": 0, "paired": False}
    common = a.index.intersection(b.index)
    if len(common):
        d = a.loc[common] - b.loc[common]
        return {"mean": float(d.mean()), "sd": float(d.std(ddof=1)) if len(d) > 1 else np.nan,
                "n_pairs": len(d), "paired": True}
    return {"mean": float(a.mean() - b.mean()), "sd": np.nan, "n_pairs": 0, "paired": False}


def naive_deltas(cells: pd.DataFrame, metric: str = "fmax") -> pd.DataFrame:
    """Per (dataset, split, method): metric minus naive's, per seed where both have that seed
    (`paired_difference`); columns {metric}_minus_naive_mean / _sd / _n_pairs / _paired."""
    rows = []
    if cells.empty or metric not in cells.columns:
        return pd.DataFrame(columns=KEYS)
    for (d, s, m), _ in cells.groupby(KEYS, sort=False):
        naive = _per_seed(cells, d, s, "naive", metric)
        if naive.empty:
            continue
        diff = paired_difference(_per_seed(cells, d, s, m, metric), naive)
        rows.append({"dataset": d, "split": s, "method": m, **{f"{metric}_minus_naive_{k}": v for k, v in diff.items()}})
    return pd.DataFrame(rows, columns=None if rows else KEYS)


def summarize(cells: pd.DataFrame) -> pd.DataFrame:
    """Mean, sd (ddof=1; NaN for one seed) and seed count per (dataset, split, method), and
    Fmax minus naive's Fmax (`naive_deltas`)."""
    if cells.empty:
        return pd.DataFrame()
    cols = [c for c in METRIC_COLUMNS if c in cells.columns]
    # older cells lack the v2 metrics: None -> NaN so that the means skip them
    values = cells[cols].apply(pd.to_numeric, errors="coerce")
    grouped = pd.concat([cells[KEYS], values], axis=1).groupby(KEYS, sort=False)
    mean = grouped.mean().add_suffix("_mean")
    sd = grouped.std(ddof=1).add_suffix("_sd")
    n = cells.groupby(KEYS, sort=False)["seed"].nunique().rename("n_seeds")
    summary = pd.concat([mean, sd, n], axis=1).reset_index()
    deltas = naive_deltas(cells)
    return summary.merge(deltas, on=KEYS, how="left") if len(deltas) else summary


def pct(mean: float, sd: float | None = None) -> str:
    """'31.14 ± 0.42' in percent; '-' for missing; no sd part for a single seed."""
    return num(mean, sd, scale=100)


def num(mean: float, sd: float | None = None, *, scale: float = 1, digits: int = 2, sign: bool = False) -> str:
    """mean (± sd) times `scale` with `digits` decimals ('+' in front with sign); '-' for missing."""
    if not _finite(mean):
        return "-"
    text = f"{scale * float(mean):{'+' if sign else ''}.{digits}f}"
    if _finite(sd):
        text += f" ± {scale * float(sd):.{digits}f}"
    return text


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _row(summary: pd.DataFrame, dataset: str, split: str, method: str) -> pd.Series | None:
    sel = summary[(summary.dataset == dataset) & (summary.split == split) & (summary.method == method)]
    return None if sel.empty else sel.iloc[0]


def _cell(summary: pd.DataFrame, dataset: str, split: str, method: str, metrics=("fmax", "auc")) -> str:
    r = _row(summary, dataset, split, method)
    if r is None:
        return "-"
    return " / ".join(pct(r.get(f"{m}_mean"), r.get(f"{m}_sd")) for m in metrics)


def _seeds(summary: pd.DataFrame, dataset: str, split: str, method: str) -> int:
    """How many seeds the cell's mean is over (0: no cell)."""
    r = _row(summary, dataset, split, method)
    return 0 if r is None else int(r.get("n_seeds", 0) or 0)


def _best(values: dict[str, float], lower: bool = False) -> set[str]:
    """The keys of the best finite value (ties within 5e-5: all of them)."""
    finite = {k: float(v) for k, v in values.items() if _finite(v)}
    if not finite:
        return set()
    best = min(finite.values()) if lower else max(finite.values())
    return {k for k, v in finite.items() if abs(v - best) <= 5e-5}


def _best_marks(summary: pd.DataFrame, dataset: str, split: str, methods: Sequence[str]) -> dict[str, set]:
    """Bold the best Fmax and best AUC mean among `methods`."""
    marks = {}
    for metric in ("fmax", "auc"):
        values = {}
        for m in methods:
            r = _row(summary, dataset, split, m)
            if r is not None:
                values[m] = r.get(f"{metric}_mean")
        marks[metric] = _best(values)
    return marks


def _bold(text: str, on: bool) -> str:
    return f"**{text}**" if on and text != "-" else text


def _minus_naive(r: pd.Series | None, metric: str = "fmax") -> str:
    """'+2.34 ± 0.20' (points, per seed) or '+2.34†' (on means)."""
    if r is None or not _finite(r.get(f"{metric}_minus_naive_mean")):
        return "-"
    text = num(r[f"{metric}_minus_naive_mean"], r.get(f"{metric}_minus_naive_sd"), scale=100, sign=True)
    return text if bool(r.get(f"{metric}_minus_naive_paired")) else text + ON_MEANS


def main_table(summary: pd.DataFrame, columns: Sequence[tuple[str, str]], methods: Sequence[str], *,
               labels: dict[str, str] | None = None, minus_naive: bool = False) -> str:
    """Methods x (dataset, split): "Fmax / AUC" (All), best of each column in bold; rows named
    by `labels` where given; with minus_naive a "Fmax − naive" column after each."""
    labels = labels or {}
    header = ["method"]
    for d, s in columns:
        header += [f"{d} ({s})"] + ([f"{d} ({s}) Fmax − naive"] if minus_naive else [])
    rows = []
    # a row with fewer seeds than the column's others is marked and never bold: means over
    # different seeds are not compared (e.g. an ablation still being filled in)
    seeds = {c: {m: _seeds(summary, c[0], c[1], m) for m in methods} for c in columns}
    full = {c: max(seeds[c].values(), default=0) for c in columns}
    marks = {c: _best_marks(summary, c[0], c[1], [m for m in methods if seeds[c][m] == full[c]])
             for c in columns}
    for method in methods:
        row = [labels.get(method, method)]
        for d, s in columns:
            parts = _cell(summary, d, s, method).split(" / ")
            if len(parts) == 2:
                parts = [_bold(p, method in marks[(d, s)][m]) for p, m in zip(parts, ("fmax", "auc"))]
            text = " / ".join(parts)
            if 0 < seeds[(d, s)][method] < full[(d, s)]:
                text += f" ({seeds[(d, s)][method]} of {full[(d, s)]} seeds)"
            row.append(text)
            if minus_naive:
                row.append(_minus_naive(_row(summary, d, s, method)))
        if any(c != "-" for c in row[1:]):  # methods not run on these columns are left out
            rows.append(row)
    return markdown_table(header, rows)


def bin_table(summary: pd.DataFrame, dataset: str, split: str, methods: Sequence[str]) -> str:
    """Methods x (All, 11-30, 31-100, 101-300, >=301): "Fmax / AUC", the paper's Table 1 layout."""
    header = ["method", "All"] + list(BIN_LABELS)
    rows = []
    for method in methods:
        r = _row(summary, dataset, split, method)
        if r is None:
            continue
        row = [method, f"{pct(r.get('fmax_mean'), r.get('fmax_sd'))} / {pct(r.get('auc_mean'), r.get('auc_sd'))}"]
        for b in BIN_LABELS:
            row.append(f"{pct(r.get(f'fmax_{b}_mean'))} / {pct(r.get(f'auc_{b}_mean'))}")
        rows.append(row)
    return markdown_table(header, rows)


def _marked_table(summary: pd.DataFrame, dataset: str, split: str, methods: Sequence[str], columns) -> str:
    """Methods x `columns` ((header, render(row) -> (text, value), mark: "max" / "min" / None)),
    the best value of each marked column in bold; methods without a cell left out."""
    rows, values = [], []
    for method in methods:
        r = _row(summary, dataset, split, method)
        if r is None:
            continue
        rows.append([_row_name(method)])
        values.append([])
        for _, render, _ in columns:
            text, value = render(r)
            rows[-1].append(text)
            values[-1].append(value)
    for j, (_, _, mark) in enumerate(columns):
        if mark is None:
            continue
        best = _best({i: v[j] for i, v in enumerate(values)}, lower=mark == "min")
        for i in best:
            rows[i][j + 1] = _bold(rows[i][j + 1], True)
    return markdown_table(["method"] + [h for h, _, _ in columns], rows)


def _metric(name: str, *, scale: float = 100, digits: int = 2, sd: bool = True):
    """A column renderer: (text, value) of `name`'s mean (± sd) from a summary row."""
    return lambda r: (num(r.get(f"{name}_mean"), r.get(f"{name}_sd") if sd else None, scale=scale, digits=digits),
                      r.get(f"{name}_mean"))


def specific_table(summary: pd.DataFrame, dataset: str, split: str, methods: Sequence[str]) -> str:
    """Methods x (Fmax, wFmax, Smin, Fmax − naive, top-10 IC, top-10 precision, exclusion rates)."""
    columns = [
        ("Fmax %", _metric("fmax"), "max"),
        ("wFmax %", _metric("wfmax"), "max"),
        ("Smin", _metric("smin", scale=1), "min"),
        ("Fmax − naive", lambda r: (_minus_naive(r), r.get("fmax_minus_naive_mean")), "max"),
        ("top-10 IC (bits)", _metric("top10_ic", scale=1), "max"),
        ("top-10 precision %", _metric("top10_precision"), "max"),
        # a consistency constraint, not a score to rank by: no bold
        ("exclusive pairs both predicted %", _metric("excl_rate_pred", digits=3, sd=False), None),
        ("both true %", _metric("excl_rate_true", digits=3, sd=False), None),
    ]
    return _marked_table(summary, dataset, split, methods, columns)


def novel_table(summary: pd.DataFrame, dataset: str, split: str, methods: Sequence[str]) -> str:
    """Methods x (n genes, Fmax, AUC, wFmax, top-10 IC, top-10 precision) on the novel test genes."""
    columns = [
        ("n genes", lambda r: (num(r.get("novel_n_genes_mean"), digits=0), None), None),
        ("Fmax %", _metric("novel_fmax"), "max"),
        ("AUC %", _metric("novel_auc"), "max"),
        ("wFmax %", _metric("novel_wfmax"), "max"),
        ("top-10 IC (bits)", _metric("novel_top10_ic", scale=1), "max"),
        ("top-10 precision %", _metric("novel_top10_precision"), "max"),
    ]
    rows = {m: _row(summary, dataset, split, m) for m in methods}
    has_novel = [m for m, r in rows.items() if r is not None and _finite(r.get("novel_fmax_mean"))]
    return _marked_table(summary, dataset, split, has_novel, columns)


def leakage_drops(cells: pd.DataFrame, checks: dict[str, str] | None = None, split: str = "random") -> pd.DataFrame:
    """For every leakage check (check dataset -> the dataset it checks) and every method with
    cells on both (`split`): Fmax and AUC on each and the drop full − check (per seed where
    both have that seed, else on means)."""
    checks = LEAKAGE_DATASETS if checks is None else checks
    rows = []
    if cells.empty:
        return pd.DataFrame()
    for check, full in checks.items():
        present = [m for m in _method_order(cells.method.unique())
                   if not _per_seed(cells, full, split, m, "fmax").empty
                   and not _per_seed(cells, check, split, m, "fmax").empty]
        for m in present:
            try:
                reads_go = reads(m)["go"]
            except ValueError:
                reads_go = None
            row = {"check": check, "dataset": full, "split": split, "method": m, "reads_go": reads_go}
            for metric in ("fmax", "auc"):
                a, b = _per_seed(cells, full, split, m, metric), _per_seed(cells, check, split, m, metric)
                row[f"{metric}_full"] = float(a.mean()) if len(a) else np.nan
                row[f"{metric}_check"] = float(b.mean()) if len(b) else np.nan
                diff = paired_difference(a, b)
                row[f"{metric}_drop_mean"], row[f"{metric}_drop_sd"] = diff["mean"], diff["sd"]
                row[f"{metric}_drop_paired"] = diff["paired"]
            rows.append(row)
    return pd.DataFrame(rows)


def leakage_table(summary: pd.DataFrame, drops: pd.DataFrame, check: str) -> str:
    """Methods x (reads GO, full Fmax / AUC, check Fmax / AUC, drop of each in points)."""
    sel = drops[drops.check == check]
    full, split = sel.dataset.iloc[0], sel.split.iloc[0]
    header = ["method", "reads GO", f"{full} ({split})", f"{check} ({split})", "Fmax drop", "AUC drop"]
    rows = []
    for r in sel.itertuples():
        drops_text = []
        for metric in ("fmax", "auc"):
            text = num(getattr(r, f"{metric}_drop_mean"), getattr(r, f"{metric}_drop_sd"), scale=100, sign=True)
            drops_text.append(text + ("" if getattr(r, f"{metric}_drop_paired") or text == "-" else ON_MEANS))
        go = {True: "yes", False: "no"}.get(r.reads_go, "?")
        rows.append([r.method, go, _cell(summary, full, split, r.method), _cell(summary, check, split, r.method),
                     *drops_text])
    return markdown_table(header, rows)


def vocabulary(cells: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, split): terms scored (n_terms), terms not in train (terms_not_in_train)
    and test genes (n_test_genes), from the cells. They are the same for every method of a
    dataset x split; a difference is logged and the maximum kept, the column named in
    `differs` (";"-separated)."""
    rows = []
    if cells.empty:
        return pd.DataFrame()
    for (d, s), group in cells.groupby(["dataset", "split"], sort=False):
        row, differs = {"dataset": d, "split": s}, []
        for col in VOCABULARY_COLUMNS:
            values = pd.to_numeric(group[col], errors="coerce").dropna() if col in group else pd.Series(dtype=float)
            row[col] = float(values.max()) if len(values) else np.nan
            if values.nunique() > 1:
                differs.append(col)
                logger.warning("%s %s: %s differs between cells (%s); the tables show the maximum",
                               d, s, col, ", ".join(str(int(v)) for v in sorted(values.unique())))
        row["differs"] = ";".join(differs)
        rows.append(row)
    return pd.DataFrame(rows)


def vocabulary_table(vocab: pd.DataFrame) -> str:
    header = ["dataset", "split", "terms scored", "terms not scored (enough genes only with valid/test)", "test genes"]
    rows = []
    for r in vocab.to_dict("records"):
        differs = r["differs"].split(";")
        rows.append([r["dataset"], r["split"]]
                    + [num(r[c], digits=0) + (" *" if c in differs else "") for c in VOCABULARY_COLUMNS])
    return markdown_table(header, rows)


def evidence_table(summary: pd.DataFrame, dataset: str, split: str, methods: Sequence[str]) -> str:
    """GenePheno rows x the evidence-quality measures (test genes; mean ± sd over seeds)."""
    columns = [
        ("homolog weights backed by a mapping %", _metric("evidence_plausibility"), "max"),
        ("random %", _metric("evidence_plausibility_random", sd=False), None),
        ("top-10 items' share %", _metric("evidence_concentration"), "max"),
        ("top-10 share, by most specific term %", _metric("evidence_concentration_grouped"), "max"),
        ("concept ρ", _metric("evidence_concept_rho", scale=1), "max"),
        ("deletion check passed %", _metric("evidence_deletion"), "max"),
        ("concept AUC %", _metric("concept_auc"), "max"),
    ]
    rows = {m: _row(summary, dataset, split, m) for m in methods}
    has = [m for m, r in rows.items() if r is not None and _finite(r.get("evidence_concentration_mean"))]
    if not any(_finite(rows[m].get("evidence_concentration_grouped_mean")) for m in has):
        # cells computed before the grouped share was measured: no column of dashes
        columns = [c for c in columns if not c[0].startswith("top-10 share, by most specific")]
    return _marked_table(summary, dataset, split, has, columns)


def other_metrics_table(summary: pd.DataFrame, dataset: str, split: str, methods: Sequence[str]) -> str:
    header = ["method", "AUPR %", "Smin", "precision %", "recall %", "coverage %", "threshold", "train s", "peak MiB", "seeds"]
    rows = []
    for method in methods:
        r = _row(summary, dataset, split, method)
        if r is None:
            continue
        rows.append(
            [
                method,
                pct(r.get("aupr_mean"), r.get("aupr_sd")),
                num(r.get("smin_mean"), digits=3),
                pct(r.get("precision_mean")),
                pct(r.get("recall_mean")),
                pct(r.get("coverage_mean")),
                num(r.get("threshold_mean")),
                num(r.get("wall_time_s_mean"), digits=1),
                num(r.get("peak_rss_mb_mean"), digits=0),
                str(int(r.get("n_seeds", 0))),
            ]
        )
    return markdown_table(header, rows)


def _main_notes(methods: Sequence[str]) -> list[str]:
    """What the reference and input-variant rows of the main tables are (from the registry)."""
    notes = []
    if "go-orth-mlp" in methods:
        notes.append("go-orth-mlp is a reference, not one of the specified baselines: it feeds the GO bag and the "
                     "other species' homolog phenotypes (GenePheno's cross-species input) into the go-mlp network, "
                     "without a bottleneck or readable weights; it shows how much of GenePheno's result the inputs "
                     "alone give.")
    for method, name in main_row_names(methods).items():
        base, (ablation,) = split_method(method)
        spec = ABLATION_SPECS[ablation]
        how = f"scored from the same trained `{base}` model" if spec.at_prediction else "trained for that input"
        if spec.transfers_go:  # the model `predict`, the API and the dashboard route such a protein to
            how += ("; what the tool scores a protein given without GO with (the shipped `-go-transfer` model; "
                    "chosen on validation: \"A protein without GO\" below)")
        notes.append(f"{name} is `{method}` ({spec.description}), {how}.")
    return [" ".join(notes), ""] if notes else []


def _pairs_with(summary: pd.DataFrame, pairs, columns: Sequence[str]) -> list[tuple[str, str]]:
    """The (dataset, split) pairs where some method has a finite mean of one of `columns`."""
    keep = []
    for d, s in pairs:
        sel = summary[(summary.dataset == d) & (summary.split == s)]
        if any(f"{c}_mean" in sel and sel[f"{c}_mean"].notna().any() for c in columns):
            keep.append((d, s))
    return keep


# the ways to score a protein given without GO: the own-GO model scored on transferred GO
# (the prediction-time variant), the model trained on transferred GO, and that model with the
# functional-neighbour vote
PASTED_CANDIDATES = ("genepheno-pasted", "genepheno-go-transfer", "genepheno-go-neighbours")


def pasted_choice(cells: pd.DataFrame, candidates: Sequence[str] = PASTED_CANDIDATES) -> pd.DataFrame:
    """Per (dataset, split): which model should score a protein given without GO, chosen on
    validation only. For each candidate: its validation Fmax / AUC (mean over the seeds whose
    validation genes were scored with transferred GO, `valid_inputs`; a variant cell computed
    before it recorded its own validation has none) and its test Fmax / AUC (mean over the same
    seeds); `chosen`: the candidate with the higher validation Fmax (then AUC), None unless
    every candidate has validation metrics. One row per (dataset, split, candidate) among the
    candidates that have cells there (at least two)."""
    need = {"valid_fmax", "valid_auc", "valid_inputs"}
    if cells.empty or not need <= set(cells.columns):
        return pd.DataFrame(columns=KEYS + ["n_seeds", "valid_fmax", "valid_auc", "fmax", "auc", "chosen"])
    sel = cells[cells.method.isin(candidates) & (cells.valid_inputs == "transferred-go")
                & cells.valid_fmax.notna()]
    rows = []
    for (d, s), group in cells[cells.method.isin(candidates)].groupby(["dataset", "split"], sort=False):
        # the candidates computed for this dataset x split (a later one may not be yet)
        present = [m for m in candidates if m in set(group.method)]
        if len(present) < 2:
            continue
        per = {}
        for m in present:
            c = sel[(sel.dataset == d) & (sel.split == s) & (sel.method == m)]
            per[m] = {"n_seeds": int(c.seed.nunique()), "valid_fmax": c.valid_fmax.mean(),
                      "valid_auc": c.valid_auc.mean(), "fmax": c.fmax.mean(), "auc": c.auc.mean()}
        ready = all(v["n_seeds"] for v in per.values())
        chosen = max(present, key=lambda m: (per[m]["valid_fmax"], per[m]["valid_auc"])) if ready else None
        rows += [{"dataset": d, "split": s, "method": m, **per[m], "chosen": chosen} for m in present]
    return pd.DataFrame(rows, columns=KEYS + ["n_seeds", "valid_fmax", "valid_auc", "fmax", "auc", "chosen"])


def pasted_choice_table(choice: pd.DataFrame) -> str:
    """Markdown of `pasted_choice`: a row per dataset x split."""
    header = ["dataset", "split"] + [f"{m}: valid / test (seeds)" for m in PASTED_CANDIDATES] + ["chosen on validation"]
    rows = []
    for (d, s), group in choice.groupby(["dataset", "split"], sort=False):
        by = group.set_index("method")
        cells = []
        for m in PASTED_CANDIDATES:
            if m not in by.index:
                cells.append("not computed")
                continue
            r = by.loc[m]
            if not r.n_seeds:
                cells.append("no validation with transferred GO yet")
                continue
            cells.append(f"{pct(r.valid_fmax)} / {pct(r.valid_auc)}; {pct(r.fmax)} / {pct(r.auc)} ({int(r.n_seeds)})")
        chosen = by.chosen.iloc[0]
        rows.append([d, s, *cells, chosen if isinstance(chosen, str) else "-"])
    return markdown_table(header, rows)


def render_markdown(
    cells: pd.DataFrame,
    *,
    manifests: dict | None = None,
    command: str | None = None,
    config=None,
    history: Sequence[str] = (),
    negative_controls: Sequence[str] | None = None,
    leakage_checks: dict[str, str] | None = None,
) -> str:
    """benchmark.md from the per-cell DataFrame. negative_controls / leakage_checks default
    to the benchmark config's NEGATIVE_CONTROL_DATASETS / LEAKAGE_DATASETS."""
    negative = tuple(NEGATIVE_CONTROL_DATASETS if negative_controls is None else negative_controls)
    checks = dict(LEAKAGE_DATASETS if leakage_checks is None else leakage_checks)
    out = ["# GenePheno benchmark", ""]
    out.append(
        "Fmax / AUC in %, mean ± sd over seeds (no ± when one seed). Fmax: gene-centric, CAFA "
        "protocol (scores max-propagated to ancestors, roots excluded, thresholds 0.01..0.99 as "
        "cafaeval). AUC: phenotype-centric ROC AUC macro-averaged over terms with both classes "
        "among the test genes. Bins: the term's number of annotated genes in the dataset "
        "(`terms.n_genes`); per-bin Fmax uses only that bin's terms. Best value of a column in bold. "
        f"Differences (Fmax − naive, leakage drops) are in points, computed per seed where both cells "
        f"have that seed (mean ± sd of the paired differences); {ON_MEANS}: on the means (no seed in common)."
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
    # the main rows: baselines, references, genepheno and its input variants (pasted protein, sequence only)
    main_methods = [m for m in methods if m not in ABLATIONS or _variant_label(m)]
    names = main_row_names(main_methods)
    pairs = list(dict.fromkeys(zip(summary.dataset, summary.split)))
    scored = [(d, s) for d, s in pairs if d not in checks]  # leakage-check datasets only in their section

    notes = _main_notes(main_methods)
    for split in ("random", "homology", "temporal"):
        cols = [(d, s) for d, s in scored if s == split and d not in negative]
        if cols:
            out += [f"## Main table: {split} split (All)", "", *notes,
                    main_table(summary, cols, main_methods, labels=names), ""]
            notes = []  # once, under the first main table

    cols = [(d, s) for d, s in scored if d in negative]
    if cols:
        shown = ", ".join(dict.fromkeys(d for d, _ in cols))
        out += [f"## Negative control: {shown} (All)", "",
                f"{shown}: no method separates from the term-frequency prior (naive) there, so it is reported "
                "as a negative control and not in the main tables. Fmax − naive in points.", "",
                main_table(summary, cols, main_methods, labels=names, minus_naive=True), ""]

    v2 = _pairs_with(summary, scored, SPECIFIC_COLUMNS)
    out += ["## Specific phenotypes", "",
            "Whether a method predicts specific phenotypes or the frequent general ones. wFmax: Fmax with every "
            "term weighted by its information accretion (CAFA). Smin: remaining uncertainty and misinformation "
            "in bits of information accretion (lower is better). Fmax − naive: points above the term-frequency "
            "prior. Top-10: each gene's ten highest-scored terms after removing terms implied by a higher-ranked "
            "descendant; mean information content (bits, from training frequencies) and precision. Exclusive "
            "pairs (antonym siblings): % of gene x pair cells with both terms predicted above the Fmax threshold, "
            "next to the % with both true (a consistency check, not ranked; means over seeds). Best of a "
            "column in bold.", ""]
    if v2:
        for d, s in v2:
            out += [f"### {d}, {s} split", "", specific_table(summary, d, s, methods), ""]
    else:
        out += ["No cell records these metrics yet (cells computed before benchmark v2).", ""]

    novel = _pairs_with(summary, scored, ("novel_fmax",))
    out += ["## Novel proteins", "",
            "Each method on the test genes with no hit in the other species (what a user's uncharacterised "
            "protein looks like); n genes: how many. Best of a column in bold.", ""]
    if novel:
        for d, s in novel:
            out += [f"### {d}, {s} split", "", novel_table(summary, d, s, methods), ""]
    else:
        out += ["No cell records these metrics yet (cells computed before benchmark v2).", ""]

    evidence = _pairs_with(summary, pairs, ("evidence_concentration",))
    out += ["## Evidence quality (GenePheno rows)", "",
            "Whether the explanations read as biology and carry the prediction (test genes; "
            "`genepheno_core.evaluation.evidence`). Homolog weights backed by a mapping: for each phenotype, "
            "the five other-species phenotypes with the largest weight in the homolog-phenotype path, % related "
            "to it by MGI's curated or lexical or the Pistoia MP-HP mappings (allowing the other term's ancestors "
            "and descendants and the phenotype's descendants); random: % of all pairs that are related. Top-10 "
            "items' share: for each gene's top-20 predictions, the share of |logit − bias| carried by the ten "
            "largest evidence items, every term of the GO and homolog-phenotype ontology closures counted as its own "
            "item; by most specific term: the same with each of the gene's most specific GO terms and homolog "
            "phenotypes one item carrying an equal share of each broader term it implies (the Shapley value of "
            "that term; what an explanation shows). Concept ρ: median Spearman correlation between each phenotype's concept "
            "weights and the concepts' enrichment among its training genes. Deletion check: % of top-20 "
            "predictions whose logit drops more when their five largest items are removed from the input (and the "
            "model rerun) than when five random items are. Concept AUC: the concept layer on test genes with GO.",
            ""]
    if evidence:
        for d, s in evidence:
            out += [f"### {d}, {s} split", "", evidence_table(summary, d, s, methods), ""]
    else:
        out += ["No cell records these measures yet (cells computed before they were added).", ""]

    choice = pasted_choice(cells)
    if not choice.empty:
        out += ["## A protein without GO: which model, chosen on validation", "",
                "Three ways to score a protein given without GO (a pasted sequence): the default model "
                "(trained on own GO) scored on GO transferred from its sequence homologs (`genepheno-pasted`), "
                "a model trained on transferred GO (`genepheno-go-transfer`), or that model with the vote of "
                "the training genes whose GO and / or homolog phenotypes are most like the protein's (which of "
                "the two and the vote's weight chosen on validation) "
                "(`genepheno-go-neighbours`). Validation Fmax / AUC % of each, "
                "with the validation genes given transferred GO, then its test Fmax / AUC % (means over the "
                "seeds that have both; older pasted cells recorded no such validation and are left out). The "
                "choice is the higher validation Fmax; the test columns only report it.", "",
                pasted_choice_table(choice), ""]

    ablation_methods = [m for m in methods if m == "genepheno" or m in ABLATIONS]
    if any(m in ABLATIONS for m in ablation_methods):
        out += ["## Ablations (All)", "", main_table(summary, scored, ablation_methods), ""]

    drops = leakage_drops(cells, checks)
    for check, full in checks.items():
        if drops.empty or check not in set(drops.check):
            continue
        out += [
            f"## Leakage check: {full} with and without mutant-phenotype GO evidence (random split)",
            "",
            f"`{check}` is {full} built with the GO annotations of mutant-phenotype evidence (IMP/IGI/HMP/HGI) "
            "dropped from the GO inputs: they are often made from the same papers as the phenotype labels. "
            f"Drop: {full} − {check}, in points; methods that do not read GO should not move.",
            "",
            leakage_table(summary, drops, check),
            "",
        ]

    vocab = vocabulary(cells)
    out += ["## Vocabulary", "",
            "Terms scored in each dataset x split: those with enough training genes (the dataset's min_genes, 11) "
            "in that split; terms that reach it only with valid/test genes are not scored."
            + (" *: differs between cells (the maximum shown)." if vocab.differs.any() else ""), "",
            vocabulary_table(vocab), ""]

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
    """Write benchmark.csv (one row per cell), benchmark.json (cells, summary with Fmax minus
    naive, leakage drops, vocabulary, manifests, command, config, environment) and
    benchmark.md. Returns the paths."""
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
        "leakage": leakage_drops(cells).to_dict("records"),
        "vocabulary": vocabulary(cells).to_dict("records"),
        "pasted_choice": pasted_choice(cells).to_dict("records"),
        "cells": cells.to_dict("records"),
    }
    atomic_write_text(paths["json"], json.dumps(json_safe(payload), indent=1, default=str))
    atomic_write_text(
        paths["md"], render_markdown(cells, manifests=manifests, command=command, config=config, history=commands)
    )
    return paths
