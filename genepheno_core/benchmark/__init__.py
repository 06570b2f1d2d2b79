"""The benchmark: every method x dataset x split x seed through one trainer and one evaluator.

Above training in the data flow: `config` (what to run, cell keys from the method registry),
`resources` (peak memory, environment), `grid` (run, resume and collect cells) and `tables`
(Markdown / CSV / JSON from the cells).
"""

from genepheno_core.benchmark.config import (
    ABLATIONS,
    BASELINES,
    DATASETS,
    DETERMINISTIC_METHODS,
    LEAKAGE_DATASET,
    LEAKAGE_DATASETS,
    NEGATIVE_CONTROL_DATASETS,
    METHODS,
    REFERENCES,
    SMOKE_METHODS,
    BenchmarkConfig,
    cell_config_key,
    cell_id,
    default_splits,
)
from genepheno_core.benchmark.grid import (
    collect_cells,
    dataset_manifest_summary,
    evaluate_cell,
    load_benchmark_dataset,
    load_smoke_dataset,
    run_benchmark,
    run_cell,
)
from genepheno_core.benchmark.tables import render_markdown, summarize, write_tables

__all__ = [
    "ABLATIONS",
    "BASELINES",
    "DATASETS",
    "DETERMINISTIC_METHODS",
    "LEAKAGE_DATASET",
    "LEAKAGE_DATASETS",
    "NEGATIVE_CONTROL_DATASETS",
    "METHODS",
    "REFERENCES",
    "SMOKE_METHODS",
    "BenchmarkConfig",
    "cell_config_key",
    "cell_id",
    "collect_cells",
    "dataset_manifest_summary",
    "default_splits",
    "evaluate_cell",
    "load_benchmark_dataset",
    "load_smoke_dataset",
    "render_markdown",
    "run_benchmark",
    "run_cell",
    "summarize",
    "write_tables",
]
