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

    sim_ij = cos(idf * g_i, idf * r_j)                   (n, N) IDF-weighted cosine of GO
             (or of homolog-phenotype profiles, or the mean of the two: SIMILARITIES)
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

What makes two genes neighbours is chosen per run on validation (SIMILARITIES): their GO
input, the knockout phenotypes of their homologs in the other species (the model's ortholog
input o = H Y', H the bit-score shares of a protein's DIAMOND hits, Y' the other species'
labels; IDF over the training genes' nonzero terms), or the mean of the two cosines. The mean
measured +0.7-0.8 AUC over the GO vote on hpo's random split and +0.1-0.2 on its homology split
(validation, every seed; docs/VALIDATION_RUNS.md, "Neighbours by GO and by homolog phenotypes,
built in": chosen on all hpo runs, the profile alone on all mpo runs).

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
# what makes two genes neighbours (the trainer chooses one per run on validation; a checkpoint
# records its choice, a reference written before the choice existed used the first)
GO_INPUT, PROFILE, BOTH = "GO input", "homolog phenotypes", "GO input and homolog phenotypes"
SIMILARITIES = (GO_INPUT, PROFILE, BOTH)
# how a sentence says what the neighbours share with the protein, per similarity
BASIS = {GO_INPUT: "similar GO", PROFILE: "homologs with similar knockout phenotypes",
         BOTH: "similar GO and homologs with similar knockout phenotypes"}


def similarity_text(row) -> str:
    """One neighbour's similarity in words from a `GoNeighbours.contributions` table row:
    "GO similarity 0.62, homolog-phenotype similarity 0.41 (mean 0.52)" (what it measured)."""
    parts = [f"{label} {row[key]:.2f}" for key, label in (("go_similarity", "GO similarity"),
             ("profile_similarity", "homolog-phenotype similarity")) if key in row and not pd.isna(row[key])]
    if len(parts) == 2:
        return ", ".join(parts) + f" (mean {row['similarity']:.2f})"
    return parts[0] if parts else f"similarity {row['similarity']:.2f}"
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
    """The training genes' GO input bags, homolog-phenotype profiles and labels a protein's
    functional neighbours are read from, with the chosen similarity, k and alpha (stored
    with the model: checkpoint go_neighbours/)."""

    bags: sp.csr_matrix  # (N, G) the training genes' GO input (as the model trained on it)
    labels: sp.csr_matrix  # (N, K) their propagated labels
    idf: np.ndarray  # (G,) IDF over the training genes' GO
    genes: pd.DataFrame  # N rows: gene_id, symbol, accession
    k: int = DEFAULT_K
    alpha: float = 0.2
    similarity: str = GO_INPUT  # one of SIMILARITIES
    # (N, N') the bit-score shares of the training genes' DIAMOND hits among the other
    # species' genes, and (N', K') those genes' labels: the profiles o = H Y' are the model's
    # ortholog input of the training genes (stored as H: ~100 KB where o would take 1-2 MB)
    hit_shares: sp.csr_matrix | None = None
    other_labels: sp.csr_matrix | None = None

    def __post_init__(self) -> None:
        self.bags = sp.csr_matrix(self.bags, dtype=np.float32)
        self.labels = sp.csr_matrix(self.labels, dtype=np.float32)
        self.idf = np.asarray(self.idf, dtype=np.float64)
        if self.bags.shape[0] != self.labels.shape[0] or self.bags.shape[0] != len(self.genes):
            raise ValueError(f"functional neighbours: {self.bags.shape[0]} GO rows, {self.labels.shape[0]} label "
                             f"rows and {len(self.genes)} genes disagree")
        if self.bags.shape[1] != self.idf.shape[0]:
            raise ValueError(f"functional neighbours: {self.bags.shape[1]} GO columns but {self.idf.shape[0]} IDF weights")
        if self.similarity not in SIMILARITIES:
            raise ValueError(f"functional neighbours: similarity {self.similarity!r} is not one of {SIMILARITIES}")
        self._reference = unit_rows(self.bags, self.idf).T.tocsr()  # (G, N)
        self._profiles = None
        if self.hit_shares is not None and self.other_labels is not None:
            self.hit_shares = sp.csr_matrix(self.hit_shares, dtype=np.float32)
            self.other_labels = sp.csr_matrix(self.other_labels, dtype=np.float32)
            if self.hit_shares.shape != (self.bags.shape[0], self.other_labels.shape[0]):
                raise ValueError(f"functional neighbours: hit shares {self.hit_shares.shape} do not match "
                                 f"{self.bags.shape[0]} genes x {self.other_labels.shape[0]} other-species genes")
            profiles = sp.csr_matrix(self.hit_shares.astype(np.float64) @ self.other_labels.astype(np.float64))
            # (K',) IDF over the training genes' nonzero profile terms; (K', N) unit rows
            self.profile_idf = idf_weights(profiles > 0)
            self._profiles = unit_rows(profiles, self.profile_idf).T.tocsr()
        elif self.similarity != GO_INPUT:
            raise ValueError(f"functional neighbours by {self.similarity!r} need the training genes' homolog hits")
        # (K,) the training frequency (counts of 0/1 labels are exact in float32; divided in float64)
        self.prior = np.asarray(self.labels.sum(axis=0), dtype=np.float64).ravel() / max(1, self.labels.shape[0])

    @property
    def n_terms(self) -> int:
        return self.labels.shape[1]

    @property
    def reads_profile(self) -> bool:
        """A query's homolog-phenotype profile is needed (the similarity uses it)."""
        return self.similarity != GO_INPUT

    def with_choice(self, alpha: float, similarity: str | None = None) -> GoNeighbours:
        """The same reference with another alpha and (optionally) similarity."""
        return GoNeighbours(self.bags, self.labels, self.idf, self.genes, self.k, float(alpha),
                            self.similarity if similarity is None else similarity, self.hit_shares,
                            self.other_labels)

    def with_alpha(self, alpha: float) -> GoNeighbours:
        return self.with_choice(alpha)

    def similarities(self, bag, profile=None, similarity: str | None = None) -> dict[str, np.ndarray]:
        """{"go", "profile": (n, N) dense cosines} the similarity kind reads (a query with an
        empty GO bag or profile has 0 there). profile: (n, K') the queries' ortholog input."""
        kind = self.similarity if similarity is None else similarity
        out = {}
        if kind != PROFILE:
            out["go"] = (unit_rows(sp.csr_matrix(bag), self.idf) @ self._reference).toarray()
        if kind != GO_INPUT:
            if profile is None or self._profiles is None:
                raise ValueError(f"functional neighbours by {kind!r} need the homolog-phenotype profile of the "
                                 "query and the training genes' homolog hits")
            profile = sp.csr_matrix(np.asarray(profile.todense() if sp.issparse(profile) else profile,
                                               dtype=np.float64))
            out["profile"] = (unit_rows(profile, self.profile_idf) @ self._profiles).toarray()
        return out

    def weights(self, bag, profile=None, chunk: int = 1024, similarity: str | None = None) -> sp.csr_matrix:
        """(n, N) w_ij: similarity^2 of each query row's k most similar reference genes, the
        similarity being `similarity` (default: the chosen one) of the GO input bag (n, G)
        and / or the ortholog input profile (n, K'). Searched `chunk` rows at a time: the
        dense similarities of a whole batch of pasted proteins would take n x N x 8 bytes,
        0.6 GB for 20,000 against hpo's training genes."""
        n = (bag if bag is not None else profile).shape[0]
        parts = []
        for i in range(0, n, chunk):
            sims = self.similarities(None if bag is None else bag[i:i + chunk],
                                     None if profile is None else profile[i:i + chunk], similarity)
            parts.append(top_k_weights(sum(sims.values()) / len(sims), self.k))
        return sp.vstack(parts, format="csr") if parts else sp.csr_matrix((0, self.labels.shape[0]))

    def vote(self, bag, weights: sp.csr_matrix | None = None, profile=None) -> np.ndarray:
        """(n, K) v: the neighbours' labels weighted by w, shrunk to the training frequency
        (bag, profile: the queries' GO input and ortholog input, as `weights`)."""
        w = self.weights(bag, profile) if weights is None else weights
        total = np.asarray(w.sum(axis=1), dtype=np.float64)  # (n, 1)
        return (np.asarray((w @ self.labels).todense(), dtype=np.float64) + self.prior) / (total + 1.0)

    def shifted(self, probabilities: np.ndarray, bag, alpha: float | None = None,
                vote: np.ndarray | None = None, profile=None) -> np.ndarray:
        """(n, K) float64 q + alpha d c (module docstring) for the model's probabilities q;
        `vote`: the (n, K) `vote(bag, profile=profile)` when already computed (bag and profile
        are then not read)."""
        a = self.alpha if alpha is None else float(alpha)
        if a == 0.0:
            return np.asarray(probabilities, dtype=np.float64)
        vote = self.vote(bag, profile=profile) if vote is None else vote
        return shift_by_vote(probabilities, vote, self.prior, a)

    def blend(self, probabilities: np.ndarray, bag, alpha: float | None = None,
              vote: np.ndarray | None = None, profile=None) -> np.ndarray:
        """(n, K) the reported probabilities (float32, as the model's); arguments as `shifted`."""
        return self.shifted(probabilities, bag, alpha, vote, profile).astype(np.float32)

    def blend_logits(self, logits: np.ndarray, bag, profile=None) -> np.ndarray:
        """(n, K) the final logits logit(p) for the module's logits z (bag (n, G), profile
        (n, K'): the queries' GO and ortholog inputs)."""
        z = np.asarray(logits, dtype=np.float64)
        if self.alpha == 0.0:
            return z.astype(np.float32)
        return _logit(self.shifted(1.0 / (1.0 + np.exp(-z)), bag, profile=profile)).astype(np.float32)

    def contributions(self, logits: np.ndarray, bag, cols, weights: sp.csr_matrix | None = None,
                      profile=None, cosines: bool = True) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """One protein's neighbour evidence for the phenotype columns `cols`.

        logits: (K,) the module's logits z (before the neighbours); bag: (1, G) its GO input;
        profile: (1, K') its ortholog input (read when the similarity uses it); weights: its
        (1, N) `weights(bag, profile)` when already computed (one search per protein when
        several phenotypes are explained one at a time).
        Returns (contributions, neighbours, has): contributions DataFrame (index: the
        neighbours' gene ids; one column per col) whose column sums equal logit(p) - z
        exactly (see the module docstring); neighbours DataFrame[gene_id, symbol, accession,
        similarity, share, and go_similarity and / or profile_similarity: the cosines the
        similarity averages; left out with `cosines=False`, which spares a second search per
        call where only the contributions are read] (share: s_j, its weight in the vote), most
        similar first; has: bool DataFrame (neighbour gene id x col), the neighbour has the
        phenotype."""
        cols = list(cols)
        w = self.weights(bag, profile) if weights is None else sp.csr_matrix(weights)  # (1, N)
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
        for name, sim in (self.similarities(bag, profile) if cosines else {}).items():  # each (1, N)
            table[f"{name}_similarity"] = sim[0, idx]
        table["share"] = share
        has = pd.DataFrame(y > 0, index=ids, columns=cols)
        return frame, table, has
