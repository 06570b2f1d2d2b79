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


def real_dataset(name="toy", n=60, seed=0, only_test_term=True):
    """toy_dataset as a datasets.Dataset (the vocabulary rule lives there), plus a term T:E
    carried only by test genes when only_test_term."""
    from genepheno_core.datasets import Dataset

    toy = toy_dataset(name, n, seed)
    labels, terms, anc = toy.labels.toarray(), toy.terms, toy.term_ancestors.toarray()
    if only_test_term:
        extra = np.zeros((n, 1), dtype=np.uint8)
        extra[-3:] = 1  # the last 15 genes are the random split's test genes
        labels = np.hstack([labels, extra])
        terms = pd.concat([terms, pd.DataFrame({"term_id": ["T:E"], "name": ["E"], "n_genes": [3], "depth": [1]})],
                          ignore_index=True)
        anc = np.pad(anc, ((0, 1), (0, 1)))
    go_terms = pd.DataFrame({"go_id": ["GO:1", "GO:2", "GO:3"], "name": "g", "namespace": "bp", "depth": 1, "n_genes": 0})
    return Dataset(name, toy.genes, sp.csr_matrix(labels.astype(np.uint8)), terms, sp.csr_matrix(anc.astype(np.uint8)),
                   toy.go, go_terms, toy.splits, {**toy.manifest, "config": {"min_genes": 1}})


def test_cells_train_and_score_the_training_genes_vocabulary(tmp_path):
    seen = []

    def trainer(ds, method, encoder, split, seed, config):
        seen.append(ds.terms["term_id"].tolist())
        y = ds.labels[ds.splits[split].to_numpy() == "test"].toarray().astype(float)
        return y * 0.8 + 0.1, {"term_ids": ds.terms["term_id"].tolist()}

    ds = real_dataset()
    cfg = BenchmarkConfig(datasets=("toy",), methods=("naive",), splits=("random",), seeds=(0,))
    df = run_benchmark(cfg, tmp_path, train_and_predict=trainer, load_dataset=lambda name: ds)
    # T:E exists only among test genes: neither trained nor scored, and counted
    assert seen == [["T:A", "T:B", "T:C", "T:D"]]
    assert df.loc[0, "n_terms"] == 4 and df.loc[0, "terms_not_in_train"] == 1
    # a trainer that scores another vocabulary is an error, not a silent misalignment
    bad = lambda d, m, e, s, sd, c: (np.zeros((15, 5)), {"term_ids": ["T:A", "T:B", "T:C", "T:D", "T:E"]})  # noqa: E731
    with pytest.raises(ValueError, match="another vocabulary"):
        run_benchmark(cfg, tmp_path / "bad", train_and_predict=bad, load_dataset=lambda name: ds, keep_going=False)


def test_a_rebuilt_dataset_reruns_its_cells(tmp_path):
    calls = []
    cfg = BenchmarkConfig(datasets=("toy",), methods=("naive",), splits=("random",), seeds=(0,))
    first = real_dataset(only_test_term=False)
    run_benchmark(cfg, tmp_path, train_and_predict=fake_trainer(calls), load_dataset=lambda name: first)
    run_benchmark(cfg, tmp_path, train_and_predict=fake_trainer(calls), load_dataset=lambda name: first)
    assert len(calls) == 1  # same data: resumed
    rebuilt = real_dataset(seed=1, only_test_term=False)  # other labels, same genes and terms
    df = run_benchmark(cfg, tmp_path, train_and_predict=fake_trainer(calls), load_dataset=lambda name: rebuilt)
    assert len(calls) == 2 and len(df) == 1
    # the tables-only path (no fingerprints given) keeps the newest data only
    assert len(collect_cells(tmp_path, cfg)) == 1


def test_evaluate_cell_novel_view_and_exclusion_pairs():
    ds = real_dataset(only_test_term=False)
    test = np.flatnonzero(ds.splits["random"].to_numpy() == "test")
    rng = np.random.default_rng(3)
    scores = rng.random((test.size, 4))
    novel = test[[1, 4, 5, 9]]
    pairs = np.array([[1, 3]])
    out = evaluate_cell(ds, "random", scores, pairs=pairs, novel_rows=novel)
    ia = information_accretion(ds.labels[ds.splits["random"].to_numpy() == "train"], ds.term_ancestors)
    ref = evaluate_scores(ds.labels[novel], scores[[1, 4, 5, 9]], term_ancestors=ds.term_ancestors, ia=ia)
    assert out["novel"]["n_genes"] == 4
    assert out["novel"]["fmax"] == pytest.approx(ref["fmax"]) and out["novel"]["auc"] == pytest.approx(ref["auc"])
    assert out["novel"]["wfmax"] == pytest.approx(ref["wfmax"])
    # pair (B, D): both-true count from the labels by hand
    y = ds.labels[test].toarray().astype(bool)
    assert out["exclusion_n_true"] == int((y[:, 1] & y[:, 3]).sum())


