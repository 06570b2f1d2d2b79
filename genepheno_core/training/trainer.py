"""One trainer for GenePheno and every baseline.

`prepare_data` turns a Dataset into arrays (labels, split indices, sequence embeddings, the
GO input bag and GO concept labels chosen on training genes, optional homology vectors);
`fit_module` trains any neural model (AdamW, early stopping on validation Fmax, fixed seeds,
per-epoch resume state); `train` writes a checkpoint directory; `train_and_predict` is the
entry point of the benchmark (it also runs the non-neural baselines).

Hyperparameters are chosen on the validation split only; the test rows are touched only
by `train_and_predict` / `--predictions-out`, after training.

Every validation run behind the defaults is recorded in docs/VALIDATION_RUNS.md.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from genepheno_core.errors import GenePhenoError
from genepheno_core.io import atomic_path, genepheno_home
from genepheno_core.methods import METHODS
from genepheno_core.models import GenePheno, GenePhenoConfig
from genepheno_core.models.baselines import (
    MLPBaseline,
    diamond_scores,
    kmer_lr_scores,
    naive_scores,
)
from genepheno_core.models.config import MLPConfig
from genepheno_core.models.features import (
    cross_species_hit_shares,
    cross_species_vectors,
    homology_vectors,
    select_concepts,
    select_go_inputs,
)
from genepheno_core.models.losses import (
    bce_loss,
    contrastive_multilabel_loss,
    exclusivity_loss,
    hierarchical_logits,
)
from genepheno_core.models.go_neighbours import ALPHAS, GO_INPUT, SIMILARITIES, GoNeighbours, idf_weights
from genepheno_core.models.pairs import dataset_pairs, pairs_tensor
from genepheno_core.models.trained import module_concept_activations, module_probabilities
from genepheno_core.models.trained import temperature as model_temperature
from genepheno_core.training.config import RUN_CONTROL_FIELDS, TrainConfig

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1


# ----------------------------------------------------------------------------- data
@dataclass
class PreparedData:
    """Arrays of one dataset + split, rows = dataset genes (n)."""

    labels: sp.csr_matrix  # (n, K) float32 propagated labels
    train: np.ndarray  # row indices
    valid: np.ndarray
    test: np.ndarray
    term_ancestors: sp.csr_matrix  # (K, K)
    term_counts: np.ndarray  # (K,) dataset term frequencies (AUC bins)
    seq: np.ndarray | None = None  # (n, D) float32 sequence embeddings
    go_bag: sp.csr_matrix | None = None  # (n, G) GO input bag
    go_bag_transferred: sp.csr_matrix | None = None  # (n, G) GO transferred from homologs (go_source own+transferred)
    concept_labels: sp.csr_matrix | None = None  # (n, J) GO concept labels
    has_go: np.ndarray | None = None  # (n,) bool: gene has any GO annotation
    homology: np.ndarray | None = None  # (n, K) Diamond-score vectors vs training genes
    ortholog: np.ndarray | None = None  # (n, K') Diamond-score vectors vs the other species' dataset
    ortholog_source: object = None  # the other species' Dataset (its genes, labels and terms are saved with the model)
    ortholog_related: sp.csr_matrix | None = None  # (K, K') bool: pairs a curated MP-HP mapping relates (ortholog_mapped)
    go_vocab: list[str] = field(default_factory=list)  # GO id per go_bag column
    concept_ids: list[str] = field(default_factory=list)  # GO id per concept
    pairs: torch.Tensor | None = None  # (P, 2) exclusive pairs (column indices)
    # the other species' genes as extra training rows (config.cross_species_rows): their row
    # indices (after the dataset's n genes, in every per-gene array above), the phenotypes
    # their mapped labels can reach (K,) bool (the others are unknown for them) and their weight
    extra: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    label_known: np.ndarray | None = None
    extra_weight: float = 1.0
    # (K,) their label shift: logit(frequency among them) - logit(frequency among the training
    # genes), 0 for an unknown phenotype; added to their logits in the loss (fit_module)
    extra_shift: np.ndarray | None = None


def _split_indices(dataset, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if split not in dataset.splits.columns:
        raise GenePhenoError(
            f"dataset {dataset.name!r} has no {split!r} split (has: {', '.join(dataset.splits.columns)})"
        )
    col = dataset.splits[split].to_numpy()
    parts = tuple(np.flatnonzero(col == name) for name in ("train", "valid", "test"))
    if parts[0].size == 0 or parts[1].size == 0:
        raise GenePhenoError(f"split {split!r} of {dataset.name!r} has no training or validation genes")
    return parts


def prepare_data(dataset, config: TrainConfig, embeddings: np.ndarray | None = None) -> PreparedData:
    """Arrays for `config` (everything chosen on the training genes of config.split)."""
    train, valid, test = _split_indices(dataset, config.split)
    labels = sp.csr_matrix(dataset.labels, dtype=np.float32)
    data = PreparedData(
        labels=labels, train=train, valid=valid, test=test,
        term_ancestors=sp.csr_matrix(dataset.term_ancestors),
        term_counts=dataset.terms["n_genes"].to_numpy() if "n_genes" in dataset.terms else np.asarray(labels.sum(0)).ravel(),
    )
    spec = config.spec
    if config.use_seq:
        data.seq = _embeddings(dataset, config.encoder, embeddings, config.progress)
    if config.model == "kmer-lr":  # its own k-mer composition features, not the --encoder's
        data.seq = _embeddings(dataset, config.kmer_encoder, embeddings, config.progress)
    if spec.reads_go:
        go = sp.csr_matrix(dataset.go, dtype=np.float32)
        data.has_go = np.asarray(go.sum(axis=1)).ravel() > 0
        go_train = go[train]
        concepts = np.zeros(0, dtype=np.int64)
        if spec.bottleneck:
            concepts = select_concepts(dataset.go_terms, go_train, config.concept_depth,
                                       config.concept_min_genes, config.concepts, config.concept_max_depth)
            data.concept_labels = go[:, concepts].tocsr()
            data.concept_ids = dataset.go_terms["go_id"].iloc[concepts].astype(str).tolist()
        if config.use_go:
            # the input vocabulary is chosen on the training genes' own annotations either way
            vocab = select_go_inputs(dataset.go_terms, go_train, concepts, config.go_min_genes,
                                     config.concept_depth - 1 if spec.bottleneck else None,
                                     exclude_concepts=config.go_inputs_exclude_concepts)
            data.go_vocab = dataset.go_terms["go_id"].iloc[vocab].astype(str).tolist()
            if config.effective_go_source == "transferred":
                # has_go stays the gene's own GO: it masks the concept loss, whose targets are
                # the gene's own annotations (a gene without any has no concept targets)
                data.go_bag = transferred_go_bag(dataset, config, data.go_vocab)
            else:
                data.go_bag = go[:, vocab].tocsr()
            if config.effective_go_source == "own+transferred":
                data.go_bag_transferred = transferred_go_bag(dataset, config, data.go_vocab)
    if spec.bottleneck and config.homology:
        data.homology, _ = homology_vectors(dataset.genes["sequence"].tolist(), train, labels,
                                            threads=config.diamond_threads)
    other = config.cross_species_dataset
    if other:
        from genepheno_core.datasets import load_labels_dataset

        other_ds = load_labels_dataset(other)
        data.ortholog, _ = cross_species_vectors(dataset.genes["sequence"].tolist(),
                                                 other_ds.genes["sequence"].tolist(), other_ds.labels,
                                                 threads=config.diamond_threads, max_hits=config.ortholog_max_hits)
        data.ortholog_source = other_ds
        if config.ortholog_mapped:
            from genepheno_core.evaluation.evidence import mapping_relation

            data.ortholog_related = mapping_relation(
                dataset.terms["term_id"].astype(str).tolist(), dataset.label_ontology(),
                other_ds.terms["term_id"].astype(str).tolist(), other_ds.label_ontology())
            if data.ortholog_related is None:
                raise GenePhenoError(f"ortholog_mapped: no MP-HP mapping relates {dataset.name} and {other} terms")
            logger.info("mapped homolog-phenotype pairs: %d", data.ortholog_related.nnz)
    rows_from = config.rows_species_dataset
    if rows_from:
        if data.ortholog_source is not None and rows_from == other:
            rows_ds = data.ortholog_source
        else:
            from genepheno_core.datasets import load_labels_dataset

            rows_ds = load_labels_dataset(rows_from)
        add_other_species_rows(data, dataset, rows_ds, config)
    if config.effective_lambda_excl > 0:
        try:
            pairs = dataset_pairs(dataset, config.split, config.co_annotation_pairs, config.pairs_tsv,
                                  max_overlap=config.pair_max_overlap)
        except (AttributeError, NotImplementedError) as exc:
            logger.warning("no exclusive pairs (label ontology unavailable: %s)", exc)
            pairs = []
        data.pairs = pairs_tensor(pairs)
        logger.info("%d exclusive pairs", data.pairs.shape[0])
    return data


def _reindex_columns(matrix: sp.spmatrix, ids: list[str], vocab: list[str]) -> sp.csr_matrix:
    """(n, len(vocab)) float32: the columns of `matrix` (n, len(ids)) whose id is in `vocab`,
    moved to vocab's order (a vocab id without a column stays empty)."""
    where = {t: j for j, t in enumerate(vocab)}
    coo = sp.coo_matrix(matrix)
    target = np.array([where.get(ids[c], -1) for c in range(len(ids))], dtype=np.int64)[coo.col]
    keep = target >= 0
    return sp.csr_matrix((coo.data[keep].astype(np.float32), (coo.row[keep], target[keep])),
                         shape=(matrix.shape[0], len(vocab)))


