import numpy as np
import pytest

from genepheno_core.embeddings import (
    CompositionEncoder,
    embed_sequences,
    get_encoder,
    parse_sequences,
)
from genepheno_core.embeddings.composition import composition_features
from genepheno_core.errors import InputFormatError


def test_registry_names():
    assert isinstance(get_encoder("composition"), CompositionEncoder)
    u = get_encoder("unirep256")
    assert (u.name, u.dim) == ("unirep256", 256)
    assert get_encoder(u) is u


def test_public_api_exports():
    import genepheno_core

    assert genepheno_core.embed_sequences is embed_sequences
    assert genepheno_core.parse_sequences is parse_sequences
    assert genepheno_core.get_encoder is get_encoder


def test_embed_sequences_uses_home_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    seqs = ["MKV", "acdefg*", "MKV"]
    out = embed_sequences(seqs, "composition", batch_tokens=4)
    np.testing.assert_array_equal(out, composition_features(["MKV", "ACDEFG", "MKV"]))
    assert list((tmp_path / "embeddings" / "composition").glob("*/shard-*.npz"))
    again = embed_sequences(seqs, "composition")
    np.testing.assert_array_equal(again, out)


def test_bad_sequence_and_empty_list():
    with pytest.raises(InputFormatError, match="#1"):
        embed_sequences(["MKV", "MK1"], "composition", cache=False)
    assert embed_sequences([], "composition", cache=False).shape == (0, 764)


@pytest.mark.parametrize("max_batch", [1, 8, 64])
def test_batch_size_invariance_through_api(max_batch):
    rng = np.random.default_rng(3)
    letters = list("ACDEFGHIKLMNPQRSTVWY")
    seqs = ["".join(rng.choice(letters, size=int(rng.integers(1, 40)))) for _ in range(64)]
    ref = embed_sequences(seqs, "unirep64", cache=False, max_batch=64)
    got = embed_sequences(seqs, "unirep64", cache=False, max_batch=max_batch)
    np.testing.assert_allclose(got, ref, atol=1e-5, rtol=0)


@pytest.mark.integration
def test_real_proteins_from_mirror(tmp_path):
    import os
    from pathlib import Path

    mirror = os.environ.get("GENEPHENO_MIRROR")
    if not mirror:
        pytest.skip("GENEPHENO_MIRROR is not set")
    records = parse_sequences(Path(mirror) / "uniprot" / "2014-01" / "swissprot_human.fasta.gz")
    rng = np.random.default_rng(0)
    seqs = [records[i][1][:300] for i in rng.choice(len(records), 24, replace=False)]
    first = embed_sequences(seqs, "unirep64", cache_root=tmp_path, max_batch=8)
    assert first.shape == (24, 64) and np.isfinite(first).all()
    np.testing.assert_allclose(embed_sequences(seqs, "unirep64", cache=False, max_batch=1), first, atol=1e-5)
    np.testing.assert_array_equal(embed_sequences(seqs, "unirep64", cache_root=tmp_path), first)