def test_prediction_variant_cells_are_scored_from_their_methods_model(tmp_path):
    """genepheno-pasted: no training of its own; the genepheno cell's model scores it."""
    calls = []
    datasets = {"toy": toy_dataset()}

    def noisier(scores):
        return 0.5 * scores + 0.5 * np.random.default_rng(7).random(scores.shape)

    def trainer(ds, method, encoder, split, seed, config, variants=()):
        scores, info = fake_trainer(calls)(ds, method, encoder, split, seed, config)
        calls[-1] = calls[-1] + (tuple(variants),)
        # the variant's scores: the model's, noisier; evidence measures of each
        info["variant_scores"] = {v: noisier(scores) for v in variants}
        info["valid_metrics"] = {"fmax": 0.5}
        info["variant_valid_metrics"] = {v: {"fmax": 0.4} for v in variants}
        info["test_concept_auc"] = 0.8
        info["evidence"] = {"concentration": {"share": 0.5}, "concentration_grouped": {"share": 0.65},
                            "deletion": {"pass_rate": 0.9},
                            "plausibility": {"share": 0.04, "random_share": 0.01},
                            "concepts": {"median_spearman": 0.3}}
        info["variant_evidence"] = {v: {"concentration": {"share": 0.4}, "deletion": {"pass_rate": 0.8},
                                        "plausibility": {"share": 0.04, "random_share": 0.01},
                                        "concepts": {"median_spearman": 0.3}} for v in variants}
        return scores, info

    cfg = BenchmarkConfig(datasets=("toy",), methods=("genepheno", "genepheno-pasted"), splits=("random",), seeds=(0,))
    run_benchmark(cfg, tmp_path, train_and_predict=trainer, load_dataset=datasets.__getitem__)
    assert calls == [("toy", "genepheno", "random", 0, ("transferred-go",))]  # one training, two cells
    base = json.loads((tmp_path / "cells" / f"{cell_id('toy', 'random', 'genepheno', 0)}.json").read_text())
    variant = json.loads((tmp_path / "cells" / f"{cell_id('toy', 'random', 'genepheno-pasted', 0)}.json").read_text())
    assert variant["method"] == "genepheno-pasted" and variant["info"]["scored_from"] == "genepheno"
    assert variant["config_key"]["method"] == "genepheno-pasted"
    ds = datasets["toy"]
    scores, _ = fake_trainer([])(ds, "genepheno", "x", "random", 0, {})
    expect = evaluate_cell(ds, "random", noisier(scores))
    assert variant["metrics"]["fmax"] == pytest.approx(expect["fmax"])
    assert variant["metrics"]["fmax"] != pytest.approx(base["metrics"]["fmax"])
    # each cell keeps the evidence measures of its own inputs, and the tables read them
    assert base["info"]["evidence"]["concentration"]["share"] == 0.5
    assert variant["info"]["evidence"]["concentration"]["share"] == 0.4
    assert "variant_evidence" not in base["info"]
    # each cell's validation metrics are those of its own inputs (selection reads them)
    assert base["info"]["valid_metrics"] == {"fmax": 0.5} and "valid_inputs" not in base["info"]
    assert variant["info"]["valid_metrics"] == {"fmax": 0.4}
    assert variant["info"]["valid_inputs"] == "transferred-go"
    assert "variant_valid_metrics" not in base["info"] and "variant_valid_metrics" not in variant["info"]
    cells = collect_cells(tmp_path).set_index("method")
    assert cells.loc["genepheno", "evidence_concentration"] == 0.5
    assert cells.loc["genepheno-pasted", "evidence_concentration"] == 0.4
    assert cells.loc["genepheno", "evidence_concentration_grouped"] == 0.65
    assert np.isnan(cells.loc["genepheno-pasted", "evidence_concentration_grouped"])  # not measured there
    assert cells.loc["genepheno-pasted", "evidence_deletion"] == 0.8
    assert cells.loc["genepheno", "evidence_plausibility"] == 0.04
    assert cells.loc["genepheno", "evidence_concept_rho"] == 0.3
    # the concept AUC measured with the model's own inputs is not the variant's
    assert cells.loc["genepheno", "concept_auc"] == 0.8
    assert np.isnan(cells.loc["genepheno-pasted", "concept_auc"])
    # ... and the validation metrics with the inputs they were scored with
    assert (cells.loc["genepheno", "valid_fmax"], cells.loc["genepheno", "valid_inputs"]) == (0.5, "own")
    assert cells.loc["genepheno-pasted", "valid_fmax"] == 0.4
    assert cells.loc["genepheno-pasted", "valid_inputs"] == "transferred-go"
    md = (tmp_path / "benchmark.md").read_text()
    assert "## Evidence quality (GenePheno rows)" in md and "| genepheno (own-GO model, GO from homologs) |" in md
    # resume: nothing to do; a missing variant cell retrains its method once (and rewrites both)
    calls.clear()
    run_benchmark(cfg, tmp_path, train_and_predict=trainer, load_dataset=datasets.__getitem__)
    assert calls == []
    (tmp_path / "cells" / f"{cell_id('toy', 'random', 'genepheno-pasted', 0)}.json").unlink()
    run_benchmark(cfg, tmp_path, train_and_predict=trainer, load_dataset=datasets.__getitem__)
    assert calls == [("toy", "genepheno", "random", 0, ("transferred-go",))]
    # the variant alone asked for: its method is trained for it
    calls.clear()
    only = BenchmarkConfig(datasets=("toy",), methods=("genepheno-pasted",), splits=("random",), seeds=(1,))
    run_benchmark(only, tmp_path, train_and_predict=trainer, load_dataset=datasets.__getitem__)
    assert calls == [("toy", "genepheno", "random", 1, ("transferred-go",))]
    assert set(collect_cells(tmp_path)["method"]) == {"genepheno", "genepheno-pasted"}
