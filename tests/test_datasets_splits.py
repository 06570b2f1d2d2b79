"""Splits: seeded random, whole-cluster homology assignment, temporal, MMseqs2 + cache, the
local-alignment homology rule and the residual similarity on hand-made proteins."""

from __future__ import annotations

import shutil
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from _proteins import domain_pair, random_protein

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


# ------------------------------------------------------------- local-alignment rule

needs_diamond = pytest.mark.skipif(shutil.which("diamond") is None, reason="diamond not installed")


def test_linking_hits_thresholds_are_inclusive():
    hits = pd.DataFrame({"query": [0, 0, 1, 2], "target": [1, 2, 2, 3],
                         "identity": [0.3, 0.29, 0.9, 0.5], "length": [50, 200, 49, 51]})
    assert splits.linking_hits(hits).index.tolist() == [0, 3]
    assert splits.linking_hits(hits, min_identity=0.5, min_length=10).index.tolist() == [2, 3]


def test_component_summary_by_hand():
    # 100 items: one family of 40, one of 2, 58 singletons; valid/test targets are 10 each,
    # so with max_share 0.1 a cluster of more than 1 item only fits in train
    labels = np.concatenate([np.zeros(40), np.ones(2), np.arange(2, 60)])
    assert splits.component_summary(labels) == {"clusters": 60, "largest": 40, "train_only_share": 0.42}
    assert splits.component_summary(labels, max_share=0.5)["train_only_share"] == 0.40


def _domain_fixture():
    """a, b share a 60-residue segment at 50 % identity; 100 others are unrelated (enough
    that a cluster of 2 is at most cluster_split's max_share of a 25 % part)."""
    a, b, _ = domain_pair()
    rng = np.random.default_rng(11)
    others = [random_protein(rng, 120) for _ in range(100)]
    return [a, b, *others]


@needs_diamond
def test_local_rule_keeps_a_shared_domain_together_and_separates_unrelated_proteins(tmp_home):
    seqs = _domain_fixture()
    ids = [f"P{i}" for i in range(len(seqs))]
    labels = splits.local_homology_components(seqs, threads=1)
    # a and b are one component; every other protein is alone
    assert labels[0] == labels[1]
    assert len(set(labels.tolist())) == len(seqs) - 1
    seen = set()
    for seed in range(8):
        parts, clusters = splits.homology_split(ids, seqs, (0.5, 0.25, 0.25), seed, threads=1)
        assert (clusters == labels).all()
        assert parts[0] == parts[1]
        seen.add(parts[0])
        seen.add(parts[2] == parts[3])
    # the pair is not simply always in train, and unrelated proteins do land on different sides
    assert {"valid", "test"} & seen and False in seen
    # a stricter identity threshold than the shared 50 % unlinks them
    assert len(set(splits.local_homology_components(seqs, min_identity=0.6, threads=1).tolist())) == len(seqs)


@needs_diamond
def test_linked_to_finds_the_database_proteins_a_query_shares_a_linking_segment_with(tmp_home):
    """linked_to: a database protein sharing the split's linking alignment (here a 60-residue
    segment at 50 % identity) with any query, or identical to one, is flagged; unrelated
    proteins are not; a stricter identity threshold unlinks the shared segment."""
    a, b, _ = domain_pair()
    rng = np.random.default_rng(12)
    short = random_protein(rng, 30)  # too short for the linking rule: flagged as identical only
    others = [random_protein(rng, 120) for _ in range(20)]
    database = [others[0], b, others[1], short, *others[2:]]
    linked = splits.linked_to([a, short], database, threads=1)
    assert linked.tolist() == [False, True, False, True] + [False] * 18
    assert splits.linked_to([a, short], database, min_identity=0.6, threads=1).tolist() == \
        [False, False, False, True] + [False] * 18
    assert splits.linked_to([], database).tolist() == [False] * len(database)


@needs_diamond
@pytest.mark.skipif(shutil.which("mmseqs") is None, reason="MMseqs2 not installed")
@pytest.mark.slow
def test_mmseqs_rule_misses_the_shared_domain(tmp_home):
    """The first-generation rule (80 % coverage of both sequences) lets a and b apart:
    the leak the local rule closes."""
    seqs = _domain_fixture()
    ids = [f"P{i}" for i in range(len(seqs))]
    _, reps = splits.homology_split(ids, seqs, threads=1, rule="mmseqs")
    assert reps[0] != reps[1]


