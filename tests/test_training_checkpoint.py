"""Checkpoint directories: contents, no pickle, and refusal of mismatched data/encoders."""

import json

import numpy as np
import pandas as pd
import pytest

from _tiny_dataset import family_embeddings, make_tiny_dataset
from genepheno_core.errors import MissingDataError, ModelMismatchError
from genepheno_core.training import TrainConfig, load_model, train


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
    a = model.probabilities(emb[:5])
    b = load_model(path).probabilities(emb[:5])
    np.testing.assert_array_equal(a, b)
    # results do not depend on the batch size
    np.testing.assert_allclose(model.probabilities(emb[:9], batch_size=1), model.probabilities(emb[:9]), atol=1e-6)


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
        model.probabilities(np.zeros((2, 5), dtype=np.float32))
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


@pytest.mark.skipif(__import__("shutil").which("diamond") is None, reason="diamond not installed")
def test_cross_species_round_trip(tmp_path, monkeypatch):
    from _tiny_dataset import train_tiny_cross_species

    from genepheno_core.models.features import cross_species_vectors

    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    path, ds, emb, other = train_tiny_cross_species(tmp_path / "model")
    names = {p.name for p in (path / "cross_species").iterdir()}
    assert names == {"genes.tsv", "sequences.fa.gz", "labels.npz", "terms.tsv", "info.json"}
    model = load_model(path, dataset=ds)
    cs = model.cross_species
    assert model.uses_ortholog and model.needs_sequences and cs.dataset == "tiny-other" and cs.max_hits == 5
    assert cs.sequences == other.genes["sequence"].tolist()
    assert (cs.labels != other.labels).nnz == 0
    assert cs.terms["term_id"].tolist() == other.terms["term_id"].tolist()
    # the stored data give the same ortholog input as training did
    seqs = ds.genes["sequence"].tolist()[:6]
    expected, _ = cross_species_vectors(seqs, other.genes["sequence"].tolist(), other.labels)
    np.testing.assert_allclose(cs.vectors(seqs), expected)
    with pytest.raises(ValueError, match="sequences"):
        model.probabilities(emb[:6])
    scores = model.probabilities(emb[:6], sequences=seqs)
    assert scores.shape == (6, len(ds.terms))
    # W_o is what the scores read: zeroing it changes them
    W_o = model.W_o()
    assert W_o.shape == (len(ds.terms), other.labels.shape[1]) and np.abs(W_o).sum() > 0
    # a cross_species/ directory that does not fit the module is refused
    bad = tmp_path / "bad"
    import shutil

    shutil.copytree(path, bad)
    terms = pd.read_csv(bad / "cross_species" / "terms.tsv", sep="\t")
    terms.iloc[:-1].to_csv(bad / "cross_species" / "terms.tsv", sep="\t", index=False)
    with pytest.raises(ModelMismatchError, match="disagree"):
        load_model(bad)


def test_int8_storage_round_trip(checkpoint, tmp_path):
    import shutil

    import torch
    from safetensors.torch import load_file, save_file

    from genepheno_core.training.checkpoint import dequantize_state, quantize_state

    path, ds, emb = checkpoint
    state = load_file(str(path / "model.safetensors"))
    q = quantize_state(state, min_numel=64)
    big = [k for k, v in state.items() if v.is_floating_point() and v.ndim == 2 and v.numel() >= 64]
    assert big and all(q[k + ".int8"].dtype == torch.int8 for k in big)
    back = dequantize_state(q)
    assert set(back) == set(state)
    for k in big:  # each entry within half a quantisation step of its row
        step = state[k].abs().amax(dim=1, keepdim=True) / 127
        assert ((back[k] - state[k]).abs() <= step / 2 + 1e-3 * step + 1e-8).all()
    # a checkpoint stored that way loads and predicts (nearly) the same
    small = tmp_path / "int8"
    shutil.copytree(path, small)
    save_file(q, str(small / "model.safetensors"))
    a = load_model(path).probabilities(emb[:10])
    b = load_model(small).probabilities(emb[:10])
    assert np.abs(a - b).max() < 0.02 and (small / "model.safetensors").stat().st_size < (path / "model.safetensors").stat().st_size
    assert dequantize_state(state).keys() == state.keys()  # plain weights pass through


# --------------------------------------------------------------------------------------
# Damaged checkpoints: one-line ModelLoadError naming the file and the problem


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _edit_json(name, change):
    def edit(ck):
        meta = json.loads((ck / name).read_text())
        change(meta)
        (ck / name).write_text(json.dumps(meta))
    return edit


