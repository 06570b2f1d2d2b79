"""Validation-only measure of functional neighbours: a protein's phenotypes read from the
training genes whose GO input is most like its own, blended into a trained GenePheno model's
probabilities (prints a Markdown table; the test split is never scored here).

    python scripts/validation_go_neighbours.py --dataset hpo --split homology --seeds 0 \
        --k 50 100 --alpha 0.1 0.2 0.3 --set '{"ablations": ["go-transfer"]}'

For each validation gene: cosine similarity (IDF-weighted over the training genes' own GO,
unit rows) between its GO input bag (for the pasted-protein model: GO transferred from its
DIAMOND homologs, as a new protein gets it) and every training gene's GO input bag (the same
kind of bag the model trained on); the k most similar training genes, each weighted by its
similarity squared, vote with their labels, shrunk towards the phenotype's training frequency
with the weight of one gene:

    n_k = (sum_j w_j y_jk + f_k) / (sum_j w_j + 1)        (n_genes, K)
    p = (1 - alpha) * p_model + alpha * n                  (probabilities)

(this table is the first measurement, the probability average; the model now applies the
vote's excess over the frequency, the third variant of `--blends` below)

`--blends` instead compares ways to add the vote (seed by seed, alpha 0.2 and 0.3, k the first
--k) with Fmax, AUC, wFmax and the top-10 specificity (IC and precision) of the benchmark:
the probability blend above; the same, never below the model; and the vote's excess over the
frequency, bounded (`blend_variants`):

    p' = p + alpha (v - f) (1 - p) / (1 - f)   where v > f   (up towards 1)
    p' = p + alpha (v - f) p / f               where v < f   (down towards 0)

`--from-cells results/cells` prints what each benchmark cell chose (`cell_choices`).

`--cooccurrence` measures one more step after the vote (validation only, not in the model):
each phenotype's score read from the phenotypes the protein is already predicted to have,
through their co-occurrence among the training genes, and added by the vote's rule (the
excess over the frequency, `shift_by_vote`) at each --lam:

    e_t = sum_u q_u P(t | u) / sum_u q_u        P(t | u) = n(t and u) / n(u), training genes

(`cooccurrence_vote`; q is the model's probability after the vote of --similarity at the
first --alpha, k the first --k).

`--similarities` compares what makes two genes neighbours, with the model's rule for adding
the vote (the excess over the frequency) at each --alpha, k the first --k: the GO input, the
homolog-phenotype profile (the model's other-species input: the knockout
phenotypes of a gene's DIAMOND homologs, IDF-weighted over the training genes like the GO),
the mean of the two cosines, and their maximum (`similarity_votes`). The trainer now chooses
among the first three per run on validation (models.go_neighbours.SIMILARITIES).

Each seed's model is trained once and kept as in scripts/validation_ensemble.py (the same
cache: a member trained by either script is reused). On the homology split no training gene
shares a linking alignment with a validation gene, so the neighbours are functional, not
sequence relatives. Results are appended as JSON lines to --out.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# the vote itself is the core's (after the path above, so that the script runs from a clone)
from genepheno_core.models.go_neighbours import (  # noqa: E402,F401
    GoNeighbours,
    idf_weights,
    shift_by_vote,
    top_k_weights,
    unit_rows,
)


def neighbour_scores(query: sp.spmatrix, reference: sp.spmatrix, reference_labels: np.ndarray,
                     idf: np.ndarray, k: int) -> np.ndarray:
    """(n_query, K) neighbour vote n_k above: the k reference rows most similar to each query
    row (cosine of IDF-weighted bags), weights similarity^2, shrunk to the reference
    frequency with the weight of one gene (models.go_neighbours.GoNeighbours.vote, the vote
    the shipped pasted-protein models use)."""
    genes = pd.DataFrame({"gene_id": [str(i) for i in range(reference.shape[0])]})
    return GoNeighbours(reference, sp.csr_matrix(reference_labels), idf, genes, k=k, alpha=0.0).vote(query)


def similarity_votes(go_query: sp.spmatrix, go_reference: sp.spmatrix, go_idf: np.ndarray,
                     orth_query: sp.spmatrix, orth_reference: sp.spmatrix, orth_idf: np.ndarray,
                     reference_labels: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """{name: (n_query, K) vote} with the k neighbours found by the cosine of IDF-weighted GO
    bags, of IDF-weighted homolog-phenotype profiles, the mean of the two cosines, their
    maximum, or a mean weighted 1:3 either way (the vote as GoNeighbours.vote: weights
    similarity^2, shrunk to the frequency)."""
    go = (unit_rows(go_query, go_idf) @ unit_rows(go_reference, go_idf).T).toarray()  # (n_query, N)
    orth = (unit_rows(orth_query, orth_idf) @ unit_rows(orth_reference, orth_idf).T).toarray()  # (n_query, N)
    genes = pd.DataFrame({"gene_id": [str(i) for i in range(go_reference.shape[0])]})
    reference = GoNeighbours(go_reference, sp.csr_matrix(reference_labels), go_idf, genes, k=k, alpha=0.0)
    sims = {"GO input": go, "homolog-phenotype profile": orth, "mean of the two": (go + orth) / 2,
            "max of the two": np.maximum(go, orth), "1/4 GO + 3/4 profile": (go + 3 * orth) / 4,
            "3/4 GO + 1/4 profile": (3 * go + orth) / 4}
    return {name: reference.vote(None, weights=top_k_weights(sim, k)) for name, sim in sims.items()}


def cooccurrence_vote(q: np.ndarray, train_labels) -> np.ndarray:
    """(n, K) e above: each phenotype t's probability read from the protein's predicted
    phenotypes u, weighted q_u, through P(t | u) among the training genes;
    `train_labels` (N, K) binary. A phenotype no training gene has (n(u) = 0) reads nothing."""
    y = sp.csr_matrix(train_labels, dtype=np.float64)
    n_u = np.asarray(y.sum(axis=0)).ravel()  # (K,)
    conditional = (y.T @ y).toarray() / np.maximum(n_u, 1.0)[:, None]  # (K, K) [u, t] = P(t | u)
    w = np.asarray(q, dtype=np.float64) * (n_u > 0)[None, :]  # (n, K)
    return (w @ conditional) / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)


def blend_variants(p: np.ndarray, vote: np.ndarray, prior: np.ndarray, alpha: float) -> dict[str, np.ndarray]:
    """{name: (n, K) scores} of the ways to add the neighbours' vote `vote` (n, K) to the
    model's probabilities `p` (n, K), `prior` (K,) the training frequency (see the docstring)."""
    p = np.asarray(p, dtype=np.float64)
    blend = (1 - alpha) * p + alpha * vote
    excess = shift_by_vote(p, vote, prior, alpha)  # the rule the model applies (models.go_neighbours)
    return {f"probability blend, alpha {alpha}": blend,
            f"probability blend, never below the model, alpha {alpha}": np.maximum(p, blend),
            f"excess over the frequency, bounded, alpha {alpha}": excess}