def add_other_species_rows(data: PreparedData, dataset, other, config: TrainConfig) -> None:
    """Append the genes of `other` (the other species' dataset) to `data` as extra training
    rows (config.cross_species_rows; data.extra), in place.

    Their labels are their annotations carried into this dataset's vocabulary through the
    equivalent MP <-> HP mappings (models.features.label_carry); a phenotype no mapping
    reaches is unknown for all of them (data.label_known), and a gene whose annotations
    reach no phenotype is left out. Their inputs are computed as for one of this dataset's
    training genes: the sequence embedding, their own GO (reindexed by GO id) or GO transferred
    from their homologs (never their own protein or annotations, never a valid / test protein
    of the split), no homolog-phenotype input (their own species' phenotypes are what they are
    labelled with) and no same-species homology vector. On a homology split, a gene that
    shares a linking alignment with a valid or test gene is left out, so the split's boundary
    holds for them too."""
    from genepheno_core.datasets.splits import linked_to
    from genepheno_core.models.features import label_carry
    from genepheno_core.sources.sssom import mp_hp_mappings

    terms = dataset.terms["term_id"].astype(str).tolist()
    carry = label_carry(other.terms["term_id"].astype(str).tolist(), terms, mp_hp_mappings(),
                        dataset.label_ontology())  # (K', K)
    if carry.nnz == 0:
        raise GenePhenoError(f"cross_species_rows: no equivalent MP <-> HP mapping carries {other.name} "
                             f"annotations into {dataset.name}'s phenotypes")
    labels = (sp.csr_matrix(other.labels, dtype=np.float32) @ carry).tocsr()  # (n', K) counts
    labels.data = (labels.data > 0).astype(np.float32)
    keep = np.asarray(labels.sum(axis=1)).ravel() > 0
    n_labelled, crossed = int(keep.sum()), 0
    held = np.concatenate([data.valid, data.test])
    if "homology" in config.split:
        own_seqs = dataset.genes["sequence"].tolist()
        linked = linked_to([own_seqs[i] for i in held], other.genes["sequence"].tolist(),
                           threads=config.diamond_threads)
        crossed = int((keep & linked).sum())
        keep &= ~linked
    rows = np.flatnonzero(keep)
    genes = other.genes.iloc[rows]
    n, m = data.labels.shape[0], rows.size
    data.labels = sp.vstack([data.labels, labels[rows]]).tocsr()
    data.extra = np.arange(n, n + m, dtype=np.int64)
    data.label_known = np.asarray(carry.sum(axis=0)).ravel() > 0  # (K,)
    data.extra_weight = float(config.cross_species_rows)
    # the mappings reach a gene's phenotypes far more sparsely than its own species' annotations
    # (hpo <- mpo: median 27 against 126 terms per gene): read as they are, the extra genes
    # would teach every phenotype a lower rate than this dataset's genes have (on validation:
    # -3 Fmax for the sequence-only model). Their loss reads the model's score shifted by the
    # difference of the two frequencies' log-odds (a label-shift correction with fixed terms),
    # so the model itself stays calibrated to this dataset's genes.
    own_freq = np.clip(np.asarray(data.labels[data.train].mean(axis=0)).ravel(), 1e-4, 1 - 1e-4)
    extra_freq = np.clip(np.asarray(data.labels[data.extra].mean(axis=0)).ravel(), 1e-4, 1 - 1e-4)
    shift = np.log(extra_freq / (1 - extra_freq)) - np.log(own_freq / (1 - own_freq))
    data.extra_shift = np.where(data.label_known, shift, 0.0).astype(np.float32)  # (K,)
    if data.seq is not None:
        from genepheno_core.embeddings import embed_sequences

        encoder = config.kmer_encoder if config.model == "kmer-lr" else config.encoder
        extra_seq = embed_sequences(genes["sequence"].tolist(), encoder, cache=True, progress=config.progress)
        data.seq = np.vstack([data.seq, np.asarray(extra_seq, dtype=np.float32)])
    other_go = sp.csr_matrix(other.go, dtype=np.float32)[rows]
    other_go_ids = other.go_terms["go_id"].astype(str).tolist()
    if data.has_go is not None:
        data.has_go = np.concatenate([data.has_go, np.asarray(other_go.sum(axis=1)).ravel() > 0])
    if data.concept_labels is not None:
        data.concept_labels = sp.vstack([data.concept_labels,
                                         _reindex_columns(other_go, other_go_ids, data.concept_ids)]).tocsr()
    if data.go_bag is not None:
        own = _reindex_columns(other_go, other_go_ids, data.go_vocab)
        transferred = None
        if config.effective_go_source in ("transferred", "own+transferred"):
            from genepheno_core.models.go_transfer import load_go_reference, transfer_go

            accessions = dataset.genes["accession"].fillna("").astype(str).to_numpy()
            held_out = frozenset(a for a in accessions[held] if a)
            transfer = transfer_go(genes["sequence"].tolist(), load_go_reference(), dataset.go_ontology(),
                                   exclude_accessions=genes["accession"].fillna("").astype(str).tolist(),
                                   exclude_targets=[held_out] * m,
                                   with_from_ids=[[g] if g else None for g in genes["gene_id"].fillna("").astype(str)],
                                   threads=config.diamond_threads, cache=True, max_hits=config.go_transfer_max_hits)
            transferred = transfer.reindex(data.go_vocab)
        data.go_bag = sp.vstack([data.go_bag, transferred if config.effective_go_source == "transferred"
                                 else own]).tocsr()
        if data.go_bag_transferred is not None:
            data.go_bag_transferred = sp.vstack([data.go_bag_transferred, transferred]).tocsr()
    if data.homology is not None:
        logger.warning("cross_species_rows: the other species' genes get no same-species homology vector")
        data.homology = np.vstack([data.homology, np.zeros((m, data.homology.shape[1]), dtype=data.homology.dtype)])
    if data.ortholog is not None:
        data.ortholog = np.vstack([data.ortholog, np.zeros((m, data.ortholog.shape[1]), dtype=data.ortholog.dtype)])
    logger.info("%s genes as extra training rows: %d of %d (%d with a mapped phenotype, %d left out across the "
                "%s split's boundary), reaching %d of %d phenotypes, weight %g", other.name, m, len(other.genes),
                n_labelled, crossed, config.split, int(data.label_known.sum()), len(terms), data.extra_weight)


