"""Checkpoint directories: contents, no pickle, and refusal of mismatched data/encoders."""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from genepheno_core.errors import MissingDataError, ModelMismatchError
from genepheno_core.training import TrainConfig, load_model, train

sys.path.insert(0, str(Path(__file__).parent / "data" / "models"))
from tiny_dataset import family_embeddings, make_tiny_dataset  # noqa: E402


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    ds = make_tiny_dataset()
    emb = family_embeddings(ds)
    out = tmp_path_factory.mktemp("ck") / "model"
    cfg = TrainConfig(dataset="tiny", encoder="family16", hidden=16, lr=1e-2, batch_size=16, max_epochs=3,
                      concept_min_genes=5, go_min_genes=2, out_dir=str(out))
    return train(cfg, ds, embeddings=emb), ds, emb


def test_contents(checkpoint):
    path, ds, _ = checkpoint
    names = {p.name for p in path.iterdir()}
    assert {"config.json", "model.safetensors", "terms.tsv", "concepts.tsv", "go_inputs.tsv",
            "manifest.json", "metrics.json"} <= names
    assert not any(n.endswith((".pt", ".pkl", ".pth")) for n in names)
    meta = json.loads((path / "config.json").read_text())
    assert meta["kind"] == "genepheno" and meta["encoder"] == "family16"
    metrics = json.loads((path / "metrics.json").read_text())
    assert metrics["threshold"] == metrics["valid"]["threshold"] and len(metrics["history"]) == 3
    assert json.loads((path / "manifest.json").read_text()) == ds.manifest
    concepts = pd.read_csv(path / "concepts.tsv", sep="\t")
    assert list(concepts.columns) == ["go_id", "name", "namespace"]
    assert "cell communication" in concepts["name"].tolist()


def test_load_round_trip(checkpoint):
    path, ds, emb = checkpoint
    model = load_model(path, dataset=ds, encoder="family16")
    assert model.encoder == "family16" and model.kind == "genepheno"
    a = model.predict_scores(emb[:5])
    b = load_model(path).predict_scores(emb[:5])
    np.testing.assert_array_equal(a, b)
    # results do not depend on the batch size
    np.testing.assert_allclose(model.predict_scores(emb[:9], batch_size=1), model.predict_scores(emb[:9]), atol=1e-6)


def test_refuses_mismatches(checkpoint):
    path, ds, emb = checkpoint
    with pytest.raises(ModelMismatchError, match="unirep256"):
        load_model(path, encoder="unirep256")
    other = make_tiny_dataset()
    other.terms = other.terms.iloc[::-1].reset_index(drop=True)
    with pytest.raises(ModelMismatchError, match="label vocabulary"):
        load_model(path, dataset=other)
    fewer = make_tiny_dataset()
    fewer.terms = fewer.terms.iloc[:-1]
    with pytest.raises(ModelMismatchError, match="17 vs 16"):
        load_model(path, dataset=fewer)
    model = load_model(path)
    with pytest.raises(ModelMismatchError, match="expects"):
        model.predict_scores(np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(MissingDataError):
        load_model(path.parent / "nothing-here")


def test_go_ontology_from_the_manifest_or_skipped(checkpoint, monkeypatch):
    path, _, _ = checkpoint
    calls = []

    def fake_loader(entry, what="ontology"):
        calls.append(entry["filename"])
        return "the GO"

    monkeypatch.setattr("genepheno_core.datasets.load_manifest_ontology", fake_loader)
    model = load_model(path)
    model.manifest = {"go_ontology": {"source": "go", "filename": "go-basic.obo", "release": "x"}}
    assert model.go_ontology() == "the GO" and model.go_ontology() == "the GO" and calls == ["go-basic.obo"]
    other = load_model(path)
    other.manifest = model.manifest
    other.skip_go_ontology()
    assert other.go_ontology() is None and calls == ["go-basic.obo"]  # never loaded
