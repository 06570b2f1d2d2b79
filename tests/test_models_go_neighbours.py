"""Functional neighbours (models.go_neighbours): the vote and the exact logit decomposition,
checked against values computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from genepheno_core.models.go_neighbours import PRIOR_ID, GoNeighbours, idf_weights, unit_rows


def _reference(k=2, alpha=0.2):
    # 3 training genes x 3 GO inputs, 2 phenotypes
    bags = np.array([[1, 1, 0], [1, 0, 1], [0, 0, 1]], dtype=np.float32)
    labels = np.array([[1, 0], [1, 1], [0, 1]], dtype=np.float32)
    genes = pd.DataFrame({"gene_id": ["a", "b", "c"], "symbol": ["A", "B", "C"], "accession": ["P1", "P2", "P3"]})
    return GoNeighbours(bags, labels, idf_weights(sp.csr_matrix(bags)), genes, k=k, alpha=alpha)


def test_idf_and_unit_rows_by_hand():
    bags = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [0, 0, 1]], dtype=np.float32))
    idf = idf_weights(bags)
    np.testing.assert_allclose(idf, np.log(4 / np.array([3, 2, 3])))
    rows = unit_rows(bags, idf).toarray()
    first = np.array([idf[0], idf[1], 0]) / np.hypot(idf[0], idf[1])
    np.testing.assert_allclose(rows[0], first)
    assert unit_rows(sp.csr_matrix((1, 3)), idf).nnz == 0  # an empty bag stays empty


def test_vote_keeps_the_k_most_similar_and_shrinks_to_the_frequency():
    nb = _reference(k=2)
    idf = nb.idf
    query = np.array([[1.0, 1.0, 0.0]])  # the same bag as gene a
    sims = unit_rows(sp.csr_matrix(query), idf).toarray() @ unit_rows(nb.bags, idf).toarray().T  # (1, 3)
    sims = sims[0]
    assert sims[0] == pytest.approx(1.0) and sims[2] == pytest.approx(0.0)
    # k = 2: a and b vote, weights sim^2
    w = np.array([sims[0] ** 2, sims[1] ** 2, 0.0])
    np.testing.assert_allclose(nb.weights(query).toarray()[0], w, atol=1e-12)
    prior = np.array([2 / 3, 2 / 3])
    by_hand = (w @ np.array([[1, 0], [1, 1], [0, 1]]) + prior) / (w.sum() + 1)
    np.testing.assert_allclose(nb.vote(query)[0], by_hand)
    # a protein with no GO gets the frequency
    np.testing.assert_allclose(nb.vote(np.zeros((1, 3)))[0], prior)
    # blend: (1 - alpha) p + alpha v
    p = np.array([[0.1, 0.9]])
    np.testing.assert_allclose(nb.blend(p, query), 0.8 * p + 0.2 * by_hand[None, :], rtol=1e-6)
    z = np.log(p / (1 - p))
    final = 0.8 * p + 0.2 * by_hand[None, :]
    np.testing.assert_allclose(nb.blend_logits(z, query), np.log(final / (1 - final)), rtol=1e-5)
    assert np.array_equal(nb.with_alpha(0.0).blend_logits(z.astype(np.float32), query), z.astype(np.float32))


def test_contributions_sum_to_what_the_neighbours_add_to_the_logit():
    nb = _reference(k=3, alpha=0.3)
    query = np.array([[1.0, 0.5, 0.2]])
    z = np.array([-1.5, 0.7])
    frame, table, has = nb.contributions(z, query, [0, 1])
    final = nb.blend_logits(z[None, :], query)[0].astype(np.float64)
    np.testing.assert_allclose(frame.sum(axis=0).to_numpy(), final - z, atol=1e-6)
    assert list(frame.index)[-1] == PRIOR_ID and list(frame.columns) == [0, 1]
    # most similar first; shares s_j = w_j / (W + 1)
    assert table["gene_id"].tolist()[0] == "a"
    w = table["similarity"].to_numpy() ** 2
    np.testing.assert_allclose(table["share"].to_numpy(), w / (w.sum() + 1))
    # a neighbour with the phenotype pushes it up when the model is below certainty, one
    # without pushes it down; `has` says which
    for gene in table["gene_id"]:
        for col in (0, 1):
            assert (frame.at[gene, col] > 0) == bool(has.at[gene, col])
    # the same shift in probability units, by hand, for gene a and phenotype 0
    q = 1 / (1 + np.exp(1.5))
    p = (1 - 0.3) * q + 0.3 * nb.vote(query)[0, 0]
    slope = (np.log(p / (1 - p)) + 1.5) / (p - q)
    s_a = table.set_index("gene_id").at["a", "share"]
    assert frame.at["a", 0] == pytest.approx(0.3 * s_a * (1 - q) * slope, rel=1e-6)


def test_contributions_when_the_vote_equals_the_model():
    nb = _reference(k=3, alpha=0.2)
    query = np.zeros((1, 3))  # no GO: the vote is the frequency 2/3
    z = np.array([np.log(2.0), np.log(2.0)])  # sigmoid = 2/3: nothing moves
    frame, _, _ = nb.contributions(z, query, [0, 1])
    np.testing.assert_allclose(frame.to_numpy(), 0.0, atol=1e-9)


def test_inconsistent_reference_is_refused():
    nb = _reference()
    with pytest.raises(ValueError, match="disagree"):
        GoNeighbours(nb.bags, nb.labels[:2], nb.idf, nb.genes)
    with pytest.raises(ValueError, match="IDF"):
        GoNeighbours(nb.bags, nb.labels, nb.idf[:2], nb.genes)
