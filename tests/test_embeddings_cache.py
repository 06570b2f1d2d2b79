"""Content-addressed cache: keys, round trip, resume after interruption, concurrent writers."""

import multiprocessing as mp
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from genepheno_core.embeddings.api import embed_sequences
from genepheno_core.embeddings.base import Encoder
from genepheno_core.embeddings.cache import EmbeddingCache, sequence_key
from genepheno_core.embeddings.composition import CompositionEncoder, composition_features
from genepheno_core.embeddings.config import EmbeddingConfig


class CountingEncoder(Encoder):
    """Deterministic toy encoder: vector = (length, count of 'A', weights id); counts calls."""

    dim = 3
    default_batch_tokens = 10

    def __init__(self, name="toy", weights="w1", pooling="mean", layer=-1, chunk=None, fail_after=None):
        self.name = name
        self.components = {"weights_sha256": weights, "pooling": pooling, "layer": layer, "chunking": chunk}
        self.fail_after = fail_after
        self.embedded: list[str] = []

    def key_components(self):
        return dict(self.components)

    def embed_batch(self, seqs):
        if self.fail_after is not None and len(self.embedded) >= self.fail_after:
            raise KeyboardInterrupt("killed")
        self.embedded += seqs
        return np.array([[len(s), s.count("A"), 1.0] for s in seqs], dtype=np.float32)


SEQS = ["MKV", "AAAK", "MALW", "ACDEFG", "KKKKA", "W", "MMMMMMMA", "AAAAAAAA"]


def test_cache_key_changes_with_every_component():
    base = CountingEncoder()
    variants = [
        CountingEncoder(name="toy2"),
        CountingEncoder(weights="w2"),
        CountingEncoder(pooling="cls"),
        CountingEncoder(layer=3),
        CountingEncoder(chunk=512),
    ]
    keys = {base.cache_key()} | {v.cache_key() for v in variants}
    assert len(keys) == 1 + len(variants)
    assert CountingEncoder().cache_key() == base.cache_key()  # stable


def test_round_trip_and_sharing_across_datasets(tmp_path):
    enc = CountingEncoder()
    first = embed_sequences(SEQS[:5], enc, cache_root=tmp_path)
    assert sorted(enc.embedded) == sorted(SEQS[:5])
    enc.embedded.clear()
    # another "dataset" overlapping the first: only the new sequences are computed
    second = embed_sequences(SEQS[3:], enc, cache_root=tmp_path)
    assert sorted(enc.embedded) == sorted(SEQS[5:])
    np.testing.assert_array_equal(second[:2], first[3:5])
    expected = np.array([[len(s), s.count("A"), 1] for s in SEQS[3:]], dtype=np.float32)
    np.testing.assert_array_equal(second, expected)
    # a different weights hash does not see these vectors
    other = CountingEncoder(weights="w2")
    embed_sequences(SEQS[:2], other, cache_root=tmp_path)
    assert sorted(other.embedded) == sorted(SEQS[:2])


def test_duplicates_embedded_once_and_rows_in_input_order(tmp_path):
    enc = CountingEncoder()
    out = embed_sequences(["MKV", "AAAK", "MKV"], enc, cache=False)
    assert sorted(enc.embedded) == ["AAAK", "MKV"]
    np.testing.assert_array_equal(out[0], out[2])
    assert out[1, 1] == 3


def test_resume_after_interruption(tmp_path):
    config = EmbeddingConfig(flush_rows=1)
    killed = CountingEncoder(fail_after=3)
    with pytest.raises(KeyboardInterrupt):
        embed_sequences(SEQS, killed, cache_root=tmp_path, config=config, max_batch=1)
    done = list(killed.embedded)
    assert len(done) == 3
    store = EmbeddingCache(tmp_path)
    assert set(store.lookup(killed, [sequence_key(s) for s in SEQS])) == {sequence_key(s) for s in done}
    resumed = CountingEncoder()
    out = embed_sequences(SEQS, resumed, cache_root=tmp_path, config=config)
    assert sorted(resumed.embedded) == sorted(set(SEQS) - set(done))
    np.testing.assert_array_equal(out[:, 0], [len(s) for s in SEQS])


def _worker(root, seqs, seed):
    rng = np.random.default_rng(seed)
    enc = CompositionEncoder()
    for _ in range(5):
        part = list(rng.choice(seqs, size=20, replace=False))
        embed_sequences(part, enc, cache_root=root, config=EmbeddingConfig(flush_rows=3))
        EmbeddingCache(root).compact(enc, above=2)