DAMAGE = {
    "truncated weights": ("model.safetensors", lambda ck: _truncate(ck / "model.safetensors"), "corrupt or truncated"),
    "missing weights": ("model.safetensors", lambda ck: (ck / "model.safetensors").unlink(), "missing file"),
    "broken config": ("config.json", lambda ck: (ck / "config.json").write_text('{"format_version": 1, "kind"'),
                      "not valid JSON"),
    "config not an object": ("config.json", lambda ck: (ck / "config.json").write_text("[1, 2]"),
                             "expected a JSON object, found list"),
    "config without train_config": ("config.json", _edit_json("config.json", lambda m: m.pop("train_config")),
                                    "missing train_config"),
    "train_config not an object": ("config.json", _edit_json("config.json", lambda m: m.update(train_config=3)),
                                   "invalid train_config"),
    "shape does not fit the config": ("model.safetensors", _edit_json(
        "config.json", lambda m: m["module_config"].update(hidden=m["module_config"]["hidden"] + 1)),
        "weights do not fit config.json: size mismatch"),
    "missing terms": ("terms.tsv", lambda ck: (ck / "terms.tsv").unlink(), "missing file"),
    "terms without term_id": ("terms.tsv", lambda ck: (ck / "terms.tsv").write_text("id\tname\nHP:1\tx\n"),
                              "no term_id column"),
    "go inputs cut": ("go_inputs.tsv", lambda ck: (ck / "go_inputs.tsv").write_text("go_id\nGO:0000001\n"),
                      "the module expects"),
    "broken metrics": ("metrics.json", lambda ck: (ck / "metrics.json").write_text("{"), "not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damaged_checkpoint_is_a_one_line_error_naming_the_file(checkpoint, tmp_path, case):
    import shutil

    from genepheno_core.errors import ModelLoadError

    path, _, _ = checkpoint
    damaged = tmp_path / "model"
    shutil.copytree(path, damaged)
    name, damage, problem = DAMAGE[case]
    damage(damaged)
    with pytest.raises(ModelLoadError) as info:
        load_model(damaged)
    message = str(info.value)
    assert message.startswith(str(damaged / name) + ":"), message
    assert problem in message and "\n" not in message


def test_go_neighbours_reference_round_trips_and_bad_files_are_named(tmp_path):
    import scipy.sparse as sp

    from genepheno_core.errors import ModelLoadError
    from genepheno_core.models.go_neighbours import GoNeighbours, idf_weights
    from genepheno_core.training.checkpoint import read_go_neighbours, write_go_neighbours

    bags = sp.csr_matrix(np.array([[1, 0.5, 0], [0, 1, 1], [1, 0, 0]], dtype=np.float32))
    labels = sp.csr_matrix(np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32))
    genes = pd.DataFrame({"gene_id": ["a", "b", "c"], "symbol": ["A", "B", "C"], "accession": ["P1", "P2", "P3"]})
    nb = GoNeighbours(bags, labels, idf_weights(bags), genes, k=2, alpha=0.2)
    write_go_neighbours(tmp_path / "nb", nb)
    back = read_go_neighbours(tmp_path / "nb", n_terms=2, n_go=3)
    assert (back.k, back.alpha) == (2, 0.2) and back.genes["symbol"].tolist() == ["A", "B", "C"]
    np.testing.assert_allclose(back.vote(np.array([[1.0, 1.0, 0.0]])), nb.vote(np.array([[1.0, 1.0, 0.0]])), rtol=1e-6)
    with pytest.raises(ModelMismatchError, match="2 terms x 3 GO inputs"):
        read_go_neighbours(tmp_path / "nb", n_terms=5, n_go=3)
    assert json.loads((tmp_path / "nb" / "info.json").read_text())["blend"] == "excess over frequency"
    # a reference written before the vote moved the probability by its excess (no "blend"):
    # its alpha was chosen for the other rule, so it is refused, naming the file and the fix
    (tmp_path / "nb" / "info.json").write_text(json.dumps({"k": 2, "alpha": 0.2}))
    with pytest.raises(ModelLoadError, match="info.json: the neighbours' vote is applied as 'a probability average'.*retrain"):
        read_go_neighbours(tmp_path / "nb", n_terms=2, n_go=3)
    (tmp_path / "nb" / "info.json").write_text(json.dumps({"k": 2, "alpha": 1.5, "blend": "excess over frequency"}))
    with pytest.raises(ModelLoadError, match="info.json"):
        read_go_neighbours(tmp_path / "nb", n_terms=2, n_go=3)
    (tmp_path / "nb" / "genes.tsv").write_text("gene_id\na\n")
    (tmp_path / "nb" / "info.json").write_text(json.dumps({"k": 2, "alpha": 0.2, "blend": "excess over frequency"}))
    with pytest.raises(ModelLoadError, match="disagree"):
        read_go_neighbours(tmp_path / "nb", n_terms=2, n_go=3)


def test_go_neighbours_by_homolog_phenotypes_round_trip_with_the_models_cross_species_labels(tmp_path):
    """A reference whose similarity reads homolog phenotypes stores the training genes' hit
    shares (float32) and its similarity; loaded with the model's cross_species/ labels it
    finds the same neighbours. A reference written before the choice existed is a GO one."""
    import scipy.sparse as sp

    from genepheno_core.errors import ModelLoadError
    from genepheno_core.models.go_neighbours import BOTH, GO_INPUT, PROFILE, GoNeighbours, idf_weights
    from genepheno_core.training.checkpoint import read_go_neighbours, write_go_neighbours

    bags = sp.csr_matrix(np.array([[1, 0.5, 0], [0, 1, 1], [1, 0, 0]], dtype=np.float32))
    labels = sp.csr_matrix(np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32))
    genes = pd.DataFrame({"gene_id": ["a", "b", "c"]})
    shares = np.array([[0.3, 0.7], [1.0, 0.0], [0.0, 0.0]])
    other = np.array([[1, 0, 1, 0], [0, 1, 1, 1]], dtype=np.float32)
    nb = GoNeighbours(bags, labels, idf_weights(bags), genes, k=2, alpha=0.2, similarity=BOTH,
                      hit_shares=shares, other_labels=other)
    write_go_neighbours(tmp_path / "nb", nb)
    info = json.loads((tmp_path / "nb" / "info.json").read_text())
    assert info["similarity"] == BOTH
    with np.load(tmp_path / "nb" / "hit_shares.npz", allow_pickle=False) as npz:
        assert npz["data"].dtype == np.float32
    back = read_go_neighbours(tmp_path / "nb", n_terms=2, n_go=3, other_labels=other)
    assert back.similarity == BOTH
    bag, profile = np.array([[1.0, 1.0, 0.0]]), np.array([[0.0, 1.0, 0.0, 1.0]])
    got, want = back.weights(bag, profile), nb.weights(bag, profile)  # the GO IDF is stored as float32
    assert set(got.indices) == set(want.indices)
    np.testing.assert_allclose(got.toarray(), want.toarray(), rtol=1e-6)
    np.testing.assert_allclose(back.vote(bag, profile=profile), nb.vote(bag, profile=profile), rtol=1e-6)
    # without the model's cross_species/ the profiles cannot be rebuilt: named
    with pytest.raises(ModelLoadError, match=r"nb: neighbours by 'GO input and homolog phenotypes' need .*cross_species"):
        read_go_neighbours(tmp_path / "nb", n_terms=2, n_go=3)
    (tmp_path / "nb" / "info.json").write_text(json.dumps({**info, "similarity": "sequence"}))
    with pytest.raises(ModelLoadError, match="info.json.*'sequence' is not one of"):
        read_go_neighbours(tmp_path / "nb", n_terms=2, n_go=3, other_labels=other)
    # a GO reference writes no hit shares, and one without the key (written before the
    # similarity was chosen) is read as a GO one
    write_go_neighbours(tmp_path / "go", nb.with_choice(0.2, GO_INPUT))
    assert not (tmp_path / "go" / "hit_shares.npz").exists()
    info = json.loads((tmp_path / "go" / "info.json").read_text())
    info.pop("similarity")
    (tmp_path / "go" / "info.json").write_text(json.dumps(info))
    assert read_go_neighbours(tmp_path / "go", n_terms=2, n_go=3).similarity == GO_INPUT
    # by homolog phenotypes alone the GO bags are never read: stored empty, same neighbours
    profile_only = nb.with_choice(0.2, PROFILE)
    write_go_neighbours(tmp_path / "profile", profile_only)
    back = read_go_neighbours(tmp_path / "profile", n_terms=2, n_go=3, other_labels=other)
    assert back.bags.shape == (3, 3) and back.bags.nnz == 0 and back.similarity == PROFILE
    np.testing.assert_allclose(back.weights(bag, profile).toarray(), profile_only.weights(bag, profile).toarray(),
                               rtol=1e-6)


def test_go_neighbours_matrices_are_plain_arrays_and_a_bad_one_is_named(tmp_path):
    import scipy.sparse as sp

    from genepheno_core.errors import ModelLoadError
    from genepheno_core.training.checkpoint import _read_csr, _write_csr

    m = sp.random(7, 40, density=0.3, format="csr", random_state=0, dtype=np.float32)
    _write_csr(tmp_path / "m.npz", m, values=True)
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:  # no object arrays
        assert npz["indices"].dtype == np.uint16 and npz["data"].dtype == np.float16
    back = _read_csr(tmp_path / "m.npz")
    assert back.shape == m.shape
    np.testing.assert_allclose(back.toarray(), m.toarray(), atol=5e-4)
    _write_csr(tmp_path / "b.npz", m > 0, values=False)
    np.testing.assert_array_equal(_read_csr(tmp_path / "b.npz").toarray(), (m > 0).toarray().astype(np.float32))
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ModelLoadError, match="bad.npz"):
        _read_csr(tmp_path / "bad.npz")
