"""scripts/validation_learning_curve.py: the training-gene subsample keeps the validation and
test genes and the full training set's vocabulary; the table on hand-made runs."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from _interpret_toy import toy_dataset

_PATH = Path(__file__).resolve().parents[1] / "scripts" / "validation_learning_curve.py"
_spec = importlib.util.spec_from_file_location("validation_learning_curve", _PATH)
mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mod)


def _ids(ds, part):
    return set(ds.genes["gene_id"].iloc[ds.split_indices(part, "random")])


def test_training_subset_keeps_evaluation_genes_and_vocabulary():
    ds, _, _ = toy_dataset()
    ds.manifest = {"config": {"min_genes": 17}}  # drops the toy terms with 15-16 training genes
    full = ds.for_split("random")
    assert len(full.terms) < len(ds.terms)
    n_train = len(_ids(ds, "train"))
    for fraction in (0.25, 0.5, 1.0):
        sub = mod.training_subset(ds, "random", fraction, seed=0)
        assert _ids(sub, "valid") == _ids(ds, "valid") and _ids(sub, "test") == _ids(ds, "test")
        assert _ids(sub, "train") <= _ids(ds, "train") and len(_ids(sub, "train")) == round(fraction * n_train)
        # the full training set's terms, kept by training on the subset (for_split returns it as is)
        assert list(sub.terms["term_id"]) == list(full.terms["term_id"])
        assert sub.for_split("random") is sub
        # every gene stays (the dropped ones marked unused) with its own labels
        assert list(sub.genes["gene_id"]) == list(full.genes["gene_id"])
        assert (sub.labels.toarray() == full.labels.toarray()).all()
        assert (sub.splits["random"] == "unused").sum() == n_train - len(_ids(sub, "train"))
    assert (ds.splits["random"] != "unused").all()  # the caller's dataset is not changed
    again = mod.training_subset(ds, "random", 0.5, seed=0)
    other = mod.training_subset(ds, "random", 0.5, seed=1)
    assert _ids(again, "train") == _ids(mod.training_subset(ds, "random", 0.5, seed=0), "train")
    assert _ids(again, "train") != _ids(other, "train")
    with pytest.raises(ValueError, match="fraction"):
        mod.training_subset(ds, "random", 0.0, seed=0)


def test_table_rows():
    runs = [{"key": {"dataset": "hpo", "split": "random", "seed": 0, "fraction": 0.5, "ablations": ["seq-only"]},
             "train_genes": 1500, "valid": {"fmax": 0.38123, "auc": 0.6651}},
            {"key": {"dataset": "hpo", "split": "random", "seed": 1, "fraction": 1.0},
             "train_genes": 3000, "valid": {"fmax": 0.4, "auc": np.float64(0.7)}}]
    lines = mod.table(runs)
    assert lines[2] == '| {"ablations": ["seq-only"]} | 0 | 0.5 | 1500 | 38.12 | 66.51 |'
    assert lines[3] == "| defaults | 1 | 1 | 3000 | 40.00 | 70.00 |"
