"""Checkpoint directories: saving a trained run and loading it as a `TrainedModel`
(genepheno_core.models.trained, the inference object).

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
    go_neighbours/     the functional-neighbour reference ("go-neighbours" runs whose
                       validation chose alpha > 0): genes.tsv (gene_id, symbol, accession),
                       bags.npz (N, G) GO input (float16 values), labels.npz (N, K) 0/1,
                       idf.safetensors (G,), info.json (k, alpha, blend)
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
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from genepheno_core.errors import (
    GenePhenoError,
    MissingDataError,
    ModelLoadError,
    ModelMismatchError,
)
from genepheno_core.io import atomic_path, json_safe
from genepheno_core.models.baselines import MLPBaseline
from genepheno_core.models.config import GenePhenoConfig, MLPConfig
from genepheno_core.models.genepheno import GenePheno
from genepheno_core.models.go_neighbours import BLEND, GO_INPUT, PROFILE, SIMILARITIES, GoNeighbours
from genepheno_core.models.trained import CrossSpecies, TrainedModel
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


def _dumps(obj) -> str:
    return json.dumps(json_safe(obj), indent=1)


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
        neighbours = result.extra.get("go_neighbours")
        if neighbours is not None and neighbours.alpha > 0:
            write_go_neighbours(tmp / GO_NEIGHBOURS_DIR, neighbours)
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
GO_NEIGHBOURS_DIR = "go_neighbours"
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


def _write_csr(path: Path, matrix: sp.csr_matrix, values: bool, dtype=np.float16) -> None:
    """A CSR matrix as a compressed npz of plain arrays (no pickle): indptr, indices (uint16
    when the columns fit), shape and, with `values`, data as `dtype` (float16 by default; a
    0/1 matrix stores none). Half the size of scipy's own npz: it keeps the shipped models
    under 25 MB."""
    m = sp.csr_matrix(matrix)
    m.sort_indices()
    arrays = {"indptr": m.indptr.astype(np.int64), "shape": np.asarray(m.shape, dtype=np.int64),
              "indices": m.indices.astype(np.uint16 if m.shape[1] <= np.iinfo(np.uint16).max + 1 else np.int32)}
    if values:
        arrays["data"] = m.data.astype(dtype)
    np.savez_compressed(path, **arrays)


def _read_csr(path: Path) -> sp.csr_matrix:
    """The matrix written by `_write_csr` (float32; ones where it stores no values)."""
    with model_file(path), np.load(path, allow_pickle=False) as npz:
        indptr, indices, shape = npz["indptr"], npz["indices"].astype(np.int32), tuple(int(x) for x in npz["shape"])
        data = npz["data"].astype(np.float32) if "data" in npz.files else np.ones(indices.size, dtype=np.float32)
        return sp.csr_matrix((data, indices, indptr), shape=shape)


def write_go_neighbours(path: Path, neighbours: GoNeighbours) -> None:
    """Store a functional-neighbour reference (models.go_neighbours) in `path`: the GO input
    bags with float16 values (they are weights in [0, 1]; at most 2.4e-4 off; empty when the
    similarity does not read them), the labels, and, with a similarity that reads homolog
    phenotypes, the training genes' hit shares (float32: the profiles are rebuilt from them
    and the model's cross_species/ labels, so the neighbours found are the ones validation
    chose with)."""
    path.mkdir(parents=True)
    neighbours.genes.to_csv(path / "genes.tsv", sep="\t", index=False)
    # neighbours by homolog phenotypes alone never read the GO bags: stored empty (same shape),
    # which keeps mpo-go-transfer ~3 MB smaller
    bags = neighbours.bags if neighbours.similarity != PROFILE else sp.csr_matrix(neighbours.bags.shape)
    _write_csr(path / "bags.npz", bags, values=True)
    _write_csr(path / "labels.npz", neighbours.labels > 0, values=False)
    if neighbours.reads_profile:
        _write_csr(path / "hit_shares.npz", neighbours.hit_shares, values=True, dtype=np.float32)
    save_file({"idf": torch.from_numpy(np.asarray(neighbours.idf, dtype=np.float32))}, str(path / "idf.safetensors"))
    (path / "info.json").write_text(_dumps({"k": int(neighbours.k), "alpha": float(neighbours.alpha), "blend": BLEND,
                                            "similarity": neighbours.similarity}))


def read_go_neighbours(path: Path, n_terms: int, n_go: int, other_labels: sp.spmatrix | None = None) -> GoNeighbours:
    """The reference written by `write_go_neighbours`, checked against the model's K and G;
    other_labels: (N', K') the model's cross_species/ labels (a similarity that reads homolog
    phenotypes rebuilds the training genes' profiles from them)."""
    info = read_json_object(path / "info.json", ("k", "alpha"))
    if info.get("blend") != BLEND:
        # a reference written before the vote moved the probability by its excess (no "blend"
        # key) averaged the probabilities; its alpha was chosen for that rule, so serving it
        # with this one would report scores nobody validated
        rule = info.get("blend", "a probability average")
        raise ModelLoadError(path / "info.json", f"the neighbours' vote is applied as {rule!r}, this version "
                             f"applies it as {BLEND!r}: retrain the model (or rebuild the shipped ones: "
                             "make default-model)")
    with model_file(path / "idf.safetensors"):
        idf = load_file(str(path / "idf.safetensors"))["idf"].double().numpy()
    bags, labels = _read_csr(path / "bags.npz"), _read_csr(path / "labels.npz")
    genes = read_table(path / "genes.tsv", ("gene_id",))
    if labels.shape[1] != n_terms or bags.shape[1] != n_go:
        raise ModelMismatchError(f"{path}: {labels.shape[1]} terms x {bags.shape[1]} GO inputs, the model has "
                                 f"{n_terms} x {n_go}")
    with model_file(path / "info.json", "k / alpha / similarity"):
        # a reference written before the similarity was chosen found neighbours by GO
        k, alpha, similarity = int(info["k"]), float(info["alpha"]), str(info.get("similarity", GO_INPUT))
        if k < 1 or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"k {k} must be >= 1 and alpha {alpha} within [0, 1]")
        if similarity not in SIMILARITIES:
            raise ValueError(f"similarity {similarity!r} is not one of {', '.join(SIMILARITIES)}")
    shares = None
    if similarity != GO_INPUT:
        if other_labels is None:
            raise ModelLoadError(path, f"neighbours by {similarity!r} need the model's {CROSS_SPECIES_DIR}/, "
                                 "which is missing")
        shares = _read_csr(path / "hit_shares.npz")
    try:
        return GoNeighbours(bags, labels, idf, genes, k=k, alpha=alpha, similarity=similarity,
                            hit_shares=shares, other_labels=other_labels if shares is not None else None)
    except ValueError as exc:
        raise ModelLoadError(path, str(exc)) from exc


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
    if dataset is not None and hasattr(dataset, "with_terms_of"):
        # a model trains on its split's vocabulary (terms with >= min_genes training genes)
        dataset = dataset.with_terms_of(model.terms["term_id"], getattr(model.config, "split", "random"))
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
    go_neighbours = None
    if (path / GO_NEIGHBOURS_DIR).exists():
        go_neighbours = read_go_neighbours(path / GO_NEIGHBOURS_DIR, len(terms), len(go_inputs),
                                           None if cross_species is None else cross_species.labels)
    metrics = read_json_object(path / "metrics.json") if (path / "metrics.json").exists() else {}
    manifest = read_json_object(path / "manifest.json") if (path / "manifest.json").exists() else {}
    with model_file(path / "metrics.json", "threshold"):
        threshold = float(metrics.get("threshold", 0.5))
    return TrainedModel(
        path=path, kind=str(meta["kind"]), module=module, terms=terms, concepts=concepts, go_inputs=go_inputs,
        encoder=meta.get("encoder"), threshold=threshold,
        metrics=metrics, manifest=manifest, config=config, homology=homology, cross_species=cross_species,
        go_neighbours=go_neighbours)
