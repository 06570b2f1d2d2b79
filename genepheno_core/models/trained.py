"""The trained model as one inference object, next to the network it wraps.

`TrainedModel` holds a module (GenePheno or an MLP baseline) with its vocabularies and the
inputs it computes for new proteins (GO bag, DIAMOND homology and cross-species vectors);
`module_logits` / `module_probabilities` are the one batched prediction loop (the trainer
uses them too), and `temperature` the one place the training temperature is read:
scores are sigmoid(s / T). Saving and loading checkpoints is genepheno_core.training.checkpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from genepheno_core.errors import GenePhenoError, ModelMismatchError
from genepheno_core.models.genepheno import GenePheno, GenePhenoOutput, LogitParts
from genepheno_core.models.go_neighbours import GoNeighbours

if TYPE_CHECKING:  # for the annotation only: training is a later layer than models
    from genepheno_core.training.config import TrainConfig

logger = logging.getLogger(__name__)


def temperature(module: torch.nn.Module) -> float:
    """The training temperature T of a module: its scores are sigmoid(logits / T) (the
    contrastive loss is trained on s / tau; T = 1 for BCE-trained models)."""
    return float(module.config.temperature)


def row_batches(tensors: dict[str, torch.Tensor], batch_size: int = 512) -> Iterator[dict[str, torch.Tensor]]:
    """{name: (n, ...)} -> the same tensors `batch_size` rows at a time."""
    n = next(iter(tensors.values())).shape[0]
    for start in range(0, n, batch_size):
        yield {k: v[start:start + batch_size] for k, v in tensors.items()}


@torch.no_grad()
def batched_outputs(module: torch.nn.Module, batches: Iterable[dict[str, torch.Tensor]]) -> Iterator[GenePhenoOutput]:
    """The module's outputs (eval mode, no gradients) for each batch of input tensors."""
    module.eval()
    for batch in batches:
        yield module(**batch)


def module_logits(module: torch.nn.Module, batches: Iterable[dict[str, torch.Tensor]]) -> np.ndarray:
    """(n, K) effective logits s / T over all batches."""
    t = temperature(module)
    parts = [(out.phenotype_logits / t).numpy() for out in batched_outputs(module, batches)]
    return np.concatenate(parts) if parts else np.zeros((0, module.config.n_terms), dtype=np.float32)


def module_probabilities(module: torch.nn.Module, batches: Iterable[dict[str, torch.Tensor]]) -> np.ndarray:
    """(n, K) probabilities sigmoid(s / T) over all batches: the one prediction loop (the
    trainer's validation and test scores and every TrainedModel prediction)."""
    t = temperature(module)
    parts = [torch.sigmoid(out.phenotype_logits / t).numpy() for out in batched_outputs(module, batches)]
    return np.concatenate(parts) if parts else np.zeros((0, module.config.n_terms), dtype=np.float32)


def module_concept_activations(module: GenePheno, batches: Iterable[dict[str, torch.Tensor]]) -> np.ndarray:
    """(n, J) concept activations sigmoid(c) over all batches."""
    parts = [torch.sigmoid(out.concept_logits).numpy() for out in batched_outputs(module, batches)]
    return np.concatenate(parts) if parts else np.zeros((0, module.config.n_concepts), dtype=np.float32)


@dataclass
class CrossSpecies:
    """The other species' labelled genes a model's ortholog input is computed against."""

    dataset: str
    genes: pd.DataFrame  # gene_id, symbol, accession
    sequences: list[str]
    labels: sp.csr_matrix  # (N', K') uint8
    terms: pd.DataFrame  # term_id, name, depth (column k' of labels and of the ortholog input)
    max_hits: int = 5
    cache_hits: bool = True  # keep DIAMOND results under genepheno_home() (a repeated query is free)

    def vectors(self, sequences, threads: int | None = None) -> np.ndarray:
        """(n, K') Diamond-score vectors of `sequences` over these genes (the ortholog input).
        threads: DIAMOND threads (default: up to 2; one query takes ~0.4 s with 2 threads vs
        ~0.8 s with 1 against 8,000 mouse proteins, with identical hits)."""
        from genepheno_core.models.features import cross_species_vectors, default_threads

        threads = threads or default_threads()
        scores, _ = cross_species_vectors(list(sequences), self.sequences, self.labels, threads=threads,
                                          max_hits=self.max_hits, cache=self.cache_hits)
        return scores