SHORT = {"GO input": "GO", "homolog phenotypes": "profile", "GO input and homolog phenotypes": "mean"}


def cell_choices(cells: Path) -> list[str]:
    """Markdown rows, one per go-neighbours cell of a benchmark's `cells` directory that chose
    its similarity (key `neighbour_similarities`): validation Fmax / AUC % of the model alone
    and of each similarity at its best alpha (mean of Fmax and AUC, ties the smaller), the
    choice, and the test metrics scored once after it (header first)."""
    rows = ["| dataset, split | seed | model alone | GO input (best alpha) | homolog phenotypes | mean of the two "
            "| chosen | test Fmax / AUC | test top-10 IC |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for path in sorted(Path(cells).glob("*__genepheno-go-neighbours__seed*.json")):
        cell = json.loads(path.read_text())
        if "neighbour_similarities" not in cell.get("config_key", {}):
            continue
        chosen = cell["info"]["valid_metrics"]["go_neighbours"]
        by_similarity = chosen["by_similarity"]

        def best(kind: str) -> str:
            by = by_similarity.get(kind)
            if by is None:
                return "-"
            a = max(by, key=lambda a: ((by[a]["fmax"] + by[a]["auc"]) / 2, -float(a)))
            return f"{100 * by[a]['fmax']:.2f} / {100 * by[a]['auc']:.2f} ({a})"

        alone, m = by_similarity["GO input"]["0.0"], cell["metrics"]
        choice = f"{SHORT[chosen['similarity']]}, {chosen['alpha']}" if chosen["alpha"] > 0 else "none"
        rows.append(f"| {cell['dataset']}, {cell['split']} | {cell['seed']} | {100 * alone['fmax']:.2f} / "
                    f"{100 * alone['auc']:.2f} | " + " | ".join(best(k) for k in SHORT) + f" | {choice} | "
                    f"{100 * m['fmax']:.2f} / {100 * m['auc']:.2f} | {m['top10_ic']:.2f} |")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="hpo")
    parser.add_argument("--split", default="random")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--k", type=int, nargs="+", default=[50])
    parser.add_argument("--alpha", type=float, nargs="+", default=[0.2])
    parser.add_argument("--set", default='{"ablations": ["go-transfer"]}', help="TrainConfig fields as JSON")
    parser.add_argument("--out", default="results/validation_go_neighbours.jsonl")
    parser.add_argument("--similarities", action="store_true",
                        help="compare what makes genes neighbours: GO, homolog-phenotype profile, both (similarity_votes)")
    parser.add_argument("--blends", action="store_true",
                        help="compare the ways to add the vote, with wFmax and top-10 specificity (blend_variants)")
    parser.add_argument("--cooccurrence", action="store_true",
                        help="add the co-occurrence step after the vote at each --lam (cooccurrence_vote)")
    parser.add_argument("--similarity", default="mean of the two",
                        help="with --cooccurrence: the vote's similarity (a name of similarity_votes)")
    parser.add_argument("--lam", type=float, nargs="+", default=[0.1, 0.2, 0.3],
                        help="with --cooccurrence: the step's weights")
    parser.add_argument("--from-cells", metavar="DIR",
                        help="print each go-neighbours cell's validation choice of similarity and alpha from a "
                             "benchmark's cells directory (e.g. results/cells), and exit (cell_choices)")
    args = parser.parse_args(argv)
    if args.from_cells:
        print("\n".join(cell_choices(Path(args.from_cells))))
        return 0
    from validation_ensemble import member_probabilities, parse_fields

    if not all(0.0 <= a <= 1.0 for a in args.lam):
        parser.error(f"--lam must be in [0, 1], got {args.lam}")
    if min(args.k) < 1:
        parser.error(f"--k must be >= 1, got {min(args.k)}")
    if not all(0.0 <= a <= 1.0 for a in args.alpha):
        parser.error(f"--alpha must be in [0, 1], got {args.alpha}")
    fields = parse_fields(parser, args.set)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from genepheno_core.datasets import load_dataset
    from genepheno_core.environment import home
    from genepheno_core.training import TrainConfig
    from genepheno_core.training.trainer import full_metrics, prepare_data

    from validation_evidence import run_key

    ds = load_dataset(args.dataset)
    split_ds = ds.for_split(args.split) if hasattr(ds, "for_split") else ds
    data = prepare_data(split_ds, TrainConfig(dataset=args.dataset, split=args.split, seed=args.seeds[0], **fields))
    if data.go_bag is None:
        raise SystemExit(f"{args.set}: the configuration reads no GO input, so it has no functional neighbours")
    tr, va = data.train, data.valid
    labels = data.labels[tr].toarray()
    own = sp.csr_matrix(split_ds.go, dtype=np.float32)
    columns = {go_id: i for i, go_id in enumerate(split_ds.go_terms["go_id"].astype(str))}
    idf = idf_weights(own[tr][:, [columns[g] for g in data.go_vocab]])

    def scored(p):
        m = full_metrics(data, p, va)
        return {"fmax": float(m["fmax"]), "auc": float(m["auc"])}

    if args.cooccurrence:
        return compare_cooccurrence(args, ds, split_ds, data, idf, labels, fields)
    if args.similarities:
        return compare_similarities(args, ds, split_ds, data, idf, labels, fields)
    votes = {k: neighbour_scores(data.go_bag[va], data.go_bag[tr], labels, idf, k) for k in args.k}
    if args.blends:
        return compare_blends(args, ds, split_ds, data, votes[args.k[0]], labels.mean(axis=0), fields)
    print(f"{args.dataset}, {args.split} split, {json.dumps(fields)}: validation Fmax / AUC %\n")
    print("| seed | k | model | neighbours alone | " + " | ".join(f"alpha {a}" for a in args.alpha) + " |")
    print("| --- | --- | --- | --- |" + " --- |" * len(args.alpha))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        key = run_key(args.dataset, args.split, seed, fields)
        p_model, _ = member_probabilities(Path(home()), ds, args.dataset, args.split, seed, fields)
        model = scored(p_model)
        for k, vote in votes.items():
            alone = scored(vote)
            blends = {a: scored((1 - a) * p_model + a * vote) for a in args.alpha}
            print(f"| {seed} | {k} | {100 * model['fmax']:.2f} / {100 * model['auc']:.2f} "
                  f"| {100 * alone['fmax']:.2f} / {100 * alone['auc']:.2f} | "
                  + " | ".join(f"{100 * b['fmax']:.2f} / {100 * b['auc']:.2f}" for b in blends.values()) + " |")
            with out.open("a") as handle:
                handle.write(json.dumps({"key": {**key, "k": k}, "model": model, "neighbours": alone,
                                         "blends": {str(a): b for a, b in blends.items()}}) + "\n")
    return 0