def transferred_go_bag(dataset, config: TrainConfig, go_vocab: list[str]) -> sp.csr_matrix:
    """(n, G) GO input of every gene transferred from its sequence homologs (scores in [0, 1]
    over `go_vocab`), computed as for a new protein and within config.split's boundary
    (models.go_transfer.dataset_go_transfer); the concept targets stay the gene's own GO."""
    from genepheno_core.models.go_transfer import dataset_go_transfer

    transfer = dataset_go_transfer(dataset, config.split, threads=config.diamond_threads,
                                   max_hits=config.go_transfer_max_hits)
    bag = transfer.reindex(go_vocab)
    logger.info("GO input transferred from homologs: %d of %d genes have a hit (%.1f terms per gene)",
                int(transfer.has_hit.sum()), bag.shape[0], bag.nnz / max(1, bag.shape[0]))
    return bag


def _embeddings(dataset, encoder: str, given: np.ndarray | None, progress: bool) -> np.ndarray:
    if given is not None:
        if given.shape[0] != len(dataset.genes):
            raise GenePhenoError(f"embeddings have {given.shape[0]} rows, dataset has {len(dataset.genes)} genes")
        return np.asarray(given, dtype=np.float32)
    from genepheno_core.embeddings import embed_sequences

    return np.asarray(embed_sequences(dataset.genes["sequence"].tolist(), encoder, cache=True,
                                      progress=progress), dtype=np.float32)


# ----------------------------------------------------------------------------- modules
def init_shared_parts(module: GenePheno, data: PreparedData, source) -> dict[str, tuple[int, int]]:
    """Start `module`'s shared parts from the GenePheno checkpoint `source` (a path or a
    loaded model; typically the other species' model): the parts that do not name a
    phenotype. Copied: the sequence projection (same encoder width), the GO projection and
    its presence offset (columns matched by GO id: data.go_vocab against the source's GO
    inputs), the trunk, and the concept head (rows matched by concept GO id). Unmatched GO
    columns and concepts, and every phenotype path (W_p, W_g, W_o, biases), keep their fresh
    start; copying after the module has drawn its random numbers leaves the seeded random
    state as without it. Returns {part: (matched, total)}; raises ValueError when the two
    models' shapes cannot share these parts (another hidden width, depth or encoder)."""
    from genepheno_core.training.checkpoint import load_model

    trained = load_model(source) if isinstance(source, (str, Path)) else source
    src = trained.module
    if not isinstance(src, GenePheno):
        raise ValueError(f"init_from {source}: not a GenePheno model")
    mine, theirs = module.config, src.config
    for name in ("hidden", "n_layers"):
        if getattr(mine, name) != getattr(theirs, name):
            raise ValueError(f"init_from {source}: its {name} is {getattr(theirs, name)}, this model's "
                             f"{getattr(mine, name)}")
    if mine.seq_dim and theirs.seq_dim and mine.seq_dim != theirs.seq_dim:
        raise ValueError(f"init_from {source}: its sequence input has width {theirs.seq_dim}, this model's "
                         f"{mine.seq_dim} (another encoder)")
    counts: dict[str, tuple[int, int]] = {}
    with torch.no_grad():
        if module.inputs.seq_proj is not None and src.inputs.seq_proj is not None:
            module.inputs.seq_proj.load_state_dict(src.inputs.seq_proj.state_dict())
            counts["sequence projection"] = (1, 1)
        if module.inputs.go_proj is not None and src.inputs.go_proj is not None:
            index = {g: i for i, g in enumerate(trained.go_inputs)}
            pairs = [(j, index[g]) for j, g in enumerate(data.go_vocab) if g in index]
            if pairs:
                mine_cols, their_cols = (torch.tensor(c) for c in zip(*pairs))
                module.inputs.go_proj.weight[:, mine_cols] = src.inputs.go_proj.weight[:, their_cols]  # (H, G)
            module.inputs.go_present.copy_(src.inputs.go_present)
            counts["GO inputs"] = (len(pairs), len(data.go_vocab))
        module.trunk.load_state_dict(src.trunk.state_dict())
        index = {g: i for i, g in enumerate(trained.concepts["go_id"].astype(str))} \
            if trained.concepts is not None else {}
        pairs = [(j, index[g]) for j, g in enumerate(data.concept_ids) if g in index]
        if pairs:
            mine_rows, their_rows = (torch.tensor(r) for r in zip(*pairs))
            module.concept_head.weight[mine_rows] = src.concept_head.weight[their_rows]  # (J, H)
            module.concept_head.bias[mine_rows] = src.concept_head.bias[their_rows]
        counts["concepts"] = (len(pairs), len(data.concept_ids))
    logger.info("shared parts started from %s: %s", source,
                ", ".join(f"{k} {m} of {n}" for k, (m, n) in counts.items()))
    return counts


