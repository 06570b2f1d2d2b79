"""Build the default model(s) shipped in assets/ (what `make default-model` runs).

For each dataset (default: hpo): train GenePheno with the project's trainer on the
random split (sequence embeddings from the shared cache), store the explain/ extras
(term ancestors, training proteins, GO closure, exclusive pairs), measure test metrics
sequence-only and with GO, compare fp32 with fp16 and int8 weights (the smallest whose
test Fmax and AUC move by less than 0.002 is kept), run the interpretability check, add the exclusive pairs'
co-prediction rate on test genes, and copy the checkpoint to assets/models/<dataset>/
(with --go-transfer: the model trained on GO transferred from sequence homologs, for proteins
given without GO, to assets/models/<dataset>-go-transfer/; --rescore, --score-homolog-go and
--refresh-interpretability then act on those). Also writes assets/case_studies.json (hpo).

    python scripts/build_default_model.py [--dataset hpo] [--encoder unirep256] [--skip-train]

Needs GENEPHENO_MIRROR (or built datasets under GENEPHENO_HOME).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

logger = logging.getLogger("build_default_model")

# Well-known disease genes; each is kept when it is in the dataset (reason shown in the dashboard).
CASE_STUDIES = {
    "FBN1": "Marfan syndrome: a classic multi-system phenotype (skeletal, ocular, cardiovascular) from one extracellular-matrix gene",
    "CFTR": "Cystic fibrosis: an ion channel whose loss gives respiratory, digestive and reproductive phenotypes",
    "DMD": "Duchenne muscular dystrophy: a huge (3,685 aa) muscle protein; tests long-sequence handling",
    "TP53": "Li-Fraumeni syndrome: the best-known tumour suppressor, cancer-predisposition phenotypes",
    "PAX6": "Aniridia: a developmental transcription factor with eye-restricted phenotypes",
    "MECP2": "Rett syndrome: a chromatin regulator with neurodevelopmental phenotypes",
    "SCN1A": "Dravet syndrome: a sodium channel; seizures and epileptic encephalopathy",
    "COL1A1": "Osteogenesis imperfecta: collagen, bone fragility and connective-tissue phenotypes",
    "PTEN": "PTEN hamartoma tumour syndrome: a phosphatase with overgrowth, macrocephaly and cancer phenotypes",
    "NF1": "Neurofibromatosis type 1: a RAS-GAP with skin, nerve-sheath tumour and learning phenotypes",
    "HBB": "Beta-thalassaemia / sickle cell: a small globin with haematological phenotypes only",
    "RET": "MEN2 / Hirschsprung: a receptor tyrosine kinase whose gain and loss give opposite phenotypes",
    "KCNQ1": "Long QT syndrome: a potassium channel with cardiac (and inner-ear) phenotypes",
    "GJB2": "Connexin 26: the commonest genetic hearing loss, a small protein with a narrow phenotype",
    # held out: test-split genes of the random split (the model never saw their phenotypes)
    "FMR1": "Fragile X syndrome: an RNA-binding protein with intellectual disability and autism phenotypes (held out)",
    "STK11": "Peutz-Jeghers syndrome: a kinase with intestinal hamartomas, pigmentation and cancer risk (held out)",
    "STXBP1": "Developmental and epileptic encephalopathy: a synaptic vesicle protein (held out)",
    "F8": "Haemophilia A: a coagulation factor with bleeding phenotypes only (held out)",
    "PHEX": "X-linked hypophosphataemia: an endopeptidase with rickets and bone phenotypes (held out)",
    "DYSF": "Limb-girdle muscular dystrophy R2 / Miyoshi myopathy: a muscle membrane-repair protein (held out)",
}


def _metrics(y, scores, ancestors, counts) -> dict:
    from genepheno_core.evaluation.metrics import evaluate_scores

    m = evaluate_scores(y, scores, term_ancestors=ancestors, term_counts=counts)
    keep = ("fmax", "threshold", "precision", "recall", "coverage", "auc", "aupr", "smin")
    out = {k: float(m[k]) for k in keep if k in m}
    for key in ("auc_bins", "auc_by_bin", "auc_by_frequency"):
        if key in m:
            out["auc_bins"] = m[key]
    return out


def homolog_go_sets(model, ds, rows) -> list[dict | None]:
    """Per gene of `rows`: {GO input id: weight} transferred from its sequence homologs, as
    `predict` gives a protein without GO, but never from the gene's own protein or from
    annotations projected from it (the benchmark's pasted-protein rule)."""
    from genepheno_core.models.go_transfer import transfer_go

    genes = ds.genes.iloc[rows]
    reference, closure = model.go_reference()
    transfer = transfer_go(genes["sequence"].tolist(), reference, closure,
                           exclude_accessions=genes["accession"].fillna("").astype(str).tolist(),
                           with_from_ids=[[g] for g in genes["gene_id"].astype(str)], cache=True,
                           max_hits=model.go_transfer_max_hits)
    bag = transfer.reindex(model.go_inputs)  # (n, G)
    return [{model.go_inputs[j]: float(v) for j, v in zip(bag.indices[bag.indptr[r]:bag.indptr[r + 1]],
                                                           bag.data[bag.indptr[r]:bag.indptr[r + 1]])} or None
            for r in range(len(rows))]


def test_evaluator(ds, encoder: str, model):
    """evaluate(model) -> (sequence-only metrics, metrics with GO, sequence-only scores,
    metrics with GO from homologs) on the test genes of the random split (the inputs are
    computed once, for `model`'s GO release)."""
    from genepheno_core.embeddings import embed_sequences
    from genepheno_core.interpret.inference import propagate_go

    test = ds.split_indices("test", "random")
    emb = embed_sequences(ds.genes["sequence"].tolist(), encoder, cache=True)[test]
    go_ids = ds.go_terms["go_id"].astype(str).to_numpy()
    go_sets = [set(go_ids[ds.go[i].indices]) or None for i in test]
    go_sets = [propagate_go(model, g) if g else None for g in go_sets]
    y = ds.labels[test]
    counts = ds.terms["n_genes"].to_numpy()
    seqs = [str(ds.genes["sequence"].iloc[i]) for i in test]  # the ortholog input is a DIAMOND search
    homolog_sets = homolog_go_sets(model, ds, test)

    def evaluate(m) -> tuple[dict, dict, np.ndarray, dict]:
        seq_scores = m.probabilities(emb, sequences=seqs)
        go_scores = m.probabilities(emb, go_sets=go_sets, sequences=seqs)
        homolog_scores = m.probabilities(emb, go_sets=homolog_sets, sequences=seqs)
        return (_metrics(y, seq_scores, ds.term_ancestors, counts),
                _metrics(y, go_scores, ds.term_ancestors, counts), seq_scores,
                _metrics(y, homolog_scores, ds.term_ancestors, counts))

    return evaluate


def rescore(dataset_name: str, encoder: str, tolerance: float = 1e-6, suffix: str = "") -> bool:
    """Re-score the shipped model assets/models/<dataset> on its test split and compare with
    the test metrics stored in its metrics.json (a refactoring must not move them); prints a
    table and returns whether every metric is within `tolerance`."""
    from genepheno_core.datasets import load_dataset
    from genepheno_core.training import load_model

    path = REPO / "assets" / "models" / f"{dataset_name}{suffix}"  # suffix "-go-transfer": that model
    model = load_model(path)
    stored = json.loads((path / "metrics.json").read_text())["test"]
    ds = load_dataset(dataset_name).with_terms_of(model.terms["term_id"], "random")
    seq, go, _, homologs = test_evaluator(ds, encoder, model)(model)
    ok = True
    print(f"| {dataset_name}{suffix} | input | metric | stored | recomputed | difference |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, now in (("seq_only", seq), ("with_go", go), ("go_from_homologs", homologs)):
        if label not in stored:
            print(f"| | {label} | (not stored: `--score-homolog-go` adds it) | | | |")
            continue
        for key in ("fmax", "auc", "aupr", "smin", "threshold"):
            before, after = float(stored[label][key]), float(now[key])
            ok &= abs(before - after) <= tolerance * max(1.0, abs(before))
            print(f"| | {label} | {key} | {before:.8f} | {after:.8f} | {after - before:+.1e} |")
    return ok


def score_homolog_go(dataset_name: str, encoder: str, suffix: str = "") -> None:
    """Add the test metrics with GO transferred from sequence homologs (what a pasted protein
    gets) to the shipped model's metrics.json, without retraining it."""
    from genepheno_core.datasets import load_dataset
    from genepheno_core.io import atomic_write_text
    from genepheno_core.training import load_model

    path = REPO / "assets" / "models" / f"{dataset_name}{suffix}"  # suffix "-go-transfer": that model
    model = load_model(path)
    ds = load_dataset(dataset_name).with_terms_of(model.terms["term_id"], "random")
    _, _, _, homologs = test_evaluator(ds, encoder, model)(model)
    metrics = json.loads((path / "metrics.json").read_text())
    metrics["test"]["go_from_homologs"] = homologs
    atomic_write_text(path / "metrics.json", json.dumps(metrics, indent=1, default=float))
    print(f"{dataset_name}: test Fmax {homologs['fmax']:.4f} AUC {homologs['auc']:.4f} with GO from homologs "
          f"(sequence only {metrics['test']['seq_only']['fmax']:.4f} / {metrics['test']['seq_only']['auc']:.4f}, "
          f"with GO {metrics['test']['with_go']['fmax']:.4f} / {metrics['test']['with_go']['auc']:.4f})")


def refresh_interpretability(dataset_name: str, suffix: str = "") -> None:
    """Rerun the interpretability check (concept correlation, homolog-phenotype plausibility,
    concentration and deletion check on the random split's test genes) on the shipped model,
    store its mapping relation and its other-species ancestor table in explain/ and its summary
    in metrics.json (no retraining)."""
    from genepheno_core.datasets import load_dataset
    from genepheno_core.interpret.case_studies import interpretability_check
    from genepheno_core.interpret.model_store import write_mapping_relation, write_ortholog_ancestors
    from genepheno_core.io import atomic_write_text
    from genepheno_core.training import load_model

    path = REPO / "assets" / "models" / f"{dataset_name}{suffix}"  # suffix "-go-transfer": that model
    write_mapping_relation(path)
    write_ortholog_ancestors(path)
    summary, _ = interpretability_check(load_model(path), dataset=load_dataset(dataset_name), split="random")
    metrics = json.loads((path / "metrics.json").read_text())
    metrics["interpretability"] = summary
    if isinstance(metrics.get("default_model_build"), dict):
        metrics["default_model_build"]["interpretability"] = summary
    atomic_write_text(path / "metrics.json", json.dumps(metrics, indent=1, default=float))
    print(f"{dataset_name}: {json.dumps(summary, default=float)}")


def build(dataset_name: str, encoder: str, skip_train: bool, threads: int, max_epochs: int | None,
          go_transfer: bool = False) -> Path:
    """Train, measure, compress and ship one default model; with `go_transfer`, the model
    trained (and scored) on GO transferred from sequence homologs instead of the genes' own,
    shipped as assets/models/<dataset>-go-transfer (chosen on validation for proteins given
    without GO: the benchmark's "A protein without GO" table). That model is the
    "go-neighbours" configuration: the go-transfer network plus the functional-neighbour vote,
    whose weight the trainer chooses on the validation genes (0 leaves the network alone)."""
    import torch

    from genepheno_core.datasets import load_dataset
    from genepheno_core.interpret.case_studies import interpretability_check
    from genepheno_core.interpret.model_store import write_explain_extras
    from genepheno_core.interpret.graphs import pair_coprediction
    from genepheno_core.io import genepheno_home
    from genepheno_core.training import TrainConfig, load_model, train

    torch.set_num_threads(threads)
    ds = load_dataset(dataset_name)
    suffix = "-go-transfer" if go_transfer else ""
    build_dir = genepheno_home() / "models" / f"default-{dataset_name}-{encoder}{suffix}"
    config = TrainConfig(dataset=dataset_name, encoder=encoder, split="random", out_dir=str(build_dir),
                         num_threads=threads, resume=True, ablations=("go-neighbours",) if go_transfer else ())
    if max_epochs:
        config = config.replace(max_epochs=max_epochs)
    t0 = time.time()
    if not (skip_train and (build_dir / "config.json").exists()):
        logger.info("training %s on %s (%s)", config.run_name, dataset_name, encoder)
        train(config, dataset=ds)
    train_seconds = time.time() - t0
    write_explain_extras(build_dir, ds, split="random")

    # test metrics: sequence only (what a pasted sequence gets) and with GO annotations
    model = load_model(build_dir)
    ds = ds.with_terms_of(model.terms["term_id"], "random")  # the training-genes vocabulary
    report = {"train_seconds": round(train_seconds, 1), "n_test": int(ds.split_indices("test", "random").size),
              "trained_on": "GO transferred from sequence homologs" if go_transfer else "own GO"}
    evaluate = test_evaluator(ds, encoder, model)
    fp32_seq, fp32_go, seq_scores, fp32_homologs = evaluate(model)
    report["test_seq_only_fp32"], report["test_with_go_fp32"] = fp32_seq, fp32_go
    report["test_go_from_homologs_fp32"] = fp32_homologs

    # compact weights: fp16 (half the size) and int8 with per-row scales for the large
    # matrices (a quarter; checkpoint.quantize_state): keep the smallest whose test metrics
    # move by less than 0.002 from fp32 (issue: each shipped model under 25 MB)
    from safetensors.torch import load_file, save_file

    from genepheno_core.training.checkpoint import quantize_state

    weights = build_dir / "model.safetensors"
    state = load_file(str(weights))
    variants = {"fp16": {k: (v.half() if v.is_floating_point() else v) for k, v in state.items()},
                "int8": quantize_state(state)}
    final, report["weights"] = build_dir, "fp32"
    for name in ("int8", "fp16"):  # smallest first
        vdir = build_dir.with_name(f"{build_dir.name}-{name}")
        shutil.rmtree(vdir, ignore_errors=True)
        shutil.copytree(build_dir, vdir)
        save_file(variants[name], str(vdir / "model.safetensors"))
        v_seq, v_go, v_scores, v_homologs = evaluate(load_model(vdir))
        report[f"test_seq_only_{name}"], report[f"test_with_go_{name}"] = v_seq, v_go
        report[f"test_go_from_homologs_{name}"] = v_homologs
        worst = max(max(abs(fp32_seq[k] - v_seq[k]), abs(fp32_go[k] - v_go[k])) for k in ("fmax", "auc"))
        report[f"{name}_max_metric_change"] = worst
        if worst < 0.002 and report["weights"] == "fp32":
            final, report["weights"], seq_scores = vdir, name, v_scores

    # exclusive pairs: how often both members are predicted above threshold (test genes, seq only)
    pairs_path = final / "explain" / "pairs.tsv"
    if pairs_path.exists():
        import pandas as pd

        pairs = pd.read_csv(pairs_path, sep="\t", dtype={"term_a": str, "term_b": str})
        from genepheno_core.evaluation.metrics import propagate_scores

        prop = propagate_scores(seq_scores, ds.term_ancestors)
        pairs = pair_coprediction(pairs, ds.terms["term_id"].tolist(), prop, model.threshold)
        pairs.to_csv(pairs_path, sep="\t", index=False)
        report["exclusive_pairs"] = int(len(pairs))
        report["exclusive_pairs_both_predicted_mean"] = float(pairs["both_predicted"].mean()) if len(pairs) else 0.0

    final_model = load_model(final)
    summary, _ = interpretability_check(final_model, dataset=ds, split="random")
    report["interpretability"] = summary
    metrics = json.loads((final / "metrics.json").read_text())
    metrics.update({"test": {"seq_only": report[f"test_seq_only_{report['weights']}"],
                             "with_go": report[f"test_with_go_{report['weights']}"],
                             "go_from_homologs": report[f"test_go_from_homologs_{report['weights']}"]},
                    "interpretability": summary, "default_model_build": report})
    (final / "metrics.json").write_text(json.dumps(metrics, indent=1, default=float))

    target = REPO / "assets" / "models" / f"{dataset_name}{suffix}"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(final, target, ignore=shutil.ignore_patterns("homology", "*.partial"))
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    report["size_mb"] = round(size / 2**20, 2)
    logger.info("%s written (%.1f MB): %s", target, size / 2**20, json.dumps(report, default=float)[:2000])
    print(json.dumps(report, indent=1, default=float))
    if dataset_name == "hpo" and not go_transfer:
        write_case_studies(ds)
    return target


def write_case_studies(ds) -> Path:
    """assets/case_studies.json from the genes of CASE_STUDIES found in `ds`."""
    genes = ds.genes
    go_ids = ds.go_terms["go_id"].astype(str).to_numpy()
    term_ids = ds.terms["term_id"].astype(str).to_numpy()
    names = ds.terms["name"].astype(str).to_numpy()
    depth = ds.terms["depth"].to_numpy()
    out = []
    for symbol, why in CASE_STUDIES.items():
        hit = np.flatnonzero(genes["symbol"].astype(str).to_numpy() == symbol)
        if hit.size == 0:
            logger.warning("case study %s not in dataset %s", symbol, ds.name)
            continue
        i = int(hit[0])
        cols = ds.labels[i].indices
        cols = cols[np.argsort(-depth[cols], kind="stable")]  # most specific first
        out.append({
            "symbol": symbol, "accession": str(genes["accession"].iloc[i]), "gene_id": str(genes["gene_id"].iloc[i]),
            "dataset": ds.name, "split": str(ds.splits["random"].iloc[i]), "why": why,
            "sequence": str(genes["sequence"].iloc[i]), "go": sorted(go_ids[ds.go[i].indices].tolist()),
            "phenotypes": term_ids[cols].tolist(), "phenotype_names": names[cols].tolist(),
        })
    path = REPO / "assets" / "case_studies.json"
    doc = {"description": "Well-known disease genes of the hpo dataset for the dashboard. `split` is the "
                          "gene's random-split part: predictions for train genes are not held-out.",
           "dataset_manifest_sha256": ds.manifest.get("sha256"), "genes": out}
    path.write_text(json.dumps(doc, indent=1) + "\n")
    logger.info("%d case studies written to %s", len(out), path)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", action="append", default=None, help="hpo (default) and/or mpo")
    parser.add_argument("--encoder", default="unirep256")
    parser.add_argument("--skip-train", action="store_true", help="reuse an existing build checkpoint")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--go-transfer", action="store_true",
                        help="build the model trained on GO transferred from sequence homologs (for proteins "
                             "given without GO), shipped as assets/models/<dataset>-go-transfer")
    parser.add_argument("--case-studies-only", action="store_true")
    parser.add_argument("--score-homolog-go", action="store_true",
                        help="add the test metrics with GO transferred from sequence homologs to the shipped "
                             "models' metrics.json (no retraining)")
    parser.add_argument("--refresh-interpretability", action="store_true",
                        help="rerun the interpretability check (with the evidence-quality measures) on the "
                             "shipped models and update their metrics.json (no retraining)")
    parser.add_argument("--rescore", action="store_true",
                        help="re-score the shipped models on their test splits against their metrics.json "
                             "(exit 1 if a metric moved by more than 1e-6)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # --go-transfer: the operations below act on the <dataset>-go-transfer models
    suffix = "-go-transfer" if args.go_transfer else ""
    if args.case_studies_only:
        from genepheno_core.datasets import load_dataset

        write_case_studies(load_dataset("hpo"))
        return 0
    if args.score_homolog_go:
        for name in args.dataset or ["hpo", "mpo"]:
            score_homolog_go(name, args.encoder, suffix)
        return 0
    if args.refresh_interpretability:
        for name in args.dataset or ["hpo", "mpo"]:
            refresh_interpretability(name, suffix)
        return 0
    if args.rescore:
        results = [rescore(name, args.encoder, suffix=suffix) for name in args.dataset or ["hpo", "mpo"]]
        return 0 if all(results) else 1
    for name in args.dataset or ["hpo"]:
        build(name, args.encoder, args.skip_train, args.threads, args.max_epochs, go_transfer=args.go_transfer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
