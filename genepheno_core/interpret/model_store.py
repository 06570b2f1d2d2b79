"""The shipped default model(s) and the data a model needs at prediction time.

A checkpoint written by `training.train` holds weights and vocabularies. Explaining a
prediction needs a little more of the training data, which the dashboard must have without
the dataset or the ontology files. `write_explain_extras` stores it in `<model>/explain/`:

    terms.tsv              term_id, name, n_genes, depth (label vocabulary, checkpoint order)
    term_ancestors.npz     (K, K) uint8 csr: [i, j] = 1 when term j is a proper ancestor of i
    train_genes.tsv        gene_id, symbol, accession of the training genes (rows below)
    train_sequences.fa.gz  their sequences (DIAMOND database of `nearest_proteins`)
    train_labels.npz       (N_train, K) uint8 csr training labels
    train_concepts.npz     (N_train, J) uint8 csr GO concept labels (interpretability check)
    train_has_go.npy       (N_train,) bool: the gene has GO annotations
    go_terms.tsv           go_id, name, namespace of every GO term of the dataset
    go_closure.npz         (n_go, G) uint8 csr: GO term -> the GO input terms that are the
                           term itself or its ancestors (propagates user GO annotations)
    concept_closure.npz    (n_go, J) uint8 csr: the same for the bottleneck concepts
    pairs.tsv              the exclusive phenotype pairs (models/pairs.py) with their rule
    mapping_related.npz    (K, K') uint8 csr: phenotype k and the other species' term x are
                           related by a curated / lexical MP <-> HP mapping (models with a
                           homolog-phenotype path; evaluation.evidence.related_matrix)
    ortholog_ancestors.npz (K', K') uint8 csr: [i, j] = 1 when the other species' term j is a
                           proper ancestor of its term i (explanations group a homolog's
                           phenotypes by its most specific ones: evaluation.evidence.group_evidence)

`resolve_model(None)` loads the default model in assets/models/hpo (override the directory
with $GENEPHENO_MODELS_DIR). `choose_model` picks, for a shipped model's name, the model that
fits the input: a protein given without GO is scored by `<name>-go-transfer` when it is
shipped (trained on GO transferred from sequence homologs, the benchmark's validation choice
for that input: results/benchmark.md, "A protein without GO").
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from genepheno_core import environment
from genepheno_core.errors import MissingDataError
from genepheno_core.io import atomic_path
from genepheno_core.sources.fasta import read_fasta

logger = logging.getLogger(__name__)

TRAIN_SEQUENCES = "train_sequences.fa.gz"  # in EXTRAS_DIR

EXTRAS_DIR = "explain"
_LOADED: dict[str, object] = {}
_LOCK = threading.Lock()


def models_dir() -> Path:
    """Directory of the shipped models: $GENEPHENO_MODELS_DIR, else <assets>/models (see
    genepheno_core.environment: GENEPHENO_ASSETS, a source checkout or an installed package)."""
    return environment.models_dir()


def default_model_path(dataset: str = "hpo") -> Path:
    """Checkpoint directory of the default model for `dataset` (hpo or mpo).

    Raises MissingDataError (saying how to build it) when it is not there.
    """
    path = models_dir() / dataset
    if not (path / "config.json").exists():
        raise MissingDataError(
            f"no default {dataset} model in {path}; build it with `make default-model` "
            "(scripts/build_default_model.py) or pass --model DIR")
    return path


# the shipped model trained on transferred GO for proteins without GO: "<name>-go-transfer"
# (scripts/build_default_model.py --go-transfer)
NO_GO_SUFFIX = "-go-transfer"


def shipped_name(model=None) -> str | None:
    """The shipped model's name `model` stands for (None: the default, "hpo"), or None when
    `model` is a directory path, a loaded TrainedModel or no shipped model of that name."""
    if model is None:
        model = "hpo"
    if not isinstance(model, (str, os.PathLike)):
        return None
    name = str(model)
    # a name, not a path: "hpo", "mpo-go-transfer" (a directory given by path is used as it is)
    if not name or os.sep in name or (os.altsep and os.altsep in name) or Path(name).expanduser().exists():
        return None
    try:
        root = models_dir()
    except MissingDataError:
        return None
    return name if (root / name / "config.json").exists() else None


def choose_model(model=None, go_given: bool = True, transfer_go: bool = True):
    """The model to score proteins with, by their input: for a shipped model's name (or None,
    the default hpo model), proteins given no GO (`go_given` False) whose GO is transferred
    from sequence homologs (`transfer_go`) are scored by "<name>-go-transfer" when it is
    shipped: the model trained on that input, chosen on validation for proteins without GO
    (it beat the own-GO model fed transferred GO on validation for every dataset x split).
    Otherwise (GO given, no transfer, a directory path, a loaded model, no such sibling)
    returns `model` unchanged. Returns a model name, a path, a TrainedModel or None, for
    `resolve_model`."""
    if go_given or not transfer_go:
        return model
    name = shipped_name(model)
    if name is None or name.endswith(NO_GO_SUFFIX):
        return model
    sibling = name + NO_GO_SUFFIX
    if not (models_dir() / sibling / "config.json").exists():
        return model
    return sibling


def model_label(model) -> str:
    """A loaded model's name for people: the shipped model's name ("hpo-go-transfer") for a
    model in models_dir(), else its directory path."""
    path = Path(model.path)
    try:
        if path.resolve().parent == models_dir().resolve():
            return path.name
    except MissingDataError:
        pass
    return str(path)


def resolve_model(model=None):
    """A TrainedModel from a TrainedModel (returned as is), a checkpoint directory, or None
    (the default hpo model). Directories are loaded once per process."""
    from genepheno_core.models import TrainedModel
    from genepheno_core.training import load_model

    if isinstance(model, TrainedModel):
        return model
    if model is None:
        path = default_model_path()
    elif isinstance(model, (str, os.PathLike)):
        path = Path(model).expanduser()
        if not path.exists() and (models_dir() / str(model) / "config.json").exists():
            path = models_dir() / str(model)  # a shipped model's name: "hpo", "mpo"
    else:
        raise TypeError(f"model must be a TrainedModel, a checkpoint path or None, not {type(model).__name__}")
    key = str(path.resolve())
    with _LOCK:
        if key not in _LOADED:
            model = load_model(path)
            model_extras(model)  # loads explain/ once (and the GO closure, see model_extras)
            _LOADED[key] = model
        return _LOADED[key]


# ----------------------------------------------------------------------------- extras
@dataclass
class ModelExtras:
    """Training-data summaries stored with a model (see the module docstring)."""

    terms: pd.DataFrame  # term_id, name, n_genes, depth
    term_ancestors: sp.csr_matrix  # (K, K)
    train_genes: pd.DataFrame | None = None  # gene_id, symbol, accession
    train_sequences: list[str] | None = None
    train_labels: sp.csr_matrix | None = None  # (N, K)
    train_concepts: sp.csr_matrix | None = None  # (N, J)
    train_has_go: np.ndarray | None = None  # (N,)
    go_terms: pd.DataFrame | None = None  # go_id, name, namespace
    go_closure: sp.csr_matrix | None = None  # (n_go, G)
    concept_closure: sp.csr_matrix | None = None  # (n_go, J)
    pairs: pd.DataFrame | None = None
    mapping_related: sp.csr_matrix | None = None  # (K, K')
    ortholog_ancestors: sp.csr_matrix | None = None  # (K', K')
    _go_index: dict = field(default_factory=dict, repr=False)

    def go_index(self) -> dict[str, int]:
        if not self._go_index and self.go_terms is not None:
            self._go_index = {g: i for i, g in enumerate(self.go_terms["go_id"])}
        return self._go_index


def write_explain_extras(model_dir: str | Path, dataset, split: str = "random", pairs: pd.DataFrame | None = None,
                         go_ontology=None) -> Path:
    """Write `<model_dir>/explain/` from the `dataset` the model was trained on.

    `pairs` defaults to `models.pairs.dataset_pairs(dataset, split)` (needs the label
    ontology); `go_ontology` (default: dataset.go_ontology()) gives the GO closure.
    """
    from genepheno_core.training import load_model

    model_dir = Path(model_dir)
    model = load_model(model_dir)
    dataset = dataset.with_terms_of(model.terms["term_id"], split)
    model.check_compatible(dataset)
    train = dataset.split_indices("train", split)
    k = len(dataset.terms)
    with atomic_path(model_dir / EXTRAS_DIR) as tmp:
        tmp.mkdir(parents=True)
        terms = dataset.terms.copy()
        for col, default in (("n_genes", 0), ("depth", 0)):
            if col not in terms:
                terms[col] = default
        terms[["term_id", "name", "n_genes", "depth"]].to_csv(tmp / "terms.tsv", sep="\t", index=False)
        sp.save_npz(tmp / "term_ancestors.npz", sp.csr_matrix(dataset.term_ancestors, dtype=np.uint8))
        genes = dataset.genes.iloc[train]
        genes[["gene_id", "symbol", "accession"]].to_csv(tmp / "train_genes.tsv", sep="\t", index=False)
        # gzip with mtime=0: the shipped assets stay small and rebuild byte-identical
        with gzip.GzipFile(tmp / TRAIN_SEQUENCES, "wb", mtime=0) as raw, io.TextIOWrapper(raw) as handle:
            for gid, seq in zip(genes["gene_id"], genes["sequence"]):
                handle.write(f">{gid}\n{seq}\n")
        sp.save_npz(tmp / "train_labels.npz", sp.csr_matrix(dataset.labels[train], dtype=np.uint8))
        go = sp.csr_matrix(dataset.go, dtype=np.uint8)
        np.save(tmp / "train_has_go.npy", np.asarray(go[train].sum(axis=1)).ravel() > 0)
        go_index = {g: i for i, g in enumerate(dataset.go_terms["go_id"].astype(str))}
        if model.concepts is not None:
            cols = [go_index[g] for g in model.concepts["go_id"]]
            sp.save_npz(tmp / "train_concepts.npz", go[train][:, cols].tocsr())
        go_terms = dataset.go_terms.copy()
        go_terms[["go_id", "name", "namespace"]].to_csv(tmp / "go_terms.tsv", sep="\t", index=False)
        if model.go_inputs or model.concepts is not None:
            ontology = go_ontology if go_ontology is not None else dataset.go_ontology()
            all_go = dataset.go_terms["go_id"].astype(str).tolist()
            if model.go_inputs:
                sp.save_npz(tmp / "go_closure.npz", _go_closure(all_go, model.go_inputs, ontology))
            if model.concepts is not None:
                sp.save_npz(tmp / "concept_closure.npz",
                            _go_closure(all_go, model.concepts["go_id"].astype(str).tolist(), ontology))
        if pairs is None:
            from genepheno_core.models.pairs import dataset_pairs

            try:
                pairs = dataset_pairs(dataset, split, max_overlap=model.config.pair_max_overlap)
            except Exception as exc:  # the label ontology may be unavailable: graphs lose one edge type
                logger.warning("no exclusive pairs stored with the model: %s", exc)
                pairs = None
        if pairs is not None:
            pairs[["term_a", "term_b", "rule", "overlap"]].to_csv(tmp / "pairs.tsv", sep="\t", index=False)
        related = _mapping_relation(model)
        if related is not None:
            sp.save_npz(tmp / MAPPING_RELATED, related)
        ancestors = _ortholog_ancestors(model)
        if ancestors is not None:
            sp.save_npz(tmp / ORTHOLOG_ANCESTORS, ancestors)
    logger.info("explain extras for %d terms written to %s", k, model_dir / EXTRAS_DIR)
    return model_dir / EXTRAS_DIR


MAPPING_RELATED = "mapping_related.npz"  # in EXTRAS_DIR


def _mapping_relation(model) -> sp.csr_matrix | None:
    from genepheno_core.interpret.case_studies import mapping_relation_of

    related = mapping_relation_of(model)
    return None if related is None else sp.csr_matrix(related, dtype=np.uint8)


def write_mapping_relation(model_dir: str | Path) -> Path | None:
    """Add (or replace) `<model_dir>/explain/mapping_related.npz` for an existing model
    (needs the mapping files and both ontologies through the registry); None when the model
    has no homolog-phenotype path or no mapping applies."""
    return _write_extra(model_dir, MAPPING_RELATED, _mapping_relation)


def _write_extra(model_dir: str | Path, name: str, make) -> Path | None:
    """Write `make(model)` (a sparse matrix, or None: nothing written) as
    `<model_dir>/explain/<name>` of an existing model, atomically."""
    from genepheno_core.io import atomic_write_bytes
    from genepheno_core.training import load_model

    model_dir = Path(model_dir)
    matrix = make(load_model(model_dir))
    if matrix is None:
        return None
    buffer = io.BytesIO()
    sp.save_npz(buffer, matrix)
    path = model_dir / EXTRAS_DIR / name
    atomic_write_bytes(path, buffer.getvalue())
    return path


ORTHOLOG_ANCESTORS = "ortholog_ancestors.npz"  # in EXTRAS_DIR


def _ortholog_ancestors(model) -> sp.csr_matrix | None:
    """(K', K') proper-ancestor table of the model's other-species terms in the MP / HPO
    release of the registry (None without a homolog-phenotype path or without the ontology)."""
    from genepheno_core.datasets.assemble import ancestor_matrix
    from genepheno_core.errors import GenePhenoError
    from genepheno_core.interpret.case_studies import _other_species_ontology

    if not model.uses_ortholog:
        return None
    try:
        ontology = _other_species_ontology(model)
    except GenePhenoError as exc:
        logger.warning("homolog phenotypes will not be grouped by the most specific ones: %s", exc)
        return None
    if ontology is None:
        return None
    return sp.csr_matrix(ancestor_matrix(model.cross_species.terms["term_id"].astype(str).tolist(), ontology),
                         dtype=np.uint8)


def write_ortholog_ancestors(model_dir: str | Path) -> Path | None:
    """Add (or replace) `<model_dir>/explain/ortholog_ancestors.npz` for an existing model
    (needs the other species' ontology through the registry); None without that path."""
    return _write_extra(model_dir, ORTHOLOG_ANCESTORS, _ortholog_ancestors)


def input_ancestors(model) -> dict:
    """{"GO term": (G, G), "homolog phenotype": (K', K')} proper-ancestor tables over the
    model's GO inputs and its other-species terms, from explain/ (go_closure.npz,
    ortholog_ancestors.npz); None for a table the model does not store (its evidence is then
    shown one ontology term per item). Kept in model.caches."""
    cached = model.caches.get("input_ancestors")
    if cached is not None:
        return cached
    extras = model_extras(model)
    out = {"GO term": None, "homolog phenotype": extras.ortholog_ancestors}
    if model.go_inputs and extras.go_closure is not None and extras.go_terms is not None:
        index = extras.go_index()
        rows = [index.get(g, -1) for g in model.go_inputs]
        closure = sp.csr_matrix(extras.go_closure)
        # an input missing from go_terms.tsv (cannot happen for a model written here) has no ancestors
        table = closure[[max(r, 0) for r in rows]].tolil()
        for i, r in enumerate(rows):
            if r < 0:
                table.rows[i], table.data[i] = [], []
        table = table.tocsr().astype(np.uint8)
        table.setdiag(0)  # go_closure includes the term itself
        table.eliminate_zeros()
        out["GO term"] = table
    model.caches["input_ancestors"] = out
    return out


def _go_closure(go_ids: list[str], inputs: list[str], ontology) -> sp.csr_matrix:
    """(len(go_ids), len(inputs)) uint8: [i, j] = 1 when inputs[j] is go_ids[i] or one of
    its ancestors (is_a / part_of as the ontology defines them)."""
    col = {g: j for j, g in enumerate(inputs)}
    rows, cols = [], []
    for i, g in enumerate(go_ids):
        try:
            anc = ontology.ancestors(g, include_self=True)
        except Exception:  # a term missing from the ontology: only itself
            anc = {g}
        for a in anc:
            j = col.get(a)
            if j is not None:
                rows.append(i)
                cols.append(j)
    data = np.ones(len(rows), dtype=np.uint8)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(go_ids), len(inputs)), dtype=np.uint8)