def build_module(config: TrainConfig, data: PreparedData) -> torch.nn.Module:
    """A fresh module for `config` with inputs sized from `data` (seeded by the caller)."""
    n_terms = data.labels.shape[1]
    seq_dim = data.seq.shape[1] if data.seq is not None else 0
    go_dim = data.go_bag.shape[1] if data.go_bag is not None else 0
    hom_dim = data.homology.shape[1] if data.homology is not None else 0
    orth_dim = data.ortholog.shape[1] if data.ortholog is not None else 0
    temperature = config.tau if config.effective_loss != "bce" else 1.0
    if config.spec.bottleneck:
        module = GenePheno(GenePhenoConfig(
            n_terms=n_terms, n_concepts=len(data.concept_ids), seq_dim=seq_dim, go_dim=go_dim,
            homology_dim=hom_dim, hidden=config.hidden, n_layers=config.n_layers,
            dropout=config.dropout, temperature=temperature, go_term_rank=config.go_term_rank,
            path_dropout=config.path_dropout, ortholog_dim=orth_dim, ortholog_rank=config.ortholog_rank,
            mapped_pairs=data.ortholog_related.nnz if data.ortholog_related is not None else 0))
        if data.ortholog_related is not None:
            pairs = data.ortholog_related.tocoo()
            module.set_mapped_pairs(pairs.row, pairs.col)
            if config.mapped_init:
                # the curated mapping as an initialisation prior: a mapped pair starts as evidence for
                # its phenotype (a constant fill, so the seeded random state is the same as without it)
                with torch.no_grad():
                    module.mapped_weight.fill_(float(config.mapped_init))
        elif config.mapped_init or float(config.mapped_lr_scale) != 1.0:
            logger.warning("mapped_init / mapped_lr_scale act on W_o's mapped part only, which this model "
                           "has not (needs ortholog_mapped and the homolog-phenotype input): ignored")
        if config.init_from:
            init_shared_parts(module, data, config.init_from)
        head = module.phenotype_head
        if not config.concept_init and config.concept_init_min_genes:
            logger.warning("concept_init_min_genes %d has no effect with concept_init 0 (W_p keeps its random "
                           "start; set concept_init too)", config.concept_init_min_genes)
        if config.concept_init and data.concept_labels is None:
            # a warning only when asked for: the default start (on since issue 18) just falls back
            default = type(config).__dataclass_fields__["concept_init"].default
            log = logger.info if float(config.concept_init) == float(default) else logger.warning
            log("concept_init needs the GO concept labels of the training genes, which this run has "
                "not: ignored (W_p keeps its random start)")
        elif config.concept_init:
            # naive-Bayes-like start: a concept that is enriched among the training genes with a
            # phenotype starts as evidence for it, in proportion to its log-odds (computed on the
            # GO-annotated training genes only; replaces nn.Linear's random init after it has drawn
            # its numbers, so the rest of the seeded random state is unchanged)
            from genepheno_core.evaluation.evidence import concept_enrichment

            train = data.train[data.has_go[data.train]] if data.has_go is not None else data.train
            enrich, keep = concept_enrichment(data.labels[train], data.concept_labels[train],
                                              min_genes=int(config.concept_init_min_genes))  # (K, J), (K,)
            with torch.no_grad():
                start = torch.from_numpy(float(config.concept_init) * enrich).float()
                head.weight[torch.from_numpy(keep)] = start[torch.from_numpy(keep)]
    else:
        # go-orth-mlp: the GO bag and the ortholog vector into one MLP (GenePheno's inputs
        # without its bottleneck and readable paths: a reference for what the data alone gives)
        module = MLPBaseline(MLPConfig(
            n_terms=n_terms, seq_dim=seq_dim, go_dim=go_dim, ortholog_dim=orth_dim, hidden=config.hidden,
            n_layers=max(1, config.n_layers - 1), dropout=config.dropout, temperature=1.0))
        head = module.head
    with torch.no_grad():
        if seq_dim:
            x = data.seq[data.train]
            module.inputs.seq_mean.copy_(torch.from_numpy(x.mean(axis=0)))
            module.inputs.seq_std.copy_(torch.from_numpy(x.std(axis=0) + 1e-6))
        # start every phenotype at its training frequency: sigmoid(b / T) = freq
        freq = np.asarray(data.labels[data.train].mean(axis=0)).ravel()
        freq = np.clip(freq, 1e-4, 1 - 1e-4)
        head.bias.copy_(torch.from_numpy(temperature * np.log(freq / (1 - freq))).float())
    return module


def _batch_inputs(data: PreparedData, idx: np.ndarray, drop_go: np.ndarray | None = None,
                  swap_go: np.ndarray | None = None) -> dict:
    out = {}
    if data.seq is not None:
        out["seq_emb"] = torch.from_numpy(data.seq[idx])
    if data.go_bag is not None:
        bag = data.go_bag[idx].toarray()
        if swap_go is not None and swap_go.any():
            # these genes are seen with their homologs' GO, as a new protein would be
            bag[swap_go] = data.go_bag_transferred[idx[swap_go]].toarray()
        if drop_go is not None:
            bag[drop_go] = 0.0  # modality dropout: these genes are seen without GO
        out["go_bag"] = torch.from_numpy(bag)
    if data.homology is not None:
        out["homology"] = torch.from_numpy(data.homology[idx])
    if data.ortholog is not None:
        out["ortholog"] = torch.from_numpy(data.ortholog[idx])
    return out


def predict_module(module, data: PreparedData, idx: np.ndarray, batch_size: int = 512,
                   concepts: bool = False) -> np.ndarray:
    """Probabilities sigmoid(s / T) (len(idx), K), or concept probabilities (len(idx), J)."""
    batches = (_batch_inputs(data, idx[start:start + batch_size]) for start in range(0, len(idx), batch_size))
    if concepts:
        return module_concept_activations(module, batches)
    return module_probabilities(module, batches)


def validation_fmax(data: PreparedData, scores: np.ndarray, idx: np.ndarray) -> dict:
    from genepheno_core.evaluation.metrics import fmax, propagate_scores

    return fmax(data.labels[idx].toarray(), propagate_scores(scores, data.term_ancestors))


def full_metrics(data: PreparedData, scores: np.ndarray, idx: np.ndarray) -> dict:
    from genepheno_core.evaluation.metrics import evaluate_scores

    return evaluate_scores(data.labels[idx], scores, term_ancestors=data.term_ancestors,
                           term_counts=data.term_counts)


def concept_auc(data: PreparedData, module, idx: np.ndarray, use_go: bool = True) -> float:
    """Macro ROC AUC of the concept layer on genes of `idx` that have GO annotations."""
    from genepheno_core.evaluation.metrics import macro_auc

    if data.concept_labels is None or data.has_go is None:
        return math.nan
    rows = idx[data.has_go[idx]]
    if rows.size == 0:
        return math.nan
    saved = data.go_bag
    if not use_go:
        data.go_bag = None if saved is None else sp.csr_matrix(saved.shape, dtype=np.float32)
    try:
        probs = predict_module(module, data, rows, concepts=True)
    finally:
        data.go_bag = saved
    return float(macro_auc(data.concept_labels[rows].toarray().astype(bool), probs))


# ----------------------------------------------------------------------------- fitting
def _loss(module, out, y, concept_y, concept_mask, config: TrainConfig, pairs, hierarchy=None,
          label_mask=None, row_weight=None, logit_offset=None) -> torch.Tensor:
    """label_mask (B, K) bool: known labels (None: all); row_weight (B,) float (None: all 1);
    logit_offset (B, K): added to the phenotype logits the loss reads (None: 0)."""
    s = out.phenotype_logits
    if logit_offset is not None:
        s = s + logit_offset
    temperature = model_temperature(module)
    if hierarchy is not None:
        # the evaluated scores are max-propagated to ancestors: train on what is evaluated
        s = hierarchical_logits(s, y, *hierarchy)
    masks = {"row_mask": row_weight, "label_mask": label_mask}
    if config.effective_loss == "contrastive":
        loss = contrastive_multilabel_loss(s, y, tau=temperature, **masks)
    elif config.effective_loss == "bce":
        loss = bce_loss(s, y, **masks)
    else:
        # contrastive ranks a gene's phenotypes against each other; BCE calibrates each
        # phenotype across genes, which is what the phenotype-centric AUC rewards
        loss = (contrastive_multilabel_loss(s, y, tau=temperature, **masks)
                + config.lambda_bce * bce_loss(s / temperature, y, **masks))
    if config.effective_lambda_excl > 0 and pairs is not None and pairs.numel():
        # on s / T, the logit of the reported probability, so "below 0" means "p < 0.5"
        loss = loss + config.effective_lambda_excl * exclusivity_loss(s / temperature, pairs)
    if config.effective_lambda_concept > 0 and out.concept_logits is not None and concept_y is not None:
        if config.concept_loss == "contrastive":
            # the paper's L_mlc(c, g): same scale as the phenotype loss (a sum over labels)
            concept = contrastive_multilabel_loss(out.concept_logits, concept_y, row_mask=concept_mask)
        else:
            concept = bce_loss(out.concept_logits, concept_y, row_mask=concept_mask)
        loss = loss + config.effective_lambda_concept * concept
    if config.lambda_sparse_concepts > 0 and isinstance(module, GenePheno):
        loss = loss + config.lambda_sparse_concepts * module.phenotype_head.weight.abs().sum(dim=1).mean()
    if config.lambda_ortholog_lowrank > 0 and getattr(module, "ortholog_head", None) is not None:
        head = module.ortholog_head
        loss = loss + config.lambda_ortholog_lowrank * (head[0].weight.square().sum() + head[2].weight.square().sum())
    return loss


