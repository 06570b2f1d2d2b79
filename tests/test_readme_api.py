"""The README's REST API examples run against the real server (uvicorn on a free loopback
port, the shipped hpo model): the Python example prints exactly the output the README shows,
and the curl example answers with three phenotypes. GENEPHENO_UPDATE_README=1 rewrites the
README's output block from the run (after a model rebuild)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from _net import free_port

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"

pytestmark = pytest.mark.slow


def _blocks() -> tuple[str, str, str]:
    text = README.read_text()
    code = re.search(r"<!-- api-example -->\n```python\n(.*?)```", text, re.S).group(1)
    output = re.search(r"<!-- api-example-output -->\n```\n(.*?)```", text, re.S).group(1)
    curl = re.search(r"```\n(curl -s -X POST .*?)```", text, re.S).group(1)
    return code, output, curl



@pytest.fixture(scope="module")
def server():
    from genepheno_core.interpret.model_store import default_model_path

    try:
        default_model_path("hpo")
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "genepheno_core", "-q", "serve", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        assert process.poll() is None, process.stderr.read()[-3000:]
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the server did not come up"
        time.sleep(0.5)
    yield port
    process.terminate()
    process.wait(timeout=30)


def test_the_python_example_prints_what_the_readme_shows(server):
    code, output, _ = _blocks()
    code = code.replace("127.0.0.1:8000", f"127.0.0.1:{server}")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    if os.environ.get("GENEPHENO_UPDATE_README"):
        text = README.read_text()
        README.write_text(text.replace(f"<!-- api-example-output -->\n```\n{output}```",
                                       f"<!-- api-example-output -->\n```\n{run.stdout}```"))
        return
    assert run.stdout == output
    assert "TP53 (100 % identical)" in run.stdout


def test_the_curl_example_answers(server):
    if not shutil.which("curl"):
        pytest.skip("curl is not installed")
    _, _, curl = _blocks()
    command = curl.replace("\\\n", " ").replace("127.0.0.1:8000", f"127.0.0.1:{server}")
    run = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    answer = json.loads(run.stdout)
    assert len(answer["proteins"][0]["phenotypes"]) == 3
    assert answer["proteins"][0]["length"] == 60
