"""Phenotype graphs on the toy model: phi correlation, W_p cosine, exclusion pairs with their
co-prediction rate, ontology neighbourhood."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from _interpret_toy import toy_dataset
from genepheno_core.errors import GenePhenoError
from genepheno_core.interpret import correlation_graph, exclusion_graph, term_neighbourhood
from genepheno_core.interpret.model_store import model_extras
from genepheno_core.interpret.graphs import pair_coprediction, phi_correlation


pytestmark = pytest.mark.usefixtures("toy_home")  # GENEPHENO_HOME for the toy model (conftest.py)


def test_phi_matches_numpy_corrcoef():
    rng = np.random.default_rng(1)
    Y = (rng.random((50, 6)) < 0.4).astype(np.uint8)
    Y[:, 5] = 0  # a constant column gets 0, not NaN
    corr, both = phi_correlation(sp.csr_matrix(Y), range(6))
    ref = np.corrcoef(Y[:, :5].T.astype(float))
    np.testing.assert_allclose(corr[:5, :5], ref, atol=1e-12)
    assert (corr[5] == 0).all()
    assert both[0, 1] == int((Y[:, 0] & Y[:, 1]).sum())


def test_correlation_graph_around_a_term(model):
    g, nodes, edges = correlation_graph(model, terms=["HP:0012638"], min_corr=0.3, max_nodes=6)
    assert isinstance(g, nx.Graph)
    assert nodes["term_id"].iloc[0] == "HP:0012638" and nodes["seed"].iloc[0]
    assert len(nodes) <= 6 and set(g.nodes) == set(nodes["term_id"])
    assert g.number_of_edges() == len(edges)
    assert (edges["correlation"] >= 0.3).all()
    assert (edges["weight"] == edges["correlation"]).all()
    # ancestor-descendant pairs are excluded (HP:0000707 is HP:0012638's ancestor)
    pairs = set(map(frozenset, zip(edges["term_a"], edges["term_b"])))
    assert frozenset({"HP:0012638", "HP:0000707"}) not in pairs
    assert "HP:0000707" not in set(nodes["term_id"])
    # hand check of one edge against the training labels and W_p
    ex = model_extras(model)
    ids = list(model.terms["term_id"])
    row = edges.iloc[0]
    a, b = ids.index(row["term_a"]), ids.index(row["term_b"])
    Y = ex.train_labels.toarray().astype(float)
    assert row["correlation"] == pytest.approx(np.corrcoef(Y[:, a], Y[:, b])[0, 1])
    W = model.W_p
    assert row["wp_cosine"] == pytest.approx(W[a] @ W[b] / np.linalg.norm(W[a]) / np.linalg.norm(W[b]), abs=1e-6)
    assert row["n_both"] == int((Y[:, a] * Y[:, b]).sum())


def test_correlation_graph_from_dataset_and_related():
    ds, _, _ = toy_dataset()
    g, nodes, edges = correlation_graph(ds, min_corr=-1.0, include_related=True, max_nodes=10)
    # depth >= 3 terms only, all pairs (min_corr -1), W_p similarity unavailable
    assert set(nodes["depth"]) >= {3} and (nodes["depth"] >= 3).all()
    n = len(nodes)
    assert len(edges) == n * (n - 1) // 2
    assert edges["wp_cosine"].isna().all()


def test_exclusion_graph(model):
    g, nodes, edges = exclusion_graph(model)
    assert set(map(frozenset, zip(edges["term_a"], edges["term_b"]))) == {
        frozenset({"HP:0012638", "HP:0012639"}), frozenset({"HP:0001507", "HP:0003011"})}
    assert (edges["rule"] == "user").all()
    assert set(g.nodes) == set(nodes["term_id"])
    scores = np.zeros((4, len(model.terms)))
    ids = list(model.terms["term_id"])
    scores[:2, ids.index("HP:0012638")] = 0.9
    scores[1:, ids.index("HP:0012639")] = 0.9  # both above threshold for gene 1 only
    g, nodes, edges = exclusion_graph(model, terms=["HP:0012639"], scores=scores, threshold=0.5)
    assert len(edges) == 1
    assert edges["both_predicted"].iloc[0] == pytest.approx(0.25)
    assert edges["n_scored"].iloc[0] == 4
    assert nodes.set_index("term_id").loc["HP:0012639", "seed"]


def test_pair_coprediction_unknown_terms():
    pairs = pd.DataFrame({"term_a": ["A", "A"], "term_b": ["B", "Z"], "rule": "user", "overlap": 0.0})
    out = pair_coprediction(pairs, ["A", "B"], np.array([[0.6, 0.7], [0.6, 0.1]]), 0.5)
    assert out["both_predicted"].iloc[0] == pytest.approx(0.5)
    assert np.isnan(out["both_predicted"].iloc[1])


def test_term_neighbourhood(model):
    df = term_neighbourhood(model, "HP:0012639")
    assert list(df["relation"]) == ["ancestor", "self", "child"]
    assert list(df["term_id"]) == ["HP:0000707", "HP:0012639", "HP:0002011"]
    root = term_neighbourhood(model, "HP:0000707")
    # direct children only: HP:0002011 is a grandchild (via HP:0012639)
    assert set(root.loc[root["relation"] == "child", "term_id"]) == {"HP:0012638", "HP:0012639"}
    with pytest.raises(GenePhenoError):
        term_neighbourhood(model, "HP:9999999")
    with pytest.raises(GenePhenoError):
        correlation_graph(model, terms=["HP:9999999"])
