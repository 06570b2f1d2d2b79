"""Transformer encoders through Hugging Face transformers: `esm2_*` and `hf:<id or dir>`.

Both mean-pool the chosen layer's hidden states over the sequence's own tokens: padding
and special tokens (CLS/BOS, EOS, ...) are excluded. Sequences longer than the model's
window are cut into consecutive non-overlapping chunks of `chunk` residues, and the mean
runs over all residue tokens of all chunks (the chunk size is part of the cache key).

ESM-2 weights: `esm2_t6_8M` (also `esm2_t6_8M_UR50D`) is the hub id
`facebook/esm2_t6_8M_UR50D`. Weights are looked up, in this order, in the `path=` option,
in `$GENEPHENO_ESM_DIR/<name>_UR50D` (or `$GENEPHENO_ESM_DIR/facebook/<name>_UR50D`),
then in the Hugging Face cache / hub (`huggingface_hub.snapshot_download`, needs network
the first time). Download once elsewhere with
`huggingface-cli download facebook/esm2_t33_650M_UR50D --local-dir DIR` and pass
`path=DIR` or set GENEPHENO_ESM_DIR. No pooler is built (add_pooling_layer=False): its
weights are not pretrained. ESM's vocabulary has U, O, B, Z and X; J becomes X.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np
import torch

from genepheno_core import environment
from genepheno_core.embeddings.base import Encoder, weights_sha256
from genepheno_core.embeddings.config import DEFAULT_BATCH_TOKENS
from genepheno_core.errors import MissingDataError

logger = logging.getLogger(__name__)

ESM2_MODELS = ("t6_8M", "t12_35M", "t30_150M", "t33_650M", "t36_3B", "t48_15B")
_ESM_NAME = re.compile(r"^esm2_(t\d+_\d+[MB])(?:_UR50D)?$")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".json", ".txt", ".model")


def esm2_hub_id(name: str) -> str:
    """`esm2_t6_8M` -> `facebook/esm2_t6_8M_UR50D`."""
    match = _ESM_NAME.match(name)
    if not match:
        raise ValueError(
            f"unknown ESM-2 model {name!r}; use esm2_<size> with size one of "
            f"{', '.join(ESM2_MODELS)}"
        )
    return f"facebook/esm2_{match.group(1)}_UR50D"


def _resolve_model_dir(spec: str, path: str | os.PathLike | None, env_dirs: list[Path]) -> Path:
    """A local directory holding config + weights for `spec` (hub id or directory)."""
    if path is not None:
        local = Path(path).expanduser()
        if not (local / "config.json").is_file():
            raise MissingDataError(f"{local}: not a model directory (no config.json)")
        return local
    local = Path(spec).expanduser()
    if (local / "config.json").is_file():
        return local
    for candidate in env_dirs:
        if (candidate / "config.json").is_file():
            return candidate
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(spec))
    except Exception as exc:  # no network, unknown id, ...: tell the user what to do
        raise MissingDataError(
            f"cannot load model {spec!r} ({type(exc).__name__}: {exc}). Download it once "
            f"(huggingface-cli download {spec} --local-dir DIR) and pass path=DIR"
            " (or set GENEPHENO_ESM_DIR for ESM-2 models)."
        ) from exc


def _weight_files(model_dir: Path) -> list[Path]:
    files = [p for p in sorted(model_dir.iterdir()) if p.is_file() and p.suffix in _WEIGHT_SUFFIXES]
    if not any(p.suffix in (".safetensors", ".bin", ".pt") for p in files):
        raise MissingDataError(f"{model_dir}: no weight files (*.safetensors / *.bin)")
    return files


class TransformersEncoder(Encoder):
    """Mean-pooled hidden states of a transformers encoder (AutoModel + AutoTokenizer)."""

    kind = "hf"

    def __init__(
        self,
        spec: str,
        name: str,
        model_dir: Path,
        layer: int | None = None,
        chunk: int | None = None,
        device: str = "cpu",
        translate: bool = True,
    ):
        self.spec = spec
        self.translate_nucleotides = bool(translate)
        self.name = name
        self.model_dir = model_dir
        self.layer = None if layer is None else int(layer)
        self.device = device
        self.default_batch_tokens = DEFAULT_BATCH_TOKENS[self.kind]
        # the tokenizer and config are cheap; the weights load on first use, so a run served
        # entirely from the cache never reads them
        from transformers import AutoConfig, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        config = AutoConfig.from_pretrained(self.model_dir)
        self._model = None
        self.dim = int(config.hidden_size)
        n_layers = int(getattr(config, "num_hidden_layers", 0) or 0)
        if self.layer is not None and n_layers and not -n_layers - 1 <= self.layer <= n_layers:
            raise ValueError(f"{name}: layer {self.layer} outside 0..{n_layers} (or negative)")
        max_tokens = _max_tokens(self.tokenizer, config)
        # room for the special tokens the tokenizer adds around one sequence
        self.n_special = len(self.tokenizer("A", add_special_tokens=True)["input_ids"]) - len(
            self.tokenizer("A", add_special_tokens=False)["input_ids"]
        )
        self.chunk = int(chunk) if chunk else max(1, max_tokens - self.n_special)
        self._weights_hash: str | None = None

    @property
    def model(self):
        if self._model is None:
            logger.info("loading %s from %s", self.name, self.model_dir)
            self._model = self._load_model().eval().to(self.device)
        return self._model

    def _load_model(self):
        from transformers import AutoModel

        return AutoModel.from_pretrained(self.model_dir)

    def prepare(self, seq: str) -> str:
        """Map the input alphabet to the model's (hook for subclasses)."""
        return seq

    def key_components(self) -> dict:
        if self._weights_hash is None:
            self._weights_hash = weights_sha256(_weight_files(self.model_dir))
        return {
            "weights_sha256": self._weights_hash,
            "pooling": "mean_residue_tokens",
            "layer": "last" if self.layer is None else self.layer,
            "chunking": {"chunk_residues": self.chunk, "overlap": 0},
            "translate_nucleotides": self.translate_nucleotides,
        }

    def iter_embed(self, seqs, batch_tokens=None, max_batch=None):
        # every sequence becomes one or more chunks; chunks are batched by length and the
        # per-chunk residue sums are accumulated back onto their sequence
        pieces: list[tuple[int, str]] = []
        for i, seq in enumerate(seqs):
            seq = self.prepare(seq)
            pieces += [(i, seq[s : s + self.chunk]) for s in range(0, len(seq), self.chunk)]
        sums = np.zeros((len(seqs), self.dim), dtype=np.float64)
        counts = np.zeros(len(seqs), dtype=np.int64)
        remaining = np.bincount([i for i, _ in pieces], minlength=len(seqs))
        budget = batch_tokens or self.default_batch_tokens
        from genepheno_core.embeddings.batching import token_batches

        for batch in token_batches([len(p) + 2 for _, p in pieces], budget, max_batch):
            texts = [pieces[j][1] for j in batch]
            piece_sums, piece_counts = self._sum_batch(texts)
            done = []
            for row, j in enumerate(batch):
                i = pieces[j][0]
                sums[i] += piece_sums[row]
                counts[i] += piece_counts[row]
                remaining[i] -= 1
                if remaining[i] == 0:
                    done.append(i)
            if done:
                vectors = sums[done] / np.maximum(counts[done], 1)[:, None]
                yield done, vectors.astype(np.float32)

    def embed_batch(self, seqs: list[str]) -> np.ndarray:
        out = np.zeros((len(seqs), self.dim), dtype=np.float32)
        for idx, vectors in self.iter_embed(seqs):
            out[idx] = vectors
        return out

    def _tokenize(self, texts: list[str]) -> dict:
        return self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.chunk + self.n_special,
            return_tensors="pt",
            return_special_tokens_mask=True,
        )

    @torch.inference_mode()
    def _sum_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per text: (sum over residue tokens of the layer's hidden state, token count)."""
        encoded = self._tokenize(texts)
        special = encoded.pop("special_tokens_mask")
        keep = encoded["attention_mask"].bool() & ~special.bool()  # (B, T) residue tokens
        encoded = {k: v.to(self.device) for k, v in encoded.items()}
        outputs = self.model(**encoded, output_hidden_states=self.layer is not None)
        hidden = (
            outputs.last_hidden_state if self.layer is None else outputs.hidden_states[self.layer]
        )  # (B, T, H)
        weights = keep.to(hidden.dtype).unsqueeze(-1).to(hidden.device)
        sums = (hidden * weights).sum(dim=1).double().cpu().numpy()
        return sums, keep.sum(dim=1).numpy()


class EsmEncoder(TransformersEncoder):
    """`esm2_<size>`: ESM-2 via transformers' EsmModel, no pooler."""

    kind = "esm2"

    def _load_model(self):
        from transformers import EsmModel

        return EsmModel.from_pretrained(self.model_dir, add_pooling_layer=False)

    def prepare(self, seq: str) -> str:
        return seq.replace("J", "X")  # J (I/L) is not in ESM's vocabulary


def _max_tokens(tokenizer, config) -> int:
    """Longest token sequence the model takes (special tokens included)."""
    model_max = getattr(tokenizer, "model_max_length", None)
    if model_max and model_max < 1_000_000:  # transformers' "no limit" sentinel is huge
        return int(model_max)
    positions = int(getattr(config, "max_position_embeddings", 0) or 0)
    if positions and getattr(config, "model_type", "") == "esm":
        return positions - 2  # ESM's position ids start after padding_idx (1026 -> 1024)
    return positions or 1024


def esm2_encoder(name: str, path: str | os.PathLike | None = None, **options) -> EsmEncoder:
    hub_id = esm2_hub_id(name)
    env_dirs = []
    base = environment.esm_dir()
    if base is not None:
        short = hub_id.split("/")[1]
        env_dirs = [base / short, base / hub_id, base / name]
    model_dir = _resolve_model_dir(hub_id, path, env_dirs)
    canonical = "esm2_" + _ESM_NAME.match(name).group(1)
    return EsmEncoder(hub_id, canonical, model_dir, **options)


def hf_encoder(spec: str, path: str | os.PathLike | None = None, **options) -> TransformersEncoder:
    """`hf:<hub id or local dir>`."""
    model_dir = _resolve_model_dir(spec, path, [])
    return TransformersEncoder(spec, f"hf:{spec}", model_dir, **options)
