"""Splits: seeded random, whole-cluster homology assignment, temporal, MMseqs2 + cache."""

from __future__ import annotations

import shutil
from collections import Counter

import numpy as np
import pytest

from genepheno_core.datasets import splits
from genepheno_core.datasets.splits import cluster_split, random_split, sequence_set_key, temporal_split


def test_random_split_sizes_and_seed():
    parts = random_split(1000, (0.8, 0.1, 0.1), seed=3)
    assert Counter(parts) == {"train": 800, "valid": 100, "test": 100}
    assert (random_split(1000, seed=3) == parts).all()
    assert not (random_split(1000, seed=4) == parts).all()
    # rounding: valid and test rounded, train gets the rest
    assert Counter(random_split(7, (0.8, 0.1, 0.1))) == {"train": 5, "valid": 1, "test": 1}


def test_cluster_split_never_splits_a_cluster_and_hits_the_targets():
    rng = np.random.default_rng(0)
    # 2000 items in clusters of size 1..20, plus one family of 150
    labels = np.concatenate([np.repeat(np.arange(300), rng.integers(1, 12, 300)), np.full(150, 999)])
    parts = cluster_split(labels, (0.8, 0.1, 0.1), seed=1)
    for cluster in np.unique(labels):
        assert len(set(parts[labels == cluster])) == 1
    counts = Counter(parts)
    n = len(labels)
    # valid and test within their target + 2 % slack; nothing lost
    assert abs(counts["valid"] - 0.1 * n) <= 0.02 * n + 1
    assert abs(counts["test"] - 0.1 * n) <= 0.02 * n + 1
    assert sum(counts.values()) == n
    # the big family does not fit into valid/test: it goes to train
    assert set(parts[labels == 999]) == {"train"}
    assert (cluster_split(labels, seed=1) == parts).all()


def test_cluster_split_of_singletons_is_like_a_random_split():
    parts = cluster_split(np.arange(100), (0.8, 0.1, 0.1), seed=0)
    assert Counter(parts) == {"train": 80, "valid": 10, "test": 10}


def test_temporal_split():
    is_new = np.array([False] * 20 + [True] * 5)
    parts = temporal_split(is_new, valid_fraction=0.1, seed=0)
    assert list(parts[20:]) == ["test"] * 5
    assert Counter(parts[:20]) == {"train": 18, "valid": 2}


def test_sequence_set_key_is_order_free_and_parameter_sensitive():
    a = sequence_set_key(["x", "y"], ["MKV", "MAA"], "p")
    assert a == sequence_set_key(["y", "x"], ["MAA", "MKV"], "p")
    assert a != sequence_set_key(["x", "y"], ["MKV", "MAV"], "p")
    assert a != sequence_set_key(["x", "y"], ["MKV", "MAA"], "q")


SEQ_A = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVVHSLAKWKRQTLGQHDFSAGEGLYTHMKALRPDEDRLSPLHSVYVDQWDWE"
SEQ_B = "MSDNGPQNQRNAPRITFGGPSDSTGSNQNGERSGARSKQRRPQGLPNNTASWFTALTQHGKEDLKFPRGQGVPINTNSSPDDQIGYYRRATRRIRGGDGKMKDLSPRWYFYYLGTGPEAG"


def _mutate(seq: str, every: int) -> str:
    return "".join("W" if i % every == 0 else c for i, c in enumerate(seq))


@pytest.mark.skipif(shutil.which("mmseqs") is None, reason="MMseqs2 not installed (Debian package mmseqs2)")
@pytest.mark.slow
def test_mmseqs_clusters_homologues_together_and_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    ids = ["a1", "a2", "b1", "b2"]
    seqs = [SEQ_A, _mutate(SEQ_A, 10), SEQ_B, _mutate(SEQ_B, 9)]
    mapping = splits.mmseqs_clusters(ids, seqs, threads=1)
    assert mapping["a1"] == mapping["a2"]
    assert mapping["b1"] == mapping["b2"]
    assert mapping["a1"] != mapping["b1"]
    cached = list((tmp_path / "cache" / "mmseqs").glob("*.tsv"))
    assert len(cached) == 1

    def no_binary(name):
        raise AssertionError("should have used the cache")

    monkeypatch.setattr(splits.shutil, "which", no_binary)
    assert splits.mmseqs_clusters(list(reversed(ids)), list(reversed(seqs)), threads=1) == mapping


def test_missing_mmseqs_is_a_clear_error(tmp_path, monkeypatch):
    from genepheno_core.errors import MissingDataError

    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    monkeypatch.setattr(splits.shutil, "which", lambda name: None)
    with pytest.raises(MissingDataError, match="mmseqs2"):
        splits.mmseqs_clusters(["a"], ["MKV"])
