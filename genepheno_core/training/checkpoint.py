"""Checkpoint directories and `TrainedModel`.

A checkpoint is a directory:
    config.json        format version, model kind, module config, TrainConfig, encoder
    model.safetensors  weights (no pickle); absent for the non-neural baselines
    terms.tsv          term_id, name: the label vocabulary, column k of every score matrix
    concepts.tsv       go_id, name, namespace: the bottleneck units (GenePheno)
    go_inputs.tsv      go_id: the GO input bag vocabulary (models with GO input)
    homology/          train_sequences.fasta + train_labels.npz (homology branch)
    cross_species/     the other species' dataset the ortholog input is computed against:
                       genes.tsv (gene_id, symbol, accession), sequences.fa.gz, labels.npz
                       (N', K') uint8, terms.tsv (term_id, name, depth), info.json (dataset, max_hits)
    manifest.json      the dataset manifest the model was trained on
    metrics.json       validation metrics, the validation-optimal threshold, training history
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from genepheno_core.errors import GenePhenoError, MissingDataError, ModelLoadError, ModelMismatchError
from genepheno_core.io import atomic_path
from genepheno_core.models.config import GenePhenoConfig, MLPConfig
from genepheno_core.models.genepheno import GenePheno, MLPBaseline
from genepheno_core.training.config import TrainConfig

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1


# What reading a damaged or inconsistent checkpoint file can raise (json, pandas, numpy,
# scipy, safetensors, torch): turned into ModelLoadError naming the file.
_LOAD_ERRORS = (OSError, EOFError, ValueError, KeyError, IndexError, TypeError, AttributeError, RuntimeError,
                zipfile.BadZipFile, SafetensorError)


def _problem(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "missing file"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON ({exc.msg} at line {exc.lineno})"
    if isinstance(exc, (zipfile.BadZipFile, EOFError)):
        return f"corrupt or truncated file ({exc})"
    if isinstance(exc, SafetensorError):
        return f"corrupt or truncated safetensors file ({exc})"
    if isinstance(exc, KeyError):
        return f"missing entry {exc}"
    return f"{type(exc).__name__}: {exc}"


@contextlib.contextmanager
def model_file(path: Path, what: str = ""):
    """Turn any error raised while reading or applying `path` into ModelLoadError(path,
    problem); GenePhenoErrors (already naming their file) pass through."""
    try:
        yield
    except GenePhenoError:
        raise
    except _LOAD_ERRORS as exc:
        raise ModelLoadError(path, f"{what}: {_problem(exc)}" if what else _problem(exc)) from exc


def read_json_object(path: Path, required: tuple[str, ...] = ()) -> dict:
    """A checkpoint JSON file that must hold an object with the `required` keys."""
    with model_file(path):
        data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ModelLoadError(path, f"expected a JSON object, found {type(data).__name__}")
    missing = [k for k in required if k not in data]
    if missing:
        raise ModelLoadError(path, f"missing {', '.join(missing)}")
    return data


def read_table(path: Path, columns: tuple[str, ...] = (), **options) -> pd.DataFrame:
    """A checkpoint TSV file (all columns as text) that must have `columns`."""
    options = {"dtype": str, "keep_default_na": False, **options}
    with model_file(path):
        table = pd.read_csv(path, sep="\t", **options)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ModelLoadError(path, f"no {', '.join(missing)} column (columns: {', '.join(map(str, table.columns))})")
    return table


def read_npz(path: Path) -> sp.csr_matrix:
    with model_file(path):
        return sp.load_npz(path).tocsr()


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")


def _dumps(obj) -> str:
    return json.dumps(obj, indent=1, default=_json_default, allow_nan=True)


def save_checkpoint(out_dir: str | Path, result, dataset, config: TrainConfig) -> Path:
    """Write the checkpoint directory of a finished run (atomically)."""
    out_dir = Path(out_dir)
    data = result.data
    module = result.module
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        kind = config.model
        meta = {
            "format_version": FORMAT_VERSION,
            "kind": kind,
            "module": type(module).__name__ if module is not None else None,
            "module_config": module.config.to_dict() if module is not None else None,
            "train_config": config.to_dict(),
            "encoder": config.encoder if config.use_seq else None,
            "dataset": getattr(dataset, "name", config.dataset),
            "split": config.split,
            "n_terms": int(data.labels.shape[1]),
        }
        (tmp / "config.json").write_text(_dumps(meta))
        terms = dataset.terms[["term_id", "name"]] if "name" in dataset.terms else dataset.terms[["term_id"]]
        terms.to_csv(tmp / "terms.tsv", sep="\t", index=False)
        if data.concept_ids:
            go_terms = dataset.go_terms.set_index("go_id")
            pd.DataFrame({
                "go_id": data.concept_ids,
                "name": [go_terms.at[g, "name"] if "name" in go_terms else "" for g in data.concept_ids],
                "namespace": [go_terms.at[g, "namespace"] if "namespace" in go_terms else "" for g in data.concept_ids],
            }).to_csv(tmp / "concepts.tsv", sep="\t", index=False)
        if data.go_vocab:
            pd.DataFrame({"go_id": data.go_vocab}).to_csv(tmp / "go_inputs.tsv", sep="\t", index=False)
        if data.homology is not None:
            (tmp / "homology").mkdir()
            seqs = dataset.genes["sequence"].tolist()
            with open(tmp / "homology" / "train_sequences.fasta", "w") as handle:
                for i in data.train:
                    handle.write(f">{dataset.genes['gene_id'].iloc[i]}\n{seqs[i]}\n")
            sp.save_npz(tmp / "homology" / "train_labels.npz", sp.csr_matrix(data.labels[data.train], dtype=np.uint8))
        if data.ortholog is not None and data.ortholog_source is not None:
            write_cross_species(tmp / CROSS_SPECIES_DIR, data.ortholog_source, config.ortholog_max_hits)
        if module is not None:
            save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(tmp / "model.safetensors"))
        elif "test_scores" not in result.extra:
            pass
        (tmp / "manifest.json").write_text(_dumps(getattr(dataset, "manifest", {}) or {}))
        metrics = {
            "valid": result.valid_metrics,
            "threshold": result.threshold,
            "seconds": result.seconds,
            "epochs": result.fit.get("epochs"),
            "best_epoch": result.fit.get("best_epoch"),
            "history": result.fit.get("history", []),
            "n_train": int(data.train.size), "n_valid": int(data.valid.size), "n_test": int(data.test.size),
        }
        (tmp / "metrics.json").write_text(_dumps(metrics))
    return out_dir


CROSS_SPECIES_DIR = "cross_species"
INT8_SUFFIX, SCALE_SUFFIX = ".int8", ".int8_scale"


def quantize_state(state: dict, min_numel: int = 65_536) -> dict:
    """Compact storage for shipping a model: every floating 2-D weight with >= `min_numel`
    entries as int8 with one float32 scale per row (row max |w| / 127: symmetric, round to
    nearest, so each entry is off by at most half a step), everything else fp16.
    `dequantize_state` (run by load_model) restores float32 tensors."""
    out = {}
    for name, value in state.items():
        if value.is_floating_point() and value.ndim == 2 and value.numel() >= min_numel:
            w = value.float()
            scale = (w.abs().amax(dim=1, keepdim=True) / 127.0).clamp_min(1e-12)  # (rows, 1)
            out[name + INT8_SUFFIX] = torch.round(w / scale).clamp(-127, 127).to(torch.int8).contiguous()
            out[name + SCALE_SUFFIX] = scale.squeeze(1).contiguous()  # float32: exact half-step bound
        else:
            out[name] = value.half().contiguous() if value.is_floating_point() else value.contiguous()
    return out


def dequantize_state(tensors: dict) -> dict:
    """Inverse of `quantize_state` (a plain state dict passes through unchanged)."""
    out = {}
    for name, value in tensors.items():
        if name.endswith(SCALE_SUFFIX):
            continue
        if name.endswith(INT8_SUFFIX):
            base = name[: -len(INT8_SUFFIX)]
            out[base] = value.float() * tensors[base + SCALE_SUFFIX].float()[:, None]
        else:
            out[name] = value
    return out


def write_cross_species(path: Path, other, max_hits: int) -> None:
    """Store the other species' genes, sequences, labels and term names (what the ortholog
    input of a new protein is computed from) in `path`."""
    path.mkdir(parents=True)
    other.genes[["gene_id", "symbol", "accession"]].to_csv(path / "genes.tsv", sep="\t", index=False)
    # gzip with mtime=0: shipped models rebuild byte-identical
    with gzip.GzipFile(path / "sequences.fa.gz", "wb", mtime=0) as raw, io.TextIOWrapper(raw) as handle:
        for gid, seq in zip(other.genes["gene_id"], other.genes["sequence"]):
            handle.write(f">{gid}\n{seq}\n")
    sp.save_npz(path / "labels.npz", sp.csr_matrix(other.labels, dtype=np.uint8))
    terms = other.terms[[c for c in ("term_id", "name", "depth") if c in other.terms]]
    terms.to_csv(path / "terms.tsv", sep="\t", index=False)
    (path / "info.json").write_text(_dumps({"dataset": getattr(other, "name", ""), "max_hits": int(max_hits),
                                            "n_genes": int(len(other.genes)), "n_terms": int(len(terms))}))


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


def read_cross_species(path: Path) -> CrossSpecies:
    from genepheno_core.sources.fasta import read_fasta

    info = read_json_object(path / "info.json")
    with model_file(path / "sequences.fa.gz"):
        sequences = [r.sequence for r in read_fasta(path / "sequences.fa.gz")]
    with model_file(path / "info.json"):
        max_hits = int(info.get("max_hits", 5))
    cs = CrossSpecies(dataset=str(info.get("dataset", "")), genes=read_table(path / "genes.tsv", ("gene_id",)),
                      sequences=sequences, labels=read_npz(path / "labels.npz"),
                      terms=read_table(path / "terms.tsv", ("term_id",)), max_hits=max_hits)
    if not (len(cs.genes) == len(cs.sequences) == cs.labels.shape[0]) or cs.labels.shape[1] != len(cs.terms):
        raise ModelMismatchError(f"{path}: genes, sequences, labels and terms disagree in size")
    return cs


@dataclass
class TrainedModel:
    """A loaded checkpoint, ready to predict.

    Probabilities are sigmoid(W_p sigmoid(c) + bias) with the effective `W_p` (K, J) and
    `bias` (K,) exposed here (the training temperature is already divided out), so the
    contribution of concept j to phenotype k for a gene is W_p[k, j] * concept_activation_j.
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
    _homology: tuple[list[str], sp.csr_matrix] | None = field(default=None, repr=False)
    cross_species: CrossSpecies | None = field(default=None, repr=False)
    _go_ontology: object = field(default=None, repr=False)

    # -- inputs
    @property
    def uses_go(self) -> bool:
        return bool(self.go_inputs)

    @property
    def uses_sequence(self) -> bool:
        return self.module is not None and getattr(self.module.config, "seq_dim", 0) > 0

    @property
    def uses_homology(self) -> bool:
        return self._homology is not None

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
        """(n, G) multi-hot over the GO input vocabulary. Each entry of `go_sets` is an
        iterable of GO ids (None or empty = no GO); with `propagate` they are propagated to
        their ancestors first (harmless for sets that already are)."""
        if propagate:
            go_sets = self.propagate_go(go_sets)
        index = {g: i for i, g in enumerate(self.go_inputs)}
        bag = np.zeros((len(go_sets), len(self.go_inputs)), dtype=np.float32)
        for row, terms in enumerate(go_sets):
            for term in terms or ():
                j = index.get(term)
                if j is not None:
                    bag[row, j] = 1.0
        return bag

    def homology_input(self, sequences) -> np.ndarray:
        """(n, K) Diamond-score vectors of `sequences` against the training genes."""
        from genepheno_core.models.baselines import diamond_scores

        train_seqs, train_labels = self._homology
        scores, _ = diamond_scores(list(sequences), train_seqs, train_labels)
        return scores

    def _inputs(self, embeddings=None, go_sets=None, sequences=None) -> dict:
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

    @torch.no_grad()
    def _forward(self, batch_size=512, **inputs):
        self.module.eval()
        n = next(iter(inputs.values())).shape[0]
        for start in range(0, n, batch_size):
            yield self.module(**{k: v[start:start + batch_size] for k, v in inputs.items()})

    def predict_scores(self, embeddings=None, go_sets=None, sequences=None, batch_size: int = 512) -> np.ndarray:
        """(n, K) phenotype probabilities, columns in `terms` order.

        embeddings (n, D) from `encoder` (models with sequence input); go_sets: per gene an
        iterable of propagated GO ids or None (models with GO input; None everywhere =
        sequence-only prediction); sequences: protein sequences (homology branch only).
        """
        if self.module is None:
            raise ModelMismatchError(f"{self.path} is a {self.kind} baseline checkpoint without a module")
        inputs = self._inputs(embeddings, go_sets, sequences)
        temperature = float(self.module.config.temperature)
        parts = [torch.sigmoid(out.phenotype_logits / temperature).numpy() for out in self._forward(batch_size, **inputs)]
        return np.concatenate(parts) if parts else np.zeros((0, len(self.terms)), dtype=np.float32)

    def concept_activations(self, embeddings=None, go_sets=None, sequences=None, batch_size: int = 512) -> np.ndarray:
        """(n, J) sigmoid(c): the GO concept activations of the bottleneck."""
        if not isinstance(self.module, GenePheno):
            raise ModelMismatchError(f"{self.path} ({self.kind}) has no concept layer")
        inputs = self._inputs(embeddings, go_sets, sequences)
        parts = [torch.sigmoid(out.concept_logits).numpy() for out in self._forward(batch_size, **inputs)]
        return np.concatenate(parts) if parts else np.zeros((0, len(self.concepts)), dtype=np.float32)

    @property
    def W_p(self) -> np.ndarray:
        """(K, J) effective concept -> phenotype weights (temperature divided out)."""
        if not isinstance(self.module, GenePheno):
            raise ModelMismatchError(f"{self.path} ({self.kind}) has no concept layer")
        t = float(self.module.config.temperature)
        return self.module.phenotype_head.weight.detach().numpy() / t

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
        return self._low_rank(getattr(self.module, "ortholog_head", None), terms, ortholog_terms)

    def _low_rank(self, head, rows, cols) -> np.ndarray | None:
        if head is None:
            return None
        U = head[2].weight.detach()  # (K, r)
        V = head[0].weight.detach()  # (r, G)
        if rows is not None:
            U = U[torch.as_tensor(np.asarray(rows, dtype=np.int64))]
        if cols is not None:
            V = V[:, torch.as_tensor(np.asarray(cols, dtype=np.int64))]
        return (U.double() @ V.double()).numpy() / float(self.module.config.temperature)

    @property
    def bias(self) -> np.ndarray:
        """(K,) effective phenotype bias (temperature divided out)."""
        head = self.module.phenotype_head if isinstance(self.module, GenePheno) else self.module.head
        return head.bias.detach().numpy() / float(self.module.config.temperature)

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


