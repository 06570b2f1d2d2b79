"""The GenePheno module: inputs -> fusion MLP -> GO concept bottleneck -> phenotype logits,
plus two readable direct paths.

    h = MLP(P_seq x + P_go g + P_hom d + e_go * has_go)        (B, H)
    c = W_c h + b_c                                            (B, J)  concept logits
    s = W_p sigmoid(c) + W_g g + W_o o + b                     (B, K)  phenotype logits

g is the gene's GO input bag (multi-hot / sqrt(n terms)), o the phenotypes (in the other
species' ontology, K') of its DIAMOND homologs in the other species' dataset. W_g (K, G)
and W_o (K, K') are stored as low-rank factors U V (hpo: 4,910 x 4,093 would be 20 M
weights; rank 512 + 256 is 7 M) with dropout between the factors in training; each entry
is still one readable weight "GO term t -> phenotype k" or "homolog phenotype x ->
phenotype k" (W_o may add one weight per pair a curated MP-HP mapping relates, the mapped
part, config.mapped_pairs), so every logit is bias + concept + GO term + homolog phenotype contributions.
Missing inputs contribute 0 to the sums (modality dropout and sequence-only prediction use
that), and `e_go` tells the network whether GO annotations were given at all. The ortholog
vector does not enter the fusion MLP: the concepts stay functions of the gene's own
sequence and GO annotations. `forward` returns logits only; probabilities are
sigmoid(s / config.temperature). `logit_parts` splits s by path (what the explanations and
attributions read), with the presence indicators optionally given instead of computed
(Integrated Gradients holds them fixed along its path).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import nn

from genepheno_core.models.config import GenePhenoConfig

logger = logging.getLogger(__name__)


@dataclass
class GenePhenoOutput:
    phenotype_logits: torch.Tensor  # (B, K)
    concept_logits: torch.Tensor | None = None  # (B, J); None for models without concepts


@dataclass
class LogitParts:
    """GenePheno's phenotype logits by path (before the temperature):
    phenotype_logits = concepts_and_bias + go_terms + ortholog, where concepts_and_bias =
    W_p sigmoid(c) + b (one fused linear, as in forward, so that the sum is forward's bit for
    bit); the GO-term and ortholog parts are zeros when the path or its input is absent."""

    concept_logits: torch.Tensor  # (B, J)
    concepts_and_bias: torch.Tensor  # (B, K)
    go_terms: torch.Tensor  # (B, K)
    ortholog: torch.Tensor  # (B, K)

    @property
    def phenotype_logits(self) -> torch.Tensor:  # (B, K)
        return self.concepts_and_bias + self.go_terms + self.ortholog


def normalise_go_bag(go_bag: torch.Tensor) -> torch.Tensor:
    """Multi-hot (B, G) -> rows scaled by 1/sqrt(n terms), so that heavily annotated genes do
    not dominate the fused sum; empty rows stay 0."""
    counts = go_bag.sum(dim=1, keepdim=True)
    return go_bag / counts.clamp_min(1.0).sqrt()


class _Inputs(nn.Module):
    """Projects each available input to the hidden width and sums them."""

    def __init__(self, seq_dim: int, go_dim: int, homology_dim: int, hidden: int, ortholog_dim: int = 0):
        super().__init__()
        self.seq_proj = nn.Linear(seq_dim, hidden) if seq_dim else None
        self.go_proj = nn.Linear(go_dim, hidden, bias=False) if go_dim else None
        self.homology_proj = nn.Linear(homology_dim, hidden, bias=False) if homology_dim else None
        self.ortholog_proj = nn.Linear(ortholog_dim, hidden, bias=False) if ortholog_dim else None
        # learned offsets telling the network that a modality is present for this gene
        self.go_present = nn.Parameter(torch.zeros(hidden)) if go_dim else None
        self.homology_present = nn.Parameter(torch.zeros(hidden)) if homology_dim else None
        self.ortholog_present = nn.Parameter(torch.zeros(hidden)) if ortholog_dim else None
        # sequence embeddings are standardised with training-set statistics (buffers, saved)
        self.register_buffer("seq_mean", torch.zeros(seq_dim))
        self.register_buffer("seq_std", torch.ones(seq_dim))
        self.hidden = hidden

    def forward(self, batch_size, seq_emb=None, go_bag=None, homology=None, device=None, ortholog=None,
                go_present=None, homology_present=None):
        """go_present / homology_present: (B, 1) presence indicators to use instead of the
        ones computed from the inputs (attributions keep them fixed while scaling the input)."""
        h = torch.zeros(batch_size, self.hidden, device=device)
        if self.seq_proj is not None and seq_emb is not None:
            h = h + self.seq_proj((seq_emb - self.seq_mean) / self.seq_std)
        if self.go_proj is not None and go_bag is not None:
            if go_present is None:
                go_present = (go_bag.sum(dim=1, keepdim=True) > 0).to(h.dtype)  # (B, 1)
            h = h + self.go_proj(normalise_go_bag(go_bag)) + go_present * self.go_present
        if self.homology_proj is not None and homology is not None:
            if homology_present is None:
                homology_present = (homology.sum(dim=1, keepdim=True) > 0).to(h.dtype)
            h = h + self.homology_proj(homology) + homology_present * self.homology_present
        if self.ortholog_proj is not None and ortholog is not None:
            present = (ortholog.sum(dim=1, keepdim=True) > 0).to(h.dtype)
            h = h + self.ortholog_proj(ortholog) + present * self.ortholog_present
        return h


def _batch_size(*tensors) -> tuple[int, torch.device | None]:
    for t in tensors:
        if t is not None:
            return t.shape[0], t.device
    raise ValueError("forward needs at least one input (seq_emb, go_bag or homology)")


def _trunk(hidden: int, n_layers: int, dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = [nn.GELU(), nn.Dropout(dropout)]
    for _ in range(max(0, n_layers - 1)):
        layers += [nn.Linear(hidden, hidden), nn.GELU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)


class GenePheno(nn.Module):
    """Interpretable phenotype predictor with a GO-concept bottleneck (see module docstring)."""

    def __init__(self, config: GenePhenoConfig):
        super().__init__()
        if not (config.seq_dim or config.go_dim or config.homology_dim or config.ortholog_dim):
            raise ValueError("GenePheno needs at least one input (seq_dim, go_dim or homology_dim)")
        self.config = config
        # the ortholog vector enters only through its own readable head W_o (measured on hpo and
        # mpo validation: feeding it to the fusion MLP as well changed nothing), so the concepts
        # stay functions of the gene's own sequence and GO annotations
        self.inputs = _Inputs(config.seq_dim, config.go_dim, config.homology_dim, config.hidden)
        self.trunk = _trunk(config.hidden, config.n_layers, config.dropout)
        self.concept_head = nn.Linear(config.hidden, config.n_concepts)  # W_c (J, H)
        self.phenotype_head = nn.Linear(config.n_concepts, config.n_terms)  # W_p (K, J), b (K)
        self.go_term_head = None
        if config.go_dim and config.go_term_rank:
            # W_g = U V (K, G), rank r: a readable GO term -> phenotype weight per pair
            self.go_term_head = nn.Sequential(nn.Linear(config.go_dim, config.go_term_rank, bias=False),  # V (r, G)
                                              nn.Dropout(config.path_dropout),
                                              nn.Linear(config.go_term_rank, config.n_terms, bias=False))  # U (K, r)
            nn.init.zeros_(self.go_term_head[2].weight)
        self.ortholog_head = None
        if config.ortholog_dim and config.ortholog_rank:
            # W_o = U V (K, K'): the other species' phenotype -> this phenotype
            self.ortholog_head = nn.Sequential(nn.Linear(config.ortholog_dim, config.ortholog_rank, bias=False),
                                               nn.Dropout(config.path_dropout),
                                               nn.Linear(config.ortholog_rank, config.n_terms, bias=False))
            nn.init.zeros_(self.ortholog_head[2].weight)
        self.mapped_weight = None
        if config.ortholog_dim and config.mapped_pairs:
            # W_o's mapped part: one weight per (phenotype k, other-species term x) pair that a
            # curated MP-HP mapping relates (models.features / evaluation.evidence.related_matrix);
            # set_mapped_pairs fills the pairs, which are saved with the weights
            self.register_buffer("mapped_index", torch.zeros(2, config.mapped_pairs, dtype=torch.long))
            self.mapped_weight = nn.Parameter(torch.zeros(config.mapped_pairs))

    def set_mapped_pairs(self, rows, cols) -> None:
        """The (phenotype, other-species term) pairs of W_o's mapped part (len = mapped_pairs)."""
        index = torch.as_tensor([list(rows), list(cols)], dtype=torch.long)
        if self.mapped_weight is None or index.shape != self.mapped_index.shape:
            raise ValueError(f"expected {self.config.mapped_pairs} mapped pairs, got {index.shape[1]}")
        with torch.no_grad():
            self.mapped_index.copy_(index)

    def _mapped(self, ortholog: torch.Tensor) -> torch.Tensor:
        """(B, K) the mapped part of W_o o: sum over pairs (k, x) of w_kx o_x."""
        rows, cols = self.mapped_index
        values = ortholog[:, cols] * self.mapped_weight  # (B, P)
        out = torch.zeros(ortholog.shape[0], self.config.n_terms, dtype=values.dtype, device=values.device)
        return out.index_add(1, rows, values)

    def ortholog_weight(self, rows=None, cols=None) -> torch.Tensor | None:
        """W_o (raw, before the temperature) for phenotype rows `rows` and other-species
        columns `cols` (all when None; each without repeats): the low-rank part U V plus the
        mapped pairs' weights; None without the homolog-phenotype path."""
        if self.ortholog_head is None and self.mapped_weight is None:
            return None
        rows = torch.arange(self.config.n_terms) if rows is None else torch.as_tensor(rows, dtype=torch.long)
        cols = torch.arange(self.config.ortholog_dim) if cols is None else torch.as_tensor(cols, dtype=torch.long)
        out = torch.zeros(rows.numel(), cols.numel(), dtype=torch.float64)
        with torch.no_grad():
            if self.ortholog_head is not None:
                out += self.ortholog_head[2].weight[rows].double() @ self.ortholog_head[0].weight[:, cols].double()
            if self.mapped_weight is not None:
                row_pos = torch.full((self.config.n_terms,), -1, dtype=torch.long)
                row_pos[rows] = torch.arange(rows.numel())
                col_pos = torch.full((self.config.ortholog_dim,), -1, dtype=torch.long)
                col_pos[cols] = torch.arange(cols.numel())
                r, c = row_pos[self.mapped_index[0]], col_pos[self.mapped_index[1]]
                keep = (r >= 0) & (c >= 0)
                out.index_put_((r[keep], c[keep]), self.mapped_weight[keep].double(), accumulate=True)
        return out

    def forward(
        self,
        seq_emb: torch.Tensor | None = None,  # (B, D)
        go_bag: torch.Tensor | None = None,  # (B, G) multi-hot; all-zero row = no GO
        homology: torch.Tensor | None = None,  # (B, K) diamond-score vector
        ortholog: torch.Tensor | None = None,  # (B, K') other species' diamond-score vector
    ) -> GenePhenoOutput:
        parts = self.logit_parts(seq_emb, go_bag, homology, ortholog)
        return GenePhenoOutput(parts.phenotype_logits, parts.concept_logits)

    def logit_parts(
        self,
        seq_emb: torch.Tensor | None = None,  # (B, D)
        go_bag: torch.Tensor | None = None,  # (B, G)
        homology: torch.Tensor | None = None,  # (B, K)
        ortholog: torch.Tensor | None = None,  # (B, K')
        go_present: torch.Tensor | None = None,  # (B, 1) override of "GO was given"
        homology_present: torch.Tensor | None = None,  # (B, 1)
        concept_mask: torch.Tensor | None = None,  # (B, J) multiplies the concept activations
    ) -> LogitParts:
        """The phenotype logits split by path (see LogitParts); forward is their sum.
        `concept_mask` (0 = concept removed) is for deletion checks: a removed concept
        contributes nothing, as if its activation were 0."""
        batch, device = _batch_size(seq_emb, go_bag, homology, ortholog)
        h = self.trunk(self.inputs(batch, seq_emb, go_bag, homology, device,
                                   go_present=go_present, homology_present=homology_present))
        concept_logits = self.concept_head(h)  # (B, J)
        activations = torch.sigmoid(concept_logits)  # (B, J)
        if concept_mask is not None:
            activations = activations * concept_mask
        concepts_and_bias = self.phenotype_head(activations)  # (B, K)
        zeros = torch.zeros_like(concepts_and_bias)
        go_terms = zeros
        if self.go_term_head is not None and go_bag is not None:
            go_terms = self.go_term_head(normalise_go_bag(go_bag))
        ortholog_part = zeros
        if self.ortholog_head is not None and ortholog is not None:
            ortholog_part = self.ortholog_head(ortholog)
        if self.mapped_weight is not None and ortholog is not None:
            ortholog_part = ortholog_part + self._mapped(ortholog)
        return LogitParts(concept_logits, concepts_and_bias, go_terms, ortholog_part)

    def selected_logits(
        self,
        terms: torch.Tensor,  # (B,) one phenotype column per row
        seq_emb: torch.Tensor | None = None,  # (B, D)
        go_bag: torch.Tensor | None = None,  # (B, G)
        homology: torch.Tensor | None = None,  # (B, K)
        ortholog: torch.Tensor | None = None,  # (B, K')
        concept_mask: torch.Tensor | None = None,  # (B, J)
    ) -> torch.Tensor:
        """(B,) phenotype logit of column terms[b] for row b, equal to
        logit_parts(...).phenotype_logits[b, terms[b]] but without forming all K columns
        (deletion checks rerun the model for hundreds of variants of one gene)."""
        batch, device = _batch_size(seq_emb, go_bag, homology, ortholog)
        h = self.trunk(self.inputs(batch, seq_emb, go_bag, homology, device))
        activations = torch.sigmoid(self.concept_head(h))  # (B, J)
        if concept_mask is not None:
            activations = activations * concept_mask
        out = (activations * self.phenotype_head.weight[terms]).sum(dim=1) + self.phenotype_head.bias[terms]
        if self.go_term_head is not None and go_bag is not None:
            low = self.go_term_head[0](normalise_go_bag(go_bag))  # (B, r): V g, dropout is off in eval
            out = out + (low * self.go_term_head[2].weight[terms]).sum(dim=1)
        if self.ortholog_head is not None and ortholog is not None:
            low = self.ortholog_head[0](ortholog)  # (B, r)
            out = out + (low * self.ortholog_head[2].weight[terms]).sum(dim=1)
        if self.mapped_weight is not None and ortholog is not None:
            out = out + self._mapped(ortholog).gather(1, terms[:, None]).squeeze(1)
        return out

