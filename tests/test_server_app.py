"""The REST API (genepheno_core/server/app.py) with FastAPI's TestClient on the toy model:
every endpoint, every bad input (a 4xx whose message says what is wrong, never a traceback),
concurrent requests batched together, and the real server: uvicorn on a free loopback port.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from _net import free_port
from fastapi.testclient import TestClient

import genepheno_core as gp
from genepheno_core.interpret import user_input
from genepheno_core.interpret.inference import term_priors
from genepheno_core.server import MAX_BODY_BYTES, Service, create_app

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def client(model):
    with TestClient(create_app(service=Service(model))) as c:
        yield c


@pytest.fixture(scope="module")
def protein(model):
    """A protein of the toy model's dataset (its first training gene)."""
    from genepheno_core.interpret.model_store import model_extras

    return model_extras(model).train_sequences[0]


def _detail(response) -> str:
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str)
    assert "Traceback" not in body["detail"] and 'File "' not in body["detail"]
    return body["detail"]


def test_health_models_and_phenotype_search(client, model):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["model"] == model.path.name and len(health["version"]) == 16
    (info,) = client.get("/v1/models").json()["models"]
    assert info["phenotypes"] == len(model.terms) and info["threshold"] == pytest.approx(float(model.threshold))
    term = model.terms.iloc[3]
    found = client.get("/v1/phenotypes", params={"q": term["term_id"]}).json()
    assert found["phenotypes"][0] == {"id": term["term_id"], "name": term["name"],
                                      "prior": pytest.approx(float(term_priors(model)[3]))}
    word = term["name"].split()[-1].lower()
    by_name = client.get("/v1/phenotypes", params={"q": word, "limit": 500}).json()
    expected = sum(word in str(n).lower() for n in model.terms["name"])
    assert by_name["total"] == expected and all(word in p["name"].lower() for p in by_name["phenotypes"])
    assert client.get("/v1/phenotypes", params={"limit": 0}).status_code == 422


def test_predict_matches_the_core(client, model, protein):
    body = {"sequences": [{"id": "mine", "sequence": protein}], "top": 5, "evidence": 2}
    answer = client.post("/v1/predict", json=body)
    assert answer.status_code == 200, answer.text
    (report,) = answer.json()["proteins"]
    assert report["id"] == "mine" and report["length"] == len(protein)
    expected = gp.predict(model, [("mine", protein)], top=5)
    assert [p["id"] for p in report["phenotypes"]] == expected["term_id"].tolist()
    assert [p["score"] for p in report["phenotypes"]] == pytest.approx(expected["score"].tolist(), abs=1e-6)
    assert [p["above_threshold"] for p in report["phenotypes"]] == expected["above_threshold"].tolist()
    assert all(set(p["evidence"]) == {"concepts", "go_terms", "homolog_phenotypes", "functional_neighbours"}
               for p in report["phenotypes"])
    # each neighbour raises the phenotype, with its gene id and symbol
    neighbours = [n for p in report["phenotypes"] for n in p["evidence"]["functional_neighbours"]]
    assert all(n["contribution"] > 0 and n["id"] for n in neighbours)
    assert all(len(p["evidence"]["concepts"]) <= 2 for p in report["phenotypes"])
    assert report["nearest_proteins"][0]["identity"] == pytest.approx(100.0)
    # FASTA text gives the same scores
    fasta = client.post("/v1/predict", json={"sequences": f">mine\n{protein}\n", "top": 5}).json()
    assert [p["score"] for p in fasta["proteins"][0]["phenotypes"]] == pytest.approx(
        [p["score"] for p in report["phenotypes"]], abs=1e-6)


def test_specific_view_and_threshold(client, model, protein):
    answer = client.post("/v1/predict", json={"sequences": protein, "top": 3, "view": "specific",
                                              "threshold": 0.0, "evidence": 0, "nearest": 0, "homologs": 0}).json()
    shown = [p for p in answer["proteins"][0]["phenotypes"] if p["folded_under"] is None]
    assert len(shown) == 3 and answer["threshold"] == 0.0 and answer["view"] == "specific"
    assert "nearest_proteins" not in answer["proteins"][0] and "evidence" not in shown[0]


