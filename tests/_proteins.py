"""Hand-made protein sequences for the alignment and homology-split tests (a test helper,
imported by name: tests/ is on sys.path)."""

from __future__ import annotations

from pathlib import Path

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


# Real proteins for the user-input tests (the dashboard's fixture FASTA, Swiss-Prot records).
FIXTURE_FASTA = Path(__file__).parent / "data" / "dashboard" / "human_proteins.fasta"
IMAGE = "![t](http://example.com/x.png)"  # a Markdown injection: renders as an image


def fixture_sequence(accession: str) -> str:
    """The sequence of `accession` in FIXTURE_FASTA."""
    records = FIXTURE_FASTA.read_text().split(">")[1:]
    record = next(r for r in records if f"|{accession}|" in r.split("\n", 1)[0])
    return "".join(record.split("\n", 1)[1].split())


INSULIN = fixture_sequence("P01308")
