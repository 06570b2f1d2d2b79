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
from dataclasses import dataclass, field
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from genepheno_core.benchmark.config import (
    DETERMINISTIC_METHODS,
    LEAKAGE_DATASETS,
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
from genepheno_core.methods import prediction_variant, reads, split_method, training_ablations

logger = logging.getLogger(__name__)


def trainer_train_and_predict(ds, method: str, encoder: str, split: str, seed: int, train_config: dict,
                              variants=()):
    """Adapter to genepheno_core.training.train_and_predict: builds the TrainConfig (options
    from `train_config`, ablations from the method name); `variants` (prediction-time input
    variants, e.g. "transferred-go") come back as info["variant_scores"]."""
    from genepheno_core.training import TrainConfig, train_and_predict

    model, ablations = split_method(method)
    config = TrainConfig(**{**train_config, "ablations": training_ablations(ablations)})
    return train_and_predict(ds, model, encoder, split, seed, config, variants=tuple(variants))


# --------------------------------------------------------------------------------------
# datasets


def load_benchmark_dataset(name: str):
    """A benchmark dataset by name: the cached artifact, built (and cached) when missing.

    The leakage-check datasets (`mpo-no-imp-igi`, `hpo-no-imp-igi`) are their base dataset
    built with the option that drops mutant-phenotype GO evidence (IMP/IGI/HMP/HGI).
    """
    from genepheno_core import datasets as dsmod
    from genepheno_core.errors import MissingDataError
    from genepheno_core.io import genepheno_home

    try:
        return dsmod.load_dataset(name)
    except (MissingDataError, FileNotFoundError):
        pass
    if name in LEAKAGE_DATASETS:
        # the check uses the random split only: no homology split to build
        config = dsmod.DatasetConfig(drop_imp_igi=True, homology=False)
        base = LEAKAGE_DATASETS[name]
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
    dataset built without the homology split (its all-vs-all DIAMOND search is most of the build time),
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
    "homology_clusters", "homology_components", "residual_similarity", "drops", "genepheno_version",
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


def exclusive_pairs(ds, split: str) -> np.ndarray | None:
    """(P, 2) column indices of every antonym sibling pair of the vocabulary (no overlap
    filter: the exclusion-consistency metric counts all pairs, not only those the loss
    keeps); None when the label ontology cannot be loaded."""
    from genepheno_core.models.pairs import dataset_pairs

    try:
        pairs = dataset_pairs(ds, split, max_overlap=None)
    except Exception as exc:  # noqa: BLE001 - a dataset without an ontology has no pairs
        logger.warning("no exclusive pairs for %s: %s", ds.name, exc)
        return None
    return pairs[["index_a", "index_b"]].to_numpy(dtype=np.int64).reshape(-1, 2)


def novel_test_rows(ds, dataset: str, split: str, threads: int = 2) -> np.ndarray | None:
    """Dataset rows of the `split` test genes with no DIAMOND hit among the other species'
    labelled genes (the cross-species input is then empty: what a user's uncharacterised
    protein looks like); None for a dataset without another species."""
    from genepheno_core.datasets import load_labels_dataset
    from genepheno_core.models.features import cross_species_vectors
    from genepheno_core.training.config import CROSS_SPECIES

    other = CROSS_SPECIES.get(dataset)
    if other is None:
        return None
    test = np.flatnonzero(ds.splits[split].to_numpy() == "test")
    other_ds = load_labels_dataset(other)
    seqs = ds.genes["sequence"].astype(str).to_numpy()[test].tolist()
    # the same search and hit count as the trainer's cross-species input (TrainConfig defaults)
    from genepheno_core.training import TrainConfig

    _, has_hit = cross_species_vectors(seqs, other_ds.genes["sequence"].tolist(), other_ds.labels,
                                       threads=threads, max_hits=TrainConfig().ortholog_max_hits)
    return test[~np.asarray(has_hit, dtype=bool)]


def data_fingerprint(ds, split: str) -> str:
    """sha256 (16 hex) of what a cell of `split` is computed from: gene ids, the split
    column, the split's term ids, the label and GO matrices. A rebuilt dataset (another
    split rule, another gwas filter, other evidence codes) gets another fingerprint."""
    import hashlib

    restricted = ds.for_split(split) if hasattr(ds, "for_split") else ds
    digest = hashlib.sha256()
    digest.update("\n".join(ds.genes["gene_id"].astype(str)).encode())
    digest.update("\n".join(ds.splits[split].astype(str)).encode())
    digest.update("\n".join(restricted.terms["term_id"].astype(str)).encode())
    for matrix in (restricted.labels, getattr(ds, "go", None)):
        if matrix is not None:
            m = sp.csr_matrix(matrix)
            digest.update(np.ascontiguousarray(m.indptr, dtype=np.int64).tobytes())
            digest.update(np.ascontiguousarray(m.indices, dtype=np.int64).tobytes())
    return digest.hexdigest()[:16]


@dataclass
class SplitContext:
    """What every cell of one dataset x split shares: the dataset in the split's vocabulary
    (terms with >= min_genes training genes), the exclusive pairs and the novel test rows."""

    ds: object
    terms_not_in_train: int
    pairs: np.ndarray | None = None
    novel_rows: np.ndarray | None = None


def split_context(ds, dataset: str, split: str, novel: bool = True) -> SplitContext:
    restricted = ds.for_split(split) if hasattr(ds, "for_split") else ds
    pairs = exclusive_pairs(restricted, split) if hasattr(ds, "label_ontology") else None
    novel_rows = None
    if novel:
        try:
            novel_rows = novel_test_rows(restricted, dataset, split)
        except Exception as exc:  # noqa: BLE001 - the view is extra; the cell still counts
            logger.warning("no novel-protein view for %s/%s: %s", dataset, split, exc)
    return SplitContext(restricted, int(ds.labels.shape[1] - restricted.labels.shape[1]), pairs, novel_rows)


def evaluate_cell(ds, split: str, test_scores, test_index=None, *, pairs=None, novel_rows=None) -> dict:
    """Metrics of test-split scores for one dataset: IA estimated on the training genes,
    AUC bins by the dataset's term frequencies (terms.n_genes). Score rows follow
    `test_index` (dataset rows) when given, else the dataset order of the test genes.
    `pairs` ((P, 2) exclusive columns) adds exclusion consistency; `novel_rows` (dataset
    rows, a subset of the test genes) adds `novel` = the metrics on those genes only."""
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
    counts = ds.terms["n_genes"].to_numpy()
    out = evaluate_scores(y_true, scores, term_ancestors=ds.term_ancestors, ia=ia, ic=ic, term_counts=counts,
                          exclusive_pairs=pairs)
    if novel_rows is not None:
        position = {int(r): i for i, r in enumerate(test)}
        rows = np.array([position[int(r)] for r in novel_rows if int(r) in position], dtype=np.int64)
        novel = evaluate_scores(y_true[rows], scores[rows], term_ancestors=ds.term_ancestors, ia=ia, ic=ic)
        out["novel"] = {k: novel[k] for k in ("fmax", "auc", "wfmax", "smin", "aupr", "top10_ic",
                                              "top10_precision", "n_genes") if k in novel}
    return out


def run_cell(
    ds,
    dataset: str,
    split: str,
    method: str,
    seed: int,
    config: BenchmarkConfig,
    out_dir: Path,
    train_and_predict: Callable | None = None,
    context: SplitContext | None = None,
    variants: dict[str, str] | None = None,
) -> dict:
    """Train, predict and evaluate one cell; write `<out>/cells/<id>.json` atomically.
    `context` (`split_context`) is shared by the cells of one dataset x split. `variants`
    {benchmark method: prediction variant} ("genepheno-pasted": "transferred-go") are scored
    from the same trained model and written as their own cells."""
    if train_and_predict is None:
        train_and_predict = trainer_train_and_predict
    cid = cell_id(dataset, split, method, seed)
    context = context or split_context(ds, dataset, split, novel=False)
    ds = context.ds  # the split's training-genes vocabulary: what is trained and scored
    logger.info("cell %s: training", cid)
    with PeakMemory() as mem:
        start = time.perf_counter()
        if variants:
            scores, info = train_and_predict(ds, method, config.encoder, split, seed, dict(config.train_config),
                                             variants=tuple(variants.values()))
        else:
            scores, info = train_and_predict(ds, method, config.encoder, split, seed, dict(config.train_config))
        train_s = time.perf_counter() - start
    start = time.perf_counter()
    test_index = (info or {}).get("test_index")
    term_ids = (info or {}).get("term_ids")
    if term_ids is not None and list(term_ids) != ds.terms["term_id"].astype(str).tolist():
        raise ValueError(f"cell {cid}: the trainer scored another vocabulary ({len(term_ids)} terms) than the "
                         f"split's ({ds.n_terms} terms)")
    variant_scores = (info or {}).get("variant_scores") or {}
    missing = set((variants or {}).values()) - set(variant_scores)
    if missing:
        raise ValueError(f"cell {cid}: the trainer returned no scores for variant(s) {sorted(missing)}")
    data = data_fingerprint(ds, split)
    kept_info = {k: v for k, v in (info or {}).items() if k not in ("test_index", "history", "term_ids",
                                                                    "variant_scores", "variant_evidence",
                                                                    "variant_valid_metrics")}
    variant_evidence = (info or {}).get("variant_evidence") or {}
    variant_valid = (info or {}).get("variant_valid_metrics") or {}
    record = None
    for name, cell_scores in [(method, scores)] + [(m, variant_scores[v]) for m, v in (variants or {}).items()]:
        start = time.perf_counter()
        metrics = evaluate_cell(ds, split, cell_scores, test_index=test_index, pairs=context.pairs,
                                novel_rows=context.novel_rows)
        metrics["terms_not_in_train"] = context.terms_not_in_train
        this = {
            "dataset": dataset,
            "split": split,
            "method": name,
            "seed": int(seed),
            "encoder": config.encoder,
            "subsample": config.subsample,
            "train_config": config.train_config,
            "config_key": json_safe(cell_config_key(name, config.encoder, split, seed, config.train_config, data=data,
                                                     dataset=dataset)),
            "metrics": metrics,
            "wall_time_s": train_s,
            "eval_time_s": time.perf_counter() - start,
            "peak_rss_mb": mem.peak_mb,
            "peak_rss_delta_mb": mem.delta_mb,
            # a variant cell's validation metrics are its own inputs' (the scoring model's
            # when the trainer gives none)
            "info": {**kept_info, **({"scored_from": method, "evidence": variant_evidence.get(variants[name]),
                                      "valid_metrics": variant_valid.get(variants[name], kept_info.get("valid_metrics")),
                                      "valid_inputs": variants[name] if variants[name] in variant_valid else "own"}
                                     if name != method else {})},
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        _write_cell(out_dir, cell_id(dataset, split, name, seed), this, ds, split, test_index, cell_scores,
                    config.write_predictions)
        record = record or this
    return record


def _write_cell(out_dir: Path, cid: str, record: dict, ds, split: str, test_index, scores,
                write_predictions: bool) -> None:
    if write_predictions:
        from genepheno_core.evaluation.cafa_io import write_predictions as write_cafa

        rows = test_index if test_index is not None else np.flatnonzero(ds.splits[split].to_numpy() == "test")
        gene_ids = ds.genes["gene_id"].astype(str).to_numpy()[np.asarray(rows)]
        write_cafa(out_dir / "predictions" / f"{cid}.tsv.gz", gene_ids, ds.terms["term_id"].tolist(), scores,
                   model=1, keywords=(record["method"],))
    atomic_write_text(out_dir / "cells" / f"{cid}.json", json.dumps(json_safe(record), indent=1, sort_keys=True))
    metrics = record["metrics"]
    logger.info("cell %s: Fmax %.4f AUC %.4f (%.1fs, peak %.0f MiB)", cid, metrics["fmax"], metrics["auc"],
                record["wall_time_s"], record["peak_rss_mb"])


def plan_cells(config: BenchmarkConfig) -> list[tuple[str, str, str, int]]:
    return [
        (dataset, split, method, int(seed))
        for dataset in config.datasets
        for split in config.splits_for(dataset)
        for seed in config.seeds
        for method in config.methods
    ]


@dataclass(frozen=True)
class CellWork:
    """One cell still to compute: the planned cell (`method`, whose id names the failure
    record) is computed by training `base` and scoring `variants` ({benchmark method:
    prediction variant}) from the same model. `reuse`: a seed-independent method's cell to
    copy from another seed's cell this run computes (only planned with `pending`)."""

    dataset: str
    split: str
    method: str
    seed: int
    base: str
    variants: dict[str, str] = field(default_factory=dict)
    reuse: bool = False

    @property
    def cell_id(self) -> str:
        return cell_id(self.dataset, self.split, self.method, self.seed)

    @property
    def writes(self) -> list[str]:
        """Ids of the cells this work writes."""
        names = [self.method] if self.reuse else [self.base, *self.variants]
        return [cell_id(self.dataset, self.split, m, self.seed) for m in names]


class CellPlan:
    """Which cells of `config` still need computing in `out_dir`, shared by every engine.

    Iterating loads each dataset once (through `loader`, subsampled as configured), fills
    `manifests` and `fingerprints` ({(dataset, split): data_fingerprint}) and yields
    (CellWork, dataset) for each missing cell, in plan order. Current cells are skipped
    (`skipped` counts them); a seed-independent method's missing seed copies a current cell
    of another seed on the spot (`_reuse_other_seed`).

    Decisions read the cells on disk when the work item is reached, so the local engine
    (which computes each item before asking for the next) sees what earlier items wrote. An
    engine that plans everything before computing anything passes `pending`, a set this
    plan fills with the ids of the cells its work items will write: those count as current,
    and a seed-independent method whose other seed is pending gets a `reuse` item instead
    of its own training.
    """

    def __init__(self, config: BenchmarkConfig, out_dir: str | os.PathLike, loader: Callable,
                 pending: set[str] | None = None):
        self.config = config
        self.out_dir = Path(out_dir)
        self.loader = loader
        self.pending = pending
        self.manifests: dict[str, dict] = {}
        self.fingerprints: dict[tuple[str, str], str] = {}
        self.skipped = 0

    def load(self, dataset: str):
        """`dataset` as every cell of it sees it: loaded, then subsampled (seed 0)."""
        ds = self.loader(dataset)
        if self.config.subsample:
            ds = subsample_dataset(ds, self.config.subsample, seed=0)
        return ds

    def _pending(self, cid: str) -> bool:
        return self.pending is not None and cid in self.pending

    def __iter__(self) -> Iterator[tuple[CellWork, object]]:
        config, out_dir = self.config, self.out_dir
        current: tuple[str, object] | None = None
        for dataset, split, method, seed in plan_cells(config):
            cid = cell_id(dataset, split, method, seed)
            path = out_dir / "cells" / f"{cid}.json"
            if current is None or current[0] != dataset:
                # loaded before the skip check: a cell is current only for this dataset's data
                current = (dataset, self.load(dataset))
                self.manifests[dataset] = dataset_manifest_summary(current[1])
            ds = current[1]
            if (dataset, split) not in self.fingerprints:
                self.fingerprints[(dataset, split)] = data_fingerprint(ds, split)
            data = self.fingerprints[(dataset, split)]

            def is_current(name: str) -> bool:
                name_id = cell_id(dataset, split, name, seed)
                cell = out_dir / "cells" / f"{name_id}.json"
                return self._pending(name_id) or cell.exists() and cell_is_current(
                    cell, cell_config_key(name, config.encoder, split, seed, config.train_config, data, dataset),
                    config.subsample)

            if is_current(method):
                self.skipped += 1
                continue
            if path.exists():
                logger.info("cell %s was computed with another configuration or dataset; rerunning it", cid)
            if method in DETERMINISTIC_METHODS:
                if _reuse_other_seed(out_dir, dataset, split, method, seed, config, data):
                    self.skipped += 1
                    continue
                if any(self._pending(cell_id(dataset, split, method, s)) for s in config.seeds):
                    work = CellWork(dataset, split, method, int(seed), method, reuse=True)
                    self.pending.update(work.writes)
                    yield work, ds
                    continue
            # a prediction-time variant is scored from its method's trained model: train that
            # method once for it and for every other variant of it still to do
            base = prediction_variant(method)[0] if prediction_variant(method) else method
            variants = {m: prediction_variant(m)[1] for m in config.methods
                        if prediction_variant(m) and prediction_variant(m)[0] == base and not is_current(m)}
            if base != method:
                logger.info("cell %s: scored from a new %s model", cid, base)
            work = CellWork(dataset, split, method, int(seed), base, variants)
            if self.pending is not None:
                self.pending.update(work.writes)
            yield work, ds

    def finish(self, command: str | None = None) -> pd.DataFrame:
        """The tables, once, from every cell in `out_dir/cells` (after the plan was iterated):
        manifests of datasets whose cells were all cached are loaded for the record only."""
        for dataset in self.config.datasets:
            if dataset not in self.manifests:
                try:
                    self.manifests[dataset] = dataset_manifest_summary(self.loader(dataset))
                except Exception as exc:  # noqa: BLE001
                    logger.warning("no manifest for %s: %s", dataset, exc)
        df = collect_cells(self.out_dir, self.config, self.fingerprints)
        write_tables(df, self.out_dir, manifests=self.manifests, command=command, config=self.config)
        return df


def context_for(ds, dataset: str, split: str) -> SplitContext:
    """The split context a benchmark cell is evaluated with (every engine builds it so)."""
    # the novel view needs DIAMOND against the other species: not for leakage checks
    return split_context(ds, dataset, split, novel=dataset not in LEAKAGE_DATASETS)


def record_failure(out_dir: Path, cid: str, exc: BaseException) -> None:
    """`<out>/failed/<id>.txt`: the error of a cell that raised (retried next run)."""
    logger.error("cell %s failed: %s: %s", cid, type(exc).__name__, exc)
    atomic_write_text(out_dir / "failed" / f"{cid}.txt", f"{type(exc).__name__}: {exc}\n")


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
    The same work on Ray: `genepheno_core.scale.grid.run_benchmark_ray`.
    """
    out_dir = Path(out_dir)
    (out_dir / "cells").mkdir(parents=True, exist_ok=True)
    plan = CellPlan(config, out_dir, load_dataset or load_benchmark_dataset)
    contexts: dict[tuple[str, str], SplitContext] = {}
    done = failed = 0
    for work, ds in plan:
        if any(key[0] != work.dataset for key in contexts):
            contexts = {}  # another dataset: free the last one's contexts
        try:
            if (work.dataset, work.split) not in contexts:
                contexts[(work.dataset, work.split)] = context_for(ds, work.dataset, work.split)
            run_cell(ds, work.dataset, work.split, work.base, work.seed, config, out_dir, train_and_predict,
                     contexts[(work.dataset, work.split)], variants=work.variants)
            done += 1
            (out_dir / "failed" / f"{work.cell_id}.txt").unlink(missing_ok=True)
        except Exception as exc:  # noqa: BLE001 - one failing method must not stop the table
            if not keep_going:
                raise
            failed += 1
            record_failure(out_dir, work.cell_id, exc)
    logger.info("benchmark: %d cells run, %d already done, %d failed", done, plan.skipped, failed)
    return plan.finish(command)


def _reuse_other_seed(out_dir: Path, dataset: str, split: str, method: str, seed: int,
                      config: BenchmarkConfig, data: str | None = None) -> bool:
    """For a seed-independent method, copy a current cell of another seed as this seed's."""
    key = cell_config_key(method, config.encoder, split, seed, config.train_config, data, dataset)
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


def _valid_inputs(method: str) -> str:
    """The GO a method's validation genes were scored with when its cell does not say:
    "transferred-go" for a method trained on transferred GO, else "own"."""
    try:
        return "transferred-go" if reads(method)["transferred_go"] else "own"
    except (KeyError, ValueError):  # a method the registry does not know (older cells)
        return "own"


def collect_cells(out_dir: str | os.PathLike, config: BenchmarkConfig | None = None,
                  fingerprints: dict[tuple[str, str], str] | None = None) -> pd.DataFrame:
    """One row per finished cell: identifiers, metrics (bins flattened) and resources.

    With `config`, cells computed with another resolved training configuration than the one
    `config` gives them (stale cells of older defaults or an older protocol) are left out;
    their ids are listed in df.attrs["stale"], so that no table mixes configurations. The
    dataset fingerprint must match `fingerprints[(dataset, split)]` when given; without it,
    only the cells of the most recently finished fingerprint of each dataset x split are
    kept (a half-rerun dataset does not mix old and new data)."""
    rows, stale, records = [], [], []
    for path in sorted(Path(out_dir, "cells").glob("*.json")):
        rec = json.loads(path.read_text())
        if config is not None:
            given = (fingerprints or {}).get((rec["dataset"], rec["split"]))
            key = json_safe(cell_config_key(rec["method"], config.encoder, rec["split"], rec["seed"],
                                            config.train_config, given, rec["dataset"]))
            theirs = dict(rec.get("config_key") or {})
            if given is None:
                theirs.pop("data", None)
            if theirs != key or rec.get("subsample") != config.subsample:
                stale.append(path.stem)
                continue
        records.append((path, rec))
    latest: dict[tuple[str, str], tuple[str, object]] = {}
    for _, rec in records:
        group, finished = (rec["dataset"], rec["split"]), str(rec.get("finished", ""))
        if group not in latest or finished > latest[group][0]:
            latest[group] = (finished, (rec.get("config_key") or {}).get("data"))
    for path, rec in records:
        if (rec.get("config_key") or {}).get("data") != latest[(rec["dataset"], rec["split"])][1]:
            stale.append(path.stem)
            continue
        m = rec["metrics"]
        row = {k: rec[k] for k in ("dataset", "split", "method", "seed", "encoder")}
        for key in ("fmax", "threshold", "precision", "recall", "coverage", "aupr", "smin", "auc", "wfmax",
                    "top10_ic", "top10_precision"):
            row[key] = m.get(key)
        row["excl_rate_pred"] = m.get("exclusion_rate_predicted")
        row["excl_rate_true"] = m.get("exclusion_rate_true")
        novel = m.get("novel") or {}
        for key in ("fmax", "auc", "wfmax", "smin", "top10_ic", "top10_precision"):
            row[f"novel_{key}"] = novel.get(key)
        row["novel_n_genes"] = novel.get("n_genes")
        row["terms_not_in_train"] = m.get("terms_not_in_train")
        info = rec.get("info") or {}
        # GenePheno's concept layer on test genes with GO; a prediction-time variant's cell
        # copies its model's info, measured with the model's own inputs: not its own number
        variant = bool(info.get("scored_from"))
        row["concept_auc"] = None if variant else info.get("test_concept_auc")
        row["concept_auc_without_go"] = None if variant else info.get("test_concept_auc_without_go")
        # validation metrics, for choices made on validation only (tables.pasted_choice); a
        # variant cell's are its own inputs' only when it says so (older cells copied its model's)
        valid = info.get("valid_metrics") or {}
        row["valid_fmax"], row["valid_auc"] = valid.get("fmax"), valid.get("auc")
        row["valid_inputs"] = info.get("valid_inputs") or _valid_inputs(rec["method"])
        evidence = info.get("evidence") or {}
        plausibility = evidence.get("plausibility") or {}
        row["evidence_plausibility"] = plausibility.get("share")
        row["evidence_plausibility_random"] = plausibility.get("random_share")
        row["evidence_concentration"] = (evidence.get("concentration") or {}).get("share")
        row["evidence_concentration_grouped"] = (evidence.get("concentration_grouped") or {}).get("share")
        row["evidence_concept_rho"] = (evidence.get("concepts") or {}).get("median_spearman")
        row["evidence_deletion"] = (evidence.get("deletion") or {}).get("pass_rate")
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
        df = df.astype({c: float for c in df.columns if c.startswith((
            "fmax", "auc", "threshold", "precision", "recall", "coverage", "aupr", "smin", "wfmax", "top10",
            "excl_", "novel_", "concept_auc", "evidence_", "valid_fmax", "valid_auc"))})
    if stale:
        logger.warning("%d stale cells (another configuration) left out of the tables", len(stale))
    df.attrs["stale"] = stale
    return df
