"""Phenotype graphs (networkx): co-annotation correlation, exclusion pairs, and a term's
ontology neighbourhood.

Each graph function returns (networkx.Graph, nodes DataFrame, edges DataFrame). Node
attributes: name, n_genes, depth, seed; edge attribute `weight` is what a layout or a line
width should use (the correlation, or 1 for exclusion edges), the other columns explain it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from genepheno_core.errors import GenePhenoError, MissingDataError

logger = logging.getLogger(__name__)

NODE_COLUMNS = ["term_id", "name", "n_genes", "depth", "seed"]
CORRELATION_EDGE_COLUMNS = ["term_a", "term_b", "name_a", "name_b", "correlation", "n_both", "wp_cosine", "weight"]
EXCLUSION_EDGE_COLUMNS = ["term_a", "term_b", "name_a", "name_b", "rule", "overlap", "both_predicted",
                          "n_scored", "weight"]


@dataclass
class _Source:
    terms: pd.DataFrame  # term_id, name, n_genes, depth
    labels: sp.csr_matrix  # (N, K) training labels
    term_ancestors: sp.csr_matrix  # (K, K)
    W_p: np.ndarray | None = None  # (K, J)
    pairs: pd.DataFrame | None = None
    threshold: float = 0.5


def _source(model_or_dataset) -> _Source:
    from genepheno_core.interpret.model_store import model_extras, resolve_model

    if hasattr(model_or_dataset, "labels") and hasattr(model_or_dataset, "splits"):  # a Dataset
        ds = model_or_dataset
        train = ds.split_indices("train", "random")
        terms = ds.terms.copy()
        return _Source(terms=terms, labels=sp.csr_matrix(ds.labels[train], dtype=np.int32),
                       term_ancestors=sp.csr_matrix(ds.term_ancestors))
    model = resolve_model(model_or_dataset)
    extras = model_extras(model)
    if extras.train_labels is None:
        raise MissingDataError(f"{model.path} stores no training labels (explain/ data): no phenotype graphs")
    W = None
    try:
        W = np.asarray(model.W_p, dtype=np.float64)
    except Exception:  # baselines without a concept layer: no W_p similarity
        pass
    return _Source(terms=extras.terms, labels=extras.train_labels, term_ancestors=extras.term_ancestors, W_p=W,
                   pairs=extras.pairs, threshold=float(model.threshold))


def _index(src: _Source, terms) -> list[int]:
    ids = {t: i for i, t in enumerate(src.terms["term_id"].astype(str))}
    if isinstance(terms, str):
        terms = [terms]
    unknown = [t for t in terms if t not in ids]
    if unknown:
        raise GenePhenoError(f"unknown phenotype term(s): {', '.join(unknown[:5])}")
    return [ids[t] for t in terms]


def phi_correlation(labels: sp.spmatrix, cols_a, cols_b=None) -> tuple[np.ndarray, np.ndarray]:
    """Pearson (phi) correlation of binary label columns: (len(a), len(b)) matrix, and the
    co-annotation counts. Constant columns get correlation 0."""
    Y = sp.csc_matrix(labels, dtype=np.float64)
    n = Y.shape[0]
    A = Y[:, list(cols_a)]
    B = A if cols_b is None else Y[:, list(cols_b)]
    both = np.asarray((A.T @ B).todense())  # (a, b)
    pa = np.asarray(A.sum(axis=0)).ravel()
    pb = np.asarray(B.sum(axis=0)).ravel()
    num = n * both - np.outer(pa, pb)
    den = np.sqrt(np.outer(pa * (n - pa), pb * (n - pb)))
    corr = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return corr, both


def _related(anc: sp.csr_matrix, i: int, j: int) -> bool:
    return bool(anc[i, j] or anc[j, i])


def _nodes_frame(src: _Source, idx: list[int], seeds: set[int]) -> pd.DataFrame:
    t = src.terms.iloc[idx]
    return pd.DataFrame({"term_id": t["term_id"].astype(str).to_numpy(), "name": t["name"].astype(str).to_numpy(),
                         "n_genes": t["n_genes"].astype(int).to_numpy(), "depth": t["depth"].astype(int).to_numpy(),
                         "seed": [i in seeds for i in idx]}, columns=NODE_COLUMNS)


def _graph(nodes: pd.DataFrame, edges: pd.DataFrame) -> nx.Graph:
    g = nx.Graph()
    for row in nodes.to_dict("records"):
        g.add_node(row["term_id"], **{k: v for k, v in row.items() if k != "term_id"})
    for row in edges.to_dict("records"):
        g.add_edge(row["term_a"], row["term_b"], **{k: v for k, v in row.items() if k not in ("term_a", "term_b")})
    return g


def correlation_graph(model_or_dataset=None, terms=None, min_corr: float = 0.2, max_nodes: int = 30,
                      include_related: bool = False):
    """Phenotype co-annotation graph.

    Nodes: `terms` plus, for each, the phenotypes most correlated with it in the training
    labels (up to max_nodes in all); without `terms`, the max_nodes most frequent terms of
    depth >= 3. Edges: pairs with phi correlation >= min_corr, with the co-annotated gene
    count and the cosine similarity of their W_p rows (NaN without a concept layer).
    Ancestor-descendant pairs are correlated by construction (labels are propagated), so
    they are left out unless include_related.

    Returns (networkx.Graph, nodes DataFrame, edges DataFrame).
    """
    src = _source(model_or_dataset)
    k = len(src.terms)
    anc = src.term_ancestors.tocsr()
    if terms:
        seeds = _index(src, terms)
        chosen = list(dict.fromkeys(seeds))
        per_seed = max(1, (max_nodes - len(chosen)) // max(1, len(seeds)))
        corr, _ = phi_correlation(src.labels, seeds, range(k))  # (seeds, K)
        for row, s in enumerate(seeds):
            order = np.argsort(-corr[row], kind="stable")
            added = 0
            for j in order:
                if corr[row, j] < min_corr or added >= per_seed or len(chosen) >= max_nodes:
                    break
                if j == s or j in chosen or (not include_related and _related(anc, s, j)):
                    continue
                chosen.append(int(j))
                added += 1
    else:
        seeds = []
        depth = src.terms["depth"].astype(int).to_numpy()
        freq = np.asarray(src.labels.sum(axis=0)).ravel()
        cand = np.flatnonzero(depth >= 3) if (depth >= 3).any() else np.arange(k)
        chosen = [int(i) for i in cand[np.argsort(-freq[cand], kind="stable")][:max_nodes]]
    corr, both = phi_correlation(src.labels, chosen)
    cos = None
    if src.W_p is not None:
        W = src.W_p[chosen]
        norm = np.linalg.norm(W, axis=1, keepdims=True)
        Wn = np.divide(W, norm, out=np.zeros_like(W), where=norm > 0)
        cos = Wn @ Wn.T
    rows = []
    names = src.terms["name"].astype(str).to_numpy()
    ids = src.terms["term_id"].astype(str).to_numpy()
    for a in range(len(chosen)):
        for b in range(a + 1, len(chosen)):
            i, j = chosen[a], chosen[b]
            if corr[a, b] < min_corr or (not include_related and _related(anc, i, j)):
                continue
            rows.append({"term_a": ids[i], "term_b": ids[j], "name_a": names[i], "name_b": names[j],
                         "correlation": float(corr[a, b]), "n_both": int(both[a, b]),
                         "wp_cosine": float(cos[a, b]) if cos is not None else float("nan"),
                         "weight": float(corr[a, b])})
    nodes = _nodes_frame(src, chosen, set(seeds))
    edges = pd.DataFrame(rows, columns=CORRELATION_EDGE_COLUMNS)
    return _graph(nodes, edges), nodes, edges


def pair_coprediction(pairs: pd.DataFrame, term_ids, scores: np.ndarray, threshold: float) -> pd.DataFrame:
    """`pairs` (term_a, term_b, ...) with `both_predicted`: the fraction of the genes of
    `scores` (n, K) predicted above `threshold` for both members, and `n_scored` = n."""
    col = {t: i for i, t in enumerate(term_ids)}
    above = np.asarray(scores) >= threshold
    out = pairs.copy()
    rate = []
    for a, b in zip(out["term_a"], out["term_b"]):
        if a in col and b in col:
            rate.append(float(np.mean(above[:, col[a]] & above[:, col[b]])) if len(above) else float("nan"))
        else:
            rate.append(float("nan"))
    out["both_predicted"] = rate
    out["n_scored"] = int(above.shape[0])
    return out


def exclusion_graph(model=None, terms=None, scores: np.ndarray | None = None, threshold: float | None = None,
                    max_edges: int = 200):
    """Exclusive phenotype pairs as a graph.

    Edges: the pairs stored with the model (models/pairs.py rules: antonym, co-annotation,
    user), with `rule`, the training `overlap` (|both| / min(|a|, |b|)) and `both_predicted`:
    how often the model predicts both members above threshold, over the genes of `scores`
    (n, K) when given, else as measured on the test genes when the model was built (NaN if
    unknown). With `terms`, only pairs touching them. At most max_edges edges (most often
    co-predicted first).

    Returns (networkx.Graph, nodes DataFrame, edges DataFrame).
    """
    src = _source(model)
    if src.pairs is None:
        raise MissingDataError("the model stores no exclusive pairs (explain/pairs.tsv)")
    pairs = src.pairs.copy()
    ids = src.terms["term_id"].astype(str).tolist()
    if scores is not None:
        pairs = pair_coprediction(pairs, ids, scores, src.threshold if threshold is None else threshold)
    for col in ("both_predicted", "n_scored"):
        if col not in pairs:
            pairs[col] = np.nan
    if terms:
        wanted = set(ids[i] for i in _index(src, terms))
        pairs = pairs[pairs["term_a"].isin(wanted) | pairs["term_b"].isin(wanted)]
    else:
        wanted = set()
    pairs = pairs.sort_values("both_predicted", ascending=False, na_position="last", kind="stable").head(max_edges)
    name = dict(zip(ids, src.terms["name"].astype(str)))
    edges = pd.DataFrame({
        "term_a": pairs["term_a"].to_numpy(), "term_b": pairs["term_b"].to_numpy(),
        "name_a": [name.get(t, "") for t in pairs["term_a"]], "name_b": [name.get(t, "") for t in pairs["term_b"]],
        "rule": pairs["rule"].to_numpy(), "overlap": pairs["overlap"].astype(float).to_numpy(),
        "both_predicted": pairs["both_predicted"].astype(float).to_numpy(),
        "n_scored": pairs["n_scored"].to_numpy(), "weight": 1.0,
    }, columns=EXCLUSION_EDGE_COLUMNS)
    node_ids = list(dict.fromkeys(list(edges["term_a"]) + list(edges["term_b"]) + sorted(wanted)))
    index = {t: i for i, t in enumerate(ids)}
    seeds = {index[t] for t in wanted}
    nodes = _nodes_frame(src, [index[t] for t in node_ids if t in index], seeds)
    return _graph(nodes, edges), nodes, edges


def term_neighbourhood(model, term: str) -> pd.DataFrame:
    """The term, its ancestors and its direct children within the model's vocabulary.

    Returns DataFrame[term_id, name, relation (self / ancestor / child), depth, n_genes],
    ancestors ordered from the root down. Needs the term ancestor closure stored with the
    model (explain/term_ancestors.npz), so no ontology file is read.
    """
    from genepheno_core.interpret.model_store import model_extras, resolve_model

    model = resolve_model(model)
    extras = model_extras(model)
    terms = extras.terms
    ids = terms["term_id"].astype(str).tolist()
    if term not in ids:
        raise GenePhenoError(f"unknown phenotype term {term}: not in the model's vocabulary")
    k = ids.index(term)
    anc = extras.term_ancestors.tocsr()
    ancestors = list(anc[k].indices)
    desc = set(anc[:, k].tocoo().row.tolist())  # terms having k as an ancestor
    children = [d for d in desc if not (set(anc[d].indices) & desc)]
    rows = [(i, "ancestor") for i in ancestors] + [(k, "self")] + [(i, "child") for i in sorted(children)]
    frame = pd.DataFrame({
        "term_id": [ids[i] for i, _ in rows], "name": [str(terms["name"].iloc[i]) for i, _ in rows],
        "relation": [r for _, r in rows], "depth": [int(terms["depth"].iloc[i]) for i, _ in rows],
        "n_genes": [int(terms["n_genes"].iloc[i]) for i, _ in rows]})
    order = {"ancestor": 0, "self": 1, "child": 2}
    frame = frame.assign(_o=frame["relation"].map(order)).sort_values(["_o", "depth", "term_id"], kind="stable")
    return frame.drop(columns="_o").reset_index(drop=True)
