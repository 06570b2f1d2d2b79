"""Summary statistics of a Dataset (`data stats NAME` prints these)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from genepheno_core.datasets.splits import residual_similarity

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
    if hasattr(ds, "split_vocabulary"):
        # what each split trains and scores: terms with >= min_genes of its training genes
        stats["vocabulary"] = {}
        for column in ds.splits.columns:
            keep = ds.split_vocabulary(column)
            stats["vocabulary"][column] = {"terms": int(keep.sum()), "terms_not_in_train": int((~keep).sum())}
    drops = (ds.manifest or {}).get("drops")
    if drops:
        stats["drops"] = drops  # what each build step dropped (builders' counts)
    return stats


def split_similarity(ds, threads: int = 2, compute: bool = True) -> dict[str, dict]:
    """{split column: `splits.residual_similarity` summary} of a Dataset: the builder's copy
    in manifest["residual_similarity"][column] when present, else (with `compute`) computed
    with DIAMOND (cached under genepheno_home()/diamond/) with the dataset config's rule;
    without `compute`, columns the manifest lacks are left out."""
    stored = ds.manifest.get("residual_similarity") or {}
    config = ds.manifest.get("config") or {}
    out = {}
    for column in ds.splits.columns:
        if column in stored:
            out[column] = stored[column]
            continue
        if not compute:
            continue
        logger.info("residual similarity of split %r: not in the manifest, computing it", column)
        out[column] = residual_similarity(
            ds.genes["accession"].tolist(), ds.genes["sequence"].tolist(), ds.splits[column].to_numpy(),
            config.get("homology_min_identity", 0.3), config.get("homology_min_length", 50), threads,
        )
    return out


def stats_table(stats: dict) -> pd.DataFrame:
    """Flatten `dataset_stats` output (nested dicts) into DataFrame[statistic, value] with
    dotted names, e.g. splits.homology.train."""
    rows = []

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            rows.append((prefix, value))

    walk("", stats)
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
    for column, voc in (stats.get("vocabulary") or {}).items():
        lines.append(f"vocabulary {column:<7} {voc['terms']:,} terms trained and scored (>= min_genes training "
                     f"genes); {voc['terms_not_in_train']:,} reach it only with valid/test genes")
    if stats.get("drops"):
        lines.append("build drops")
        for key, value in stats["drops"].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                lines.append(f"  {key:<48} {value:,}")
    if stats.get("residual_similarity"):
        lines.extend(format_similarity(stats["residual_similarity"]))
    return "\n".join(lines)


def format_similarity(similarity: dict[str, dict]) -> list[str]:
    """Lines of the residual similarity table ({column: residual_similarity summary})."""
    rule = next(iter(similarity.values())).get("rule", {})
    lines = [
        "residual similarity to training (best DIAMOND identity of each protein; linked = a hit of "
        f">= {100 * rule.get('min_identity', 0.3):.0f} % identity over >= {rule.get('min_length', 50)} residues)",
        f"  {'split':<12} {'part':<6} {'n':>6} {'any hit':>8} {'linked':>7} {'median':>7} {'q90':>6} {'max':>6}",
    ]
    for column, summary in similarity.items():
        for part in ("valid", "test"):
            s = summary.get(part)
            if not s:
                continue
            best = s["best_identity"]
            lines.append(
                f"  {column:<12} {part:<6} {s['n']:>6,} {100 * s['with_hit']:>7.1f}% {100 * s['linked']:>6.1f}% "
                f"{100 * best['q50']:>6.1f}% {100 * best['q90']:>5.1f}% {100 * best['q100']:>5.1f}%"
            )
    return lines
