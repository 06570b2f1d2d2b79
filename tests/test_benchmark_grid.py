"""genepheno_core.benchmark.grid: the runner on a toy dataset with a fake trainer: cells, resume, metrics, tables."""

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from genepheno_core.evaluation import evaluate_scores, information_accretion
from genepheno_core.benchmark.config import BenchmarkConfig, cell_id
from genepheno_core.benchmark.grid import collect_cells, evaluate_cell, plan_cells, run_benchmark, subsample_dataset
from genepheno_core.benchmark.tables import summarize


@dataclass
class ToyDataset:
    """The fields of datasets.Dataset the benchmark uses."""

    name: str
    genes: pd.DataFrame
    labels: sp.csr_matrix
    terms: pd.DataFrame
    term_ancestors: sp.csr_matrix
    go: sp.csr_matrix
    splits: pd.DataFrame
    manifest: dict = field(default_factory=dict)


def toy_dataset(name="toy", n=60, seed=0):
    rng = np.random.default_rng(seed)
    # terms: 0 = A, 1 = B (child of A), 2 = C (child of B), 3 = D (child of A)
    anc = sp.csr_matrix(np.array([[0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=np.uint8))
    leaf = rng.random((n, 4)) < [0.0, 0.2, 0.3, 0.3]
    labels = leaf.copy()
    labels[:, 1] |= labels[:, 2]
    labels[:, 0] |= labels[:, 1] | labels[:, 3]
    splits = np.array(["train"] * (n - 20) + ["valid"] * 5 + ["test"] * 15)
    return ToyDataset(
        name=name,
        genes=pd.DataFrame({"gene_id": [f"G{i}" for i in range(n)], "symbol": "x", "accession": "P0", "sequence": "MK"}),
        labels=sp.csr_matrix(labels.astype(np.uint8)),
        terms=pd.DataFrame({"term_id": ["T:A", "T:B", "T:C", "T:D"], "name": list("ABCD"), "n_genes": labels.sum(0), "depth": [1, 2, 3, 2]}),
        term_ancestors=anc,
        go=sp.csr_matrix((n, 3), dtype=np.uint8),
        splits=pd.DataFrame({"random": splits, "homology": splits[::-1]}),
        manifest={"releases": {"toy": "2025"}, "inputs": [{"filename": "toy.txt", "sha256": "abc"}], "_path": "/x"},
    )


def fake_trainer(calls):
    def train_and_predict(ds, method, encoder, split, seed, config):
        calls.append((ds.name, method, split, seed))
        test = ds.splits[split].to_numpy() == "test"
        y = ds.labels[test].toarray().astype(float)
        rng = np.random.default_rng(seed)
        noise = {"naive": 1.0, "genepheno": 0.2, "genepheno-no-go": 0.5}[method]
        scores = np.clip((1 - noise) * y + noise * rng.random(y.shape), 0, 1)
        return scores, {"epochs": 3, "method": method}

    return train_and_predict


def test_plan_cells_default_splits():
    cfg = BenchmarkConfig(datasets=("hpo", "hpo-temporal"), methods=("naive",), seeds=(0, 1))
    cells = plan_cells(cfg)
    assert ("hpo", "homology", "naive", 1) in cells and ("hpo-temporal", "temporal", "naive", 0) in cells
    assert len(cells) == 2 * 2 + 1 * 2
    assert not any(c[0] == "hpo-temporal" and c[1] != "temporal" for c in cells)


def test_run_benchmark_writes_cells_resumes_and_tables(tmp_path):
    calls = []
    datasets = {"toy": toy_dataset()}
    cfg = BenchmarkConfig(datasets=("toy",), methods=("naive", "genepheno", "genepheno-no-go"), splits=("random",), seeds=(0, 1))
    trainer = fake_trainer(calls)
    # The toy dataset name is not one of the real ones: its default splits are random + homology
    df = run_benchmark(cfg, tmp_path, command="cmd --x", train_and_predict=trainer, load_dataset=datasets.__getitem__)
    assert len(calls) == 5 and len(df) == 6  # naive ignores the seed: computed once, reused
    cell = tmp_path / "cells" / f"{cell_id('toy', 'random', 'genepheno', 1)}.json"
    rec = json.loads(cell.read_text())
    assert rec["wall_time_s"] >= 0 and rec["peak_rss_mb"] > 0 and rec["info"]["epochs"] == 3

    # the cell's metrics are evaluate_scores on the test rows, IA from the training rows
    ds = datasets["toy"]
    test = ds.splits["random"].to_numpy() == "test"
    scores, _ = fake_trainer([])(ds, "genepheno", "x", "random", 1, {})
    expect = evaluate_scores(
        ds.labels[test], scores, term_ancestors=ds.term_ancestors,
        ia=information_accretion(ds.labels[ds.splits["random"].to_numpy() == "train"], ds.term_ancestors),
        term_counts=ds.terms["n_genes"].to_numpy(),
    )
    assert rec["metrics"]["fmax"] == pytest.approx(expect["fmax"])
    assert rec["metrics"]["smin"] == pytest.approx(expect["smin"])

    # resume: nothing is recomputed; a deleted cell is recomputed alone
    calls.clear()
    run_benchmark(cfg, tmp_path, train_and_predict=trainer, load_dataset=datasets.__getitem__)
    assert calls == []
    cell.unlink()
    run_benchmark(cfg, tmp_path, command="cmd --x", train_and_predict=trainer, load_dataset=datasets.__getitem__)
    assert calls == [("toy", "genepheno", "random", 1)]

    md = (tmp_path / "benchmark.md").read_text()
    assert "cmd --x" in md and "## Ablations" in md and "11-30" in md and '"sha256": "abc"' in md
    assert "_path" not in md
    csv = pd.read_csv(tmp_path / "benchmark.csv")
    assert set(csv.method) == {"naive", "genepheno", "genepheno-no-go"} and len(csv) == 6
    payload = json.loads((tmp_path / "benchmark.json").read_text())
    assert payload["command"] == "cmd --x" and len(payload["cells"]) == 6
    assert payload["commands"] == ["cmd --x"]
    s = summarize(collect_cells(tmp_path))
    g = s[s.method == "genepheno"].iloc[0]
    n = s[s.method == "naive"].iloc[0]
    assert g.fmax_mean > n.fmax_mean and g.n_seeds == 2
    assert g.fmax_sd == pytest.approx(np.std(csv[csv.method == "genepheno"].fmax, ddof=1))


def test_cells_of_another_configuration_are_rerun(tmp_path):
    calls = []
    datasets = {"toy": toy_dataset()}
    trainer = fake_trainer(calls)
    cfg = BenchmarkConfig(datasets=("toy",), methods=("naive", "genepheno"), splits=("random",), seeds=(0,))
    run_benchmark(cfg, tmp_path, train_and_predict=trainer, load_dataset=datasets.__getitem__)
    assert len(calls) == 2
    # a GenePheno option changes the genepheno cell only; the naive cell stays valid
    calls.clear()
    changed = BenchmarkConfig(datasets=("toy",), methods=("naive", "genepheno"), splits=("random",), seeds=(0,),
                              train_config={"lambda_excl": 0.5})
    run_benchmark(changed, tmp_path, train_and_predict=trainer, load_dataset=datasets.__getitem__)
    assert calls == [("toy", "genepheno", "random", 0)]
    rec = json.loads((tmp_path / "cells" / f"{cell_id('toy', 'random', 'genepheno', 0)}.json").read_text())
    assert rec["config_key"]["lambda_excl"] == 0.5
    # a cell written before config keys existed counts as stale
    path = tmp_path / "cells" / f"{cell_id('toy', 'random', 'naive', 0)}.json"
    old = json.loads(path.read_text())
    del old["config_key"]
    path.write_text(json.dumps(old))
    calls.clear()
    run_benchmark(changed, tmp_path, train_and_predict=trainer, load_dataset=datasets.__getitem__)
    assert calls == [("toy", "naive", "random", 0)]


def test_tables_leave_out_cells_of_another_configuration(tmp_path):
    calls = []
    datasets = {"toy": toy_dataset()}
    trainer = fake_trainer(calls)
    old = BenchmarkConfig(datasets=("toy",), methods=("naive", "genepheno", "genepheno-no-go"), splits=("random",),
                          seeds=(0,), train_config={"lambda_excl": 0.5})
    run_benchmark(old, tmp_path, train_and_predict=trainer, load_dataset=datasets.__getitem__)
    # the current defaults rerun genepheno only; the stale genepheno-no-go cell is not in the tables
    new = BenchmarkConfig(datasets=("toy",), methods=("naive", "genepheno"), splits=("random",), seeds=(0,))
    df = run_benchmark(new, tmp_path, train_and_predict=trainer, load_dataset=datasets.__getitem__)
    assert sorted(df.method) == ["genepheno", "naive"]
    assert df.attrs["stale"] == [cell_id("toy", "random", "genepheno-no-go", 0)]
    assert len(collect_cells(tmp_path)) == 3  # without a configuration every cell is read
    md = (tmp_path / "benchmark.md").read_text()
    assert "Left out: 1 cells" in md and "genepheno-no-go" not in md.split("Left out")[0]


def test_seed_independent_methods_reuse_one_cell(tmp_path):
    calls = []
    datasets = {"toy": toy_dataset()}
    cfg = BenchmarkConfig(datasets=("toy",), methods=("naive", "genepheno"), splits=("random",), seeds=(0, 1, 2))
    df = run_benchmark(cfg, tmp_path, train_and_predict=fake_trainer(calls), load_dataset=datasets.__getitem__)
    # naive is computed once, genepheno once per seed
    assert sorted(calls) == sorted([("toy", "naive", "random", 0)] + [("toy", "genepheno", "random", s) for s in (0, 1, 2)])
    naive = df[df.method == "naive"]
    assert sorted(naive.seed) == [0, 1, 2] and naive.fmax.nunique() == 1
    rec = json.loads((tmp_path / "cells" / f"{cell_id('toy', 'random', 'naive', 2)}.json").read_text())
    assert rec["seed"] == 2 and rec["info"]["reused_from_seed"] == 0


def test_failing_cell_is_recorded_and_skipped(tmp_path):
    def broken(ds, method, *a):
        raise RuntimeError("no GPU today")

    cfg = BenchmarkConfig(datasets=("toy",), methods=("naive",), splits=("random",), seeds=(0,))
    df = run_benchmark(cfg, tmp_path, train_and_predict=broken, load_dataset=lambda n: toy_dataset())
    assert df.empty
    assert "no GPU today" in (tmp_path / "failed" / "toy__random__naive__seed0.txt").read_text()


def test_wrong_score_shape_fails_the_cell(tmp_path):
    cfg = BenchmarkConfig(datasets=("toy",), methods=("naive",), splits=("random",), seeds=(0,))
    with pytest.raises(ValueError, match="expected"):
        run_benchmark(cfg, tmp_path, train_and_predict=lambda *a: (np.zeros((2, 2)), {}),
                      load_dataset=lambda n: toy_dataset(), keep_going=False)


def test_subsample_dataset_keeps_rows_aligned():
    ds = toy_dataset(n=60)
    sub = subsample_dataset(ds, 20, seed=1)
    assert len(sub.genes) == 20 and sub.labels.shape == (20, 4) and sub.go.shape[0] == 20 and len(sub.splits) == 20
    idx = [int(g[1:]) for g in sub.genes.gene_id]
    np.testing.assert_array_equal(sub.labels.toarray(), ds.labels[idx].toarray())
    assert subsample_dataset(ds, 100) is ds


def test_evaluate_cell_follows_trainer_test_index():
    ds = toy_dataset()
    test = np.flatnonzero(ds.splits["random"].to_numpy() == "test")
    scores = np.random.default_rng(0).random((len(test), 4))
    a = evaluate_cell(ds, "random", scores)
    b = evaluate_cell(ds, "random", scores[::-1], test_index=test[::-1])
    assert a["fmax"] == pytest.approx(b["fmax"]) and a["auc"] == pytest.approx(b["auc"])
    with pytest.raises(ValueError, match="test genes"):
        evaluate_cell(ds, "random", scores, test_index=test + 1)


def test_cells_carry_the_v2_metrics():
    ds = toy_dataset()
    test = np.flatnonzero(ds.splits["random"].to_numpy() == "test")
    scores = np.random.default_rng(1).random((len(test), 4))
    m = evaluate_cell(ds, "random", scores)
    assert 0 <= m["wfmax"] <= 1 and 0 <= m["top10_precision"] <= 1
    # IC from training frequencies: a term carried by every training gene adds nothing
    labels = sp.csr_matrix(ds.labels)[ds.splits["random"].to_numpy() == "train"].toarray()
    freq = labels.mean(axis=0)
    ic = -np.log2(np.where(freq > 0, freq, 1))
    assert m["top10_ic"] <= ic.max() + 1e-12
