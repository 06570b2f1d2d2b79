"""Case studies file and the interpretability check (enrichment and Spearman by hand)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from _interpret_toy import toy_dataset
from genepheno_core.errors import InputFormatError, MissingDataError
from genepheno_core.interpret import interpretability_check, load_case_studies
from genepheno_core.interpret.case_studies import CASE_COLUMNS, case_studies_path, concept_enrichment


pytestmark = pytest.mark.usefixtures("toy_home")  # GENEPHENO_HOME for the toy model (conftest.py)


def test_load_case_studies_file(tmp_path):
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"genes": [
        {"symbol": "HBB", "accession": "P68871", "sequence": "MVHLTPEEK", "go": ["GO:0005344"],
         "phenotypes": ["HP:0001871", "HP:0001878"], "why": "globin"}]}))
    df = load_case_studies(path)
    assert list(df.columns) == CASE_COLUMNS
    row = df.iloc[0]
    assert row["symbol"] == "HBB" and row["n_phenotypes"] == 2 and row["go"] == ["GO:0005344"]
    assert row["gene_id"] == "P68871"


def test_bad_case_study_files(tmp_path):
    with pytest.raises(MissingDataError):
        load_case_studies(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputFormatError, match="line 1"):
        load_case_studies(bad)
    bad.write_text(json.dumps([{"symbol": "X", "accession": "P1"}]))
    with pytest.raises(InputFormatError, match="sequence"):
        load_case_studies(bad)


def test_shipped_case_studies():
    if not case_studies_path().exists():
        pytest.skip("assets/case_studies.json not built")
    df = load_case_studies()
    assert len(df) >= 10
    assert df["why"].str.len().min() > 10
    assert (df["n_phenotypes"] > 0).all() and df["sequence"].str.match(r"^[A-Z]+$").all()


def test_concept_enrichment_by_hand():
    # 6 genes; term 0 in genes 0-2; concept 0 in genes 0, 1, 3
    Y = sp.csr_matrix(np.array([[1], [1], [1], [0], [0], [0]]))
    C = sp.csr_matrix(np.array([[1], [1], [0], [1], [0], [0]]))
    enrich, keep = concept_enrichment(Y, C, min_genes=3)
    a, b, c, d = 2, 1, 1, 2
    expected = np.log((a + 0.5) / (b + 0.5)) - np.log((c + 0.5) / (d + 0.5))
    assert enrich[0, 0] == pytest.approx(expected)
    assert keep.tolist() == [True]
    _, keep = concept_enrichment(Y, C, min_genes=4)
    assert keep.tolist() == [False]


def test_interpretability_check(model):
    from scipy.stats import spearmanr

    summary, table = interpretability_check(model, min_genes=3)
    assert summary["n_terms"] == len(table) > 0
    assert summary["median_spearman"] == pytest.approx(np.median(table["spearman"]))
    # recompute one term by hand from the dataset's training genes with GO
    ds, _, _ = toy_dataset()
    summary2, table2 = interpretability_check(model, dataset=ds, min_genes=3)
    assert summary2["median_spearman"] == pytest.approx(summary["median_spearman"])
    train = ds.split_indices("train")
    go = ds.go[train].toarray()
    has = go.sum(1) > 0
    cols = [list(ds.go_terms["go_id"]).index(g) for g in model.concepts["go_id"]]
    Y = ds.labels[train].toarray()[has].astype(float)
    C = go[has][:, cols].astype(float)
    term = table["term_id"].iloc[0]
    k = list(model.terms["term_id"]).index(term)
    y = Y[:, k]
    enr = []
    for j in range(C.shape[1]):
        a = (y * C[:, j]).sum(); b = y.sum() - a; c = C[:, j].sum() - a; d = len(y) - a - b - c
        enr.append(np.log((a + .5) / (b + .5)) - np.log((c + .5) / (d + .5)))
    assert table["spearman"].iloc[0] == pytest.approx(spearmanr(model.W_p[k], enr).statistic)
