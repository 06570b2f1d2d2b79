"""`genepheno evaluate`: in-process through cli.main, on the tiny HPO-like fixtures."""

import json
import math
from pathlib import Path

import pytest

from genepheno_core import cli

DATA = Path(__file__).parent / "data" / "evaluation"
ARGS = [str(DATA / "predictions.tsv"), str(DATA / "truth.tsv"), "--ontology", str(DATA / "tiny_hp.obo")]


def test_evaluate_json(capsys):
    assert cli.main(["-q", "evaluate", *ARGS, "--ia", str(DATA / "ia.tsv"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("fmax", "threshold", "precision", "recall", "coverage", "aupr", "smin", "auc"):
        assert key in out
    # hand-computed in tests/test_evaluation_cafa_io.py::test_evaluate_files_by_hand
    assert out["fmax"] == pytest.approx(92 / 139)
    assert out["threshold"] == pytest.approx(0.01)
    assert out["smin"] == pytest.approx(math.sqrt(2.5**2 + 3.5**2) / 3)
    assert out["auc_bins"] == {}


def test_evaluate_table_and_no_propagate(capsys):
    assert cli.main(["-q", "evaluate", *ARGS]) == 0
    out = capsys.readouterr().out
    assert "Fmax        0.6619" in out and "ignored lines: prediction unknown terms 1" in out
    assert cli.main(["-q", "evaluate", *ARGS, "--no-propagate", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fmax"] == pytest.approx(1 / 3)


def test_evaluate_bad_file_names_file_and_line(capsys):
    bad = [str(DATA / "bad_score.tsv"), *ARGS[1:]]
    assert cli.main(["evaluate", *bad]) == 1
    err = capsys.readouterr().err
    assert "bad_score.tsv, line 2: score 'abc' is not a number" in err
    assert "Traceback" not in err


def test_evaluate_missing_file(capsys, tmp_path):
    assert cli.main(["evaluate", str(tmp_path / "nope.tsv"), *ARGS[1:]]) == 1
    assert "nope.tsv: no such file" in capsys.readouterr().err


def test_evaluate_refuses_empty_predictions_and_prints_warnings(capsys, tmp_path):
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    assert cli.main(["evaluate", str(empty), *ARGS[1:]]) == 1
    err = capsys.readouterr().err
    assert "empty.tsv: no predictions" in err and "Traceback" not in err
    partial = tmp_path / "partial.tsv"
    partial.write_text("G1\tHP:0001250\t0.8\n")
    assert cli.main(["-q", "evaluate", str(partial), *ARGS[1:]]) == 0
    captured = capsys.readouterr()
    assert "warning: only 1 of 3 truth genes have predictions" in captured.out
    assert "WARNING" in captured.err  # and logged
    assert cli.main(["-q", "evaluate", str(partial), *ARGS[1:], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"][0].startswith("only 1 of 3")
