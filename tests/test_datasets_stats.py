"""Dataset statistics against hand counts on a tiny dataset."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

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


def _stored_similarity(linked: float) -> dict:
    part = {"n": 10, "with_hit": 0.5, "linked": linked,
            "best_identity": {"q50": 0.25, "q90": 0.5, "q99": 0.75, "q100": 1.0}, "median_length_of_best": 80.0}
    return {"rule": {"min_identity": 0.3, "min_length": 50}, "valid": part, "test": dict(part, n=20)}


def test_split_similarity_reads_the_manifest_and_prints_a_row_per_part(monkeypatch):
    from genepheno_core.datasets import stats as stats_module

    ds = three_gene_dataset()
    ds.manifest["residual_similarity"] = {"random": _stored_similarity(0.4), "homology": _stored_similarity(0.0)}

    def no_search(*args, **kwargs):
        raise AssertionError("stored values must not be recomputed")

    monkeypatch.setattr(stats_module, "residual_similarity", no_search)
    similarity = stats_module.split_similarity(ds)
    assert similarity["homology"]["test"]["linked"] == 0.0 and similarity["random"]["valid"]["linked"] == 0.4
    stats = dict(dataset_stats(ds), residual_similarity=similarity)
    lines = format_stats(stats).splitlines()
    assert "30 % identity over >= 50 residues" in lines[-6]
    assert lines[-3].split() == ["random", "test", "20", "50.0%", "40.0%", "25.0%", "50.0%", "100.0%"]
    assert lines[-1].split() == ["homology", "test", "20", "50.0%", "0.0%", "25.0%", "50.0%", "100.0%"]
    flat = dict(zip(stats_table(stats)["statistic"], stats_table(stats)["value"]))
    assert flat["residual_similarity.random.test.best_identity.q90"] == 0.5
    # a column the manifest lacks is left out without compute
    del ds.manifest["residual_similarity"]["random"]
    assert list(stats_module.split_similarity(ds, compute=False)) == ["homology"]


@pytest.mark.skipif(shutil.which("diamond") is None, reason="diamond not installed")
def test_split_similarity_computed_when_the_manifest_lacks_it(tmp_home):
    from genepheno_core.datasets.stats import split_similarity

    rng = np.random.default_rng(3)
    amino = np.array(list("ACDEFGHIKLMNPQRSTVWY"))
    x, y = ("".join(rng.choice(amino, 120)) for _ in range(2))
    ds = three_gene_dataset()
    ds.genes["sequence"] = [x, x, y]
    similarity = split_similarity(ds, threads=1)
    # random: train g1, valid g2 (a copy of g1), test g3 (unrelated)
    assert similarity["random"]["valid"]["linked"] == 1.0
    assert similarity["random"]["valid"]["best_identity"]["q100"] == 1.0
    assert similarity["random"]["test"]["with_hit"] == 0.0
    # homology: train g1, g2; test g3; no valid part
    assert similarity["homology"]["valid"]["n"] == 0 and similarity["homology"]["test"]["linked"] == 0.0


def test_stats_report_each_split_vocabulary_and_the_build_drops():
    from genepheno_core.datasets.stats import dataset_stats, format_stats

    ds = three_gene_dataset()
    ds.manifest["drops"] = {"pairs_above_p_threshold": 12, "label_remap": {"kept": 3}}
    stats = dataset_stats(ds)
    # random: T:3 only on g2 (valid) and g3 (test); homology: g2 is a training gene
    assert stats["vocabulary"] == {"random": {"terms": 2, "terms_not_in_train": 1},
                                   "homology": {"terms": 3, "terms_not_in_train": 0}}
    text = format_stats(stats)
    assert "vocabulary random  2 terms trained and scored" in text and "1 reach it only with valid/test" in text
    assert "pairs_above_p_threshold" in text and "label_remap" not in text  # counts only