@dataclass
class TrainedModel:
    """A trained model, ready to predict: the one inference object (loaded from a checkpoint
    by genepheno_core.training.load_model).

    `inputs` builds the module's tensors, `logits` / `probabilities` run it in batches,
    `logit_parts` splits a logit by path. Probabilities are sigmoid(W_p sigmoid(c) + W_g g +
    W_o o + bias) with the effective `W_p` (K, J), `W_g`, `W_o` and `bias` (K,) exposed here
    (the training temperature divided out), so the contribution of concept j to phenotype k
    for a gene is W_p[k, j] * concept_activation_j.
    """

    path: Path
    kind: str
    module: torch.nn.Module | None
    terms: pd.DataFrame  # term_id, name
    concepts: pd.DataFrame | None  # go_id, name, namespace
    go_inputs: list[str]
    encoder: str | None
    threshold: float
    metrics: dict
    manifest: dict
    config: TrainConfig
    homology: tuple[list[str], sp.csr_matrix] | None = field(default=None, repr=False)  # training seqs, labels
    cross_species: CrossSpecies | None = field(default=None, repr=False)
    # the functional-neighbour vote blended into the probabilities ("go-neighbours" models
    # whose validation chose alpha > 0; models.go_neighbours), None otherwise
    go_neighbours: GoNeighbours | None = field(default=None, repr=False)
    # Caches, filled on first use and kept for the model's lifetime: the GO release of the
    # training data (False when unavailable or skipped) and whatever the interpret area
    # derives once per model (genepheno_core.interpret: the explain/ extras, the score
    # propagation plan, the "average protein" concept activations).
    _go_ontology: object = field(default=None, repr=False)
    caches: dict = field(default_factory=dict, repr=False)

    # -- inputs
    @property
    def uses_go(self) -> bool:
        return bool(self.go_inputs)

    @property
    def uses_sequence(self) -> bool:
        return self.module is not None and getattr(self.module.config, "seq_dim", 0) > 0

    @property
    def uses_homology(self) -> bool:
        return self.homology is not None

    @property
    def uses_ortholog(self) -> bool:
        """The model reads the phenotypes of the protein's homologs in the other species."""
        return self.cross_species is not None

    @property
    def needs_sequences(self) -> bool:
        """Predictions need the protein sequences themselves (DIAMOND-based inputs)."""
        return self.uses_homology or self.uses_ortholog

    def go_ontology(self):
        """The Gene Ontology release of the training data (from the dataset manifest), or None."""
        if self._go_ontology is None:
            entry = (self.manifest or {}).get("go_ontology")
            if not entry:
                return None
            from genepheno_core.datasets import load_manifest_ontology

            try:
                self._go_ontology = load_manifest_ontology(entry, "GO ontology")
            except GenePhenoError as exc:
                logger.warning("GO ontology unavailable (%s): GO sets are used as given", exc)
                self._go_ontology = False
        return self._go_ontology or None

    def skip_go_ontology(self) -> None:
        """Never load the GO release (callers that propagate GO sets themselves, e.g. with the
        closure stored next to a default model, avoid loading the whole ontology)."""
        if self._go_ontology is None:
            self._go_ontology = False

    def propagate_go(self, go_sets) -> list[set[str]]:
        """Each GO set with its ancestors (alt_ids remapped) in the training GO release;
        unchanged when that ontology is unavailable (then pass propagated sets)."""
        ontology = self.go_ontology()
        out = []
        for terms in go_sets:
            terms = set(terms or ())
            if ontology is not None:
                full = set()
                for term in terms:
                    current = ontology.remap(term) if term not in ontology else term
                    if current is not None:
                        full |= ontology.ancestors(current, include_self=True)
                terms = full
            out.append(terms)
        return out

    def go_bag(self, go_sets, propagate: bool = True) -> np.ndarray:
        """(n, G) GO input over the GO input vocabulary. Each entry of `go_sets` is an
        iterable of GO ids (multi-hot; None or empty = no GO; with `propagate` they are
        propagated to their ancestors first, harmless for sets that already are) or a mapping
        {GO id: weight in [0, 1]} (GO transferred from homologs, already propagated: see
        `transfer_go`)."""
        weighted = {row: dict(terms) for row, terms in enumerate(go_sets) if isinstance(terms, Mapping)}
        if propagate:
            go_sets = self.propagate_go([None if row in weighted else terms for row, terms in enumerate(go_sets)])
        index = {g: i for i, g in enumerate(self.go_inputs)}
        bag = np.zeros((len(go_sets), len(self.go_inputs)), dtype=np.float32)
        for row, terms in enumerate(go_sets):
            for term in terms or ():
                j = index.get(term)
                if j is not None:
                    bag[row, j] = 1.0
        for row, weights in weighted.items():
            for term, value in weights.items():
                j = index.get(term)
                if j is not None:
                    bag[row, j] = float(value)
        return bag

    @property
    def trained_on_transferred_go(self) -> bool:
        """Trained on GO transferred from sequence homologs (config go_source "transferred" or
        the "go-transfer" ablation) rather than the genes' own annotations."""
        return self.uses_go and getattr(self.config, "effective_go_source", None) == "transferred"

    def transfer_go(self, sequences, threads: int | None = None):
        """GO transferred to `sequences` from their DIAMOND homologs among the GO-annotated
        human and mouse proteins of the registry's GOA release (models.go_transfer), with
        `result.reindex(model.go_inputs)` is the (n, G) GO input. The reference is loaded once per model (cached on disk after the
        first use); identical copies of a query are not used, as in training."""
        from genepheno_core.models.features import default_threads
        from genepheno_core.models.go_transfer import transfer_go

        reference, closure = self.go_reference()
        # cache: predict() then explain() of one pasted protein search DIAMOND once
        return transfer_go(list(sequences), reference, closure, threads=threads or default_threads(), cache=True,
                           max_hits=self.go_transfer_max_hits)

    @property
    def go_transfer_max_hits(self) -> int:
        """Homologs a protein given no GO takes its GO from (the training config's option)."""
        return int(getattr(self.config, "go_transfer_max_hits", 10))

    def go_reference(self):
        """(GoReference, GoClosure) GO is transferred from: the registry's GOA / Swiss-Prot
        releases with the closure of their GO ids in the training GO release, loaded once per
        model (models.go_transfer.cached_go_reference; MissingDataError without them)."""
        from genepheno_core.models.go_transfer import cached_go_reference

        if "go_reference" not in self.caches:
            entry = (self.manifest or {}).get("go_ontology")
            ontology = self._go_ontology if self._go_ontology not in (None, False) else None
            reference, closure = cached_go_reference(entry, go_ontology=ontology)
            reference._index  # the lookups, built once here rather than on the first query
            self.caches["go_reference"] = (reference, closure)
        return self.caches["go_reference"]

    def homology_input(self, sequences) -> np.ndarray:
        """(n, K) Diamond-score vectors of `sequences` against the training genes."""
        from genepheno_core.models.baselines import diamond_scores

        train_seqs, train_labels = self.homology
        scores, _ = diamond_scores(list(sequences), train_seqs, train_labels)
        return scores

    def inputs(self, embeddings=None, go_sets=None, sequences=None) -> dict[str, torch.Tensor]:
        """The module's input tensors for n proteins: {"seq_emb": (n, D), "go_bag": (n, G),
        "homology": (n, K), "ortholog": (n, K')}, each only when the model reads it.

        embeddings (n, D) from `encoder`; go_sets: per protein an iterable of GO ids or None
        (no GO; None for all = sequence-only prediction); sequences: the protein sequences
        (models whose homology / cross-species inputs are DIAMOND searches)."""
        n = None
        out = {}
        if self.uses_sequence:
            if embeddings is None:
                raise ValueError(f"this model needs {self.encoder} sequence embeddings")
            emb = np.asarray(embeddings, dtype=np.float32)
            if emb.ndim != 2 or emb.shape[1] != self.module.config.seq_dim:
                raise ModelMismatchError(
                    f"embeddings have shape {emb.shape}; the model expects (n, {self.module.config.seq_dim}) "
                    f"from encoder {self.encoder}")
            out["seq_emb"] = torch.from_numpy(emb)
            n = emb.shape[0]
        if self.uses_go:
            if go_sets is None:
                if n is None:
                    raise ValueError("this model needs GO annotations (go_sets)")
                go_sets = [None] * n
            out["go_bag"] = torch.from_numpy(self.go_bag(go_sets))
            n = len(go_sets) if n is None else n
        if self.uses_homology:
            if sequences is not None:
                out["homology"] = torch.from_numpy(self.homology_input(sequences))
            else:
                logger.warning("homology model used without sequences: homology input left empty")
        if self.uses_ortholog:
            if sequences is None:
                raise ValueError("this model needs the protein sequences (its ortholog input is a DIAMOND search)")
            out["ortholog"] = torch.from_numpy(self.cross_species.vectors(sequences))
        if not out:
            raise ValueError("no input given")
        lengths = {v.shape[0] for v in out.values()}
        if len(lengths) != 1:
            raise ValueError(f"inputs disagree on the number of genes: {sorted(lengths)}")
        return out

    @property
    def uses_go_neighbours(self) -> bool:
        """The model blends in the functional-neighbour vote (models.go_neighbours)."""
        return self.go_neighbours is not None and self.go_neighbours.alpha > 0

    def neighbour_query(self, tensors: dict[str, torch.Tensor]) -> tuple[np.ndarray, np.ndarray | None]:
        """What the functional-neighbour search reads of `tensors` (from `inputs`): the GO
        input bag (n, G) and, when the chosen similarity uses it, the ortholog input (n, K')."""
        profile = tensors["ortholog"].numpy() if self.go_neighbours.reads_profile else None
        return tensors["go_bag"].numpy(), profile

    def logits(self, embeddings=None, go_sets=None, sequences=None, batch_size: int = 512) -> np.ndarray:
        """(n, K) effective phenotype logits (the training temperature divided out):
        probabilities are sigmoid of these, and bias + contributions sum to them. With
        functional neighbours: logit(p), sigmoid(s / T) moved by the neighbours' vote
        (models.go_neighbours)."""
        self._need_module()
        tensors = self.inputs(embeddings, go_sets, sequences)
        z = module_logits(self.module, row_batches(tensors, batch_size))
        if self.uses_go_neighbours:
            z = self.go_neighbours.blend_logits(z, *self.neighbour_query(tensors))
        return z

    def probabilities(self, embeddings=None, go_sets=None, sequences=None, batch_size: int = 512) -> np.ndarray:
        """(n, K) phenotype probabilities sigmoid(s / T), columns in `terms` order (see
        `inputs`); with functional neighbours, moved by their vote (models.go_neighbours)."""
        self._need_module()
        if self.uses_go_neighbours:
            # the sigmoid of `logits`, so that a caller holding the logits gets the same
            # probabilities bit for bit (interpret.inference.score_matrix)
            z = self.logits(embeddings, go_sets, sequences, batch_size)
            return torch.sigmoid(torch.from_numpy(np.ascontiguousarray(z))).numpy()
        return module_probabilities(self.module, row_batches(self.inputs(embeddings, go_sets, sequences), batch_size))

    def logit_parts(self, tensors: dict[str, torch.Tensor]) -> LogitParts:
        """The phenotype logits of `tensors` (from `inputs`) split by path, each divided by the
        temperature (GenePheno models only; see GenePheno.logit_parts)."""
        module = self._need_concepts()
        module.eval()
        with torch.no_grad():
            parts = module.logit_parts(**tensors)
        t = temperature(module)
        return LogitParts(parts.concept_logits, parts.concepts_and_bias / t, parts.go_terms / t, parts.ortholog / t)

    def concept_activations(self, embeddings=None, go_sets=None, sequences=None, batch_size: int = 512) -> np.ndarray:
        """(n, J) sigmoid(c): the GO concept activations of the bottleneck."""
        module = self._need_concepts()
        return module_concept_activations(module, row_batches(self.inputs(embeddings, go_sets, sequences), batch_size))

    def _need_module(self) -> torch.nn.Module:
        if self.module is None:
            raise ModelMismatchError(f"{self.path} is a {self.kind} baseline checkpoint without a module")
        return self.module

    def _need_concepts(self) -> GenePheno:
        if not isinstance(self.module, GenePheno):
            raise ModelMismatchError(f"{self.path} ({self.kind}) has no concept layer")
        return self.module

    @property
    def W_p(self) -> np.ndarray:
        """(K, J) effective concept -> phenotype weights (temperature divided out)."""
        return self._need_concepts().phenotype_head.weight.detach().numpy() / temperature(self.module)

    def W_g(self, terms=None, go_inputs=None) -> np.ndarray | None:
        """Effective GO input term -> phenotype weights of the direct GO term path, rows
        `terms` (phenotype column indices) x columns `go_inputs` (GO input indices), all when
        None; None for models without the path. The full (K, G) matrix is large (hpo: 4,910 x
        ~15,000), so it is formed from its low-rank factors U V only for the rows and columns
        asked for. A gene's GO term t contributes W_g[k, t] * g_t with g = multi-hot / sqrt(n)."""
        return self._low_rank(getattr(self.module, "go_term_head", None), terms, go_inputs)

    def W_o(self, terms=None, ortholog_terms=None) -> np.ndarray | None:
        """Effective other-species phenotype -> phenotype weights (rows `terms`, columns
        `ortholog_terms`, all when None; None without the ortholog path)."""
        module = self.module
        if not isinstance(module, GenePheno):
            return None
        weight = module.ortholog_weight(None if terms is None else np.asarray(terms, dtype=np.int64),
                                        None if ortholog_terms is None else np.asarray(ortholog_terms, dtype=np.int64))
        return None if weight is None else weight.numpy() / temperature(module)

    def _low_rank(self, head, rows, cols) -> np.ndarray | None:
        if head is None:
            return None
        U = head[2].weight.detach()  # (K, r)
        V = head[0].weight.detach()  # (r, G)
        if rows is not None:
            U = U[torch.as_tensor(np.asarray(rows, dtype=np.int64))]
        if cols is not None:
            V = V[:, torch.as_tensor(np.asarray(cols, dtype=np.int64))]
        return (U.double() @ V.double()).numpy() / temperature(self.module)

    @property
    def bias(self) -> np.ndarray:
        """(K,) effective phenotype bias (temperature divided out)."""
        head = self.module.phenotype_head if isinstance(self.module, GenePheno) else self.module.head
        return head.bias.detach().numpy() / temperature(self.module)

    def check_compatible(self, dataset=None, encoder: str | None = None) -> None:
        """Raise ModelMismatchError unless `dataset` has the same label vocabulary (and GO
        vocabulary covering the model's GO inputs) and `encoder` is the model's encoder."""
        if encoder is not None and self.encoder is not None and str(encoder) != self.encoder:
            raise ModelMismatchError(
                f"{self.path} was trained on {self.encoder} embeddings, not {encoder}")
        if dataset is not None:
            mine = self.terms["term_id"].astype(str).tolist()
            theirs = dataset.terms["term_id"].astype(str).tolist()
            if mine != theirs:
                diff = len(set(mine) ^ set(theirs))
                raise ModelMismatchError(
                    f"{self.path} has a different label vocabulary from dataset "
                    f"{getattr(dataset, 'name', '?')!r} ({len(mine)} vs {len(theirs)} terms, "
                    f"{diff} differ{' (same terms, other order)' if diff == 0 else ''})")
            if self.go_inputs and getattr(dataset, "go_terms", None) is not None:
                missing = set(self.go_inputs) - set(dataset.go_terms["go_id"].astype(str))
                if missing:
                    raise ModelMismatchError(
                        f"{self.path}: {len(missing)} GO input terms are not in dataset "
                        f"{getattr(dataset, 'name', '?')!r}'s GO vocabulary")