def test_concurrent_requests_are_batched_and_answered_each_with_its_own(model, protein):
    service = Service(model, warm=False)
    calls = []
    original = service._score
    service._score = lambda items, transfer, m: calls.append(len(items)) or original(items, transfer, m)
    app = create_app(service=service)

    async def run():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            bodies = [{"sequences": [{"id": f"p{i}", "sequence": protein[i:]}], "top": 2 + i} for i in range(6)]
            return await asyncio.gather(*(c.post("/v1/predict", json=b) for b in bodies))

    answers = asyncio.run(run())
    for i, answer in enumerate(answers):
        (report,) = answer.json()["proteins"]
        alone = gp.predict(model, [(f"p{i}", protein[i:])], top=2 + i)
        assert report["id"] == f"p{i}" and [p["id"] for p in report["phenotypes"]] == alone["term_id"].tolist()
    assert sum(calls) == 6 and len(calls) < 6  # some requests shared a batch


GOOD = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQ"


@pytest.mark.parametrize("body, status, problem", [
    ({"sequences": ""}, 422, "no sequence"),
    ({"sequences": []}, 422, "no sequence"),
    ({"sequences": "ACGTACGTAC" * 10}, 422, "not a multiple of 3"),
    ({"sequences": "ACGTACGTACGTACGTACGR" * 5}, 422, "looks like a nucleotide sequence"),
    ({"sequences": GOOD + "1@"}, 422, "invalid character"),
    ({"sequences": [{"id": "a", "sequence": GOOD + "!"}]}, 422, "invalid character"),
    ({"sequences": "M" * (user_input.MAX_RESIDUES + 1)}, 422, "the limit is"),
    ({"sequences": "".join(f">p{i}\n{GOOD}\n" for i in range(user_input.MAX_SEQUENCES + 1))}, 422, "at most 20"),
    ({"sequences": GOOD[:10]}, 422, "the minimum is"),
    ({"sequences": [{"id": "a", "sequence": GOOD}, {"id": "a", "sequence": GOOD}]}, 422, "given twice"),
    ({"sequences": GOOD, "top": 0}, 422, "top: Input should be greater than or equal to 1"),
    ({"sequences": GOOD, "threshold": 2}, 422, "threshold"),
    ({"sequences": GOOD, "view": "best"}, 422, "view"),
    ({"sequences": GOOD, "top": None}, 422, "evidence is listed for at most"),
    ({"sequences": GOOD, "go": ["GO:12"]}, 422, "not a GO id"),
    ({"sequences": [{"id": "a", "sequence": GOOD}], "go": {"b": ["GO:0005515"]}}, 422, "not a protein of the request"),
    ({"sequence": GOOD}, 422, "sequences: Field required"),
])
def test_bad_predict_requests_say_what_is_wrong(client, body, status, problem):
    answer = client.post("/v1/predict", json=body)
    assert answer.status_code == status
    assert problem in _detail(answer)


