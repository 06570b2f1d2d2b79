"""`serve --engine ray --address ADDR` joins an existing Ray cluster: `ray start --head` on
this machine (2 CPUs), the API deployed on it from another process with `--address auto`
(the cluster of this machine; tests/test_scale_runtime.py joins one by HOST:PORT), answered over
HTTP on a loopback port, stopped by Ctrl-C (SIGINT) with exit 0, and the cluster stopped."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from _net import free_port

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow



def _ray() -> list[str]:
    found = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    assert Path(found).exists(), "the ray command is installed with ray (requirements.txt)"
    return [found]


def test_serve_joins_a_ray_cluster_by_address(model, tmp_path):
    from genepheno_core.interpret.model_store import model_extras

    gcs, http = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAY_USAGE_STATS_ENABLED": "0"}
    subprocess.run([*_ray(), "start", "--head", "--port", str(gcs),
                    "--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats"],
                   check=True, capture_output=True, text=True, env=env, timeout=180)
    serve = None
    try:
        log = tmp_path / "serve.log"
        serve = subprocess.Popen([sys.executable, "-m", "genepheno_core", "serve", "--engine", "ray",
                                  "--address", "auto", "--port", str(http), "--model", str(model.path)],
                                 stdout=log.open("w"), stderr=subprocess.STDOUT, text=True, env=env)
        url = f"http://127.0.0.1:{http}"
        deadline = time.monotonic() + 240
        while True:
            assert serve.poll() is None, log.read_text()[-3000:]
            try:
                # "serving on" once the deployment is complete (HTTP may answer a little earlier)
                if "serving on" in log.read_text() and httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the API did not come up on the cluster"
            time.sleep(1)
        protein = model_extras(model).train_sequences[0]
        answer = httpx.post(f"{url}/v1/predict", json={"sequences": protein, "top": 2}, timeout=120)
        assert answer.status_code == 200 and len(answer.json()["proteins"][0]["phenotypes"]) == 2
    finally:
        if serve is not None and serve.poll() is None:
            serve.send_signal(signal.SIGINT)  # Ctrl-C: serve removes its app and disconnects
            try:
                serve.wait(timeout=60)
            except subprocess.TimeoutExpired:
                serve.kill()
        subprocess.run([*_ray(), "stop", "--force"], capture_output=True, env=env, timeout=120)
    assert serve.returncode == 0, log.read_text()[-3000:]
