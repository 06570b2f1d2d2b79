"""Dataset artifact: round trip, byte-identical rewrites, atomic writes, errors."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from _datasets_inputs import three_gene_dataset
from genepheno_core.datasets import Dataset, load_dataset, save_dataset
from genepheno_core.datasets import artifact
from genepheno_core.errors import GenePhenoError, MissingDataError


def _digest(path):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())}


def test_round_trip(tmp_path):
    ds = three_gene_dataset()
    out = save_dataset(ds, tmp_path / "tiny")
    back = load_dataset(out)
    assert back.name == "tiny"
    pd.testing.assert_frame_equal(back.genes, ds.genes)
    pd.testing.assert_frame_equal(back.terms, ds.terms, check_dtype=False)
    pd.testing.assert_frame_equal(back.go_terms, ds.go_terms, check_dtype=False)
    pd.testing.assert_frame_equal(back.splits, ds.splits)
    for name in ("labels", "term_ancestors", "go"):
        mine, theirs = getattr(ds, name), getattr(back, name)
        assert theirs.dtype == np.uint8
        assert (mine != theirs).nnz == 0
    assert back.manifest["config"] == {"min_genes": 1}
    assert back.path == out
    assert list(back.split_indices("test", "homology")) == [2]
    assert back.subset([0, 2]).labels.shape == (2, 3)


def test_rewrite_is_byte_identical(tmp_path):
    first = save_dataset(three_gene_dataset(), tmp_path / "a")
    second = save_dataset(load_dataset(first), tmp_path / "b")
    assert _digest(first) == _digest(second)
    # no zip containers: every matrix file is a plain .npy
    assert not list(first.glob("*.npz"))


def test_load_by_name_uses_genepheno_home(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    save_dataset(three_gene_dataset("named"))
    assert (tmp_path / "datasets" / "named" / "manifest.json").is_file()
    assert load_dataset("named").n_genes == 3


def test_missing_dataset_says_how_to_build(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    with pytest.raises(MissingDataError, match="genepheno data build hpo"):
        load_dataset("hpo")


def test_interrupted_save_leaves_previous_artifact(tmp_path, monkeypatch):
    target = tmp_path / "tiny"
    save_dataset(three_gene_dataset(), target)
    before = _digest(target)

    changed = three_gene_dataset()
    changed.genes.loc[0, "symbol"] = "CHANGED"
    real = artifact._save_binary_csr

    def fail_on_go(directory, name, matrix):
        if name == "go":
            raise KeyboardInterrupt("simulated crash while writing")
        return real(directory, name, matrix)

    monkeypatch.setattr(artifact, "_save_binary_csr", fail_on_go)
    with pytest.raises(KeyboardInterrupt):
        save_dataset(changed, target)
    assert _digest(target) == before
    # no temporary directories left next to the artifact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny"]
    # and a first build that fails leaves nothing at all
    with pytest.raises(KeyboardInterrupt):
        save_dataset(changed, tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()


def test_inconsistent_shapes_are_rejected():
    ds = three_gene_dataset()
    with pytest.raises(GenePhenoError, match="labels shape"):
        Dataset("bad", ds.genes, ds.labels[:2], ds.terms, ds.term_ancestors, ds.go, ds.go_terms, ds.splits)
    bad_splits = ds.splits.assign(random=["train", "dev", "test"])
    with pytest.raises(GenePhenoError, match="dev"):
        Dataset("bad", ds.genes, ds.labels, ds.terms, ds.term_ancestors, ds.go, ds.go_terms, bad_splits)


def test_tab_in_a_cell_is_refused(tmp_path):
    ds = three_gene_dataset()
    ds.terms.loc[0, "name"] = "a\tb"
    with pytest.raises(GenePhenoError, match="tab or newline"):
        save_dataset(ds, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_non_binary_matrix_is_refused(tmp_path):
    ds = three_gene_dataset()
    ds.labels = ds.labels.astype(np.int32) * 2
    with pytest.raises(GenePhenoError, match="binary"):
        save_dataset(ds, tmp_path / "x")


def test_split_vocabulary_counts_training_genes_only():
    # T:3 is carried by g2 (valid) and g3 (test) only in the random split: it reaches
    # min_genes=1 only with genes it would be scored on, so that split neither trains nor
    # scores it; in the homology split g2 is a training gene and T:3 stays
    ds = three_gene_dataset()
    assert ds.split_vocabulary("random").tolist() == [True, True, False]
    assert ds.split_vocabulary("homology").tolist() == [True, True, True]
    restricted = ds.for_split("random")
    assert restricted.terms["term_id"].tolist() == ["T:1", "T:2"]
    assert restricted.labels.toarray().tolist() == [[1, 1], [1, 0], [0, 0]]
    assert restricted.term_ancestors.toarray().tolist() == [[0, 0], [1, 0]]
    assert restricted.manifest["vocabulary"] == {"split": "random", "terms": 2, "terms_not_in_train": 1}
    assert ds.n_terms == 3 and "vocabulary" not in ds.manifest  # the original is untouched
    assert ds.for_split("homology") is ds
    # min_genes from the build config: with 2, T:1 (1 training gene in random) goes too
    ds.manifest["config"]["min_genes"] = 2
    assert ds.split_vocabulary("homology").tolist() == [True, False, False]


def test_with_terms_of_finds_the_split_vocabulary():
    ds = three_gene_dataset()
    assert ds.with_terms_of(["T:1", "T:2", "T:3"]) is ds
    assert ds.with_terms_of(["T:1", "T:2"], "random").terms["term_id"].tolist() == ["T:1", "T:2"]
    assert ds.with_terms_of(["T:9"], "random") is ds  # no match: the caller's check names it
