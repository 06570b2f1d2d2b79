"""The benchmark: every method x dataset x split x seed, evaluated with one evaluator.

Each finished cell (dataset, split, method, seed) is written atomically as its own JSON under
`<out>/cells/` and skipped when present, so an interrupted run resumes where it stopped.
`collect_cells` + `write_tables` turn the cells into `benchmark.csv`, `benchmark.json` and
`benchmark.md` (tables in `genepheno_core.benchmark.tables`).

Training and prediction go through the trainer's API:
`genepheno_core.training.train_and_predict(dataset, method, encoder, split, seed, config)
-> (test_scores (n_test, K), info)`, rows in the order of the dataset's test genes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from genepheno_core.benchmark.config import (
    DETERMINISTIC_METHODS,
    LEAKAGE_DATASET,
    BenchmarkConfig,
    cell_config_key,
    cell_id,
    cell_is_current,
    json_safe,
)
from genepheno_core.benchmark.resources import PeakMemory
from genepheno_core.benchmark.tables import write_tables
from genepheno_core.evaluation.metrics import evaluate_scores, information_accretion, information_content
from genepheno_core.io import atomic_write_text
from genepheno_core.methods import split_method

logger = logging.getLogger(__name__)


def trainer_train_and_predict(ds, method: str, encoder: str, split: str, seed: int, train_config: dict):
    """Adapter to genepheno_core.training.train_and_predict: builds the TrainConfig (options
    from `train_config`, ablations from the method name)."""
    from genepheno_core.training import TrainConfig, train_and_predict

    model, ablations = split_method(method)
    config = TrainConfig(**{**train_config, "ablations": ablations})
    return train_and_predict(ds, model, encoder, split, seed, config)


# --------------------------------------------------------------------------------------
# datasets


def load_benchmark_dataset(name: str):
    """A benchmark dataset by name: the cached artifact, built (and cached) when missing.

    `mpo-no-imp-igi` is mpo built with the dataset option that drops IMP/IGI GO evidence.
    """
    from genepheno_core import datasets as dsmod
    from genepheno_core.errors import MissingDataError
    from genepheno_core.io import genepheno_home

    try:
        return dsmod.load_dataset(name)
    except (MissingDataError, FileNotFoundError):
        pass
    if name == LEAKAGE_DATASET:
        config = dsmod.DatasetConfig(drop_imp_igi=True)
        base = "mpo"
    else:
        config, base = None, name
    logger.info("building dataset %s (not cached yet)", name)
    ds = dsmod.build_dataset(base, config)
    ds.name = name
    try:
        dsmod.save_dataset(ds, genepheno_home() / "datasets" / name)
    except OSError as exc:  # caching is an optimisation
        logger.warning("could not cache dataset %s: %s", name, exc)
    return ds


def load_smoke_dataset(name: str):
    """For the smoke run (random split only): the cached dataset if there is one, else the
    dataset built without the homology split (MMseqs2 clustering is most of the build time),
    cached as `<name>-no-homology`."""
    from genepheno_core import datasets as dsmod
    from genepheno_core.errors import MissingDataError
    from genepheno_core.io import genepheno_home

    for candidate in (name, f"{name}-no-homology"):
        try:
            return dsmod.load_dataset(candidate)
        except (MissingDataError, FileNotFoundError):
            continue
    logger.info("building dataset %s without the homology split (smoke run)", name)
    ds = dsmod.build_dataset(name, dsmod.DatasetConfig(homology=False))
    try:
        dsmod.save_dataset(ds, genepheno_home() / "datasets" / f"{name}-no-homology")
    except OSError as exc:
        logger.warning("could not cache dataset %s: %s", name, exc)
    return ds


def subsample_dataset(ds, n_genes: int, seed: int = 0):
    """A copy of `ds` with `n_genes` genes drawn at random (rows of every per-gene table);
    terms are kept so that columns still match the full dataset's vocabulary."""
    n = len(ds.genes)
    if n_genes >= n:
        return ds
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, size=n_genes, replace=False))
    if hasattr(ds, "subset"):  # datasets.Dataset
        return ds.subset(rows)
    changes = {
        "genes": ds.genes.iloc[rows].reset_index(drop=True),
        "labels": sp.csr_matrix(ds.labels)[rows],
        "splits": ds.splits.iloc[rows].reset_index(drop=True),
    }
    if getattr(ds, "go", None) is not None:
        changes["go"] = sp.csr_matrix(ds.go)[rows]
    if dataclasses.is_dataclass(ds):
        sub = dataclasses.replace(ds, **changes)
    else:  # pragma: no cover - Dataset is a dataclass in the datasets area
        import copy

        sub = copy.copy(ds)
        for key, value in changes.items():
            setattr(sub, key, value)
    return sub


