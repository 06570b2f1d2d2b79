"""Hand-made protein sequences for the alignment and homology-split tests (a test helper,
imported by name: tests/ is on sys.path)."""

from __future__ import annotations

import numpy as np

AMINO = np.array(list("ACDEFGHIKLMNPQRSTVWY"))


def random_protein(rng, n: int) -> str:
    return "".join(rng.choice(AMINO, n))


def substitute(rng, segment: str, n_changes: int) -> str:
    """`segment` with exactly n_changes positions replaced by a different residue."""
    out = np.array(list(segment))
    for i in rng.choice(len(out), n_changes, replace=False):
        out[i] = rng.choice(AMINO[AMINO != out[i]])
    return "".join(out)


def domain_pair(seed: int = 1) -> tuple[str, str, str]:
    """(a, b, segment): two otherwise unrelated random proteins; b carries a's residues
    70..129 with 30 of the 60 substituted (50 % identity over 60 residues)."""
    rng = np.random.default_rng(seed)
    a = random_protein(rng, 200)
    b = random_protein(rng, 50) + substitute(rng, a[70:130], 30) + random_protein(rng, 90)
    return a, b, a[70:130]