def test_homology_split_rejects_an_unknown_rule_and_duplicate_ids():
    from genepheno_core.errors import GenePhenoError

    with pytest.raises(GenePhenoError, match="rule"):
        splits.homology_split(["a"], ["MKV"], rule="blast")
    with pytest.raises(GenePhenoError, match="unique"):
        splits.homology_split(["a", "a"], ["MKV", "MKV"])


@needs_diamond
def test_residual_similarity_by_hand(tmp_home):
    a, b, segment = domain_pair()
    rng = np.random.default_rng(5)
    c, d, e = (random_protein(rng, 150) for _ in range(3))
    # train: a, c, e; test: b (a's domain at 50 %), a copy of c, d (unrelated); valid: e's
    # first 100 residues
    seqs = [a, c, e, b, c, d, e[:100]]
    parts = ["train", "train", "train", "test", "test", "test", "valid"]
    best = splits.best_hits_to_train(seqs, parts, threads=1)
    assert best["index"].tolist() == [3, 4, 5, 6]
    assert best["has_hit"].tolist() == [True, True, False, True]
    assert best["linked"].tolist() == [True, True, False, True]
    assert best["identity"].tolist()[1:] == [1.0, 0.0, 1.0]
    assert best["length"].tolist()[1:] == [150, 0, 100]
    assert best["identity"].iloc[0] == pytest.approx(0.5, abs=0.02) and abs(best["length"].iloc[0] - 60) <= 2
    summary = splits.residual_similarity([f"P{i}" for i in range(7)], seqs, parts, threads=1)
    test = summary["test"]
    assert test["n"] == 3 and test["with_hit"] == pytest.approx(2 / 3) and test["linked"] == pytest.approx(2 / 3)
    # best identities (0.5, 1.0, 0): median 0.5, max 1.0
    assert test["best_identity"]["q50"] == pytest.approx(0.5, abs=0.02) and test["best_identity"]["q100"] == 1.0
    assert summary["valid"] == {"n": 1, "with_hit": 1.0, "linked": 1.0,
                                "best_identity": {"q50": 1.0, "q90": 1.0, "q99": 1.0, "q100": 1.0},
                                "median_length_of_best": 100.0}
    # a split that keeps the related proteins together leaves no link across it
    apart = splits.residual_similarity([f"P{i}" for i in range(7)], seqs,
                                       ["train", "train", "test", "train", "train", "test", "test"], threads=1)
    assert apart["test"]["linked"] == 0.0 and apart["test"]["n"] == 3


def test_residual_similarity_checks_lengths():
    from genepheno_core.errors import GenePhenoError

    with pytest.raises(GenePhenoError, match="2 split labels for 1 sequences"):
        splits.best_hits_to_train(["MKV"], ["train", "test"])


def test_links_found_by_the_held_out_search_are_added_until_none_remain(monkeypatch):
    """The held-out search (valid+test against train) can find a link the all-vs-all search
    missed: the split is redone with it until no link crosses the train boundary."""
    from genepheno_core.datasets.alignment import HIT_COLUMNS

    n = 120
    seqs = [f"M{i:03d}" for i in range(n)]
    monkeypatch.setattr(splits, "all_vs_all", lambda *a, **k: pd.DataFrame(columns=HIT_COLUMNS))
    rounds = []

    def held_out(sequences, parts, threads):
        # proteins 0 and 1 align (>= 30 % over >= 50) only in this search
        rounds.append(parts.copy())
        crossing = (parts[0] == "train") != (parts[1] == "train")
        if not crossing:
            return pd.DataFrame(columns=HIT_COLUMNS)
        q, t = (0, 1) if parts[1] == "train" else (1, 0)
        return pd.DataFrame([[q, t, 0.4, 60, 1e-5, 40.0]], columns=HIT_COLUMNS)

    monkeypatch.setattr(splits, "_held_out_hits", held_out)
    repaired = 0
    for seed in range(10):
        rounds.clear()
        parts, labels = splits.homology_split(seqs, seqs, (0.5, 0.25, 0.25), seed)
        assert (parts[0] == "train") == (parts[1] == "train")
        if len(rounds) > 1:
            repaired += 1
            assert labels[0] == labels[1] and len(rounds) == 2
    assert repaired > 0
