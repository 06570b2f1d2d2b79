"""Speed and memory of the sequence encoders on real proteins (not a test).

    python benchmarks/bench_embeddings.py [--quick] [--threads 2] [--seed 0] [--titin]
        [--encoders composition,unirep64,unirep256,unirep1900] [--out results/embedding_speed.md]

For each encoder a fresh subprocess (so peak RSS is the encoder's own) loads the model,
warms up, and embeds a seeded random sample of human Swiss-Prot proteins from the data
mirror ($GENEPHENO_MIRROR/uniprot/2014-01/swissprot_human.fasta.gz) without the cache. It
reports residues/s, proteins/s, peak RSS (resource.getrusage ru_maxrss) and the achieved
FLOP/s as a fraction of this machine's measured float32 matmul FLOP/s (a 2048^3 torch
matmul on the same number of threads). Prints a Markdown table and writes it to --out.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SWISSPROT = "uniprot/2014-01/swissprot_human.fasta.gz"
TARGETS = {"composition": 1_000_000, "unirep64": None, "unirep256": 20_000, "unirep1900": 1_500}
SAMPLE = {  # proteins per encoder: full run / --quick
    "composition": (18_000, 4_000),
    "unirep64": (1_000, 300),
    "unirep256": (1_000, 300),
    "unirep1900": (300, 100),
}
RSS_LIMIT_MB = 2048


def mlstm_flops_per_step(hidden: int, n_layers: int, embedding_dim: int = 10) -> float:
    """Multiply-adds x 2 per timestep (one residue or the start token) of the mLSTM.

    Per layer with input width I and hidden width D, one step computes
        x W_mx (I x D), h W_mh (D x D), m W_h (D x 4D), x W_x (I x 4D)
    = 2 (I D + D^2 + 4 D^2 + 4 I D) = 10 D^2 + 10 I D FLOPs
    (the O(D) element-wise gates are ignored). Layer 0's input projections are a table
    look-up of the 26 tokens (precomputed once), so they cost nothing per step:
        layer 0: 10 D^2;  layers 1..n-1: 10 D^2 + 10 D^2 = 20 D^2.
    unirep1900 (1 layer): 36.1 MFLOP/step; unirep256 (4): 4.59 MFLOP; unirep64 (4): 0.29 MFLOP.
    """
    del embedding_dim  # table look-up, see above
    d = hidden
    return 10.0 * d * d + (n_layers - 1) * 20.0 * d * d


FLOPS_PER_STEP = {
    "unirep64": mlstm_flops_per_step(64, 4),
    "unirep256": mlstm_flops_per_step(256, 4),
    "unirep1900": mlstm_flops_per_step(1900, 1),
}


def load_proteins(mirror: Path) -> list[tuple[str, str]]:
    from genepheno_core.embeddings.sequences import clean_protein, record_id
    from Bio.SeqIO.FastaIO import SimpleFastaParser

    with gzip.open(mirror / SWISSPROT, "rt") as handle:
        return [(record_id(h), clean_protein(s)) for h, s in SimpleFastaParser(handle)]


def measure_matmul_flops(threads: int, n: int = 2048, repeats: int = 10) -> float:
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best


def worker(args: argparse.Namespace) -> None:
    """Runs in a subprocess: one encoder, prints one JSON line."""
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from genepheno_core.embeddings import get_encoder

    if args.titin:
        proteins = dict(load_proteins(Path(args.mirror)))
        seqs = [proteins["Q8WZ42"]]
    else:
        proteins = load_proteins(Path(args.mirror))
        rng = np.random.default_rng(args.seed)
        pick = rng.choice(len(proteins), size=min(args.n, len(proteins)), replace=False)
        seqs = [proteins[i][1] for i in pick]
    encoder = get_encoder(args.worker)
    encoder.embed(["MKTAYIAKQRQISFVKSHFSRQ"] * 4)  # load weights, warm up
    # the machine is shared: measure the matmul peak in the same conditions, just before
    peak = measure_matmul_flops(args.threads, repeats=5)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    vectors = encoder.embed(seqs)
    wall = time.perf_counter() - start_wall
    cpu = time.process_time() - start_cpu
    assert vectors.shape == (len(seqs), encoder.dim) and np.isfinite(vectors).all()
    print(json.dumps({
        "encoder": encoder.name, "proteins": len(seqs), "residues": sum(map(len, seqs)),
        "seconds": wall, "cpu_seconds": cpu, "rss_mb_before": rss_before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load": os.getloadavg()[0], "matmul_flops": peak,
    }))


def run_encoder(name: str, args: argparse.Namespace, titin: bool = False) -> dict:
    n = SAMPLE[name][1 if args.quick else 0]
    cmd = [sys.executable, __file__, "--worker", name, "--n", str(n), "--seed", str(args.seed),
           "--threads", str(args.threads), "--mirror", str(args.mirror)]
    if titin:
        cmd.append("--titin")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    if args.omp_wait_policy:
        env["OMP_WAIT_POLICY"] = args.omp_wait_policy
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


NOTES = """\
Notes
- Arithmetic bound = matmul peak / FLOPs per step: the speed if every step ran at large-
  matmul efficiency. The mLSTM is a recurrence: step t needs h_{t-1}, so only the B
  sequences of a batch run side by side and each step is a (B x D) @ (D x D) and a
  (B x D) @ (D x 4D) matmul. Profile (torch.profiler, 1 thread): addmm + mm take 68 %
  (unirep256) and 89 % (unirep1900) of the CPU time, element-wise gates ~10 %, the rest
  copies and Python dispatch. The time is in the matmuls, as it should be.