MANIFEST_KEYS = (
    "name", "description", "releases", "inputs", "config", "counts", "label_ontology", "go_ontology",
    "homology_clusters", "genepheno_version",
)


def dataset_manifest_summary(ds) -> dict:
    """The parts of a dataset's manifest that identify it: releases, inputs with sha256,
    build config and counts."""
    manifest = dict(getattr(ds, "manifest", {}) or {})
    keep = {k: manifest[k] for k in MANIFEST_KEYS if k in manifest}
    if not keep:  # an unknown manifest layout: keep what looks like provenance
        keep = {k: v for k, v in manifest.items() if any(w in k for w in ("release", "sha256", "input", "config"))}
    keep["n_genes"] = int(len(ds.genes))
    keep["n_terms"] = int(ds.labels.shape[1])
    return keep


# --------------------------------------------------------------------------------------
# cells


def evaluate_cell(ds, split: str, test_scores, test_index=None) -> dict:
    """Metrics of test-split scores for one dataset: IA estimated on the training genes,
    AUC bins by the dataset's term frequencies (terms.n_genes). Score rows follow
    `test_index` (dataset rows) when given, else the dataset order of the test genes."""
    split_col = ds.splits[split].to_numpy()
    test = np.flatnonzero(split_col == "test")
    if test_index is not None:
        test_index = np.asarray(test_index, dtype=np.int64)
        if set(test_index.tolist()) != set(test.tolist()):
            raise ValueError(f"the trainer's test rows are not the {split!r} split's test genes")
        test = test_index
    train = split_col == "train"
    labels = sp.csr_matrix(ds.labels)
    y_true = labels[test]
    scores = np.asarray(test_scores, dtype=np.float64)
    if scores.shape != y_true.shape:
        raise ValueError(f"test scores have shape {scores.shape}, expected {y_true.shape} (test genes x terms)")
    ia = information_accretion(labels[train], ds.term_ancestors)
    # top-10 specificity in information content from training frequencies (-log2 p), which
    # grows from a term to its descendants (IA need not)
    ic = information_content(labels[train])
    return evaluate_scores(
        y_true, scores, term_ancestors=ds.term_ancestors, ia=ia, ic=ic, term_counts=ds.terms["n_genes"].to_numpy()
    )


