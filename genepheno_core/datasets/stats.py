"""Summary statistics of a Dataset (`data stats NAME` prints these)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

# Term frequency bins used in the paper's per-bin AUC: (label, lowest, highest inclusive)
FREQUENCY_BINS: tuple[tuple[str, int, float], ...] = (
    ("11-30", 11, 30),
    ("31-100", 31, 100),
    ("101-300", 101, 300),
    (">=301", 301, np.inf),
)


def frequency_bin_counts(n_genes_per_term, bins=FREQUENCY_BINS) -> dict[str, int]:
    """{bin label: number of terms whose gene count falls in the bin}; terms below the
    first bin are counted under "<11" (only present when min_genes < 11)."""
    counts = np.asarray(n_genes_per_term)
    out = {}
    below = int((counts < bins[0][1]).sum())
    if below:
        out[f"<{bins[0][1]}"] = below
    for label, low, high in bins:
        out[label] = int(((counts >= low) & (counts <= high)).sum())
    return out


def dataset_stats(ds) -> dict:
    """Counts of a Dataset as a JSON-ready dict (see `stats_table` for a flat table)."""
    per_gene = np.diff(ds.labels.indptr)
    go_per_gene = np.diff(ds.go.indptr)
    n = ds.n_genes
    stats = {
        "name": ds.name,
        "genes": int(n),
        "terms": int(ds.n_terms),
        "annotations": int(ds.labels.nnz),
        "labels_per_gene_mean": float(per_gene.mean()) if n else 0.0,
        "labels_per_gene_median": float(np.median(per_gene)) if n else 0.0,
        "terms_per_frequency_bin": frequency_bin_counts(ds.terms["n_genes"].to_numpy()),
        "go_terms": int(ds.n_go),
        "genes_with_go": int((go_per_gene > 0).sum()),
        "go_coverage": float((go_per_gene > 0).mean()) if n else 0.0,
        "go_annotations_per_gene_mean": float(go_per_gene.mean()) if n else 0.0,
        "splits": {
            column: {part: int((ds.splits[column] == part).sum()) for part in ("train", "valid", "test")}
            for column in ds.splits.columns
        },
    }
    return stats


def stats_table(stats: dict) -> pd.DataFrame:
    """Flatten `dataset_stats` output into a two-column DataFrame[statistic, value]."""
    rows = []
    for key, value in stats.items():
        if isinstance(value, dict):
            for sub, inner in value.items():
                if isinstance(inner, dict):
                    for part, v in inner.items():
                        rows.append((f"{key}.{sub}.{part}", v))
                else:
                    rows.append((f"{key}.{sub}", inner))
        else:
            rows.append((key, value))
    return pd.DataFrame(rows, columns=["statistic", "value"])


def format_stats(stats: dict) -> str:
    """Human-readable multi-line summary."""
    lines = [
        f"dataset            {stats['name']}",
        f"genes              {stats['genes']:,}",
        f"terms              {stats['terms']:,}",
        f"annotations        {stats['annotations']:,}",
        f"labels per gene    mean {stats['labels_per_gene_mean']:.1f}, median {stats['labels_per_gene_median']:.0f}",
        "terms per frequency bin (annotated genes)",
    ]
    for label, count in stats["terms_per_frequency_bin"].items():
        lines.append(f"  {label:<16} {count:,}")
    lines.append(
        f"GO                 {stats['go_terms']:,} terms; {stats['genes_with_go']:,} genes with GO "
        f"({100 * stats['go_coverage']:.1f} %), mean {stats['go_annotations_per_gene_mean']:.1f} per gene"
    )
    for column, parts in stats["splits"].items():
        sizes = ", ".join(f"{p} {n:,}" for p, n in parts.items())
        lines.append(f"split {column:<12} {sizes}")
    return "\n".join(lines)