def model_extras(model) -> ModelExtras:
    """The extras of a TrainedModel (loaded once and kept in model.caches).

    Without an `explain/` directory, only what the checkpoint itself holds is available
    (no term ancestors: predictions are not propagated; no nearest proteins unless the
    model has a homology branch; no graphs from training data).
    """
    cached = model.caches.get("explain_extras")
    if cached is not None:
        return cached
    root = Path(model.path) / EXTRAS_DIR
    k = len(model.terms)
    if not (root / "terms.tsv").exists():
        logger.warning("%s has no %s/ directory: no ontology structure or training data for explanations",
                       model.path, EXTRAS_DIR)
        terms = model.terms.copy()
        terms["n_genes"] = 0
        terms["depth"] = 0
        extras = ModelExtras(terms=terms, term_ancestors=sp.csr_matrix((k, k), dtype=np.uint8))
        homology = model.homology
        if homology is not None:
            ids = [f"train{i}" for i in range(len(homology[0]))]
            extras.train_genes = pd.DataFrame({"gene_id": ids, "symbol": "", "accession": ids})
            extras.train_sequences, extras.train_labels = list(homology[0]), homology[1].astype(np.int32)
    else:
        # a damaged file raises ModelLoadError naming it (not a pandas/numpy traceback)
        from genepheno_core.training.checkpoint import model_file, read_npz, read_table

        def read(name, columns=()):
            return read_table(root / name, columns)

        terms = read("terms.tsv", ("term_id", "name", "n_genes", "depth"))
        terms["n_genes"] = pd.to_numeric(terms["n_genes"], errors="coerce").fillna(0).astype(int)
        terms["depth"] = pd.to_numeric(terms["depth"], errors="coerce").fillna(0).astype(int)
        extras = ModelExtras(terms=terms, term_ancestors=read_npz(root / "term_ancestors.npz"))
        if (root / "train_genes.tsv").exists():
            extras.train_genes = read("train_genes.tsv", ("gene_id", "symbol", "accession"))
            with model_file(root / TRAIN_SEQUENCES):
                extras.train_sequences = [r.sequence for r in read_fasta(root / TRAIN_SEQUENCES)]
            extras.train_labels = read_npz(root / "train_labels.npz").astype(np.int32)  # uint8 sums overflow
        if (root / "train_concepts.npz").exists():
            extras.train_concepts = read_npz(root / "train_concepts.npz").astype(np.int32)
            with model_file(root / "train_has_go.npy"):
                extras.train_has_go = np.load(root / "train_has_go.npy", allow_pickle=False)
        if (root / "go_terms.tsv").exists():
            extras.go_terms = read("go_terms.tsv", ("go_id", "name"))
        if (root / "go_closure.npz").exists():
            extras.go_closure = read_npz(root / "go_closure.npz")
        if (root / "concept_closure.npz").exists():
            extras.concept_closure = read_npz(root / "concept_closure.npz")
        if (root / "pairs.tsv").exists():
            extras.pairs = read("pairs.tsv", ("term_a", "term_b", "rule", "overlap"))
            extras.pairs["overlap"] = pd.to_numeric(extras.pairs["overlap"], errors="coerce")
        if (root / MAPPING_RELATED).exists() and model.uses_ortholog:
            related = read_npz(root / MAPPING_RELATED)
            expected = (len(terms), len(model.cross_species.terms))
            if related.shape != expected:
                from genepheno_core.errors import ModelLoadError

                raise ModelLoadError(root / MAPPING_RELATED, f"shape {related.shape}, expected {expected}")
            extras.mapping_related = related
        if (root / ORTHOLOG_ANCESTORS).exists() and model.uses_ortholog:
            ancestors = read_npz(root / ORTHOLOG_ANCESTORS)
            n_other = len(model.cross_species.terms)
            if ancestors.shape != (n_other, n_other):
                from genepheno_core.errors import ModelLoadError

                raise ModelLoadError(root / ORTHOLOG_ANCESTORS, f"shape {ancestors.shape}, expected ({n_other}, {n_other})")
            extras.ortholog_ancestors = ancestors
        k_anc = extras.term_ancestors.shape
        if k_anc != (len(terms), len(terms)):
            from genepheno_core.errors import ModelLoadError

            raise ModelLoadError(root / "term_ancestors.npz", f"shape {k_anc}, expected ({len(terms)}, {len(terms)})")
    if list(extras.terms["term_id"]) != list(model.terms["term_id"]):
        from genepheno_core.errors import ModelMismatchError

        raise ModelMismatchError(f"{root}: terms.tsv does not match the checkpoint's label vocabulary")
    if extras.go_closure is not None:
        # GO sets are propagated here with the stored closure; this keeps TrainedModel from
        # loading (or trying to download) the whole GO release for every new model object
        model.skip_go_ontology()
    model.caches["explain_extras"] = extras
    return extras
