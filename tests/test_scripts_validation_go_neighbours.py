"""scripts/validation_go_neighbours.py: the functional-neighbour vote, against hand-computed values."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

_PATH = Path(__file__).resolve().parents[1] / "scripts" / "validation_go_neighbours.py"
sys.path.insert(0, str(_PATH.parent))
_spec = importlib.util.spec_from_file_location("validation_go_neighbours", _PATH)
mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mod)


def test_idf_counts_training_genes_with_the_term():
    train = sp.csr_matrix(np.array([[1, 0], [1, 1], [0.5, 0]]))
    # term 0 in 3 of 3 genes, term 1 in 1 of 3
    assert np.allclose(mod.idf_weights(train), [np.log(4 / 4), np.log(4 / 2)])


def test_neighbour_vote_matches_hand_computed_values():
    idf = np.ones(3)
    reference = sp.csr_matrix(np.array([[1.0, 0, 0], [0, 1.0, 0], [1.0, 1.0, 0]]))
    labels = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    query = sp.csr_matrix(np.array([[2.0, 0, 0], [0, 0, 0]]))
    out = mod.neighbour_scores(query, reference, labels, idf, k=2)
    # query 0: cosine 1 with gene 0, 0 with gene 1, 1/sqrt(2) with gene 2; k = 2 keeps genes 0 and 2
    w0, w2 = 1.0, 0.5  # similarity squared
    prior = labels.mean(axis=0)
    expected = (w0 * labels[0] + w2 * labels[2] + prior) / (w0 + w2 + 1.0)
    assert np.allclose(out[0], expected)
    # a query without GO has no neighbour: it gets the training frequency
    assert np.allclose(out[1], prior)


def test_k_limits_the_neighbours():
    idf = np.ones(2)
    reference = sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 0.1], [1.0, 0.2]]))
    labels = np.array([[1.0], [0.0], [0.0]])
    query = sp.csr_matrix(np.array([[1.0, 0.0]]))
    one = mod.neighbour_scores(query, reference, labels, idf, k=1)
    three = mod.neighbour_scores(query, reference, labels, idf, k=3)
    assert one[0, 0] > three[0, 0]  # only the identical, labelled gene votes with k = 1
    assert np.isclose(one[0, 0], (1.0 + 1 / 3) / 2.0)


@pytest.mark.parametrize("argv, message", [
    (["--k", "0"], "--k must be >= 1"),
    (["--alpha", "1.5"], "--alpha must be in [0, 1]"),
    (["--set", '{"ablations": ["go-transfer"], "bogus": 2}'], "not TrainConfig fields: bogus"),
])
def test_bad_arguments_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        mod.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_blend_variants_by_hand_and_within_zero_and_one():
    p = np.array([[0.9, 0.02, 0.5]])
    vote = np.array([[0.3, 0.6, 0.1]])
    prior = np.array([0.3, 0.1, 0.2])
    out = mod.blend_variants(p, vote, prior, 0.2)
    blend = out["probability blend, alpha 0.2"]
    assert np.allclose(blend, 0.8 * p + 0.2 * vote)
    assert np.allclose(out["probability blend, never below the model, alpha 0.2"], np.maximum(p, blend))
    excess = out["excess over the frequency, bounded, alpha 0.2"]
    # term 0: the vote equals the frequency, nothing moves; term 1: up by 0.2 x 0.5 x 0.98 / 0.9;
    # term 2: down by 0.2 x 0.1 x 0.5 / 0.2
    assert np.allclose(excess, [[0.9, 0.02 + 0.2 * 0.5 * 0.98 / 0.9, 0.5 - 0.2 * 0.1 * 0.5 / 0.2]])
    # the extremes stay probabilities, even at alpha 1
    edge = mod.blend_variants(np.array([[0.01, 0.99]]), np.array([[0.0, 1.0]]), np.array([0.5, 0.5]), 1.0)
    assert np.allclose(edge["excess over the frequency, bounded, alpha 1.0"], [[0.0, 1.0]])


def test_similarity_votes_find_neighbours_by_go_by_homolog_phenotypes_and_by_both():
    ones = np.ones(2)
    # 3 training genes: gene 0 shares the query's GO, gene 1 its homolog phenotypes, gene 2 neither
    go_ref = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
    orth_ref = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]))
    labels = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    go_q, orth_q = sp.csr_matrix(np.array([[1.0, 0.0]])), sp.csr_matrix(np.array([[1.0, 0.0]]))
    votes = mod.similarity_votes(go_q, go_ref, ones, orth_q, orth_ref, ones, labels, k=1)
    prior = labels.mean(axis=0)
    # k = 1, similarity 1 (weight 1): the one neighbour's labels, shrunk to the frequency
    assert np.allclose(votes["GO input"][0], (labels[0] + prior) / 2)
    assert np.allclose(votes["homolog-phenotype profile"][0], (labels[1] + prior) / 2)
    # mean of the cosines: genes 0 and 1 both at 0.5, gene 2 at 0; with k = 2 both vote, weight 0.25 each
    both = mod.similarity_votes(go_q, go_ref, ones, orth_q, orth_ref, ones, labels, k=2)
    assert np.allclose(both["mean of the two"][0], (0.25 * labels[0] + 0.25 * labels[1] + prior) / 1.5)
    assert np.allclose(both["max of the two"][0], (labels[0] + labels[1] + prior) / 3)


def test_cell_choices_reads_each_cells_choice_by_hand(tmp_path):
    import json

    def by(f0, a0, f1, a1):
        return {"0.0": {"fmax": f0, "auc": a0}, "0.1": {"fmax": f1, "auc": a1}}

    cell = {"dataset": "hpo", "split": "random", "seed": 0,
            "config_key": {"neighbour_similarities": ["GO input", "homolog phenotypes",
                                                      "GO input and homolog phenotypes"]},
            "metrics": {"fmax": 0.42, "auc": 0.755, "top10_ic": 1.1},
            "info": {"valid_metrics": {"go_neighbours": {
                "similarity": "GO input and homolog phenotypes", "alpha": 0.1,
                "by_similarity": {"GO input": by(0.4, 0.7, 0.39, 0.7),  # alpha 0 wins
                                  "homolog phenotypes": by(0.4, 0.7, 0.4, 0.71),
                                  "GO input and homolog phenotypes": by(0.4, 0.7, 0.41, 0.72)}}}}}
    (tmp_path / "hpo__random__genepheno-go-neighbours__seed0.json").write_text(json.dumps(cell))
    old = {**cell, "config_key": {}}  # computed before the similarity was chosen: left out
    (tmp_path / "hpo__random__genepheno-go-neighbours__seed1.json").write_text(json.dumps(old))
    rows = mod.cell_choices(tmp_path)
    assert len(rows) == 3
    assert rows[2] == ("| hpo, random | 0 | 40.00 / 70.00 | 40.00 / 70.00 (0.0) | 40.00 / 71.00 (0.1) | "
                       "41.00 / 72.00 (0.1) | mean, 0.1 | 42.00 / 75.50 | 1.10 |")


def test_cooccurrence_vote_by_hand():
    # training genes: phenotype 0 in genes 0, 1; phenotype 1 in genes 1, 2; phenotype 2 in none
    labels = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=float)
    q = np.array([[0.8, 0.2, 0.5], [0.0, 0.0, 0.9]])
    out = mod.cooccurrence_vote(q, labels)
    # P(t | u): u = 0 -> (1, 1/2, 0); u = 1 -> (1/2, 1, 0); u = 2 never seen, reads nothing
    expected = (0.8 * np.array([1, 0.5, 0]) + 0.2 * np.array([0.5, 1, 0])) / 1.0
    assert np.allclose(out[0], expected)
    assert np.allclose(out[1], 0.0)  # only an unseen phenotype predicted: no reading
    half = mod.cooccurrence_vote(q[:1] / 2, labels)
    assert np.allclose(half[0], expected)  # a weighted mean: scaling q does not change it


def test_cooccurrence_lam_out_of_range_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        mod.main(["--cooccurrence", "--lam", "2"])
    assert exc.value.code == 2
    assert "--lam must be in [0, 1]" in capsys.readouterr().err
