"""The benchmark: every method x dataset x split x seed, evaluated with one evaluator.

Each finished cell (dataset, split, method, seed) is written atomically as its own JSON under
`<out>/cells/` and skipped when present, so an interrupted run resumes where it stopped.
`collect_cells` + `write_tables` turn the cells into `benchmark.csv`, `benchmark.json` and
`benchmark.md` (tables in `genepheno_core.evaluation.tables`).

Training and prediction go through the trainer's API:
`genepheno_core.training.train_and_predict(dataset, method, encoder, split, seed, config)
-> (test_scores (n_test, K), info)`, rows in the order of the dataset's test genes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import platform
import resource
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from genepheno_core.evaluation.metrics import evaluate_scores, information_accretion
from genepheno_core.io import atomic_write_text

logger = logging.getLogger(__name__)

DATASETS = ("mpo", "hpo", "gwas", "hpo-temporal")
BASELINES = ("naive", "diamond-score", "kmer-lr", "mlp-bce", "go-mlp")
# GenePheno's non-sequence inputs (GO + the other species' homolog phenotypes) in a plain MLP:
# not one of the specified baselines, a reference for how much the inputs alone give
REFERENCES = ("go-orth-mlp",)
ABLATIONS = ("genepheno-no-go", "genepheno-no-seq", "genepheno-bce", "genepheno-no-excl", "genepheno-no-concept",
             "genepheno-no-orth")
METHODS = BASELINES + REFERENCES + ("genepheno",) + ABLATIONS
# The leakage check: mpo rebuilt without IMP/IGI GO evidence (GENEPHENO.md "Known pitfalls").
LEAKAGE_DATASET = "mpo-no-imp-igi"
# Methods whose result does not depend on the seed (the splits are fixed by the dataset and
# these fit deterministically): their other seeds reuse one computed cell (sd 0).
DETERMINISTIC_METHODS = ("naive", "diamond-score", "kmer-lr")
SMOKE_METHODS = ("naive", "mlp-bce", "go-mlp", "genepheno")  # kmer-lr alone takes ~1 min


def default_splits(dataset: str) -> tuple[str, ...]:
    return ("temporal",) if dataset == "hpo-temporal" else ("random", "homology")


@dataclass
class BenchmarkConfig:
    """What to run. `train_config` is passed through to train_and_predict unchanged."""

    datasets: Sequence[str] = DATASETS
    methods: Sequence[str] = METHODS
    splits: Sequence[str] | None = None  # None: default_splits(dataset) for each dataset
    seeds: Sequence[int] = (0, 1, 2)
    encoder: str = "unirep256"  # the main job's and the default model's encoder
    subsample: int | None = None  # keep this many genes (seeded, split proportions kept)
    train_config: dict = field(default_factory=dict)
    write_predictions: bool = False  # also write each cell's test predictions (CAFA format)

    def splits_for(self, dataset: str) -> tuple[str, ...]:
        if self.splits is None:
            return default_splits(dataset)
        allowed = default_splits(dataset)
        return tuple(s for s in self.splits if s in allowed)


def split_method(method: str) -> tuple[str, tuple[str, ...]]:
    """Benchmark method name -> (trainer model, ablations): "genepheno-no-go" -> ("genepheno",
    ("no-go",)); "genepheno-bce" -> ("genepheno", ("bce",)); baselines map to themselves."""
    if method.startswith("genepheno-"):
        return "genepheno", (method[len("genepheno-") :],)
    return method, ()


def trainer_train_and_predict(ds, method: str, encoder: str, split: str, seed: int, train_config: dict):
    """Adapter to genepheno_core.training.train_and_predict: builds the TrainConfig (options
    from `train_config`, ablations from the method name)."""
    from genepheno_core.training import TrainConfig, train_and_predict

    model, ablations = split_method(method)
    config = TrainConfig(**{**train_config, "ablations": ablations})
    return train_and_predict(ds, model, encoder, split, seed, config)


def cell_id(dataset: str, split: str, method: str, seed: int) -> str:
    return f"{dataset}__{split}__{method}__seed{seed}"


# TrainConfig fields that change each kind of method's result (everything else is ignored
# when deciding whether a finished cell is still valid, so that tuning GenePheno does not
# make the baselines' cells stale)
_NEURAL_FIELDS = ("lr", "weight_decay", "batch_size", "max_epochs", "patience", "min_epochs",
                  "hidden", "n_layers", "dropout")
_CELL_FIELDS = {
    "naive": (),
    "diamond-score": (),
    "kmer-lr": ("kmer_encoder", "kmer_C"),
    "mlp-bce": _NEURAL_FIELDS,
    "go-mlp": _NEURAL_FIELDS + ("go_min_genes",),
    "go-orth-mlp": _NEURAL_FIELDS + ("go_min_genes", "cross_species", "ortholog_max_hits"),
}


def cell_config_key(method: str, encoder: str, split: str, seed: int, train_config: dict) -> dict:
    """The resolved training configuration a cell was computed with (defaults filled in).

    A finished cell is reused only when this matches, so changing a default (or passing a
    different --set option) reruns exactly the cells it affects."""
    from genepheno_core.training import TrainConfig
    from genepheno_core.training.config import RUN_CONTROL_FIELDS

    model, ablations = split_method(method)
    resolved = TrainConfig(**{**train_config, "model": model, "ablations": ablations}).to_dict()
    if model == "genepheno":
        keep = [k for k in resolved if k not in RUN_CONTROL_FIELDS and k not in ("dataset", "model", "encoder", "split", "seed")]
    else:
        keep = list(_CELL_FIELDS.get(model, ()))
    key = {k: resolved[k] for k in sorted(keep)}
    key.update(method=method, split=split, seed=None if method in DETERMINISTIC_METHODS else int(seed),
               encoder=encoder if model in ("genepheno", "mlp-bce", "go-mlp") else None)
    return key


def cell_is_current(path: Path, key: dict, subsample: int | None) -> bool:
    """True when the finished cell at `path` was computed with `key` (and `subsample`)."""
    try:
        rec = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return rec.get("config_key") == _json_safe(key) and rec.get("subsample") == subsample


# --------------------------------------------------------------------------------------
# resources


class PeakMemory:
    """Peak resident memory of this process while the block runs (MiB).

    ru_maxrss is a lifetime high-water mark, so a later cell that uses less than an earlier
    one would show nothing; a sampling thread reads /proc/self/statm every `interval` s
    instead (Linux), with ru_maxrss as the fallback elsewhere.
    """

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.baseline_mb = math.nan
        self.peak_mb = math.nan
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def _rss_mb() -> float:
        try:
            with open("/proc/self/statm") as handle:
                pages = int(handle.read().split()[1])
            return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError):
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_mb = max(self.peak_mb, self._rss_mb())

    def __enter__(self) -> "PeakMemory":
        self.baseline_mb = self.peak_mb = self._rss_mb()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_mb = max(self.peak_mb, self._rss_mb())

    @property
    def delta_mb(self) -> float:
        return self.peak_mb - self.baseline_mb


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


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist()) if value.size <= 64 else f"<array {value.shape}>"
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value):
        return _json_safe(dataclasses.asdict(value))
    return repr(value)


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
    return evaluate_scores(
        y_true, scores, term_ancestors=ds.term_ancestors, ia=ia, term_counts=ds.terms["n_genes"].to_numpy()
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
        "config_key": _json_safe(cell_config_key(method, config.encoder, split, seed, config.train_config)),
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
    atomic_write_text(out_dir / "cells" / f"{cid}.json", json.dumps(_json_safe(record), indent=1, sort_keys=True))
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
    from genepheno_core.evaluation.tables import write_tables

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
                          json.dumps(_json_safe(record), indent=1, sort_keys=True))
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
            if rec.get("config_key") != _json_safe(key) or rec.get("subsample") != config.subsample:
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


def environment() -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
