"""Functional neighbours (models.go_neighbours): the vote and the exact logit decomposition,
checked against values computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from genepheno_core.models.go_neighbours import GoNeighbours, idf_weights, unit_rows


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
    # a protein with no GO gets the frequency
    np.testing.assert_allclose(nb.vote(np.zeros((1, 3)))[0], prior)


def _by_hand(p, v, f, alpha):
    """p + alpha (v - f) (1 - p) / (1 - f) where the vote is above the frequency, else
    p + alpha (v - f) p / f (element by element, plain Python)."""
    out = np.empty_like(p)
    for i in range(p.shape[0]):
        for j in range(p.shape[1]):
            d = v[i, j] - f[j]
            out[i, j] = p[i, j] + alpha * d * ((1 - p[i, j]) / (1 - f[j]) if d > 0 else p[i, j] / f[j])
    return out


def test_the_vote_moves_the_probability_by_its_excess_over_the_frequency():
    nb = _reference(k=2)
    query = np.array([[1.0, 1.0, 0.0]])
    v = nb.vote(query)
    # phenotype 0: a and b have it (vote above 2/3); phenotype 1: only b (vote below 2/3)
    assert v[0, 0] > 2 / 3 > v[0, 1]
    p = np.array([[0.1, 0.9]])
    want = _by_hand(p, v, nb.prior, 0.2)
    assert want[0, 0] > 0.1 and want[0, 1] < 0.9
    np.testing.assert_allclose(nb.blend(p, query), want, rtol=1e-6)
    np.testing.assert_allclose(nb.blend(p, None, vote=v), want, rtol=1e-6)
    z = np.log(p / (1 - p))
    np.testing.assert_allclose(nb.blend_logits(z, query), np.log(want / (1 - want)), rtol=1e-5)
    assert np.array_equal(nb.with_alpha(0.0).blend_logits(z.astype(np.float32), query), z.astype(np.float32))
    # a vote at the frequency (no GO input: no neighbours) leaves every score as the model's
    np.testing.assert_allclose(nb.blend(p, np.zeros((1, 3))), p.astype(np.float32))


def test_the_shift_keeps_probabilities_within_bounds_and_the_order_of_confident_scores():
    nb = _reference(k=3)
    rng = np.random.default_rng(0)
    p = rng.uniform(0.001, 0.999, size=(50, 2))
    for vote in (np.ones((50, 2)), np.zeros((50, 2)), rng.uniform(size=(50, 2))):
        out = nb.shifted(p, None, alpha=1.0, vote=vote)
        assert (out >= 0).all() and (out <= 1).all()
        np.testing.assert_allclose(out, _by_hand(p, vote, nb.prior, 1.0), atol=1e-12)
    # for one vote, the shift is monotone in the model's score: the model's ranking of
    # genes with the same neighbours is kept (the plain average kept it too, but compressed it)
    q = np.linspace(0.01, 0.99, 30)[:, None].repeat(2, axis=1)
    out = nb.shifted(q, None, alpha=0.3, vote=np.tile([[0.9, 0.2]], (30, 1)))
    assert (np.diff(out, axis=0) > 0).all()


def test_contributions_sum_to_what_the_neighbours_add_to_the_logit():
    nb = _reference(k=3, alpha=0.3)
    query = np.array([[1.0, 0.5, 0.2]])
    z = np.array([-1.5, 0.7])
    frame, table, has = nb.contributions(z, query, [0, 1])
    final = nb.blend_logits(z[None, :], query)[0].astype(np.float64)
    np.testing.assert_allclose(frame.sum(axis=0).to_numpy(), final - z, atol=1e-6)
    # one row per neighbour gene: the frequency prior itself moves nothing
    assert list(frame.index) == table["gene_id"].tolist() and list(frame.columns) == [0, 1]
    # most similar first; shares s_j = w_j / (W + 1)
    assert table["gene_id"].tolist()[0] == "a"
    w = table["similarity"].to_numpy() ** 2
    np.testing.assert_allclose(table["share"].to_numpy(), w / (w.sum() + 1))
    # a neighbour with the phenotype pushes it up, one without pushes it down; `has` says which
    for gene in table["gene_id"]:
        for col in (0, 1):
            assert (frame.at[gene, col] > 0) == bool(has.at[gene, col])
    # the same shift in probability units, by hand, for gene a (has phenotype 0, f = 2/3)
    q = 1 / (1 + np.exp(1.5))
    f = 2 / 3
    d = nb.vote(query)[0, 0] - f
    room = (1 - q) / (1 - f) if d > 0 else q / f
    p = q + 0.3 * d * room
    slope = (np.log(p / (1 - p)) + 1.5) / (p - q)
    s_a = table.set_index("gene_id").at["a", "share"]
    assert frame.at["a", 0] == pytest.approx(0.3 * room * s_a * (1 - f) * slope, rel=1e-6)


def test_contributions_without_neighbours_are_empty_and_move_nothing():
    nb = _reference(k=3, alpha=0.2)
    query = np.zeros((1, 3))  # no GO: no neighbour, the vote is the frequency
    z = np.array([-2.0, 1.0])
    frame, table, _ = nb.contributions(z, query, [0, 1])
    assert frame.empty and table.empty
    np.testing.assert_allclose(frame.sum(axis=0).to_numpy(), 0.0)
    np.testing.assert_allclose(nb.blend_logits(z[None, :], query)[0], z, rtol=1e-6)


def test_inconsistent_reference_is_refused():
    nb = _reference()
    with pytest.raises(ValueError, match="disagree"):
        GoNeighbours(nb.bags, nb.labels[:2], nb.idf, nb.genes)
    with pytest.raises(ValueError, match="IDF"):
        GoNeighbours(nb.bags, nb.labels, nb.idf[:2], nb.genes)


def test_the_neighbour_search_in_chunks_equals_one_pass():
    rng = np.random.default_rng(1)
    bags = (rng.uniform(size=(40, 6)) > 0.6).astype(np.float32)
    labels = (rng.uniform(size=(40, 3)) > 0.5).astype(np.float32)
    genes = pd.DataFrame({"gene_id": [str(i) for i in range(40)]})
    nb = GoNeighbours(bags, labels, idf_weights(sp.csr_matrix(bags)), genes, k=5)
    query = (rng.uniform(size=(23, 6)) > 0.5).astype(np.float32)
    whole = nb.weights(query, chunk=1000)
    assert np.array_equal(nb.weights(query, chunk=4).toarray(), whole.toarray())
    assert (np.diff(whole.indptr) <= 5).all() and whole.shape == (23, 40)
    assert nb.weights(np.zeros((0, 6))).shape == (0, 40)


def _with_profiles(similarity, alpha=0.3, k=2):
    """_reference's 3 genes with homologs among 2 other-species genes (hit shares) that carry
    3 other-species phenotypes: gene a's homolog is x, b's are x and y, c has none."""
    nb = _reference(k=k, alpha=alpha)
    shares = np.array([[1.0, 0.0], [0.25, 0.75], [0.0, 0.0]])
    other = np.array([[1, 1, 0], [0, 1, 1]], dtype=np.float32)
    return GoNeighbours(nb.bags, nb.labels, nb.idf, nb.genes, k=k, alpha=alpha, similarity=similarity,
                        hit_shares=shares, other_labels=other)


def test_neighbours_by_homolog_phenotypes_and_by_both_by_hand():
    from genepheno_core.models.go_neighbours import BOTH, GO_INPUT, PROFILE

    nb = _with_profiles(PROFILE)
    profiles = np.array([[1, 1, 0], [0.25, 1, 0.75], [0, 0, 0]])  # shares @ other labels
    # IDF over the 3 training genes: terms 0 and 1 are nonzero in 2 of them, term 2 in 1
    idf = np.log(4 / (np.array([2, 2, 1]) + 1))
    np.testing.assert_allclose(nb.profile_idf, idf)
    bag = np.array([[0.0, 0.0, 1.0]])  # GO like c
    profile = np.array([[0.0, 1.0, 1.0]])  # homolog phenotypes like b's
    unit = lambda m: m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-300)  # noqa: E731
    by_profile = unit(profile * idf) @ unit(profiles * idf).T  # (1, 3); c's empty profile: 0
    sims = nb.similarities(bag, profile)
    assert set(sims) == {"profile"}
    np.testing.assert_allclose(sims["profile"], by_profile, atol=1e-12)
    # k = 2 most similar by profile: b, then a; weights sim^2
    w = nb.weights(bag, profile).toarray()[0]
    assert w[2] == 0 and w[1] == pytest.approx(by_profile[0, 1] ** 2) and w[0] == pytest.approx(by_profile[0, 0] ** 2)
    # by both: the mean of the GO cosine and the profile cosine
    both = nb.with_choice(0.3, BOTH)
    by_go = unit(bag * nb.idf) @ unit(nb.bags.toarray() * nb.idf).T
    mean = (by_go + by_profile) / 2
    top = np.argsort(-mean[0])[:2]
    want = np.zeros(3)
    want[top] = mean[0, top] ** 2
    np.testing.assert_allclose(both.weights(bag, profile).toarray()[0], want, atol=1e-12)
    # GO alone ignores the profile and finds c first
    go = nb.with_choice(0.3, GO_INPUT)
    assert np.argmax(go.weights(bag, profile).toarray()[0]) == 2 and not go.reads_profile
    # a similarity that reads profiles refuses a query without one, and a reference without hits
    with pytest.raises(ValueError, match="homolog-phenotype profile"):
        both.weights(bag)
    with pytest.raises(ValueError, match="homolog hits"):
        GoNeighbours(nb.bags, nb.labels, nb.idf, nb.genes, similarity=BOTH)
    with pytest.raises(ValueError, match="not one of"):
        GoNeighbours(nb.bags, nb.labels, nb.idf, nb.genes, similarity="sequence")
    with pytest.raises(ValueError, match="hit shares"):
        GoNeighbours(nb.bags, nb.labels, nb.idf, nb.genes, similarity=BOTH, hit_shares=np.ones((2, 2)),
                     other_labels=np.ones((2, 3)))


def test_contributions_by_both_similarities_stay_exact_and_name_each_similarity():
    from genepheno_core.models.go_neighbours import BOTH, similarity_text

    nb = _with_profiles(BOTH, alpha=0.3, k=3)
    bag, profile = np.array([[1.0, 0.5, 0.2]]), np.array([[0.0, 1.0, 1.0]])
    z = np.array([-1.5, 0.7])
    frame, table, _ = nb.contributions(z, bag, [0, 1], profile=profile)
    final = nb.blend_logits(z[None, :], bag, profile)[0].astype(np.float64)
    np.testing.assert_allclose(frame.sum(axis=0).to_numpy(), final - z, atol=1e-6)
    # each neighbour's two cosines, and their mean is the similarity it was chosen by
    sims = nb.similarities(bag, profile)
    order = {g: i for i, g in enumerate(nb.genes["gene_id"])}
    for row in table.to_dict("records"):
        j = order[row["gene_id"]]
        assert row["go_similarity"] == pytest.approx(sims["go"][0, j])
        assert row["profile_similarity"] == pytest.approx(sims["profile"][0, j])
        assert row["similarity"] == pytest.approx((sims["go"][0, j] + sims["profile"][0, j]) / 2)
    first = table.iloc[0]
    assert similarity_text(first) == (f"GO similarity {first['go_similarity']:.2f}, homolog-phenotype similarity "
                                      f"{first['profile_similarity']:.2f} (mean {first['similarity']:.2f})")
    assert similarity_text({"similarity": 0.5, "go_similarity": 0.5}) == "GO similarity 0.50"
    # without the cosines (evidence items: one call per prediction) the same contributions
    lean, lean_table, _ = nb.contributions(z, bag, [0, 1], profile=profile, cosines=False)
    pd.testing.assert_frame_equal(lean, frame)
    assert "go_similarity" not in lean_table and list(lean_table["gene_id"]) == list(table["gene_id"])
