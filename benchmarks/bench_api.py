"""REST API under load (prints a Markdown table).

    python benchmarks/bench_api.py [--requests 300] [--concurrency 8] [--replicas 2] [--model hpo]

Starts the API on a free 127.0.0.1 port, first with uvicorn (`python -m genepheno_core serve`),
then on Ray Serve with `--replicas` replicas (`serve --engine ray`), and sends each a bounded
load: `--requests` POST /v1/predict requests of one 300-600-residue protein each,
`--concurrency` at a time (defaults: the response's evidence, 5 nearest proteins and 5
homologs per protein). The proteins are the model's training proteins of that length with
one residue changed (seeded): sequences no cache has seen, each with real homologs. Prints
p50 / p95 / max latency, requests per second, errors and the server's peak memory (VmHWM of
the uvicorn process, or of each Ray Serve replica). Targets (issue 21): zero errors, p95
under 3 s at 8 concurrent requests, under 2 GB per replica. Only 127.0.0.1 is contacted and
the run stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proteins(model: str, n: int, seed: int = 0) -> list[str]:
    """`n` training proteins of 300-600 residues with one residue changed (by `seed`)."""
    from genepheno_core.interpret.model_store import model_extras, resolve_model

    seqs = [s for s in model_extras(resolve_model(model)).train_sequences if 300 <= len(s) <= 600]
    rng = random.Random(seed)
    picked = rng.sample(seqs, min(n, len(seqs)))
    out = []
    for s in picked:
        i = rng.randrange(1, len(s))
        out.append(s[:i] + rng.choice([a for a in "ACDEFGHIKLMNPQRSTVWY" if a != s[i]]) + s[i + 1:])
    return out


def _peak_rss_mb(pids: list[int]) -> list[float]:
    out = []
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    out.append(int(line.split()[1]) / 1024)
        except OSError:
            pass
    return out


def _replica_pids() -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "ServeReplica" in cmd and "genepheno" in cmd:
                pids.append(int(proc.name))
    return pids


async def _load(url: str, seqs: list[str], concurrency: int) -> tuple[list[float], int, float]:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    errors = 0

    async with httpx.AsyncClient(timeout=120) as client:
        async def one(i: int, seq: str) -> None:
            nonlocal errors
            async with gate:
                start = time.perf_counter()
                try:
                    answer = await client.post(f"{url}/v1/predict", json={"sequences": [{"id": f"p{i}", "sequence": seq}]})
                    ok = answer.status_code == 200 and answer.json()["proteins"][0]["id"] == f"p{i}"
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - start)
                errors += not ok

        start = time.perf_counter()
        await asyncio.gather(*(one(i, s) for i, s in enumerate(seqs)))
        return latencies, errors, time.perf_counter() - start


def _wait(url: str, process: subprocess.Popen, timeout: float = 300) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if process.poll() is not None:
            raise SystemExit(f"the server exited: {process.stderr.read()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return time.perf_counter() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not come up in {timeout} s")


def run(engine: str, seqs: list[str], args) -> dict:
    port = _free_port()
    cmd = [sys.executable, "-m", "genepheno_core", "-q", "serve", "--model", args.model, "--port", str(port),
           "--engine", engine]
    if engine == "ray":
        cmd += ["--replicas", str(args.replicas)]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    url = f"http://127.0.0.1:{port}"
    try:
        ready = _wait(url, process)
        latencies, errors, wall = asyncio.run(_load(url, seqs, args.concurrency))
        pids = _replica_pids() if engine == "ray" else [process.pid]
        memory = _peak_rss_mb(pids)
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
    q = statistics.quantiles(latencies, n=100)
    label = "uvicorn (1 process)" if engine == "local" else f"Ray Serve ({args.replicas} replicas)"
    return {"engine": label, "ready_s": ready, "n": len(latencies), "errors": errors,
            "p50": q[49], "p95": q[94], "max": max(latencies), "rps": len(latencies) / wall,
            "peak_mb": max(memory) if memory else float("nan"), "processes": len(memory)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--model", default="hpo")
    parser.add_argument("--engines", nargs="+", default=["local", "ray"], choices=["local", "ray"])
    parser.add_argument("--seed", type=int, default=None,
                        help="which residues are changed (default: from the clock, so no cache has seen them)")
    args = parser.parse_args()
    rows = []
    for n, engine in enumerate(args.engines):
        seed = (args.seed if args.seed is not None else time.time_ns()) + n  # fresh sequences for each engine
        seqs = proteins(args.model, args.requests, seed=seed)
        rows.append(run(engine, seqs, args))
        print(f"{engine}: done", file=sys.stderr, flush=True)
    load = os.getloadavg()[0]
    print(f"\n{args.requests} requests of one 300-600-residue protein, {args.concurrency} at a time, model "
          f"{args.model}; {os.cpu_count()} CPUs, load average {load:.1f}\n")
    print("| server | ready (s) | requests | errors | p50 (s) | p95 (s) | max (s) | requests/s | peak memory (MB) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        per = " per replica" if r["processes"] > 1 else ""
        print(f"| {r['engine']} | {r['ready_s']:.1f} | {r['n']} | {r['errors']} | {r['p50']:.2f} | {r['p95']:.2f} | "
              f"{r['max']:.2f} | {r['rps']:.2f} | {r['peak_mb']:.0f}{per} |")


if __name__ == "__main__":
    main()
