"""FASTA files for the scale tests (test_scale_batch.py, test_scale_runtime.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

AMINO = "ACDEFGHIKLMNPQRSTVWY"


def write_fasta(path: Path, records, width: int = 60) -> Path:
    with open(path, "w") as out:
        for rid, seq in records:
            out.write(f">{rid} some description\n")
            for i in range(0, len(seq), width):
                out.write(seq[i:i + width] + "\n")
    return path


def random_records(n: int, seed: int = 0, lo: int = 40, hi: int = 160):
    rng = np.random.default_rng(seed)
    return [(f"P{i:04d}", "".join(rng.choice(list(AMINO), rng.integers(lo, hi)))) for i in range(n)]


def toy_fasta(model, tmp_path, n=150, bad_at=None, name="toy.fa"):
    """n proteins: the toy model's training sequences, mutated so that each is new."""
    from genepheno_core.interpret.model_store import model_extras

    seqs = list(model_extras(model).train_sequences)
    rng = np.random.default_rng(3)
    records = []
    for i in range(n):
        s = list(seqs[i % len(seqs)])
        for j in rng.choice(len(s), max(1, len(s) // 20), replace=False):
            s[j] = AMINO[rng.integers(20)]
        records.append((f"T{i:04d}", "".join(s)))
    if bad_at is not None:
        records[bad_at] = (records[bad_at][0], "MKV1LLT" * 10)
    return write_fasta(tmp_path / name, records)
