"""Dataset statistics against hand counts on a tiny dataset."""

from __future__ import annotations

from _datasets_inputs import three_gene_dataset
from genepheno_core.datasets.stats import dataset_stats, format_stats, frequency_bin_counts, stats_table


def test_frequency_bins_edges():
    assert frequency_bin_counts([11, 30, 31, 100, 101, 300, 301, 5000]) == {
        "11-30": 2, "31-100": 2, "101-300": 2, ">=301": 2}
    assert frequency_bin_counts([3, 11]) == {"<11": 1, "11-30": 1, "31-100": 0, "101-300": 0, ">=301": 0}


def test_dataset_stats_by_hand():
    stats = dataset_stats(three_gene_dataset())
    # labels rows: [1,1,0], [1,0,1], [0,0,1] -> 5 annotations, 2/2/1 per gene
    assert stats["genes"] == 3 and stats["terms"] == 3 and stats["annotations"] == 5
    assert stats["labels_per_gene_mean"] == 5 / 3
    assert stats["labels_per_gene_median"] == 2
    # GO rows: [1,0], [0,0], [1,1] -> 2 of 3 genes have GO
    assert stats["genes_with_go"] == 2
    assert stats["go_coverage"] == 2 / 3
    assert stats["splits"] == {"random": {"train": 1, "valid": 1, "test": 1},
                               "homology": {"train": 2, "valid": 0, "test": 1}}
    text = format_stats(stats)
    assert "annotations        5" in text and "split homology" in text
    table = stats_table(stats)
    assert dict(zip(table["statistic"], table["value"]))["splits.homology.train"] == 2