def _specific_row(truth, scores, term_ancestors, ia, ic, lead: list) -> dict:
    """Fmax, AUC, wFmax and the top-10 specificity of `scores` against `truth` (validation
    genes), printed as one Markdown row after the `lead` cells; returned as a dict."""
    from genepheno_core.evaluation.metrics import evaluate_scores

    m = evaluate_scores(truth, scores, term_ancestors=term_ancestors, ia=ia, ic=ic)
    row = {key: float(m[key]) for key in ("fmax", "auc", "wfmax", "top10_ic", "top10_precision")}
    print("| " + " | ".join(str(c) for c in lead) + f" | {100 * row['fmax']:.2f} | {100 * row['auc']:.2f} "
          f"| {100 * row['wfmax']:.2f} | {row['top10_ic']:.2f} | {100 * row['top10_precision']:.2f} |", flush=True)
    return row


def _votes_and_truth(args, split_ds, data, go_idf, labels):
    """(similarity_votes of the validation genes, k the first --k; the split's labels (CSR);
    information accretion and content over the training genes; the homolog-phenotype input
    (CSR, (n, K'))), or exit naming the configuration when it reads no homolog phenotypes."""
    from genepheno_core.evaluation.metrics import information_accretion, information_content

    if data.ortholog is None:
        raise SystemExit(f"{args.set}: the configuration reads no homolog phenotypes, so there is no profile vote")
    tr, va = data.train, data.valid
    orth = sp.csr_matrix(np.asarray(data.ortholog, dtype=np.float64))  # (n, K') the model's other-species input
    votes = similarity_votes(data.go_bag[va], data.go_bag[tr], go_idf, orth[va], orth[tr],
                             idf_weights(orth[tr] > 0), labels, args.k[0])
    truth = sp.csr_matrix(split_ds.labels)
    ia, ic = information_accretion(truth[tr], split_ds.term_ancestors), information_content(truth[tr])
    return votes, truth, ia, ic, orth