def load_model(path: str | Path, dataset=None, encoder: str | None = None) -> TrainedModel:
    """Load a checkpoint directory; with `dataset` / `encoder`, refuse (ModelMismatchError)
    a checkpoint whose label vocabulary or encoder does not match them.

    A missing, corrupt or inconsistent file raises ModelLoadError naming the file and the
    problem (MissingDataError when the directory is not a checkpoint at all)."""
    path = Path(path)
    if not (path / "config.json").exists():
        raise MissingDataError(f"{path} is not a GenePheno checkpoint (no config.json)")
    try:
        model = _load_checkpoint(path)
    except GenePhenoError:
        raise
    except _LOAD_ERRORS as exc:  # a damage no per-file check names: at least name the checkpoint
        raise ModelLoadError(path, f"cannot load the checkpoint: {_problem(exc)}") from exc
    model.check_compatible(dataset, encoder)
    return model


def _load_checkpoint(path: Path) -> TrainedModel:
    config_path = path / "config.json"
    meta = read_json_object(config_path, ("format_version", "kind", "train_config", "n_terms"))
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelMismatchError(f"{path}: checkpoint format {meta.get('format_version')} is not {FORMAT_VERSION}")
    with model_file(config_path, "invalid train_config"):
        config = TrainConfig.from_dict(meta["train_config"])
    terms = read_table(path / "terms.tsv", ("term_id",))
    if len(terms) != meta["n_terms"]:
        raise ModelLoadError(path / "terms.tsv", f"{len(terms)} terms, config.json says {meta['n_terms']}")
    concepts = None
    if (path / "concepts.tsv").exists():
        concepts = read_table(path / "concepts.tsv", ("go_id",))
    go_inputs = []
    if (path / "go_inputs.tsv").exists():
        go_inputs = read_table(path / "go_inputs.tsv", ("go_id",), keep_default_na=True)["go_id"].tolist()
    module = None
    if meta.get("module"):
        with model_file(config_path, "invalid module_config"):
            if meta["module"] == "GenePheno":
                module = GenePheno(GenePhenoConfig.from_dict(meta["module_config"]))
            else:
                module = MLPBaseline(MLPConfig.from_dict(meta["module_config"]))
        weights = path / "model.safetensors"
        with model_file(weights):
            state = dequantize_state(load_file(str(weights)))
        try:
            module.load_state_dict(state)
        except RuntimeError as exc:
            # torch lists every mismatch on its own line: keep the first two
            details = [line.strip() for line in str(exc).splitlines()[1:] if line.strip()]
            raise ModelLoadError(weights, "weights do not fit config.json: " + "; ".join(details[:2])) from exc
        module.eval()
        if len(go_inputs) != getattr(module.config, "go_dim", 0):
            raise ModelLoadError(path / "go_inputs.tsv",
                                 f"{len(go_inputs)} terms, the module expects {module.config.go_dim}")
        if concepts is not None and isinstance(module, GenePheno) and len(concepts) != module.config.n_concepts:
            raise ModelLoadError(path / "concepts.tsv",
                                 f"{len(concepts)} rows, the module expects {module.config.n_concepts}")
    homology = None
    if (path / "homology").exists():
        from genepheno_core.embeddings import parse_sequences

        seqs = [s for _, s in parse_sequences(path / "homology" / "train_sequences.fasta")]
        homology = (seqs, read_npz(path / "homology" / "train_labels.npz"))
    cross_species = None
    if (path / CROSS_SPECIES_DIR).exists():
        cross_species = read_cross_species(path / CROSS_SPECIES_DIR)
        if module is not None and cross_species.labels.shape[1] != getattr(module.config, "ortholog_dim", 0):
            raise ModelMismatchError(f"{path}: {CROSS_SPECIES_DIR}/ has {cross_species.labels.shape[1]} terms, "
                                     f"the module expects {module.config.ortholog_dim}")
    metrics = read_json_object(path / "metrics.json") if (path / "metrics.json").exists() else {}
    manifest = read_json_object(path / "manifest.json") if (path / "manifest.json").exists() else {}
    with model_file(path / "metrics.json", "threshold"):
        threshold = float(metrics.get("threshold", 0.5))
    return TrainedModel(
        path=path, kind=str(meta["kind"]), module=module, terms=terms, concepts=concepts, go_inputs=go_inputs,
        encoder=meta.get("encoder"), threshold=threshold,
        metrics=metrics, manifest=manifest, config=config, _homology=homology, cross_species=cross_species)
