"""What a benchmark run covers and how a finished cell is identified.

The method groups come from the method registry (genepheno_core/methods.py); a cell's key is
the resolved training configuration of the fields that change that method's result, so that
a finished cell is reused only when it would be computed the same way again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from genepheno_core.io import json_safe as _json_safe
from genepheno_core.methods import METHODS as METHOD_SPECS
from genepheno_core.methods import (
    benchmark_methods,
    is_ablation,
    method_spec,
    prediction_variant,
    reads,
    split_method,
    training_ablations,
)

DATASETS = ("mpo", "hpo", "gwas", "hpo-temporal")
METHODS = benchmark_methods()
BASELINES = tuple(m for m, spec in METHOD_SPECS.items() if spec.family == "baseline")
# not specified baselines: references for how much the inputs alone give (go-orth-mlp:
# GenePheno's non-sequence inputs in a plain MLP)
REFERENCES = tuple(m for m, spec in METHOD_SPECS.items() if spec.family == "reference")
ABLATIONS = tuple(m for m in METHODS if is_ablation(m))
# The leakage checks: a dataset rebuilt without mutant-phenotype GO evidence (IMP/IGI/HMP/HGI:
# mouse GO annotations made from the same knockout papers as the MP labels, human ones often
# from the patient papers HPO curates; README, "Leakage check") -> the dataset it checks.
LEAKAGE_DATASETS = {"mpo-no-imp-igi": "mpo", "hpo-no-imp-igi": "hpo"}
LEAKAGE_DATASET = "mpo-no-imp-igi"  # the first check (older tables); see LEAKAGE_DATASETS
# Datasets reported as negative controls (their own section, not the main table): decided
# from the measured separation of methods from the frequency prior (README, "gwas").
NEGATIVE_CONTROL_DATASETS: tuple[str, ...] = ()
# Methods whose result does not depend on the seed (the splits are fixed by the dataset and
# these fit deterministically): their other seeds reuse one computed cell (sd 0).
DETERMINISTIC_METHODS = tuple(m for m in METHODS if method_spec(m).deterministic)
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


def cell_id(dataset: str, split: str, method: str, seed: int) -> str:
    return f"{dataset}__{split}__{method}__seed{seed}"


# Version of the benchmark protocol: cells of an older protocol are stale (2: the label
# vocabulary of each split is counted on its training genes only).
PROTOCOL = 2


# TrainConfig options added after PROTOCOL 2, with the value the cells computed before them
# used implicitly
_LATER_OPTIONS = {"go_source": "own", "go_transfer_rate": 0.5, "go_transfer_max_hits": 10, "go_neighbours_k": 50, "ortholog_mapped": False,
                  "lambda_sparse_concepts": 0.0, "lambda_ortholog_lowrank": 0.0,
                  "mapped_init": 0.0, "mapped_lr_scale": 1.0,
                  "concept_init": 0.0, "concept_init_min_genes": 0, "init_from": None,
                  "cross_species_rows": 0.0}


def cell_config_key(method: str, encoder: str, split: str, seed: int, train_config: dict,
                    data: str | None = None, dataset: str | None = None) -> dict:
    """The resolved training configuration a cell was computed with (defaults filled in).

    A finished cell is reused only when this matches, so changing a default (or passing a
    different --set option) reruns exactly the cells it affects: the registry's cell_fields
    of the method (all non-run-control fields for GenePheno), the seed unless the method is
    deterministic, the encoder only when the method reads the encoder's embeddings, the
    benchmark PROTOCOL and (`data`, when given) the dataset fingerprint of that split
    (`grid.data_fingerprint`), so a rebuilt dataset reruns its cells. `dataset` resolves the
    fields whose default depends on the dataset (training.config.DATASET_DEFAULTS)."""
    from genepheno_core.training import TrainConfig
    from genepheno_core.training.config import GLOBAL_DEFAULTS, RUN_CONTROL_FIELDS

    model, ablations = split_method(method)
    spec = METHOD_SPECS[model]
    # a prediction-time variant is keyed by the training of its method (plus its own name)
    ablations = training_ablations(ablations)
    given = {**train_config, "model": model, "ablations": ablations}
    if dataset is not None:
        given["dataset"] = dataset
    resolved = TrainConfig(**given).to_dict()
    if not reads(model, ablations)["cross_species"]:
        # W_o's options do not change a method without the homolog-phenotype input: keyed at
        # their global defaults, so that a dataset's own default of them reruns no such cell
        resolved.update(GLOBAL_DEFAULTS)
    if spec.cell_fields is None:
        keep = [k for k in resolved if k not in RUN_CONTROL_FIELDS and k not in ("dataset", "model", "encoder", "split", "seed")]
    else:
        keep = list(spec.cell_fields)
    # options added after PROTOCOL 2 enter the key only when set away from the value earlier
    # cells used, so adding an option does not rerun the cells computed before it existed;
    # the GO transfer's hits matter only to cells that transfer GO
    transfers = prediction_variant(method) is not None or resolved.get("go_source", "own") != "own" \
        or reads(model, ablations)["transferred_go"]
    keep = [k for k in keep if not (k in _LATER_OPTIONS and resolved[k] == _LATER_OPTIONS[k])
            and not (k == "go_transfer_max_hits" and not transfers)]
    key = {k: resolved[k] for k in sorted(keep)}
    key.update(method=method, split=split, seed=None if spec.deterministic else int(seed),
               encoder=encoder if reads(model, ablations)["embeddings"] else None, protocol=PROTOCOL)
    if reads(model, ablations)["go_neighbours"]:
        # how the vote moves the probability: cells computed with the earlier probability
        # average (no such key) are stale. Imported here: the models package loads torch,
        # which the Ray driver (predict --engine ray reads this module) must not import
        from genepheno_core.models.go_neighbours import BLEND, SIMILARITIES

        key["neighbour_blend"] = BLEND
        # what makes genes neighbours, chosen per run among these: cells computed when only
        # GO was offered (no such key) are stale
        key["neighbour_similarities"] = list(SIMILARITIES)
    if data is not None:
        key["data"] = data
    return key


def cell_is_current(path: Path, key: dict, subsample: int | None) -> bool:
    """True when the finished cell at `path` was computed with `key` (and `subsample`)."""
    try:
        rec = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return rec.get("config_key") == json_safe(key) and rec.get("subsample") == subsample


def json_safe(value):
    """io.json_safe with arrays longer than 64 entries as a placeholder (cell records stay small)."""
    return _json_safe(value, max_array=64)