def compare_similarities(args, ds, split_ds, data, go_idf, labels, fields) -> int:
    """Print (and append to --out) the validation metrics of the vote with each kind of
    similarity, added by the model's rule at each --alpha, seed by seed."""
    from genepheno_core.environment import home

    from validation_ensemble import member_probabilities
    from validation_evidence import run_key

    votes, truth, ia, ic, orth = _votes_and_truth(args, split_ds, data, go_idf, labels)
    tr, va = data.train, data.valid
    prior = labels.mean(axis=0)
    with_profile = float(np.mean(np.asarray(orth[va].sum(axis=1)).ravel() > 0))
    print(f"{args.dataset}, {args.split} split, k {args.k[0]}: validation %, top-10 IC in bits "
          f"({with_profile:.0%} of the validation genes have homolog phenotypes)\n")
    print("| seed | neighbours by | alpha | Fmax | AUC | wFmax | top-10 IC | top-10 precision |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        p, _ = member_probabilities(Path(home()), ds, args.dataset, args.split, seed, fields)
        runs = [("(model)", 0.0, None)] + [(name, a, v) for name, v in votes.items() for a in args.alpha]
        for name, alpha, vote in runs:
            scores = np.asarray(p, dtype=np.float64) if vote is None else shift_by_vote(p, vote, prior, alpha)
            row = _specific_row(truth[va], scores, split_ds.term_ancestors, ia, ic, [seed, name, alpha])
            with out.open("a") as handle:
                handle.write(json.dumps({"key": {**run_key(args.dataset, args.split, seed, fields), "k": args.k[0]},
                                         "similarity": name, "alpha": alpha, **row}) + "\n")
    return 0


def compare_cooccurrence(args, ds, split_ds, data, go_idf, labels, fields) -> int:
    """Print (and append to --out) the validation metrics of the model, the model with the vote
    (--similarity, the first --alpha) and that with the co-occurrence step at each --lam."""
    from genepheno_core.environment import home

    from validation_ensemble import member_probabilities
    from validation_evidence import run_key

    votes, truth, ia, ic, _ = _votes_and_truth(args, split_ds, data, go_idf, labels)
    if args.similarity not in votes:
        raise SystemExit(f"--similarity {args.similarity!r}: not one of {', '.join(votes)}")
    va = data.valid
    prior, alpha = labels.mean(axis=0), args.alpha[0]
    print(f"{args.dataset}, {args.split} split, vote by {args.similarity} at alpha {alpha}, k {args.k[0]}: "
          "validation %, top-10 IC in bits\n")
    print("| seed | scores | Fmax | AUC | wFmax | top-10 IC | top-10 precision |\n| --- | --- | --- | --- | --- | --- | --- |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        p, _ = member_probabilities(Path(home()), ds, args.dataset, args.split, seed, fields)
        voted = shift_by_vote(p, votes[args.similarity], prior, alpha)
        runs = {"model": np.asarray(p, dtype=np.float64), "with the vote": voted}
        step = cooccurrence_vote(voted, labels)
        runs.update({f"vote, then co-occurrence {lam}": shift_by_vote(voted, step, prior, lam) for lam in args.lam})
        for name, scores in runs.items():
            row = _specific_row(truth[va], scores, split_ds.term_ancestors, ia, ic, [seed, name])
            with out.open("a") as handle:
                handle.write(json.dumps({"key": {**run_key(args.dataset, args.split, seed, fields), "k": args.k[0]},
                                         "similarity": args.similarity, "alpha": alpha, "scores": name, **row}) + "\n")
    return 0


def compare_blends(args, ds, split_ds, data, vote, prior, fields) -> int:
    """Print (and append to --out) the blend variants' validation metrics, seed by seed."""
    from genepheno_core.environment import home
    from genepheno_core.evaluation.metrics import information_accretion, information_content

    from validation_ensemble import member_probabilities
    from validation_evidence import run_key

    labels = sp.csr_matrix(split_ds.labels)
    tr, va = data.train, data.valid
    ia, ic = information_accretion(labels[tr], split_ds.term_ancestors), information_content(labels[tr])
    print(f"{args.dataset}, {args.split} split, k {args.k[0]}: validation %, top-10 IC in bits\n")
    print("| seed | scores | Fmax | AUC | wFmax | top-10 IC | top-10 precision |\n| --- | --- | --- | --- | --- | --- | --- |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        p, _ = member_probabilities(Path(home()), ds, args.dataset, args.split, seed, fields)
        variants = {"model": np.asarray(p, dtype=np.float64)}
        for alpha in (0.2, 0.3):
            variants.update(blend_variants(p, vote, prior, alpha))
        for name, scores in variants.items():
            row = _specific_row(labels[va], scores, split_ds.term_ancestors, ia, ic, [seed, name])
            with out.open("a") as handle:
                handle.write(json.dumps({"key": {**run_key(args.dataset, args.split, seed, fields), "k": args.k[0]},
                                         "blend": name, **row}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
