"""Default model location, model resolution and the explain/ extras."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _interpret_toy import toy_dataset
from genepheno_core.errors import MissingDataError, ModelMismatchError
from genepheno_core.interpret import default_model_path, predict
from genepheno_core.interpret.inference import prepare_inputs, score_matrix
from genepheno_core.interpret.model_store import model_extras, resolve_model


pytestmark = pytest.mark.usefixtures("toy_home")  # GENEPHENO_HOME for the toy model (conftest.py)


def test_default_model_path(tmp_path, monkeypatch, model):
    monkeypatch.setenv("GENEPHENO_MODELS_DIR", str(tmp_path))
    with pytest.raises(MissingDataError, match="make default-model"):
        default_model_path()
    shutil.copytree(model.path, tmp_path / "hpo")
    assert default_model_path() == tmp_path / "hpo"
    m = resolve_model(None)
    assert list(m.terms["term_id"]) == list(model.terms["term_id"])
    assert resolve_model(None) is m  # loaded once
    assert resolve_model("hpo") is m  # a shipped model's name
    assert resolve_model(model) is model


def test_extras_round_trip(model):
    ds, _, _ = toy_dataset()
    ex = model_extras(model)
    train = ds.split_indices("train")
    assert (ex.train_labels.toarray() == ds.labels[train].toarray()).all()
    assert (ex.term_ancestors.toarray() == ds.term_ancestors.toarray()).all()
    assert list(ex.train_genes["accession"]) == list(ds.genes["accession"].iloc[train])
    assert ex.train_sequences == list(ds.genes["sequence"].iloc[train])
    assert ex.train_has_go.dtype == bool and len(ex.train_has_go) == len(train)


def test_model_without_extras_still_predicts(model, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(model.path, bare, ignore=shutil.ignore_patterns("explain"))
    m = resolve_model(bare)
    df = predict(m, [("a", "MKVLAAGIVGLLLAQPSHAEG")], top=3)
    # without the term ancestors of explain/ the scores are the full model's unpropagated ones
    raw = score_matrix(model, prepare_inputs(model, [("a", "MKVLAAGIVGLLLAQPSHAEG")]), propagate_to_ancestors=False)[0]
    top = np.argsort(-raw, kind="stable")[:3]
    assert df["term_id"].tolist() == model.terms["term_id"].iloc[top].tolist()
    np.testing.assert_allclose(df["score"].to_numpy(), raw[top], atol=1e-6)


def test_extras_from_other_vocabulary(model, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(model.path, other)
    terms = (other / "explain" / "terms.tsv").read_text().splitlines()
    (other / "explain" / "terms.tsv").write_text("\n".join([terms[0], terms[2], terms[1]] + terms[3:]) + "\n")
    with pytest.raises(ModelMismatchError):
        model_extras(resolve_model(other))


def test_choose_model_sends_a_shipped_name_without_go_to_its_go_transfer_sibling(tmp_path, monkeypatch, model):
    from genepheno_core.interpret.model_store import choose_model, shipped_name

    root = tmp_path / "models"
    for name in ("hpo", "hpo-go-transfer", "mpo"):
        (root / name).mkdir(parents=True)
        (root / name / "config.json").write_text("{}")
    (root / "empty").mkdir()
    monkeypatch.setenv("GENEPHENO_MODELS_DIR", str(root))
    monkeypatch.chdir(tmp_path)
    assert choose_model(None, go_given=False) == "hpo-go-transfer"  # None: the default, hpo
    assert choose_model("hpo", go_given=False) == "hpo-go-transfer"
    assert choose_model("hpo", go_given=True) == "hpo"
    assert choose_model(None, go_given=True) is None
    assert choose_model("hpo", go_given=False, transfer_go=False) == "hpo"  # chosen for transferred GO only
    assert choose_model("mpo", go_given=False) == "mpo"  # no mpo-go-transfer shipped
    assert choose_model("hpo-go-transfer", go_given=False) == "hpo-go-transfer"
    assert choose_model("empty", go_given=False) == "empty"  # not a model
    path = str(root / "hpo")
    assert choose_model(path, go_given=False) == path  # a directory is used as given
    assert choose_model(model, go_given=False) is model  # so is a loaded model
    assert shipped_name(None) == "hpo" and shipped_name("mpo") == "mpo" and shipped_name(path) is None
    (tmp_path / "hpo").mkdir()  # a folder "hpo" in the working directory is a path, not the name
    assert choose_model("hpo", go_given=False) == "hpo" and shipped_name("hpo") is None


def test_model_label_names_shipped_models_and_gives_other_paths(routed_models, model):
    from genepheno_core.interpret.model_store import model_label

    assert model_label(resolve_model("toy-go-transfer")) == "toy-go-transfer"
    assert model_label(model) == str(model.path)


def test_bad_model_paths(tmp_path):
    with pytest.raises(MissingDataError):
        resolve_model(tmp_path / "nothing")
    with pytest.raises(TypeError):
        resolve_model(42)


def _shipped():
    path = Path(__file__).resolve().parents[1] / "assets" / "models" / "hpo"  # this checkout's assets/
    if not (path / "config.json").exists():
        pytest.skip("assets/models/hpo not built (make default-model)")
    return path


@pytest.mark.slow
def test_shipped_model_size_metrics_and_prediction(monkeypatch):
    """The shipped default model: < 25 MB, test metrics and interpretability recorded, and
    a case-study protein predicted sequence-only without training anything."""
    from genepheno_core.interpret import load_case_studies

    path = _shipped()
    monkeypatch.delenv("GENEPHENO_MODELS_DIR", raising=False)
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    assert size < 25 * 2**20
    m = resolve_model(None)
    assert m.path.resolve() == path.resolve()
    for key in ("seq_only", "with_go"):
        assert 0 < m.metrics["test"][key]["fmax"] <= 1 and 0.5 < m.metrics["test"][key]["auc"] <= 1
    assert m.metrics["interpretability"]["n_terms"] > 100
    build = m.metrics["default_model_build"]
    assert build["weights"] in ("int8", "fp16", "fp32")
    if build["weights"] != "fp32":  # compact weights are kept only when they do not move the test metrics
        assert build[f"{build['weights']}_max_metric_change"] < 0.002
    case = load_case_studies().set_index("symbol").loc["HBB"]
    df = predict(None, [("HBB", case["sequence"])], top=5)
    assert len(df) == 5 and df["score"].is_monotonic_decreasing
    assert set(df["term_id"]) <= set(m.terms["term_id"])


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["hpo", "mpo"])
def test_shipped_go_transfer_model_scores_a_protein_without_go(monkeypatch, dataset):
    """assets/models/<dataset>-go-transfer (the benchmark's validation choice for proteins given
    without GO): < 25 MB, trained on transferred GO, its test metrics with that input recorded;
    by its name it scores a pasted protein from its homologs' GO, and the explanation of each
    top phenotype (bias + evidence items) still equals the logit."""
    from genepheno_core.interpret import explain, load_case_studies

    path = Path(__file__).resolve().parents[1] / "assets" / "models" / f"{dataset}-go-transfer"
    if not (path / "config.json").exists():
        pytest.skip(f"{path.name} not built (make default-model)")
    monkeypatch.delenv("GENEPHENO_MODELS_DIR", raising=False)
    assert sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) < 25 * 2**20
    m = resolve_model(f"{dataset}-go-transfer")
    assert m.path.resolve() == path.resolve()
    # trained on transferred GO, with the functional-neighbour vote its validation chose (0
    # switches it off: then no reference is stored and none is used)
    assert m.trained_on_transferred_go and m.config.ablations == ("go-neighbours",)
    chosen = m.metrics["valid"]["go_neighbours"]["alpha"]
    assert m.uses_go_neighbours == (chosen > 0) == (path / "go_neighbours").is_dir()
    if chosen > 0:
        # the similarity its validation chose (a model built before the choice: GO input)
        similarity = m.metrics["valid"]["go_neighbours"].get("similarity", "GO input")
        assert m.go_neighbours.alpha == chosen and m.go_neighbours.similarity == similarity
        assert (path / "go_neighbours" / "hit_shares.npz").is_file() == m.go_neighbours.reads_profile
    homologs = m.metrics["test"]["go_from_homologs"]
    assert 0 < homologs["fmax"] <= 1 and 0.5 < homologs["auc"] <= 1
    case = load_case_studies().set_index("symbol").loc["HBB"]
    e = explain(m, ("HBB", case["sequence"]), top_terms=3)
    assert e.go_origin == "transferred" and len(e.go_transfer)
    # by the dataset's name, a protein given no GO is scored by this model, one given GO is not
    assert predict(dataset, [("HBB", case["sequence"])], top=3).attrs["model"] == f"{dataset}-go-transfer"
    assert explain(dataset, ("HBB", case["sequence"]), top_terms=1).model == f"{dataset}-go-transfer"
    given = predict(dataset, [("HBB", case["sequence"])], go_annotations={"HBB": list(case["go"])}, top=3)
    assert given.attrs["model"] == dataset
    for term in e.logit:
        evidence = e.evidence_table(term)
        assert evidence["contribution"].sum() + e.bias[term] == pytest.approx(e.logit[term], abs=1e-5)
    # the evidence is grouped by the most specific transferred GO terms and homolog
    # phenotypes (explain/ stores both ontology structures): no item lies above another, each
    # carries only its own ancestors, and each kind's sum is unchanged (TP53: its mouse and
    # human homologs have knockout / disease phenotypes in both datasets)
    from genepheno_core.interpret.model_store import input_ancestors

    case = load_case_studies().set_index("symbol").loc["TP53"]
    e = explain(m, ("TP53", case["sequence"]), top_terms=1)
    tables = input_ancestors(m)
    vocab = {"GO term": list(m.go_inputs),
             "ortholog phenotype": m.cross_species.terms["term_id"].astype(str).tolist()}
    term = next(iter(e.logit))
    grouped, per_term = e.evidence_table(term), e.evidence_table(term, grouped=False)
    for source, kind, groups in (("GO term", "GO term", e.go_term_groups),
                                 ("ortholog phenotype", "homolog phenotype", e.ortholog_groups)):
        assert groups, f"{source}: no groups"
        index = {t: i for i, t in enumerate(vocab[source])}
        table = tables[kind].tocsr()
        rows = grouped[grouped["source"] == source]
        assert set(rows["id"]) == set(groups) and len(rows) < (per_term["source"] == source).sum()
        leaves = [index[t] for t in rows["id"]]
        assert table[leaves][:, leaves].nnz == 0
        for leaf, implied in zip(rows["id"], rows["implies"]):
            assert set(table[index[leaf]].indices) >= {index[t] for t in implied}
        assert rows["contribution"].sum() == pytest.approx(
            per_term[per_term["source"] == source]["contribution"].sum(), abs=1e-9)


@pytest.mark.parametrize("name, damage, problem", [
    ("go_terms.tsv", lambda p: p.write_text("name\nnucleus\n"), "no go_id column"),
    ("train_labels.npz", lambda p: p.write_bytes(p.read_bytes()[:40]), "corrupt or truncated"),
    ("train_has_go.npy", lambda p: p.write_bytes(b"not numpy"), "ValueError"),
])
def test_damaged_extras_name_the_file(model, tmp_path, name, damage, problem):
    from genepheno_core.errors import ModelLoadError

    damaged = tmp_path / "damaged"
    shutil.copytree(model.path, damaged)
    damage(damaged / "explain" / name)
    with pytest.raises(ModelLoadError) as info:
        resolve_model(damaged)
    assert str(info.value).startswith(f"{damaged / 'explain' / name}:") and problem in str(info.value)


def test_misshaped_homolog_tables_name_the_file(tmp_path, monkeypatch):
    # the two explain/ tables of the homolog-phenotype path are checked against the model's
    # other-species vocabulary: a table of another model (another K') is refused by name, and
    # one of the right shape is what input_ancestors hands the grouping
    import scipy.sparse as sp

    from _tiny_dataset import train_tiny_cross_species
    from genepheno_core.errors import ModelLoadError
    from genepheno_core.interpret.model_store import (
        EXTRAS_DIR, MAPPING_RELATED, ORTHOLOG_ANCESTORS, input_ancestors, write_explain_extras)
    from genepheno_core.training import load_model

    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    from genepheno_core.datasets import Dataset

    path, tiny, _, other = train_tiny_cross_species(tmp_path / "model")
    ds = Dataset(**{f: getattr(tiny, f) for f in ("name", "genes", "labels", "terms", "term_ancestors", "go",
                                                   "go_terms", "splits", "manifest")})
    write_explain_extras(path, ds, pairs=pd.DataFrame(columns=["term_a", "term_b", "rule", "overlap"]),
                         go_ontology=tiny.go_ontology())
    n_other, k = len(other.terms), len(ds.terms)
    assert len(load_model(path).cross_species.terms) == n_other
    chain = sp.csr_matrix(np.triu(np.ones((n_other, n_other), dtype=np.uint8), k=1))  # term j is i's ancestor for j > i
    sp.save_npz(path / EXTRAS_DIR / ORTHOLOG_ANCESTORS, chain)
    got = input_ancestors(load_model(path))["homolog phenotype"]
    assert (got.toarray() == chain.toarray()).all()
    for name, bad in ((ORTHOLOG_ANCESTORS, sp.csr_matrix((n_other + 1, n_other), dtype=np.uint8)),
                      (MAPPING_RELATED, sp.csr_matrix((k, n_other - 1), dtype=np.uint8))):
        damaged = tmp_path / f"damaged-{name}"
        shutil.copytree(path, damaged)
        sp.save_npz(damaged / EXTRAS_DIR / name, bad)
        with pytest.raises(ModelLoadError) as info:
            model_extras(load_model(damaged))
        assert str(info.value).startswith(f"{damaged / EXTRAS_DIR / name}:") and "expected" in str(info.value)
