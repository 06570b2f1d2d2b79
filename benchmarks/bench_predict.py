"""Prediction and explanation speed of the default model (prints a Markdown table).

    python benchmarks/bench_predict.py [--model DIR] [--n 20000] [--threads 1] [--ig-steps 16]

1. predict() for `n` proteins from cached embeddings (hpo dataset embeddings, tiled to n;
   models with the cross-species input also search the n sequences with DIAMOND), without
   GO transfer (as with GO given for them).
2. One new ~500-residue protein end to end: encode (no cache) + predict + explain, with the
   model already loaded (as in the dashboard) and its GO reference loaded (the dashboard
   loads it with the model): the predict step includes the DIAMOND search that transfers
   GO from the protein's homologs, explain reuses it. The cold model load and the GO
   reference load are timed separately. The protein comes without GO, so it is scored by
   the model `choose_model` picks for it (the shipped NAME-go-transfer sibling when
   --model is a shipped name or the default), as `predict` / the dashboard do.
3. Residue Integrated Gradients through UniRep for a 500-residue protein (time + completeness;
   the path is cut into segments adaptively, see explain.attributions.residue_attributions).
The machine is shared: numbers are wall-clock times under whatever load there is (load
average printed).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ig-steps", type=int, default=16)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from genepheno_core.datasets import load_dataset
    from genepheno_core.embeddings import embed_sequences
    from genepheno_core.interpret import explain, predict, residue_attributions
    from genepheno_core.interpret.model_store import choose_model, resolve_model

    rows = []
    t = time.perf_counter()
    model = resolve_model(args.model)
    if model.uses_ortholog:
        model.cross_species.cache_hits = False  # time the DIAMOND searches, not the result cache
    rows.append(("load model + explain extras (cold)", time.perf_counter() - t, str(model.path)))

    ds = load_dataset(model.config.dataset)
    emb = embed_sequences(ds.genes["sequence"].tolist(), model.encoder, cache=True)
    reps = int(np.ceil(args.n / len(emb)))
    big = np.tile(emb, (reps, 1))[: args.n]
    # the real sequences (tiled like the embeddings): a model with the cross-species input
    # runs one DIAMOND search of all of them against the other species' proteins
    seqs = ds.genes["sequence"].tolist()
    records = [(f"p{i}", seqs[i % len(seqs)]) for i in range(args.n)]
    t = time.perf_counter()
    df = predict(model, records, embeddings=big, top=10, cache=False, transfer_go=False)
    what = " + one DIAMOND search against the other species" if model.uses_ortholog else ""
    rows.append((f"predict {args.n:,} proteins from cached embeddings{what} (top 10, no GO transfer)",
                 time.perf_counter() - t, f"{len(df):,} rows"))
    if model.uses_go:
        t = time.perf_counter()
        reference, _ = model.go_reference()
        rows.append(("GO reference load (from its GENEPHENO_HOME cache; the dashboard does it with the model)",
                     time.perf_counter() - t, f"{len(reference):,} annotated human and mouse proteins"))

    test = ds.split_indices("test", "random")
    lengths = ds.genes["sequence"].str.len().to_numpy()
    i = int(test[np.argmin(np.abs(lengths[test] - 500))])
    gene, seq = str(ds.genes["accession"].iloc[i]), str(ds.genes["sequence"].iloc[i])
    # one residue changed (from the clock): a protein no cache has seen; predict() then pays
    # for its DIAMOND search and explain() reuses the result, as in the dashboard
    pos = 1 + time.time_ns() % (len(seq) - 1)
    seq = seq[:pos] + ("A" if seq[pos] != "A" else "G") + seq[pos + 1:]
    if model.uses_ortholog:
        model.cross_species.cache_hits = True
    # the model a protein given no GO is scored by (loaded and its GO reference warm, as the
    # dashboard has them)
    t = time.perf_counter()
    pasted = resolve_model(choose_model(args.model, go_given=False))
    if pasted is not model:
        if pasted.uses_go:
            pasted.go_reference()
        rows.append((f"load {pasted.path.name} (the model for proteins given no GO) + its GO reference (cold)",
                     time.perf_counter() - t, str(pasted.path)))
    embed_sequences(["MKV"], model.encoder, cache=False)  # load the encoder weights once (warm)
    t = time.perf_counter()
    embed_sequences([seq + "A"], model.encoder, cache=False)  # the encoding alone, for the note
    t_enc = time.perf_counter() - t
    # as the dashboard does: predict encodes the protein (embedding cache on, so explain
    # reuses it) while the GO transfer's DIAMOND search runs
    t = time.perf_counter()
    p = predict(pasted, [(gene, seq)], top=10)
    x = explain(pasted, (gene, seq), phenotype=list(p["term_id"][:5]))
    total = time.perf_counter() - t
    rows.append((f"one new {len(seq)}-residue protein ({gene}) without GO: encode + predict + explain by "
                 f"{pasted.path.name} (warm)", total,
                 f"encode alone {t_enc:.2f} s; GO {p.attrs.get('go_origin', {}).get(gene, 'n/a')}"))

    for method in ("hidden", "input"):
        t = time.perf_counter()
        r = residue_attributions(pasted, (gene, seq[:500]), phenotype=p["term_id"].iloc[0], method=method,
                                 **({"n_steps": args.ig_steps} if method == "input" else {}))
        what = ("IG on UniRep's per-residue states" if method == "hidden" else
                f"IG on UniRep's input embeddings, {r.attrs['n_segments']} adaptive path segments")
        rows.append((f"residue attributions, 500 residues, {what}, {r.attrs['n_steps']} gradient evaluations",
                     time.perf_counter() - t,
                     f"completeness gap {r.attrs['delta']:+.2e} of logit change "
                     f"{r.attrs['logit'] - r.attrs['baseline_logit']:+.4f}, converged={r.attrs['converged']}"))

    print(f"model {model.path} (encoder {model.encoder}), torch threads {args.threads}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    print("| task | seconds | note |\n| --- | --- | --- |")
    for name, sec, note in rows:
        print(f"| {name} | {sec:.2f} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
