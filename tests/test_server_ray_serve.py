"""The API on Ray Serve (genepheno_core/server/ray_serve.py): a real local Ray instance
(2 CPUs), one replica, the same answers as the in-process app; Serve's HTTP proxy on a
free loopback port; everything stopped at the end."""

from __future__ import annotations


import httpx
import pytest
from _net import free_port
from fastapi.testclient import TestClient

from genepheno_core.server import Service, create_app, ray_serve

pytestmark = pytest.mark.slow



def test_one_replica_answers_like_the_local_app(model):
    import ray

    from genepheno_core.interpret.model_store import model_extras

    protein = model_extras(model).train_sequences[1]
    # no GO transfer: the session's toy model object may carry a GO reference that a replica,
    # loading the model from its directory, does not have
    body = {"sequences": [{"id": "q", "sequence": protein}], "top": 5, "view": "specific", "go_transfer": False}
    with TestClient(create_app(service=Service(model))) as local:
        expected = local.post("/v1/predict", json=body).json()
        bad = local.post("/v1/predict", json={"sequences": "ACGT" * 10})
    port = free_port()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        ray_serve.start(model.path.resolve(), replicas=1, port=port)
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/healthz", timeout=30).json()["version"] == expected["model"]["version"]
        served = httpx.post(f"{url}/v1/predict", json=body, timeout=120)
        assert served.status_code == 200
        assert served.json() == expected
        refused = httpx.post(f"{url}/v1/predict", json={"sequences": "ACGT" * 10}, timeout=30)
        assert (refused.status_code, refused.json()) == (bad.status_code, bad.json())
    finally:
        ray_serve.stop()
    assert not ray.is_initialized()
