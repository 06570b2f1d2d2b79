"""Connecting to Ray (genepheno_core/scale/runtime.py): the GENEPHENO_* variables travel to
the workers, a worker's GenePhenoError comes back whole, and a cluster started with
`ray start --head` on 127.0.0.1 is joined by `--address 127.0.0.1:PORT` from the command line
(predict and embed on it equal the in-process engine), then that instance is stopped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _net import free_port

from genepheno_core.scale import runtime

REPO = Path(__file__).resolve().parents[1]


def test_runtime_env_forwards_the_genepheno_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GENEPHENO_MIRROR", str(tmp_path / "mirror"))
    monkeypatch.setenv("GENEPHENO_ASSETS", "  ")  # blank: not forwarded
    monkeypatch.delenv("GENEPHENO_ESM_DIR", raising=False)
    env = runtime.runtime_env()["env_vars"]
    assert env == {"GENEPHENO_HOME": str(tmp_path / "home"), "GENEPHENO_MIRROR": str(tmp_path / "mirror")}


def test_unwrap_error_finds_the_users_error_in_a_chain():
    from genepheno_core.errors import InputFormatError

    inner = InputFormatError("in.fa", "bad", line=2, record="x")
    try:
        try:
            raise inner
        except InputFormatError as exc:
            raise RuntimeError("task failed") from exc
    except RuntimeError as outer:
        assert runtime.unwrap_error(outer) is inner
    plain = ValueError("no user error inside")
    assert runtime.unwrap_error(plain) is plain


def _ray() -> str:
    found = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    assert Path(found).exists(), "the ray command is installed with ray (requirements.txt)"
    return found


@pytest.mark.slow
@pytest.mark.usefixtures("toy_home")
def test_predict_and_embed_join_a_head_on_127_0_0_1_by_address(model, tmp_path):
    from _scale_fasta import toy_fasta

    from genepheno_core.scale.batch import BatchOptions, predict_blocks, read_predictions

    fasta = toy_fasta(model, tmp_path, n=110)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAY_USAGE_STATS_ENABLED": "0"}
    subprocess.run([_ray(), "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                    "--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats"],
                   check=True, capture_output=True, text=True, env=env, timeout=180)
    try:
        address = f"127.0.0.1:{port}"
        done = subprocess.run(
            [sys.executable, "-m", "genepheno_core", "predict", str(fasta), "--model", str(model.path),
             "--format", "parquet", "-o", str(tmp_path / "ray"), "--engine", "ray", "--address", address,
             "--top", "5", "--no-go-transfer", "--block-size", "55"],
            capture_output=True, text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "2 blocks" in done.stdout and "2 workers" in done.stdout, done.stdout
        embedded = subprocess.run(
            [sys.executable, "-m", "genepheno_core", "embed", str(fasta), "--encoder", "unirep64", "--engine", "ray",
             "--address", address, "--block-size", "55", "--no-progress", "-o", str(tmp_path / "emb.npz")],
            capture_output=True, text=True, env=env, timeout=600)
        assert embedded.returncode == 0, embedded.stderr[-3000:]
    finally:
        subprocess.run([_ray(), "stop", "--force"], capture_output=True, env=env, timeout=120)
    local = predict_blocks(fasta, tmp_path / "local", model.path, BatchOptions(top=5, go_transfer=False),
                           block_size=55)
    assert local.computed == 2
    pd.testing.assert_frame_equal(read_predictions(tmp_path / "ray"), read_predictions(tmp_path / "local"),
                                  check_exact=True)  # one torch thread here (toy_home) and in each worker
    from genepheno_core.embeddings import embed_sequences
    from genepheno_core.embeddings.sequences import parse_sequences

    with np.load(tmp_path / "emb.npz") as npz:
        records = parse_sequences(fasta)
        assert list(npz["ids"]) == [r for r, _ in records]
        np.testing.assert_allclose(npz["embeddings"], embed_sequences([s for _, s in records], "unirep64",
                                                                      cache=False), atol=1e-5, rtol=0)


@pytest.mark.slow
def test_a_local_instance_stops_its_monitor_outright_and_leaves_no_process():
    """`disconnect` first kills the one-node instance's autoscaler monitor while the GCS still
    runs (`ray.shutdown` alone would stop the GCS and leave the monitor hanging for a 1 s grace
    period, runtime._stop_monitor), and every process the instance started is gone afterwards."""
    import ray
    from ray._private import ray_constants, worker

    assert not ray.is_initialized()
    connection = runtime.connect(num_cpus=1)
    try:
        assert connection.started_here and connection.cpus == 1
        processes = {kind: [info.process for info in infos]
                     for kind, infos in worker._global_node.all_processes.items()}
        monitors = processes[ray_constants.PROCESS_TYPE_MONITOR]
        gcs = processes[ray_constants.PROCESS_TYPE_GCS_SERVER]
        assert monitors and all(p.poll() is None for p in monitors)
        runtime._stop_monitor()
        assert [p.poll() for p in monitors] == [-9]  # killed outright ...
        assert all(p.poll() is None for p in gcs)  # ... before anything else stopped
    finally:
        runtime.disconnect(connection)
    assert not ray.is_initialized()
    for kind, procs in processes.items():
        for p in procs:
            p.wait(timeout=30)  # raises if a process outlives the instance
