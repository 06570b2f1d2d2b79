"""Dashboard responsiveness with the default model (prints a Markdown table).

    python benchmarks/bench_dashboard.py [--repeats 3] [--chromium /usr/bin/chromium]

For each repeat: start `streamlit run streamlit_app.py` on a free loopback port, open it in
headless Chromium (Debian's, driven by Playwright) and time
1. server health: `streamlit run` -> /_stcore/health answers;
2. first page: `streamlit run` -> the Predict page's title is drawn (target < 3 s);
3. model warm: `streamlit run` -> the page's script run (model warm-up) has finished;
4. one prediction: pressing Predict on a 500-residue human protein (SERPING1, P05155, one
   residue changed per run so that no embedding or DIAMOND result is cached) -> the ranked
   table is shown (target < 2 s). The default model's cross-species input runs a DIAMOND
   search of the query against the mouse proteins inside this step.
The machine is shared: numbers are wall-clock under whatever load there is (load average
printed).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FASTA = REPO / "tests" / "data" / "dashboard" / "human_proteins.fasta"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 120_000


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _record(accession: str) -> str:
    for record in FASTA.read_text().split(">")[1:]:
        if f"|{accession}|" in record.split("\n", 1)[0]:
            return ">" + record
    raise SystemExit(f"{FASTA}: no record for {accession}")


def _fresh(record: str, run: int) -> str:
    """The record with one residue changed (position and residue from the clock and the run):
    a sequence no cache has seen, so every run pays for encoding and the DIAMOND searches."""
    import random

    header, seq = record.split("\n", 1)
    seq = "".join(seq.split())
    rng = random.Random(time.time_ns() + run)
    i = rng.randrange(1, len(seq))
    seq = seq[:i] + rng.choice([a for a in "ACDEFGHIKLMNPQRSTVWY" if a != seq[i]]) + seq[i + 1:]
    return f"{header}\n{seq}\n"


def _idle(page) -> None:
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=TIMEOUT_MS)


def one_run(browser, fasta: str) -> dict[str, float]:
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"streamlit exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        health = time.monotonic() - started
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(f"http://127.0.0.1:{port}/")
        page.get_by_text("Predict knockout phenotypes").wait_for(timeout=TIMEOUT_MS)
        first = time.monotonic() - started
        _idle(page)
        warm = time.monotonic() - started
        page.locator("textarea").first.fill(fasta)
        t = time.monotonic()
        page.get_by_role("button", name="Predict", exact=True).click()
        page.get_by_role("heading", name="Predicted phenotypes for").first.wait_for(timeout=TIMEOUT_MS)
        page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=TIMEOUT_MS)
        predict = time.monotonic() - t
        page.close()
        return {"server health": health, "first page": first, "model warm": warm, "one 500-aa prediction": predict}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chromium", default=os.environ.get("GENEPHENO_E2E_CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    fasta = _record("P05155")
    runs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        for i in range(args.repeats):
            runs.append(one_run(browser, _fresh(fasta, i)))
            print(f"run {i + 1}: " + ", ".join(f"{k} {v:.2f} s" for k, v in runs[-1].items()), file=sys.stderr)
        browser.close()
    targets = {"first page": 3.0, "one 500-aa prediction": 2.0}
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs, {args.repeats} runs\n")
    print("| step (seconds after `streamlit run`, prediction after the click) | median s | max s | target |")
    print("| --- | --- | --- | --- |")
    for key in runs[0]:
        values = [r[key] for r in runs]
        target = targets.get(key)
        verdict = "" if target is None else f"< {target:g} s: {'met' if statistics.median(values) < target else 'MISSED'}"
        print(f"| {key} | {statistics.median(values):.2f} | {max(values):.2f} | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
