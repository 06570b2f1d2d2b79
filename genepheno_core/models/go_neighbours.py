"""Functional neighbours: the training genes whose GO input is most like a protein's vote
with their known phenotypes, and the vote's departure from each phenotype's frequency moves
the model's probability.

For a protein given no GO the model reads GO transferred from its sequence homologs; the
training genes with the most similar (transferred) GO are its functional relatives even when
no sequence links them, and what is known about their knockouts is direct, checkable
evidence ("these 50 genes do what this protein is predicted to do; 9 of them have the
phenotype"). Measured on validation only (docs/VALIDATION_RUNS.md, "functional neighbours"):
+0.8 AUC on hpo's homology and random splits, nothing on mpo, so the trainer picks the weight
alpha per run on its validation genes (0 switches the neighbours off).

    sim_ij = cos(idf * g_i, idf * r_j)                   (n, N) IDF-weighted cosine
    w_ij   = sim_ij^2 for the k most similar j, else 0
    v_ik   = (sum_j w_ij y_jk + f_k) / (sum_j w_ij + 1)   the vote, shrunk to the frequency f
    d_ik   = v_ik - f_k = sum_j s_ij (y_jk - f_k)         its excess, s_ij = w_ij / (W_i + 1)
    p_ik   = q_ik + alpha d_ik c_ik                       the reported probability, q = sigmoid(z)
    c_ik   = (1 - q_ik) / (1 - f_k) if d_ik > 0 else q_ik / f_k

Only what the neighbours know beyond the frequency moves the probability: a vote at the
frequency leaves the model's score alone, a vote above it moves the score up by the fraction
alpha d / (1 - f) of the room left, a vote below it down by alpha |d| / f of the score (so p
stays within [0, 1] for alpha <= 1). The plain average (1 - alpha) q + alpha v measured the
same AUC but pulled every confident score towards the vote, which for a typical gene sits near
the frequency, and the top ten towards generic phenotypes (top-10 IC 0.91 against the model's
1.14 bits on hpo validation, 1.16 this way; "Keeping the top ten specific").

The explanation stays exact in logit units: the final logit is logit(p), and the neighbour
group carries logit(p) - z, split over the neighbours in proportion to their share of the
probability shift p - q = alpha c sum_j s_j (y_jk - f_k) (`contributions`); the frequency
prior itself adds nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

logger = logging.getLogger(__name__)

# the neighbour count and the blend weights the trainer chooses among on validation (k = 50
# was picked on hpo's homology split, validation, seed 0; larger k measured no better)
DEFAULT_K = 50
ALPHAS = (0.0, 0.1, 0.2, 0.3)
# how the vote moves the probability (stored with a checkpoint's reference: a reference chosen
# for another rule is refused rather than served with an alpha it was not chosen for)
BLEND = "excess over frequency"
_EPS = 1e-12


def idf_weights(train_go: sp.spmatrix) -> np.ndarray:
    """(G,) log((n + 1) / (df + 1)) over n training genes (df: genes with the term)."""
    df = np.asarray((sp.csr_matrix(train_go) > 0).sum(axis=0)).ravel()
    return np.log((train_go.shape[0] + 1) / (df + 1)).astype(np.float64)


def unit_rows(bag: sp.spmatrix, idf: np.ndarray) -> sp.csr_matrix:
    """Rows of bag x diag(idf) scaled to unit length (an empty row stays empty)."""
    m = sp.csr_matrix(bag, dtype=np.float64) @ sp.diags(idf)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ m)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1.0 - _EPS)
    return np.log(p) - np.log1p(-p)


def _room(q: np.ndarray, d: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """c: the probability moved per unit of the vote's excess d over the frequency f (any
    broadcastable shapes): (1 - q) / (1 - f) above it, q / f below it."""
    f = np.clip(prior, _EPS, 1.0 - _EPS)
    return np.where(d > 0, (1.0 - q) / (1.0 - f), q / f)


def top_k_weights(sim: np.ndarray, k: int) -> sp.csr_matrix:
    """(n, N) similarity^2 of each row's k most similar reference genes (sim: (n, N) dense
    similarities; negative ones count as 0)."""
    sim = np.array(sim, dtype=np.float64)
    if k < sim.shape[1]:
        drop = np.argpartition(-sim, k, axis=1)[:, k:]
        np.put_along_axis(sim, drop, 0.0, axis=1)
    return sp.csr_matrix(np.maximum(sim, 0.0) ** 2)


def shift_by_vote(q: np.ndarray, vote: np.ndarray, prior: np.ndarray, alpha: float) -> np.ndarray:
    """(n, K) float64 q + alpha d c, d = vote - prior (module docstring): the model's
    probabilities q (n, K) moved by the vote (n, K) over the training frequency prior (K,)."""
    q = np.asarray(q, dtype=np.float64)
    if alpha == 0.0:
        return q
    f = np.asarray(prior, dtype=np.float64)[None, :]
    d = np.asarray(vote, dtype=np.float64) - f  # (n, K)
    # within [0, 1] by construction for alpha <= 1; the clip only absorbs rounding
    return np.clip(q + alpha * d * _room(q, d, f), 0.0, 1.0)


@dataclass
class GoNeighbours:
    """The training genes' GO input bags and labels a protein's functional neighbours are
    read from, with the chosen k and alpha (stored with the model: checkpoint go_neighbours/)."""

    bags: sp.csr_matrix  # (N, G) the training genes' GO input (as the model trained on it)
    labels: sp.csr_matrix  # (N, K) their propagated labels
    idf: np.ndarray  # (G,) IDF over the training genes' GO
    genes: pd.DataFrame  # N rows: gene_id, symbol, accession
    k: int = DEFAULT_K
    alpha: float = 0.2

    def __post_init__(self) -> None:
        self.bags = sp.csr_matrix(self.bags, dtype=np.float32)
        self.labels = sp.csr_matrix(self.labels, dtype=np.float32)
        self.idf = np.asarray(self.idf, dtype=np.float64)
        if self.bags.shape[0] != self.labels.shape[0] or self.bags.shape[0] != len(self.genes):
            raise ValueError(f"functional neighbours: {self.bags.shape[0]} GO rows, {self.labels.shape[0]} label "
                             f"rows and {len(self.genes)} genes disagree")
        if self.bags.shape[1] != self.idf.shape[0]:
            raise ValueError(f"functional neighbours: {self.bags.shape[1]} GO columns but {self.idf.shape[0]} IDF weights")
        self._reference = unit_rows(self.bags, self.idf).T.tocsr()  # (G, N)
        # (K,) the training frequency (counts of 0/1 labels are exact in float32; divided in float64)
        self.prior = np.asarray(self.labels.sum(axis=0), dtype=np.float64).ravel() / max(1, self.labels.shape[0])

    @property
    def n_terms(self) -> int:
        return self.labels.shape[1]

    def with_alpha(self, alpha: float) -> GoNeighbours:
        return GoNeighbours(self.bags, self.labels, self.idf, self.genes, self.k, float(alpha))

    def weights(self, bag, chunk: int = 1024) -> sp.csr_matrix:
        """(n, N) w_ij: similarity^2 of each query row's k most similar reference genes
        (searched `chunk` rows at a time: the dense similarities of a whole batch of pasted
        proteins would take n x N x 8 bytes, 0.6 GB for 20,000 against hpo's training genes)."""
        rows = unit_rows(sp.csr_matrix(bag), self.idf)
        parts = [top_k_weights((rows[i:i + chunk] @ self._reference).toarray(), self.k)
                 for i in range(0, rows.shape[0], chunk)]
        return sp.vstack(parts, format="csr") if parts else sp.csr_matrix((0, self._reference.shape[1]))

    def vote(self, bag, weights: sp.csr_matrix | None = None) -> np.ndarray:
        """(n, K) v: the neighbours' labels weighted by w, shrunk to the training frequency."""
        w = self.weights(bag) if weights is None else weights
        total = np.asarray(w.sum(axis=1), dtype=np.float64)  # (n, 1)
        return (np.asarray((w @ self.labels).todense(), dtype=np.float64) + self.prior) / (total + 1.0)

    def shifted(self, probabilities: np.ndarray, bag, alpha: float | None = None,
                vote: np.ndarray | None = None) -> np.ndarray:
        """(n, K) float64 q + alpha d c (module docstring) for the model's probabilities q;
        `vote`: the (n, K) `vote(bag)` when already computed (bag is then not read)."""
        a = self.alpha if alpha is None else float(alpha)
        if a == 0.0:
            return np.asarray(probabilities, dtype=np.float64)
        return shift_by_vote(probabilities, self.vote(bag) if vote is None else vote, self.prior, a)

    def blend(self, probabilities: np.ndarray, bag, alpha: float | None = None,
              vote: np.ndarray | None = None) -> np.ndarray:
        """(n, K) the reported probabilities (float32, as the model's); arguments as `shifted`."""
        return self.shifted(probabilities, bag, alpha, vote).astype(np.float32)

    def blend_logits(self, logits: np.ndarray, bag) -> np.ndarray:
        """(n, K) the final logits logit(p) for the module's logits z."""
        z = np.asarray(logits, dtype=np.float64)
        if self.alpha == 0.0:
            return z.astype(np.float32)
        return _logit(self.shifted(1.0 / (1.0 + np.exp(-z)), bag)).astype(np.float32)

    def contributions(self, logits: np.ndarray, bag, cols,
                      weights: sp.csr_matrix | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """One protein's neighbour evidence for the phenotype columns `cols`.

        logits: (K,) the module's logits z (before the neighbours); bag: (1, G) its GO input;
        weights: its (1, N) `weights(bag)` when already computed (one search per protein when
        several phenotypes are explained one at a time).
        Returns (contributions, neighbours, has): contributions DataFrame (index: the
        neighbours' gene ids; one column per col) whose column sums equal logit(p) - z
        exactly (see the module docstring); neighbours DataFrame[gene_id, symbol, accession,
        similarity, share] (share: s_j, its weight in the vote), most similar first; has:
        bool DataFrame (neighbour gene id x col), the neighbour has the phenotype."""
        cols = list(cols)
        w = self.weights(bag) if weights is None else sp.csr_matrix(weights)  # (1, N)
        row = w.getrow(0)
        order = np.argsort(-row.data, kind="stable")
        idx, wj = row.indices[order], row.data[order].astype(np.float64)
        share = wj / (float(wj.sum()) + 1.0)  # s_j
        z = np.asarray(logits, dtype=np.float64)[cols]  # (C,)
        q = 1.0 / (1.0 + np.exp(-z))  # sigmoid(z)
        f = self.prior[cols]  # (C,)
        y = self.labels[idx][:, cols].toarray().astype(np.float64)  # (n_nb, C)
        excess = share[:, None] * (y - f[None, :])  # (n_nb, C) s_j (y_j - f): sums to d = v - f
        shift = self.alpha * _room(q, excess.sum(axis=0), f)[None, :] * excess  # (n_nb, C), sums to p - q
        moved = shift.sum(axis=0)
        delta = _logit(q + moved) - z  # (C,) what the neighbours add to the logit
        # logit units per probability unit: the secant slope (the derivative when p == q)
        slope = np.where(np.abs(moved) > 1e-15, delta / np.where(moved == 0, 1.0, moved),
                         1.0 / np.maximum(q * (1.0 - q), _EPS))
        genes = self.genes.iloc[idx].reset_index(drop=True)
        ids = pd.Index(genes["gene_id"].astype(str).tolist(), name="neighbour")
        frame = pd.DataFrame(shift * slope[None, :], index=ids, columns=cols)
        table = genes[[c for c in ("gene_id", "symbol", "accession") if c in genes]].copy()
        table["similarity"] = np.sqrt(wj)
        table["share"] = share
        has = pd.DataFrame(y > 0, index=ids, columns=cols)
        return frame, table, has
