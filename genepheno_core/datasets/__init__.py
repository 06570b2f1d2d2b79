"""Benchmark datasets: build (mpo, hpo, gwas, hpo-temporal), save/load artifacts, splits, stats."""

from genepheno_core.datasets.artifact import Dataset, dataset_dir, load_dataset, load_manifest_ontology, save_dataset
from genepheno_core.datasets.builders import build_dataset, load_labels_dataset
from genepheno_core.datasets.config import DATASET_NAMES, DEFAULT_EVIDENCE, DatasetConfig
from genepheno_core.datasets.stats import dataset_stats, format_stats, stats_table

__all__ = [
    "DATASET_NAMES",
    "DEFAULT_EVIDENCE",
    "Dataset",
    "DatasetConfig",
    "build_dataset",
    "dataset_dir",
    "dataset_stats",
    "format_stats",
    "load_dataset",
    "load_labels_dataset",
    "load_manifest_ontology",
    "save_dataset",
    "stats_table",
]
