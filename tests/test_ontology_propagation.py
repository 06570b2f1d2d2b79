"""genepheno_core.ontology.propagation: the one score propagation (evaluator and predictions)."""

import numpy as np
import pytest
import scipy.sparse as sp

from genepheno_core.ontology.propagation import propagate_scores, propagation_plan


def _chain_and_fork():
    # 0 root-level term; 1 child of 0; 2 child of 1; 3 child of 0 (closure: [i, j] = j ancestor of i)
    anc = np.zeros((4, 4), dtype=np.uint8)
    anc[1, 0] = anc[2, 1] = anc[2, 0] = anc[3, 0] = 1
    return sp.csr_matrix(anc)


def test_by_hand_and_input_untouched():
    s = np.array([[0.1, 0.2, 0.9, 0.3], [0.5, 0.1, 0.0, 0.7]], dtype=np.float32)
    out = propagate_scores(s, _chain_and_fork())
    np.testing.assert_array_equal(out, np.array([[0.9, 0.9, 0.9, 0.3], [0.7, 0.1, 0.0, 0.7]], dtype=np.float32))
    assert s[0, 0] == np.float32(0.1)  # a new array unless inplace


def test_plan_and_inplace_give_the_same_result():
    rng = np.random.default_rng(0)
    anc = _chain_and_fork()
    s = rng.random((5, 4)).astype(np.float32)
    plan = propagation_plan(anc)
    assert [len(level[0]) for level in plan] == [1, 2]  # deepest child (2) first, then 1 and 3
    expected = propagate_scores(s, anc)
    again = s.copy()
    assert propagate_scores(again, plan=plan, inplace=True) is again
    np.testing.assert_array_equal(again, expected)


def test_errors():
    with pytest.raises(ValueError, match="term_ancestors or a plan"):
        propagate_scores(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="4 terms"):
        propagate_scores(np.zeros((1, 3)), _chain_and_fork())
    assert propagate_scores(np.zeros((0, 4)), _chain_and_fork()).shape == (0, 4)