def run_cell(
    ds,
    dataset: str,
    split: str,
    method: str,
    seed: int,
    config: BenchmarkConfig,
    out_dir: Path,
    train_and_predict: Callable | None = None,
) -> dict:
    """Train, predict and evaluate one cell; write `<out>/cells/<id>.json` atomically."""
    if train_and_predict is None:
        train_and_predict = trainer_train_and_predict
    cid = cell_id(dataset, split, method, seed)
    logger.info("cell %s: training", cid)
    with PeakMemory() as mem:
        start = time.perf_counter()
        scores, info = train_and_predict(ds, method, config.encoder, split, seed, dict(config.train_config))
        train_s = time.perf_counter() - start
    start = time.perf_counter()
    test_index = (info or {}).get("test_index")
    metrics = evaluate_cell(ds, split, scores, test_index=test_index)
    eval_s = time.perf_counter() - start
    record = {
        "dataset": dataset,
        "split": split,
        "method": method,
        "seed": int(seed),
        "encoder": config.encoder,
        "subsample": config.subsample,
        "train_config": config.train_config,
        "config_key": json_safe(cell_config_key(method, config.encoder, split, seed, config.train_config)),
        "metrics": metrics,
        "wall_time_s": train_s,
        "eval_time_s": eval_s,
        "peak_rss_mb": mem.peak_mb,
        "peak_rss_delta_mb": mem.delta_mb,
        "info": {k: v for k, v in (info or {}).items() if k not in ("test_index", "history")},
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if config.write_predictions:
        from genepheno_core.evaluation.cafa_io import write_predictions

        rows = test_index if test_index is not None else np.flatnonzero(ds.splits[split].to_numpy() == "test")
        gene_ids = ds.genes["gene_id"].astype(str).to_numpy()[np.asarray(rows)]
        write_predictions(
            out_dir / "predictions" / f"{cid}.tsv.gz", gene_ids, ds.terms["term_id"].tolist(), scores, model=1,
            keywords=(method,),
        )
    atomic_write_text(out_dir / "cells" / f"{cid}.json", json.dumps(json_safe(record), indent=1, sort_keys=True))
    logger.info(
        "cell %s: Fmax %.4f AUC %.4f (%.1fs, peak %.0f MiB)", cid, metrics["fmax"], metrics["auc"], train_s, mem.peak_mb
    )
    return record


def plan_cells(config: BenchmarkConfig) -> list[tuple[str, str, str, int]]:
    return [
        (dataset, split, method, int(seed))
        for dataset in config.datasets
        for split in config.splits_for(dataset)
        for seed in config.seeds
        for method in config.methods
    ]


def run_benchmark(
    config: BenchmarkConfig,
    out_dir: str | os.PathLike,
    *,
    command: str | None = None,
    train_and_predict: Callable | None = None,
    load_dataset: Callable | None = None,
    keep_going: bool = True,
) -> pd.DataFrame:
    """Run every missing cell, then rewrite the tables from all cells in `out_dir/cells`.

    Returns the per-cell DataFrame (`collect_cells`). A cell that raises is logged and
    recorded under `<out>/failed/` (the run goes on when keep_going) and retried next time.
    """
    out_dir = Path(out_dir)
    (out_dir / "cells").mkdir(parents=True, exist_ok=True)
    loader = load_dataset or load_benchmark_dataset
    cells = plan_cells(config)
    manifests: dict[str, dict] = {}
    current: tuple[str, object] | None = None
    done = skipped = failed = 0
    for dataset, split, method, seed in cells:
        cid = cell_id(dataset, split, method, seed)
        path = out_dir / "cells" / f"{cid}.json"
        if path.exists():
            if cell_is_current(path, cell_config_key(method, config.encoder, split, seed, config.train_config),
                               config.subsample):
                skipped += 1
                continue
            logger.info("cell %s was computed with another configuration; rerunning it", cid)
        if method in DETERMINISTIC_METHODS and _reuse_other_seed(out_dir, dataset, split, method, seed, config):
            skipped += 1
            continue
        if current is None or current[0] != dataset:
            ds = loader(dataset)
            if config.subsample:
                ds = subsample_dataset(ds, config.subsample, seed=0)
            current = (dataset, ds)
            manifests[dataset] = dataset_manifest_summary(ds)
        ds = current[1]
        try:
            run_cell(ds, dataset, split, method, seed, config, out_dir, train_and_predict)
            done += 1
            (out_dir / "failed" / f"{cid}.txt").unlink(missing_ok=True)
        except Exception as exc:  # noqa: BLE001 - one failing method must not stop the table
            if not keep_going:
                raise
            failed += 1
            logger.error("cell %s failed: %s: %s", cid, type(exc).__name__, exc)
            atomic_write_text(out_dir / "failed" / f"{cid}.txt", f"{type(exc).__name__}: {exc}\n")
    logger.info("benchmark: %d cells run, %d already done, %d failed", done, skipped, failed)
    # manifests of datasets whose cells were all cached: load them only for the record
    for dataset in config.datasets:
        if dataset not in manifests:
            try:
                manifests[dataset] = dataset_manifest_summary(loader(dataset))
            except Exception as exc:  # noqa: BLE001
                logger.warning("no manifest for %s: %s", dataset, exc)
    df = collect_cells(out_dir, config)
    write_tables(df, out_dir, manifests=manifests, command=command, config=config)
    return df


def _reuse_other_seed(out_dir: Path, dataset: str, split: str, method: str, seed: int,
                      config: BenchmarkConfig) -> bool:
    """For a seed-independent method, copy a current cell of another seed as this seed's."""
    key = cell_config_key(method, config.encoder, split, seed, config.train_config)
    for path in sorted((out_dir / "cells").glob(f"{cell_id(dataset, split, method, 0)[:-1]}*.json")):
        if path.stem == cell_id(dataset, split, method, seed) or not cell_is_current(path, key, config.subsample):
            continue
        record = json.loads(path.read_text())
        record["info"] = {**record.get("info", {}), "reused_from_seed": record["seed"]}
        record["seed"] = int(seed)
        atomic_write_text(out_dir / "cells" / f"{cell_id(dataset, split, method, seed)}.json",
                          json.dumps(json_safe(record), indent=1, sort_keys=True))
        logger.info("cell %s: %s ignores the seed; reused the seed-%s cell", cell_id(dataset, split, method, seed),
                    method, record["info"]["reused_from_seed"])
        return True
    return False


def collect_cells(out_dir: str | os.PathLike, config: BenchmarkConfig | None = None) -> pd.DataFrame:
    """One row per finished cell: identifiers, metrics (bins flattened) and resources.

    With `config`, cells computed with another resolved training configuration than the one
    `config` gives them (stale cells of older defaults) are left out; their ids are listed
    in df.attrs["stale"], so that no table mixes configurations."""
    rows, stale = [], []
    for path in sorted(Path(out_dir, "cells").glob("*.json")):
        rec = json.loads(path.read_text())
        if config is not None:
            key = cell_config_key(rec["method"], config.encoder, rec["split"], rec["seed"], config.train_config)
            if rec.get("config_key") != json_safe(key) or rec.get("subsample") != config.subsample:
                stale.append(path.stem)
                continue
        m = rec["metrics"]
        row = {k: rec[k] for k in ("dataset", "split", "method", "seed", "encoder")}
        for key in ("fmax", "threshold", "precision", "recall", "coverage", "aupr", "smin", "auc"):
            row[key] = m.get(key)
        for label, value in (m.get("auc_bins") or {}).items():
            row[f"auc_{label}"] = value
        for label, value in (m.get("fmax_bins") or {}).items():
            row[f"fmax_{label}"] = value
        row["n_test_genes"] = m.get("n_genes")
        row["n_terms"] = m.get("n_terms")
        row["wall_time_s"] = rec.get("wall_time_s")
        row["peak_rss_mb"] = rec.get("peak_rss_mb")
        row["peak_rss_delta_mb"] = rec.get("peak_rss_delta_mb")
        row["subsample"] = rec.get("subsample")
        rows.append(row)
    df = pd.DataFrame(rows)
    if not df.empty:
        df = df.astype({c: float for c in df.columns if c.startswith(("fmax", "auc", "threshold", "precision", "recall", "coverage", "aupr", "smin"))})
    if stale:
        logger.warning("%d stale cells (another configuration) left out of the tables", len(stale))
    df.attrs["stale"] = stale
    return df