@pytest.mark.slow
def test_concurrent_processes_do_not_corrupt(tmp_path):
    rng = np.random.default_rng(1)
    letters = list("ACDEFGHIKLMNPQRSTVWY")
    seqs = ["".join(rng.choice(letters, size=int(rng.integers(5, 50)))) for _ in range(60)]
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(str(tmp_path), seqs, seed)) for seed in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    enc = CompositionEncoder()
    store = EmbeddingCache(tmp_path)
    found = store.lookup(enc, [sequence_key(s) for s in seqs])
    expected = composition_features(seqs)
    for i, s in enumerate(seqs):
        if sequence_key(s) in found:
            np.testing.assert_array_equal(found[sequence_key(s)], expected[i])
    assert len(found) >= 20
    assert not list(tmp_path.rglob("*.tmp"))  # no leftovers of atomic writes


def test_info_compact_and_clear(tmp_path):
    store = EmbeddingCache(tmp_path)
    a, b = CountingEncoder("toy_a"), CountingEncoder("toy_b")
    for s in SEQS:
        store.write(a, [sequence_key(s)], np.zeros((1, 3), np.float32) + len(s))
    store.write(b, [sequence_key("MKV")], np.ones((1, 3), np.float32))
    info = {i.encoder: i for i in store.info()}
    assert info["toy_a"].entries == len(SEQS) and info["toy_a"].shards == len(SEQS)
    assert info["toy_b"].entries == 1 and info["toy_a"].size_bytes > 0
    assert store.compact(a, above=2)
    info = {i.encoder: i for i in store.info()}
    assert info["toy_a"].shards == 1 and info["toy_a"].entries == len(SEQS)
    found = store.lookup(a, [sequence_key(s) for s in SEQS])
    assert [found[sequence_key(s)][0] for s in SEQS] == [len(s) for s in SEQS]
    assert store.clear("toy_a") == 1
    assert [i.encoder for i in store.info()] == ["toy_b"]
    assert store.clear() == 1 and store.info() == []


def test_encoder_names_with_odd_characters_get_safe_directories(tmp_path):
    store = EmbeddingCache(tmp_path)
    enc = CountingEncoder("hf:/some/dir")
    store.write(enc, [sequence_key("MKV")], np.ones((1, 3), np.float32))
    (space,) = store.info()
    assert space.encoder == "hf:/some/dir"
    assert space.path.parent.parent == tmp_path


def test_leftover_temporary_shard_is_ignored_then_removed(tmp_path):
    enc = CountingEncoder()
    store = EmbeddingCache(tmp_path)
    store.write(enc, [sequence_key("MKV")], np.ones((1, 3), np.float32))
    space = store.space_dir(enc)
    # what a writer SIGKILLed mid-shard leaves: atomic_path's hidden directory, half a file
    dead_pid = 2**22 + 1  # above Linux's pid_max
    leftover = space / f".shard-1-2-3.npz.{dead_pid}.abc12345.tmp"
    leftover.mkdir()
    (leftover / "shard-1-2-3.npz").write_bytes(b"PK\x03\x04 half a zip")
    fresh = EmbeddingCache(tmp_path)
    assert set(fresh.lookup(enc, [sequence_key("MKV"), sequence_key("AAAK")])) == {sequence_key("MKV")}
    assert fresh.info()[0].shards == 1
    fresh.write(enc, [sequence_key("AAAK")], np.zeros((1, 3), np.float32))
    assert not leftover.exists()
    assert not list(space.glob(".*"))


_SLOW_CHILD = """
import sys, time
import numpy as np
from genepheno_core.embeddings.api import embed_sequences
from genepheno_core.embeddings.base import Encoder

class Slow(Encoder):
    name, dim, default_batch_tokens = "slow", 2, 10_000

    def key_components(self):
        return {"weights_sha256": "slow"}

    def embed_batch(self, seqs):
        time.sleep(0.25)
        print("done", len(seqs), flush=True)
        return np.array([[len(s), 1.0] for s in seqs], dtype=np.float32)

seqs = ["M" + "A" * i for i in range(200)]
embed_sequences(seqs, Slow(), cache_root=sys.argv[1], max_batch=1)
"""


@pytest.mark.slow
def test_a_kill_loses_at_most_a_few_seconds_of_work(tmp_path):
    """The default flush interval bounds what a SIGKILL loses (issue 14: a run killed
    half-way through had cached nothing)."""
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_CHILD, str(tmp_path)], stdout=subprocess.PIPE,
                            text=True, preexec_fn=os.setsid)
    done = 0
    try:
        for line in proc.stdout:  # 0.25 s per sequence: 24 sequences = 6 s of work
            done += 1
            if done == 24:
                break
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert done == 24
    entries = sum(space.entries for space in EmbeddingCache(tmp_path).info())
    lost_seconds = (done - entries) * 0.25
    assert entries > 0 and lost_seconds <= 3.5, f"{entries} of {done} vectors kept: {lost_seconds:.1f} s lost"