def _param_groups(module: torch.nn.Module, config: TrainConfig) -> list[dict]:
    """AdamW parameter groups: one, unless W_o's mapped part learns at its own rate
    (config.mapped_lr_scale; AdamW updates each weight on its own, so one group and two
    groups with the same rate train identically)."""
    mapped = getattr(module, "mapped_weight", None)
    if mapped is None or float(config.mapped_lr_scale) == 1.0:
        return [{"params": list(module.parameters())}]
    rest = [p for p in module.parameters() if p is not mapped]
    return [{"params": rest}, {"params": [mapped], "lr": config.lr * float(config.mapped_lr_scale)}]


class WeightAverage:
    """Bias-corrected exponential moving average of a module's floating-point state (as
    Adam's moment estimates): after t optimiser steps with weights w_1..w_t it is
    sum_i (1 - d) d^(t - i) w_i / (1 - d^t), so the initial weights carry no weight and a
    short run is averaged over its own steps only."""

    def __init__(self, module: torch.nn.Module, decay: float):
        self.decay = float(decay)
        self.steps = 0
        self.sums = {k: torch.zeros_like(v) for k, v in module.state_dict().items() if v.dtype.is_floating_point}

    @torch.no_grad()
    def update(self, module: torch.nn.Module) -> None:
        self.steps += 1
        for k, v in module.state_dict().items():
            if k in self.sums:
                self.sums[k].mul_(self.decay).add_(v, alpha=1.0 - self.decay)

    def averaged(self, module: torch.nn.Module) -> dict:
        """The averaged state dict (integer buffers and a not-yet-updated average: as is)."""
        scale = 1.0 - self.decay ** self.steps
        return {k: (self.sums[k] / scale if k in self.sums and self.steps else v.detach().clone())
                for k, v in module.state_dict().items()}


def _resume_dir(out_dir: Path) -> Path:
    return out_dir.with_name(out_dir.name + ".partial")


def _save_resume(path: Path, module, best_state, optimiser, generator, state: dict,
                 ema: WeightAverage | None = None) -> None:
    tensors = {f"model.{k}": v.detach().clone().contiguous() for k, v in module.state_dict().items()}
    tensors.update({f"best.{k}": v.clone().contiguous() for k, v in best_state.items()})
    if ema is not None:
        tensors.update({f"ema.{k}": v.clone().contiguous() for k, v in ema.sums.items()})
        state["ema_steps"] = ema.steps
    opt = optimiser.state_dict()
    for i, st in opt["state"].items():
        for key, value in st.items():
            tensors[f"opt.{i}.{key}"] = torch.as_tensor(value).clone().contiguous()
    tensors["rng.torch"] = torch.get_rng_state()
    tensors["rng.generator"] = generator.get_state()
    path.mkdir(parents=True, exist_ok=True)
    # the epoch's JSON state travels in the tensor file's metadata: one atomic write, so a
    # kill can never pair epoch k + 1's tensors with epoch k's state
    with atomic_path(path / "state.safetensors") as tmp:
        save_file(tensors, str(tmp), metadata={"state": json.dumps(state)})


def _load_resume(path: Path, module, optimiser, generator) -> tuple[dict, dict, dict] | None:
    if not (path / "state.safetensors").exists():
        return None
    with safe_open(str(path / "state.safetensors"), framework="pt") as handle:
        saved = (handle.metadata() or {}).get("state")
    if saved is None:  # written by an older version (state in a separate state.json)
        logger.warning("%s: resume state without its metadata; starting from epoch 0", path)
        return None
    state = json.loads(saved)
    tensors = load_file(str(path / "state.safetensors"))
    module.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
    ema = {k[4:]: v for k, v in tensors.items() if k.startswith("ema.")}
    opt = optimiser.state_dict()
    opt_state: dict = {}
    for key, value in tensors.items():
        if key.startswith("opt."):
            _, i, name = key.split(".", 2)
            opt_state.setdefault(int(i), {})[name] = value
    opt["state"] = opt_state
    optimiser.load_state_dict(opt)
    torch.set_rng_state(tensors["rng.torch"])
    generator.set_state(tensors["rng.generator"])
    return state, best, ema