def test_malformed_json_and_oversized_bodies(client):
    answer = client.post("/v1/predict", content=b'{"sequences": ', headers={"content-type": "application/json"})
    assert answer.status_code == 422 and "not valid JSON" in _detail(answer)
    big = b'{"sequences": "' + b"M" * (MAX_BODY_BYTES + 10) + b'"}'
    answer = client.post("/v1/predict", content=big, headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "larger than the limit" in _detail(answer)

    def chunks():  # no Content-Length: the limit counts the streamed bytes
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"M" * 65536

    answer = client.post("/v1/predict", content=chunks(), headers={"content-type": "application/json"})
    assert answer.status_code == 413


def test_explain_sums_to_the_logit_and_bad_phenotypes_are_refused(client, model, protein):
    term = str(model.terms["term_id"].iloc[0])
    answer = client.post("/v1/explain", json={"sequence": protein, "phenotype": term})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    total = report["bias"] + sum(c["contribution"] for c in report["contributions"])
    assert total == pytest.approx(report["logit"], abs=1e-4)
    assert report["check"]["difference"] == pytest.approx(0, abs=1e-4)
    direct = gp.explain(model, ("query", protein), phenotype=[term], go_annotations=[])
    assert report["logit"] == pytest.approx(direct.logit[term], abs=1e-5)
    assert {c["source"] for c in report["contributions"]} >= {"concept"}
    unknown = client.post("/v1/explain", json={"sequence": protein, "phenotype": "HP:9999999"})
    assert unknown.status_code == 422 and "unknown phenotype 'HP:9999999'" in _detail(unknown)
    two = client.post("/v1/explain", json={"sequence": f">a\n{protein}\n>b\n{protein}\n", "phenotype": term})
    assert two.status_code == 422 and "explain takes one" in _detail(two)


def test_requests_without_go_are_answered_by_the_go_transfer_sibling(routed_models, protein):
    """Served by a shipped name: a request whose proteins are given no GO is answered by
    "<name>-go-transfer" (named in the answer, with its own scores), one given GO by the
    named model; /v1/models lists both; no_go_model=None serves the named model alone."""
    from genepheno_core.interpret.model_store import resolve_model

    term = str(resolve_model("toy").terms["term_id"].iloc[0])
    with TestClient(create_app("toy")) as c:
        models = c.get("/v1/models").json()["models"]
        assert [m["name"] for m in models] == ["toy", "toy-go-transfer"]
        bare = c.post("/v1/predict", json={"sequences": [{"id": "p", "sequence": protein}], "top": 3}).json()
        given = c.post("/v1/predict", json={"sequences": [{"id": "p", "sequence": protein}], "top": 3,
                                            "go": ["GO:0005634"]}).json()
        assert bare["model"]["name"] == "toy-go-transfer" and given["model"]["name"] == "toy"
        expected = gp.predict(resolve_model("toy-go-transfer"), [("p", protein)], top=3)
        assert [r["score"] for r in bare["proteins"][0]["phenotypes"]] == pytest.approx(list(expected["score"]))
        explained = c.post("/v1/explain", json={"sequence": protein, "phenotype": term}).json()
        assert explained["model"]["name"] == "toy-go-transfer"
        with_go = c.post("/v1/explain", json={"sequence": protein, "phenotype": term, "go": ["GO:0005634"]}).json()
        assert with_go["model"]["name"] == "toy"
        # a phenotype only the named model predicts (the sibling's vocabulary can be smaller): it explains it
        sibling = resolve_model("toy-go-transfer")
        original = sibling.terms
        sibling.terms = original.assign(term_id=["HP:9999999"] + list(original["term_id"][1:]))
        try:
            own = c.post("/v1/explain", json={"sequence": protein, "phenotype": str(original["term_id"].iloc[0])})
        finally:
            sibling.terms = original
        assert own.status_code == 200 and own.json()["model"]["name"] == "toy"
    with TestClient(create_app("toy", no_go_model=None)) as c:
        assert [m["name"] for m in c.get("/v1/models").json()["models"]] == ["toy"]
        bare = c.post("/v1/predict", json={"sequences": [{"id": "p", "sequence": protein}], "top": 3}).json()
        assert bare["model"]["name"] == "toy"


def test_unexpected_errors_give_a_500_without_a_traceback(model):
    service = Service(model, warm=False)
    service._score = lambda items, transfer, m: 1 / 0
    with TestClient(create_app(service=service), raise_server_exceptions=False) as c:
        answer = c.post("/v1/predict", json={"sequences": GOOD})
    assert answer.status_code == 500 and _detail(answer) == "internal error (logged on the server)"



def _wait_for(url: str, process, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer in {timeout} s")


def test_the_real_server_over_http(model, protein):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "genepheno_core", "serve", "--model", str(model.path),
                                "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        answer = httpx.post(f"http://127.0.0.1:{port}/v1/predict", timeout=60,
                            json={"sequences": [{"id": "mine", "sequence": protein}], "top": 3})
        assert answer.status_code == 200
        expected = gp.predict(model, [("mine", protein)], top=3)
        assert [p["id"] for p in answer.json()["proteins"][0]["phenotypes"]] == expected["term_id"].tolist()
        schema = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=10).json()
        assert {"/v1/predict", "/v1/explain", "/v1/models", "/v1/phenotypes", "/healthz"} <= set(schema["paths"])
        # the docs page loads its scripts from this server, not from a CDN
        docs = httpx.get(f"http://127.0.0.1:{port}/docs", timeout=10).text
        script = next(part.split('"')[1] for part in docs.split("<script src=")[1:])
        assert script.startswith("/") and httpx.get(f"http://127.0.0.1:{port}{script}", timeout=10).status_code == 200
        bad = httpx.post(f"http://127.0.0.1:{port}/v1/predict", content=b"{", timeout=10,
                         headers={"content-type": "application/json"})
        assert bad.status_code == 422 and "Traceback" not in bad.text
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_refuses_bad_options(capsys):
    from genepheno_core.cli import main

    assert main(["serve", "--port", "0"]) == 1
    assert "--port must be within" in capsys.readouterr().err
    assert main(["serve", "--replicas", "2"]) == 1
    assert "need --engine ray" in capsys.readouterr().err