- Where it falls short of the bound: small active batches. Batches are length-sorted and
  rows that have ended are skipped, so in a small sample (--quick) the longest proteins
  run alone at the end of their batch and a one-row step is a memory-bound matrix-vector
  product (unirep1900 reads 72 MB of weights per step). On a whole dataset the batches
  hold 128-256 proteins of nearly equal length and this tail is a small fraction.
- The machine is shared with other jobs: "residues per CPU-s" (residues / process CPU
  time) is the rate per core actually obtained; with OMP_WAIT_POLICY=PASSIVE idle threads
  sleep, so CPU time is work done. With both cores free, residues/s approaches
  2 x that figure for the mLSTMs.
"""


def format_table(rows: list[dict]) -> str:
    lines = [
        "| encoder | proteins | residues | residues/s | proteins/s | residues per CPU-s | GFLOP/s | matmul peak GFLOP/s (same run) | fraction of peak | arithmetic bound residues/s | peak RSS (MB) | load avg | target residues/s | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        name = r["encoder"]
        rate = r["residues"] / r["seconds"]
        flops = FLOPS_PER_STEP.get(name)
        # one step per residue plus the start token of each protein
        achieved = flops * (r["residues"] + r["proteins"]) / r["seconds"] if flops else None
        target = TARGETS.get(name) if not r.get("titin") else None
        met = "yes" if (target is None or rate >= target) and r["peak_rss_mb"] <= RSS_LIMIT_MB else "NO"
        label = name + (" (titin, 34,350 aa)" if r.get("titin") else "")
        lines.append(
            f"| {label} | {r['proteins']:,} | {r['residues']:,} | {rate:,.0f} | {r['proteins'] / r['seconds']:,.1f} | "
            f"{r['residues'] / max(r['cpu_seconds'], 1e-9):,.0f} | "
            + (f"{achieved / 1e9:,.1f}" if achieved else "n/a")
            + f" | {r['matmul_flops'] / 1e9:,.0f} | "
            + (f"{achieved / r['matmul_flops']:.0%}" if achieved else "n/a")
            + " | "
            + (f"{r['matmul_flops'] / flops:,.0f}" if flops else "n/a")
            + f" | {r['peak_rss_mb']:,.0f} | {r['load']:.1f} | {f'{target:,}' if target else '-'} | {met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller samples (about a minute)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--encoders", default="composition,unirep64,unirep256,unirep1900")
    parser.add_argument("--titin", action="store_true", help="also embed titin (Q8WZ42) with unirep1900")
    parser.add_argument("--out", default=str(ROOT / "results" / "embedding_speed.md"))
    parser.add_argument(
        "--omp-wait-policy", default="PASSIVE",
        help="OMP_WAIT_POLICY for the workers (PASSIVE: idle OpenMP threads sleep instead of "
        "spinning, which matters a lot when other jobs share the cores; '' keeps the default)",
    )
    parser.add_argument("--mirror", default=os.environ.get("GENEPHENO_MIRROR", ""))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=100, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.mirror:
        parser.error("set GENEPHENO_MIRROR (or --mirror) to the data mirror")
    if args.worker:
        worker(args)
        return 0

    peak = measure_matmul_flops(args.threads)
    rows = []
    for name in args.encoders.split(","):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.append(run_encoder(name, args))
    if args.titin:
        print("running unirep1900 on titin ...", file=sys.stderr, flush=True)
        rows.append({**run_encoder("unirep1900", args, titin=True), "titin": True})
    table = format_table(rows)
    header = (
        f"# Embedding speed\n\n"
        f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, torch threads = {args.threads}, seed {args.seed}"
        f"{', --quick' if args.quick else ''}; load average at the end {os.getloadavg()[0]:.1f} "
        f"(the machine is shared, so rates vary with what else runs).\n"
        f"Measured float32 matmul peak (2048^3, {args.threads} threads) at the start: {peak / 1e9:,.0f} GFLOP/s; "
        f"each row's fraction uses the peak measured in its own worker just before it ran. "
        f"OMP_WAIT_POLICY={args.omp_wait_policy or '(default)'}.\n"
        f"Sample: human Swiss-Prot 2014-01 proteins from the mirror, seeded random subset, no cache.\n"
        f"FLOPs per mLSTM step (residue or start token) are counted analytically "
        f"(benchmarks/bench_embeddings.py: mlstm_flops_per_step): unirep1900 "
        f"{FLOPS_PER_STEP['unirep1900'] / 1e6:.1f} M, unirep256 {FLOPS_PER_STEP['unirep256'] / 1e6:.2f} M, "
        f"unirep64 {FLOPS_PER_STEP['unirep64'] / 1e6:.2f} M.\n\n"
        f"Command: `python benchmarks/bench_embeddings.py {' '.join(argv if argv is not None else sys.argv[1:])}`\n\n"
    )
    text = header + table + "\n\n" + NOTES
    print(text)
    if args.out:
        from genepheno_core.io import atomic_write_text

        atomic_write_text(args.out, text)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
