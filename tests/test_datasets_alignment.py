"""DIAMOND local alignments on hand-made proteins: identity, length, both directions, cache."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from genepheno_core.datasets import alignment
from genepheno_core.datasets.alignment import HIT_COLUMNS, all_vs_all, local_alignments
from genepheno_core.errors import MissingDataError

from _proteins import domain_pair, random_protein, substitute

needs_diamond = pytest.mark.skipif(shutil.which("diamond") is None, reason="diamond not installed")

@needs_diamond
def test_local_alignment_of_a_shared_domain_and_of_unrelated_proteins(tmp_home):
    a, b, _ = domain_pair()
    rng = np.random.default_rng(7)
    unrelated = random_protein(rng, 200)
    hits = local_alignments([b, unrelated, a], [a], threads=1, evalue=1e-3)
    assert list(hits.columns) == HIT_COLUMNS
    by_query = {q: rows for q, rows in hits.groupby("query")}
    # the unrelated protein has no hit; a finds itself in full
    assert 1 not in by_query
    assert by_query[2][["identity", "length"]].values.tolist() == [[1.0, 200]]
    # b aligns over the shared 60 residues, 30 of them identical (the extension may take
    # in a flanking residue that matches by chance: here one, 31 / 61)
    (target, identity, length), = by_query[0][["target", "identity", "length"]].values.tolist()
    assert target == 0 and abs(length - 60) <= 2 and identity == pytest.approx(0.5, abs=0.02)


@needs_diamond
def test_all_vs_all_drops_self_hits_reports_both_directions_and_caches(tmp_home, monkeypatch):
    a, b, _ = domain_pair()
    c = random_protein(np.random.default_rng(7), 150)
    hits = all_vs_all([a, b, c], threads=1, evalue=1e-3)
    assert sorted(set(zip(hits["query"], hits["target"]))) == [(0, 1), (1, 0)]
    assert (hits["query"] != hits["target"]).all()
    assert list((tmp_home / "diamond").glob("aln-*.tsv"))
    # the second search comes from the cache: no diamond needed, same table and dtypes
    monkeypatch.setattr(alignment.shutil, "which", lambda name: None)
    again = all_vs_all([a, b, c], threads=1, evalue=1e-3)
    assert again.equals(hits)
    # another parameter is another search
    with pytest.raises(MissingDataError, match="diamond"):
        all_vs_all([a, b, c], threads=1, evalue=1e-2)


def test_empty_search_is_a_typed_empty_table(tmp_home):
    hits = local_alignments([], ["MKV"], cache=False)
    assert hits.empty and list(hits.columns) == HIT_COLUMNS
    assert hits["query"].dtype == np.int64 and hits["identity"].dtype == np.float64


def test_missing_diamond_is_a_clear_error(tmp_home, monkeypatch):
    monkeypatch.setattr(alignment.shutil, "which", lambda name: None)
    with pytest.raises(MissingDataError, match="diamond-aligner"):
        local_alignments(["MKVLAAGIV"], ["MKVLAAGIV"])


@needs_diamond
def test_query_indexed_search_finds_the_same_domain(tmp_home):
    rng = np.random.default_rng(5)
    a = random_protein(rng, 300)
    b = substitute(rng, a, 30)  # 90 % identity: found in DIAMOND's default mode
    unrelated = random_protein(rng, 300)
    default = local_alignments([b], [a, unrelated], threads=1, sensitivity="")
    indexed = local_alignments([b], [a, unrelated], threads=1, sensitivity="", algo="1")
    assert len(default) == len(indexed) == 1
    assert indexed["identity"].iloc[0] == default["identity"].iloc[0]
