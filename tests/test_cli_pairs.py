"""`python -m genepheno_core pairs` in-process on the tiny fixture dataset."""

import io
from pathlib import Path

import pandas as pd
import pytest

from genepheno_core.cli import main

DATA = Path(__file__).parent / "data" / "models"

pytestmark = pytest.mark.usefixtures("tiny_by_name")  # the tiny dataset as "tiny" (conftest.py)


def test_lists_pairs_with_names_and_rules(capsys):
    assert main(["pairs", "tiny"]) == 0
    captured = capsys.readouterr()
    table = pd.read_csv(io.StringIO(captured.out), sep="\t")
    assert list(table.columns) == ["term_a", "name_a", "term_b", "name_b", "rule", "overlap"]
    assert len(table) == 3
    assert ("Hypoglycemia", "Hyperglycemia", "antonym:hyper/hypo") in set(
        zip(table.name_a, table.name_b, table.rule))
    assert "3 pairs (antonym: 3)" in captured.err
    assert table["overlap"].between(0, 1).all()


def test_user_tsv_and_file_output(tmp_path, capsys):
    out = tmp_path / "pairs.tsv"
    assert main(["pairs", "tiny", "--tsv", str(DATA / "user_pairs.tsv"), "--co-annotation", "--out", str(out)]) == 0
    table = pd.read_csv(out, sep="\t")
    assert "user" in set(table.rule)
    assert "user: 1" in capsys.readouterr().err


def test_bad_tsv(capsys):
    assert main(["pairs", "tiny", "--tsv", str(DATA / "bad_pairs.tsv")]) == 1
    assert "bad_pairs.tsv, line 2" in capsys.readouterr().err
