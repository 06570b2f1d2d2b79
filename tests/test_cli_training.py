"""`python -m genepheno_core train` in-process on the tiny fixture dataset."""

import sys
from pathlib import Path

import pytest

from genepheno_core.cli import main
from genepheno_core.evaluation.cafa_io import read_predictions
from genepheno_core.training import load_model, trainer

sys.path.insert(0, str(Path(__file__).parent / "data" / "models"))
from tiny_dataset import make_tiny_dataset  # noqa: E402


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path / "home"))
    ds = make_tiny_dataset()

    def fake_load(name):
        if name != "tiny":
            from genepheno_core.errors import MissingDataError

            raise MissingDataError(f"no dataset {name!r}")
        return ds

    monkeypatch.setattr(trainer, "load_dataset_by_name", fake_load)
    return ds


def test_train_genepheno_writes_checkpoint_and_predictions(tiny, tmp_path, capsys):
    out, preds = tmp_path / "ck", tmp_path / "test.tsv"
    code = main(["-q", "train", "--dataset", "tiny", "--model", "genepheno", "--encoder", "composition",
                 "--seed", "1", "--max-epochs", "2", "--hidden", "16",
                 "--concept-min-genes", "5", "--go-min-genes", "2", "--out", str(out),
                 "--predictions-out", str(preds), "--no-progress", "--ablation", "no-excl"])
    assert code == 0
    text = capsys.readouterr().out
    assert "validation: Fmax" in text and "concept AUC" in text
    model = load_model(out, dataset=tiny, encoder="composition")
    assert model.config.ablations == ("no-excl",) and model.config.seed == 1
    rows = read_predictions(preds)
    gene, term, score = rows.columns[:3]
    test_genes = set(tiny.genes["gene_id"][tiny.splits["random"] == "test"])
    assert set(rows[gene]) <= test_genes and len(set(rows[gene])) == len(test_genes)
    assert set(rows[term]) <= set(tiny.terms["term_id"])
    assert rows[score].astype(float).between(0, 1).all()


def test_train_baseline(tiny, tmp_path, capsys):
    assert main(["train", "--dataset", "tiny", "--model", "naive", "--out", str(tmp_path / "n"), "--no-progress"]) == 0
    assert "validation: Fmax" in capsys.readouterr().out


def test_errors_without_traceback(tiny, tmp_path, capsys):
    assert main(["train", "--dataset", "nope", "--model", "naive"]) == 1
    assert "error: no dataset 'nope'" in capsys.readouterr().err
    assert main(["train", "--dataset", "tiny", "--model", "naive", "--split", "temporal"]) == 1
    assert "no 'temporal' split" in capsys.readouterr().err
    assert main(["train", "--dataset", "tiny", "--model", "naive", "--ablation", "bce"]) == 1
    assert "ablations apply to --model genepheno only" in capsys.readouterr().err