def fit_module(
    module: torch.nn.Module,
    data: PreparedData,
    config: TrainConfig,
    resume_dir: Path | None = None,
    epoch_callback: Callable[[int, dict], None] | None = None,
) -> dict:
    """Train `module` in place; leaves the best-validation-Fmax weights loaded.

    Returns {"history": [...], "best_epoch": int, "best_fmax": float, "epochs": int}.
    With `resume_dir`, the state after every epoch is saved there and, when
    config.resume is set and a state exists, training continues from it.
    """
    generator = torch.Generator().manual_seed(config.seed)
    optimiser = torch.optim.AdamW(_param_groups(module, config), lr=config.lr, weight_decay=config.weight_decay)
    state = {"epoch": 0, "best_fmax": -1.0, "best_epoch": 0, "history": [], "config": config.to_dict()}
    best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    # moving average of the weights (config.ema_decay > 0): validation, early stopping and
    # the returned model use the averaged weights
    ema = WeightAverage(module, config.effective_ema_decay) if config.effective_ema_decay > 0 else None
    if resume_dir is not None and config.resume:
        loaded = _load_resume(resume_dir, module, optimiser, generator)
        if loaded is not None:
            saved_config = {k: v for k, v in loaded[0]["config"].items() if k not in RUN_CONTROL_FIELDS}
            wanted = {k: v for k, v in config.to_dict().items() if k not in RUN_CONTROL_FIELDS}
            if saved_config != wanted:
                raise GenePhenoError(f"cannot resume from {resume_dir}: it was started with a different configuration")
            state, best_state, saved_ema = loaded
            if ema is not None and saved_ema:
                ema.sums, ema.steps = saved_ema, int(state.get("ema_steps", 0))
            logger.info("resumed from %s after epoch %d", resume_dir, state["epoch"])

    # the other species' genes (config.cross_species_rows) train too; they are never validated on
    train_idx = data.train if data.extra.size == 0 else np.concatenate([data.train, data.extra])
    n_own = data.labels.shape[0] - data.extra.size
    y_all = data.labels
    pairs = data.pairs
    hierarchy = None
    if config.spec.bottleneck and config.hierarchical_loss:
        closure = sp.coo_matrix(data.term_ancestors)  # [d, a] = 1: a is a proper ancestor of d
        hierarchy = (torch.from_numpy(closure.row.astype(np.int64)), torch.from_numpy(closure.col.astype(np.int64)))
    bar = None
    if config.progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.max_epochs, initial=state["epoch"], desc="epochs", unit="epoch")
    while state["epoch"] < config.max_epochs:
        epoch = state["epoch"] + 1
        start = time.perf_counter()
        module.train()
        order = train_idx[torch.randperm(train_idx.size, generator=generator).numpy()]
        drop = torch.rand(order.size, generator=generator).numpy() < config.modality_dropout
        swap = None
        if data.go_bag_transferred is not None:  # drawn only then: "own" runs keep their random stream
            swap = torch.rand(order.size, generator=generator).numpy() < config.go_transfer_rate
        total, n_batches = 0.0, 0
        for b in range(0, order.size, config.batch_size):
            idx = order[b:b + config.batch_size]
            drop_go = drop[b:b + config.batch_size] if data.go_bag is not None and config.spec.bottleneck else None
            swap_go = swap[b:b + config.batch_size] if swap is not None else None
            out = module(**_batch_inputs(data, idx, drop_go, swap_go))
            y = torch.from_numpy(y_all[idx].toarray())
            concept_y = concept_mask = label_mask = row_weight = logit_offset = None
            if data.concept_labels is not None:
                concept_y = torch.from_numpy(data.concept_labels[idx].toarray())
                concept_mask = torch.from_numpy(data.has_go[idx])  # genes without GO: no concept loss
            extra_rows = idx >= n_own  # (B,) the other species' genes
            if extra_rows.any():
                # their unreached phenotypes are unknown (out of the loss), and they weigh extra_weight
                label_mask = torch.ones(y.shape, dtype=torch.bool)
                label_mask[torch.from_numpy(extra_rows)] = torch.from_numpy(data.label_known)
                row_weight = torch.from_numpy(np.where(extra_rows, data.extra_weight, 1.0).astype(np.float32))
                # their label shift in logit units (s / T is the logit of the reported probability)
                logit_offset = torch.zeros(y.shape)
                logit_offset[torch.from_numpy(extra_rows)] = model_temperature(module) * torch.from_numpy(data.extra_shift)
                if concept_mask is not None:
                    concept_mask = concept_mask.float() * row_weight
            loss = _loss(module, out, y, concept_y, concept_mask, config, pairs, hierarchy,
                         label_mask=label_mask, row_weight=row_weight, logit_offset=logit_offset)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if ema is not None:
                ema.update(module)
            total += float(loss.detach())
            n_batches += 1
        live = None
        if ema is not None:
            live = {k: v.detach().clone() for k, v in module.state_dict().items()}
            module.load_state_dict(ema.averaged(module))
        valid_scores = predict_module(module, data, data.valid, config.eval_batch_size)
        valid = validation_fmax(data, valid_scores, data.valid)
        record = {"epoch": epoch, "loss": total / max(1, n_batches), "valid_fmax": valid["fmax"],
                  "seconds": round(time.perf_counter() - start, 2)}
        state["history"].append(record)
        state["epoch"] = epoch
        if valid["fmax"] > state["best_fmax"]:
            state["best_fmax"], state["best_epoch"] = valid["fmax"], epoch
            best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        if live is not None:
            module.load_state_dict(live)
        logger.debug("epoch %d: loss %.4f valid Fmax %.4f", epoch, record["loss"], valid["fmax"])
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{record['loss']:.4f}", fmax=f"{valid['fmax']:.4f}",
                            best=f"{state['best_fmax']:.4f}")
        if resume_dir is not None:
            _save_resume(resume_dir, module, best_state, optimiser, generator, state, ema)
        if epoch_callback is not None:
            epoch_callback(epoch, record)
        if epoch - state["best_epoch"] >= config.patience and epoch >= config.min_epochs:
            break
    if bar is not None:
        bar.close()
    module.load_state_dict(best_state)
    module.eval()
    return {"history": state["history"], "best_epoch": state["best_epoch"],
            "best_fmax": state["best_fmax"], "epochs": state["epoch"]}


# ----------------------------------------------------------------------------- entry points
def load_dataset_by_name(name: str | Path):
    """`genepheno_core.datasets.load_dataset(name)` (a name or a dataset directory)."""
    from genepheno_core.datasets import load_dataset

    return load_dataset(str(name))


def _load(dataset_or_name):
    if isinstance(dataset_or_name, (str, Path)):
        return load_dataset_by_name(dataset_or_name)
    return dataset_or_name


def default_out_dir(config: TrainConfig) -> Path:
    return genepheno_home() / "models" / config.run_name


def run_and_save(config: TrainConfig, dataset, embeddings: np.ndarray | None = None,
                 epoch_callback: Callable[[int, dict], None] | None = None) -> "RunResult":
    """`run` with per-epoch resume state next to the checkpoint, then write the checkpoint."""
    from genepheno_core.training.checkpoint import save_checkpoint

    out_dir = Path(config.out_dir) if config.out_dir else default_out_dir(config)
    result = run(config, dataset, embeddings, resume_dir=_resume_dir(out_dir), epoch_callback=epoch_callback)
    save_checkpoint(out_dir, result, result.dataset, config)
    shutil.rmtree(_resume_dir(out_dir), ignore_errors=True)
    logger.info("checkpoint written to %s", out_dir)
    return result


def train(
    config: TrainConfig,
    dataset=None,
    embeddings: np.ndarray | None = None,
    epoch_callback: Callable[[int, dict], None] | None = None,
) -> Path:
    """Train `config.model` on `dataset` (default: load_dataset(config.dataset)); write the
    checkpoint directory (config.out_dir or genepheno_home()/models/<run name>) and return it.

    With config.resume, a run killed mid-training continues from its last finished epoch
    (state kept in `<out_dir>.partial/`), and a finished checkpoint of the same
    configuration is returned as is."""
    out_dir = Path(config.out_dir) if config.out_dir else default_out_dir(config)
    if config.resume and (out_dir / "config.json").exists() and not _resume_dir(out_dir).exists():
        saved = json.loads((out_dir / "config.json").read_text()).get("train_config", {})
        if {k: v for k, v in saved.items() if k not in RUN_CONTROL_FIELDS} == \
                {k: v for k, v in config.to_dict().items() if k not in RUN_CONTROL_FIELDS}:
            logger.info("%s is already complete; nothing to resume", out_dir)
            return out_dir
    dataset = _load(dataset if dataset is not None else config.dataset)
    run_and_save(config.replace(out_dir=str(out_dir)), dataset, embeddings, epoch_callback)
    return out_dir


@dataclass
class RunResult:
    """Everything a finished run produced (before it is written to disk)."""

    config: TrainConfig
    data: PreparedData
    module: torch.nn.Module | None  # None for the non-neural baselines
    valid_scores: np.ndarray
    valid_metrics: dict
    threshold: float
    fit: dict
    seconds: float
    extra: dict = field(default_factory=dict)  # baseline parameters worth saving
    dataset: object = None  # the dataset as trained: the split's training-genes vocabulary

    def test_scores(self) -> np.ndarray:
        if self.module is not None:
            scores = predict_module(self.module, self.data, self.data.test, self.config.eval_batch_size)
            neighbours = self.extra.get("go_neighbours")
            if neighbours is not None:  # the same blend as the validation scores
                profile = self.data.ortholog[self.data.test] if neighbours.reads_profile else None
                scores = neighbours.blend(scores, self.data.go_bag[self.data.test], profile=profile)
            return scores
        return self.extra["test_scores"]


