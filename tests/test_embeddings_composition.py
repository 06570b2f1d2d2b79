import numpy as np

from genepheno_core.embeddings.composition import REDUCED_CLASSES, CompositionEncoder, composition_features
from genepheno_core.embeddings.sequences import STANDARD_AMINO_ACIDS

AA = STANDARD_AMINO_ACIDS


def _hand(seq, k=3):
    """Reference: plain Python counting."""
    std = [c for c in seq if c in AA]
    aa = np.zeros(20)
    for c in std:
        aa[AA.index(c)] += 1
    di = np.zeros(400)
    for a, b in zip(seq, seq[1:]):
        if a in AA and b in AA:
            di[AA.index(a) * 20 + AA.index(b)] += 1
    cls = {c: i for i, g in enumerate(REDUCED_CLASSES) for c in g}
    km = np.zeros(7**k)
    for j in range(len(seq) - k + 1):
        w = seq[j : j + k]
        if all(c in cls for c in w):
            idx = 0
            for c in w:
                idx = idx * 7 + cls[c]
            km[idx] += 1
    norm = lambda v: v / max(v.sum(), 1)
    return np.concatenate([norm(aa), norm(di), norm(km), [np.log(len(seq))]])


def test_matches_hand_counts_and_batch_independent():
    seqs = ["MKV", "ACDEFGHIKLMNPQRSTVWY", "MUXKKAGV", "W", "AAAA"]
    got = composition_features(seqs)
    assert got.shape == (5, 764) and got.dtype == np.float32
    for i, s in enumerate(seqs):
        np.testing.assert_allclose(got[i], _hand(s), atol=1e-6)
        np.testing.assert_allclose(composition_features([s])[0], got[i], atol=0)


def test_known_values():
    v = composition_features(["AAAK"])[0]
    assert v[AA.index("A")] == np.float32(0.75)
    assert v[20 + AA.index("A") * 20 + AA.index("A")] == np.float32(2 / 3)
    assert abs(v[-1] - np.log(4)) < 1e-6
    # no counts across sequence boundaries: "AK" + "KA" joined must not create K-K
    w = composition_features(["AK", "KA"])
    assert w[0, 20 + AA.index("K") * 20 + AA.index("K")] == 0


def test_encoder_interface():
    enc = CompositionEncoder()
    assert enc.dim == 764 and enc.name == "composition"
    out = enc.embed(["MKV", "AAAK"], batch_tokens=3)
    np.testing.assert_array_equal(out, composition_features(["MKV", "AAAK"]))
    assert CompositionEncoder(reduced_k=2).cache_key() != enc.cache_key()
