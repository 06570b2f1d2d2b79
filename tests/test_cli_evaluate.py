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


def test_evaluate_excluded_terms_match_the_benchmark(capsys, tmp_path):
    """A root whose only child (like HP:0000118) every gene carries: --exclude it, or name a
    dataset / model whose manifest has it as label root, and the numbers are evaluate_scores'
    on the arrays without it; the output names the excluded terms and where they come from."""
    from test_evaluation_cafa_io import ROOTED_TERMS, rooted_fixture

    from genepheno_core.evaluation.metrics import evaluate_scores

    obo, truth, pred, y_true, y_score = rooted_fixture(tmp_path)
    ref = evaluate_scores(y_true, y_score)
    args = [str(pred), str(truth), "--ontology", str(obo)]
    manifest = json.dumps({"name": "hpo", "label_root": "HP:0000118"})
    for name in ("ds", "model"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text(manifest)
    assert cli.main(["-q", "evaluate", *args, "--json"]) == 0
    default = json.loads(capsys.readouterr().out)
    assert default["excluded"]["terms"] == ["HP:0000001"] and default["fmax"] > ref["fmax"]
    for option in (["--exclude", "HP:0000118"], ["--dataset", str(tmp_path / "ds")],
                   ["--model", str(tmp_path / "model")]):
        assert cli.main(["-q", "evaluate", *args, *option, "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["excluded"]["terms"] == ["HP:0000001", "HP:0000118"], option
        assert out["n_terms"] == len(ROOTED_TERMS)
        for key in ("fmax", "threshold", "precision", "recall", "coverage", "aupr", "smin", "auc"):
            assert out[key] == pytest.approx(ref[key], abs=1e-12), (option, key)
        assert cli.main(["-q", "evaluate", *args, *option]) == 0
        text = capsys.readouterr().out
        assert f"Fmax        {ref['fmax']:.4f}" in text
        assert "excluded    2 terms: HP:0000001 All, HP:0000118 Phenotypic abnormality" in text
        assert f"exclusion   {out['excluded']['source']}" in text
    assert "label root HP:0000118" in out["excluded"]["source"] and "model" in out["excluded"]["source"]


def test_evaluate_exclude_errors_are_one_line(capsys, tmp_path):
    assert cli.main(["evaluate", *ARGS, "--exclude", "HP:0000118,HP:7654321"]) == 1
    err = capsys.readouterr().err
    assert "--exclude: HP:7654321 not a current term of the ontology" in err and "Traceback" not in err
    assert cli.main(["evaluate", *ARGS, "--model", str(tmp_path / "nope")]) == 1
    assert "no such checkpoint directory" in capsys.readouterr().err
    assert cli.main(["evaluate", *ARGS, "--dataset", "no-such-dataset"]) == 1
    assert "no dataset artifact at 'no-such-dataset'" in capsys.readouterr().err