def fit_go_neighbours(data: PreparedData, dataset, config: TrainConfig,
                      valid_scores: np.ndarray) -> tuple[GoNeighbours, np.ndarray, dict]:
    """The functional-neighbour vote of a run (models.go_neighbours) with what makes genes
    neighbours and the vote's weight chosen on the validation genes: the training genes' GO
    input bags, homolog-phenotype profiles (runs with the ortholog input) and labels as the
    reference (IDF over their own GO), each similarity of SIMILARITIES at each alpha of
    ALPHAS scored on validation, the best mean of Fmax and AUC kept (ties: the earlier
    similarity, then the smaller alpha; alpha 0, the model alone, is kept as GO input). Returns (neighbours with that choice, the blended
    validation scores, {"k", "alpha", "similarity", "by_alpha": {alpha: {"fmax", "auc"}} of
    the chosen similarity, "by_similarity": {similarity: by_alpha}})."""
    if data.go_bag is None:
        raise GenePhenoError(f"{config.run_name}: functional neighbours need a GO input")
    own = sp.csr_matrix(dataset.go, dtype=np.float32)
    columns = {g: i for i, g in enumerate(dataset.go_terms["go_id"].astype(str))}
    idf = idf_weights(own[data.train][:, [columns[g] for g in data.go_vocab]])
    genes = dataset.genes.iloc[data.train]
    genes = genes[[c for c in ("gene_id", "symbol", "accession") if c in genes]].reset_index(drop=True)
    shares = other_labels = None
    kinds = [GO_INPUT]
    if data.ortholog is not None and data.ortholog_source is not None:
        # the training genes' homolog hits (the search prepare_data ran: read from its cache)
        other = data.ortholog_source
        shares = cross_species_hit_shares(dataset.genes["sequence"].tolist(), other.genes["sequence"].tolist(),
                                          threads=config.diamond_threads, max_hits=config.ortholog_max_hits)
        shares, other_labels, kinds = shares[data.train], other.labels, list(SIMILARITIES)
    reference = GoNeighbours(data.go_bag[data.train], data.labels[data.train], idf, genes,
                             k=int(config.go_neighbours_k), alpha=0.0, hit_shares=shares, other_labels=other_labels)
    profile = data.ortholog[data.valid] if shares is not None else None
    by_similarity, best, best_key, votes = {}, (0.0, GO_INPUT), None, {}
    for kind in kinds:
        # (n_valid, K), computed once for every alpha
        votes[kind] = reference.vote(None, reference.weights(data.go_bag[data.valid], profile, similarity=kind))
        by_alpha = by_similarity[kind] = {}
        for alpha in ALPHAS:
            blended = reference.blend(valid_scores, None, alpha, vote=votes[kind])
            m = full_metrics(data, blended, data.valid)
            by_alpha[alpha] = {"fmax": float(m["fmax"]), "auc": float(m["auc"])}
            key = (float(m["fmax"]) + float(m["auc"])) / 2
            if best_key is None or key > best_key + 1e-12:
                best, best_key = (alpha, kind), key
    alpha, kind = best
    logger.info("functional neighbours (k %d), validation Fmax / AUC by similarity and alpha: %s; %s at alpha %.1f "
                "kept", reference.k, "; ".join(f"{s} {a}: {v['fmax']:.4f} / {v['auc']:.4f}"
                                               for s, by in by_similarity.items() for a, v in by.items()), kind, alpha)
    chosen = reference.with_choice(alpha, kind)
    blended = reference.blend(valid_scores, None, alpha, vote=votes[kind])
    return chosen, blended, {"k": reference.k, "alpha": alpha, "similarity": kind,
                             "by_alpha": {str(a): v for a, v in by_similarity[kind].items()},
                             "by_similarity": {s: {str(a): v for a, v in by.items()} for s, by in by_similarity.items()}}


def run(
    config: TrainConfig,
    dataset,
    embeddings: np.ndarray | None = None,
    resume_dir: Path | None = None,
    epoch_callback=None,
) -> RunResult:
    """Fit `config.model` and score the validation genes (no file written).

    The label vocabulary is the split's (`Dataset.for_split`): terms with >= min_genes
    TRAINING genes; `result.dataset` is the dataset as trained."""
    torch.set_num_threads(max(1, config.num_threads))
    start = time.perf_counter()
    if hasattr(dataset, "for_split"):
        dataset = dataset.for_split(config.split)
    data = prepare_data(dataset, config, embeddings)
    module, fit, extra = None, {}, {}
    if config.spec.neural:
        torch.manual_seed(config.seed)
        module = build_module(config, data)
        fit = fit_module(module, data, config, resume_dir, epoch_callback)
        valid_scores = predict_module(module, data, data.valid, config.eval_batch_size)
        if config.use_go_neighbours:
            extra["go_neighbours"], valid_scores, fit["go_neighbours"] = fit_go_neighbours(
                data, dataset, config, valid_scores)
    else:
        both = np.concatenate([data.valid, data.test])
        scores = _baseline_scores(config, dataset, data, both)
        valid_scores, extra["test_scores"] = scores[: data.valid.size], scores[data.valid.size:]
    valid_metrics = full_metrics(data, valid_scores, data.valid)
    if "go_neighbours" in fit:
        valid_metrics["go_neighbours"] = fit["go_neighbours"]
    if module is not None and isinstance(module, GenePheno) and data.concept_labels is not None:
        valid_metrics["concept_auc"] = concept_auc(data, module, data.valid, use_go=True)
        valid_metrics["concept_auc_seq_only"] = concept_auc(data, module, data.valid, use_go=False)
    threshold = valid_metrics.get("threshold", 0.5)
    seconds = time.perf_counter() - start
    logger.info("%s: valid Fmax %.4f AUC %.4f (%.0f s)", config.run_name, valid_metrics["fmax"],
                valid_metrics["auc"], seconds)
    return RunResult(config, data, module, valid_scores, valid_metrics, threshold, fit, seconds, extra, dataset)


def _baseline_scores(config: TrainConfig, dataset, data: PreparedData, rows: np.ndarray) -> np.ndarray:
    y_train = data.labels[data.train]
    if config.model == "naive":
        return naive_scores(y_train, rows.size)
    if config.model == "diamond-score":
        seqs = dataset.genes["sequence"].tolist()
        scores, _ = diamond_scores([seqs[i] for i in rows], [seqs[i] for i in data.train], y_train,
                                   threads=config.diamond_threads)
        return scores
    if config.model == "kmer-lr":
        return kmer_lr_scores(data.seq[data.train], y_train, data.seq[rows], C=config.kmer_C,
                              progress=config.progress)
    raise ValueError(config.model)


PREDICTION_VARIANTS = ("transferred-go",)


def transferred_go_test_bag(result: RunResult, dataset, rows: np.ndarray | None = None) -> sp.csr_matrix:
    """(n, G) GO input with each test gene's (or each gene of `rows`') own GO replaced by GO
    transferred from its sequence homologs (never its own protein or annotations projected
    from it): how the tool sees a protein nobody has annotated. Other rows are empty."""
    from genepheno_core.models.go_transfer import load_go_reference, transfer_go

    data, config = result.data, result.config
    if data.go_bag is None or result.module is None:
        raise GenePhenoError(f"{config.model}: the transferred-GO variant needs a neural model that reads GO")
    test = data.test if rows is None else np.asarray(rows)
    genes = dataset.genes.iloc[test]
    transfer = transfer_go(genes["sequence"].tolist(), load_go_reference(), dataset.go_ontology(),
                           exclude_accessions=genes["accession"].fillna("").astype(str).tolist(),
                           with_from_ids=[[g] if g else None for g in genes["gene_id"].fillna("").astype(str)],
                           threads=config.diamond_threads, cache=True, max_hits=config.go_transfer_max_hits)
    bag = transfer.reindex(data.go_vocab).tocoo()  # (n_test, G)
    swapped = sp.csr_matrix((bag.data, (test[bag.row], bag.col)), shape=data.go_bag.shape, dtype=np.float32)
    logger.info("transferred-GO variant: %d of %d %s genes have an annotated homolog",
                int(transfer.has_hit.sum()), test.size, "test" if rows is None else "selected")
    return swapped


