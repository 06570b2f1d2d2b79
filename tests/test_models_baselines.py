"""Baselines: naive frequency, diamond-score, kmer-lr (batched solver agrees with sklearn)."""

import shutil

import numpy as np
import pytest
import scipy.sparse as sp

from _tiny_dataset import make_tiny_dataset
from genepheno_core.models.baselines import diamond_scores, kmer_lr_scores, naive_scores


def test_naive():
    y = sp.csr_matrix(np.array([[1, 0, 1], [1, 0, 0], [0, 0, 1], [1, 0, 0]]))
    out = naive_scores(y, 2)
    np.testing.assert_allclose(out, [[0.75, 0, 0.5]] * 2)


def test_kmer_lr_matches_sklearn():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 12))
    y = (x[:, :4] + rng.normal(size=(200, 4)) > 1.0).astype(np.uint8)
    y = np.hstack([y, np.zeros((200, 1), np.uint8), np.ones((200, 1), np.uint8)])  # one-class terms
    xq = rng.normal(size=(30, 12))
    ref = kmer_lr_scores(x, sp.csr_matrix(y), xq, C=0.1, solver="sklearn", max_iter=1000)
    fast = kmer_lr_scores(x, sp.csr_matrix(y), xq, C=0.1, solver="batched", max_iter=500)
    np.testing.assert_allclose(fast, ref, atol=2e-3)
    assert (fast[:, 4] == 0).all() and (fast[:, 5] == 1).all()
    with pytest.raises(ValueError):
        kmer_lr_scores(x, sp.csr_matrix(y), xq, solver="nope")


@pytest.mark.skipif(shutil.which("diamond") is None, reason="diamond not installed")
def test_diamond_scores_transfer_family_labels(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    ds = make_tiny_dataset(n_per_family=8)
    seqs = ds.genes["sequence"].tolist()
    train = [i for i in range(24) if i % 4]
    query = [i for i in range(24) if i % 4 == 0] + [0]
    unrelated = "M" + "W" * 60
    scores, has_hit = diamond_scores([seqs[i] for i in query] + [unrelated], [seqs[i] for i in train],
                                     ds.labels[train], threads=1)
    assert has_hit[:-1].all() and not has_hit[-1] and scores[-1].sum() == 0
    # hits come from the query's own family (8 genes each): its labels get the weight
    fam = np.array(query) // 8
    for row, f in enumerate(fam):
        fam_train = [i for i in train if i // 8 == f]
        common = np.asarray(ds.labels[fam_train].min(axis=0).todense()).ravel() > 0
        assert np.all(scores[row][common] == pytest.approx(1.0))
