"""nearest_proteins(): DIAMOND hits among the model's training proteins."""

from __future__ import annotations

import shutil

import pytest

from _explain_toy import temp_home, toy_genes, toy_model
from genepheno_core.explain import nearest_proteins
from genepheno_core.explain.default_model import model_extras
from genepheno_core.explain.neighbours import NEAREST_COLUMNS

pytestmark = pytest.mark.skipif(shutil.which("diamond") is None, reason="diamond not installed")


@pytest.fixture(scope="session")
def model(tmp_path_factory):
    return toy_model(tmp_path_factory)


@pytest.fixture(autouse=True)
def _home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("GENEPHENO_HOME", str(temp_home(tmp_path_factory)))


def test_training_protein_finds_itself(model):
    genes = toy_genes()
    train = genes[genes["split"] == "train"].iloc[:2]
    queries = list(zip(["a", "b"], train["sequence"]))
    hits = nearest_proteins(model, queries, k=3)
    assert list(hits.columns) == NEAREST_COLUMNS
    for q, (_, row) in zip(["a", "b"], train.iterrows()):
        sub = hits[hits["query"] == q]
        assert 1 <= len(sub) <= 3
        best = sub.iloc[0]
        assert best["accession"] == row["accession"] and best["symbol"] == row["symbol"]
        assert best["identity"] == pytest.approx(100.0)
        assert list(sub["bitscore"]) == sorted(sub["bitscore"], reverse=True)
        assert set(best["phenotypes"]) == set(t for t in row["terms"].split(";") if t)
    # most specific phenotypes first
    depth = dict(zip(model_extras(model).terms["term_id"], model_extras(model).terms["depth"]))
    d = [depth[t] for t in hits["phenotypes"].iloc[0]]
    assert d == sorted(d, reverse=True)


def test_query_without_hits(model):
    hits = nearest_proteins(model, [("poly", "WP" * 20)], k=5)
    assert hits.empty and list(hits.columns) == NEAREST_COLUMNS