def transferred_go_test_scores(result: RunResult, dataset, bag: sp.csr_matrix | None = None,
                               rows: np.ndarray | None = None) -> np.ndarray:
    """(n_test, K) test scores (or of the genes of `rows`) with their GO transferred from
    their homologs (`transferred_go_test_bag`, or `bag` when already computed)."""
    data = result.data
    rows = data.test if rows is None else np.asarray(rows)
    swapped = bag if bag is not None else transferred_go_test_bag(result, dataset, rows)
    saved = data.go_bag
    data.go_bag = swapped
    try:
        return predict_module(result.module, data, rows, result.config.eval_batch_size)
    finally:
        data.go_bag = saved


def evidence_measures(result: RunResult, rows: np.ndarray, go_bag: sp.csr_matrix | None = None) -> dict | None:
    """The evidence-quality measures (evaluation.evidence.evidence_quality: homolog-phenotype
    plausibility against the curated MP <-> HP mappings, concentration, concept correlation
    on the GO-annotated training genes, deletion check) of a GenePheno run on dataset rows
    `rows`, fed `go_bag` instead of the data's GO input when given; None for other models."""
    from genepheno_core.evaluation.evidence import evidence_quality, mapping_relation

    data, module = result.data, result.module
    if not isinstance(module, GenePheno) or data.concept_labels is None:
        return None
    related = None
    if data.ortholog_related is not None:
        related = data.ortholog_related
    elif module.ortholog_weight() is not None and data.ortholog_source is not None:
        try:
            related = mapping_relation(result.dataset.terms["term_id"].astype(str).tolist(),
                                       result.dataset.label_ontology(),
                                       data.ortholog_source.terms["term_id"].astype(str).tolist(),
                                       data.ortholog_source.label_ontology())
        except GenePhenoError as exc:
            logger.warning("homolog-phenotype plausibility not measured: %s", exc)
    saved = data.go_bag
    if go_bag is not None:
        data.go_bag = go_bag
    try:
        tensors = _batch_inputs(data, np.asarray(rows))
    finally:
        data.go_bag = saved
    train = data.train[data.has_go[data.train]] if data.has_go is not None else data.train
    return evidence_quality(module, tensors, related=related, train_labels=data.labels[train],
                            train_concepts=data.concept_labels[train], ancestors=_input_ancestors(result),
                            seed=result.config.seed)


def _input_ancestors(result: RunResult) -> dict:
    """{"GO term": (G, G), "homolog phenotype": (K', K')} proper-ancestor tables over the GO
    input vocabulary and the other species' terms (evaluation.evidence.group_evidence), None
    for a path the run lacks or whose ontology is unavailable."""
    from genepheno_core.datasets.assemble import ancestor_matrix

    data, out = result.data, {}
    out["homolog phenotype"] = (sp.csr_matrix(data.ortholog_source.term_ancestors)
                                if data.ortholog is not None and data.ortholog_source is not None else None)
    out["GO term"] = None
    if data.go_vocab and getattr(result.module, "go_term_head", None) is not None:
        try:
            out["GO term"] = ancestor_matrix(data.go_vocab, result.dataset.go_ontology())
        except GenePhenoError as exc:
            logger.warning("GO evidence not grouped by the most specific terms: %s", exc)
    return out


def train_and_predict(dataset, method: str, encoder: str, split: str, seed: int,
                      config: TrainConfig | None = None, variants=()) -> tuple[np.ndarray, dict]:
    """Train `method` on the training genes of `split` and score its test genes.

    Returns (test_scores (n_test, K) probabilities, info) with info keys: test_index (row
    indices of the test genes in the dataset), term_ids (the K terms of the split's
    training-genes vocabulary, `Dataset.for_split`), valid_metrics, threshold, seconds, epochs,
    best_epoch, history, config, checkpoint (path, when config.out_dir is set) and, for
    GenePheno, test_concept_auc / test_concept_auc_without_go (the concept layer on the test
    genes with GO) and evidence (evidence_measures on the test genes). Works for every method in TrainConfig's METHODS, baselines included. `variants`
    (PREDICTION_VARIANTS) adds info["variant_scores"] {variant: (n_test, K)}: the same model
    scored with other test inputs ("transferred-go": transferred_go_test_scores),
    info["variant_valid_metrics"] {variant: validation metrics with those inputs}, so that a
    variant is compared with other methods on validation as they are, and
    info["variant_evidence"] {variant: evidence measures with those inputs}.
    """
    unknown = set(variants) - set(PREDICTION_VARIANTS)
    if unknown:
        raise GenePhenoError(f"unknown prediction variant(s) {sorted(unknown)}; known: {PREDICTION_VARIANTS}")
    dataset = _load(dataset)
    base = config or TrainConfig()
    config = base.replace(dataset=getattr(dataset, "name", base.dataset), model=method,
                          encoder=encoder, split=split, seed=seed,
                          ablations=base.ablations if METHODS[method].ablations else ())
    checkpoint = None
    if config.out_dir:
        result = run_and_save(config, dataset)
        checkpoint = str(config.out_dir)
    else:
        result = run(config, dataset)
    test_scores = result.test_scores()
    info = {
        "test_index": result.data.test,
        "term_ids": result.dataset.terms["term_id"].astype(str).tolist() if hasattr(result.dataset, "terms") else None,
        "valid_metrics": result.valid_metrics,
        "threshold": result.threshold,
        "seconds": result.seconds,
        "epochs": result.fit.get("epochs", 0),
        "best_epoch": result.fit.get("best_epoch", 0),
        "history": result.fit.get("history", []),
        "config": config.to_dict(),
        "checkpoint": checkpoint,
    }
    if result.module is not None and result.data.concept_labels is not None:
        # the concept layer's macro AUC on the test genes with GO: fed their GO, and from
        # sequence (+ homolog phenotypes) alone, as for a pasted protein
        info["test_concept_auc"] = concept_auc(result.data, result.module, result.data.test, use_go=True)
        info["test_concept_auc_without_go"] = concept_auc(result.data, result.module, result.data.test, use_go=False)
        # what the explanations show, on the test genes: plausible, concentrated, faithful
        info["evidence"] = evidence_measures(result, result.data.test)
    if variants:
        bags = {v: transferred_go_test_bag(result, result.dataset) for v in variants}
        info["variant_scores"] = {v: transferred_go_test_scores(result, result.dataset, bags[v]) for v in variants}
        # the same inputs for the validation genes: the variant's own validation metrics (a
        # pasted protein's GO is transferred, so selecting for that path reads these)
        valid = result.data.valid
        info["variant_valid_metrics"] = {
            v: full_metrics(result.data, transferred_go_test_scores(result, result.dataset, rows=valid), valid)
            for v in variants}
        if info.get("evidence") is not None:
            info["variant_evidence"] = {v: evidence_measures(result, result.data.test, bags[v]) for v in variants}
    return test_scores, info
