"""Max-propagation of term scores to ancestors: the one implementation (the evaluator and
every prediction use it), so that a term scores at least as high as any of its descendants.

Only direct edges are needed for a max (the transitive reduction, A minus A @ A), taken
level by level: a term's ancestors are a strict superset of any of its ancestors'
ancestors, so grouping child terms by their number of ancestors and going from the largest
count down finishes every child before it is pushed into its parents. The plan (the
levels) depends only on the vocabulary, so callers that propagate many times keep it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# one level: (child columns sorted by parent, segment starts, the parents' columns)
Level = tuple[np.ndarray, np.ndarray, np.ndarray]


def propagation_plan(term_ancestors) -> list[Level]:
    """Levels of direct (child -> parent) edges, deepest children first.

    term_ancestors: (K, K) sparse or dense, [i, j] != 0 when term j is a proper ancestor of
    term i (the transitive closure, as Dataset.term_ancestors)."""
    anc = sp.csr_matrix(term_ancestors, dtype=np.int32)
    if anc.shape[0] != anc.shape[1]:
        raise ValueError(f"term_ancestors must be square, got shape {anc.shape}")
    anc.sum_duplicates()
    anc.data[:] = 1
    anc.eliminate_zeros()
    if anc.nnz == 0:
        return []
    indirect = (anc @ anc).astype(bool).astype(np.int32)  # j is an ancestor of an ancestor of i
    direct = (anc - anc.multiply(indirect)).tocoo()
    keep = direct.data > 0
    child, parent = direct.row[keep], direct.col[keep]
    level = np.asarray(anc.sum(axis=1)).ravel()[child]  # number of ancestors of the child
    plan = []
    for value in np.unique(level)[::-1]:
        sel = level == value
        order = np.argsort(parent[sel], kind="stable")
        c, p = child[sel][order], parent[sel][order]
        uniq, starts = np.unique(p, return_index=True)
        plan.append((c, starts, uniq))
    return plan


def propagate_scores(scores, term_ancestors=None, *, plan: list[Level] | None = None,
                     inplace: bool = False) -> np.ndarray:
    """out[:, j] = max(scores[:, j], scores[:, descendants of j]) for (n, K) scores.

    Give `term_ancestors` (see propagation_plan) or a precomputed `plan`. Returns a new float
    array (at least float32) unless `inplace` (then `scores`, a float ndarray, is updated and
    returned)."""
    if plan is None:
        if term_ancestors is None:
            raise ValueError("propagate_scores needs term_ancestors or a plan")
        plan = propagation_plan(term_ancestors)
        k = sp.csr_matrix(term_ancestors).shape[0]
    else:
        k = None
    if sp.issparse(scores):
        scores = scores.toarray()
    out = scores if inplace else np.array(scores, dtype=np.result_type(np.asarray(scores).dtype, np.float32))
    if out.ndim != 2 or (k is not None and out.shape[1] != k):
        raise ValueError(f"scores have shape {out.shape}; term_ancestors has {k} terms")
    if not plan or out.shape[0] == 0:
        return out
    # term-major copy: gathering whole rows of (K, n) is contiguous, columns of (n, K) are not
    st = np.ascontiguousarray(out.T)
    for c, starts, uniq in plan:
        reduced = np.maximum.reduceat(st[c], starts, axis=0)  # (parents of the level, n)
        st[uniq] = np.maximum(st[uniq], reduced)
    out[:] = st.T
    return out
