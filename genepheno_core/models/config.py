"""Typed configuration of the GenePheno module and the neural baselines."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass
class GenePhenoConfig:
    """Shapes and layer sizes of a `GenePheno` module (everything needed to rebuild it).

    An input dimension of 0 disables that input branch (ablations "no-seq", "no-go", and
    the homology branch when off).
    """

    n_terms: int  # K phenotype terms (columns of the label matrix)
    n_concepts: int  # J GO concepts in the bottleneck
    seq_dim: int = 0  # D of the sequence embedding; 0 = no sequence input
    go_dim: int = 0  # G GO input vocabulary size; 0 = no GO input
    homology_dim: int = 0  # K diamond-score vector over training genes; 0 = off
    hidden: int = 512  # width of the fusion MLP
    n_layers: int = 2  # hidden layers of the fusion MLP (>= 1)
    dropout: float = 0.3
    go_term_rank: int = 0  # rank of the direct GO term -> phenotype weights W_g; 0 = off
    path_dropout: float = 0.0
    ortholog_dim: int = 0  # K' of the other species' phenotype vector; 0 = off
    ortholog_rank: int = 0  # rank of the direct ortholog phenotype -> phenotype weights W_o; 0 = off
    # number of (phenotype, other-species term) pairs related by a curated MP-HP mapping that
    # get their own weight in W_o (next to the low-rank part); 0 = off
    mapped_pairs: int = 0
    # Scores are sigmoid(s / temperature): the contrastive loss is trained on s / tau, so the
    # decision threshold 0 of the loss is probability 0.5 at prediction time.
    temperature: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "GenePhenoConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class MLPConfig:
    """A plain MLP head for the mlp-bce (sequence) and go-mlp (GO bag) baselines."""

    n_terms: int
    seq_dim: int = 0
    go_dim: int = 0
    homology_dim: int = 0
    ortholog_dim: int = 0
    hidden: int = 512
    n_layers: int = 1
    dropout: float = 0.3
    temperature: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "MLPConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
