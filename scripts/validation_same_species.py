"""Would same-species homologs help a pasted protein? A validation-only upper-bound check.

    python scripts/validation_same_species.py [--model assets/models/hpo] [--betas 0 0.5 1 2 4]

Issue 17 lists "same-species homologs as an input with a learned weight" among the
candidates for genes nobody has characterised. Before building that path into the model
this measures what it could add at most in its most readable form, a diagonal path: to each
phenotype's logit add beta x the protein's diamond-score for that phenotype (the bit-score
weighted share of its DIAMOND homologs among the model's *training* genes that carry it;
`models.features.homology_vectors`, never the gene itself). The model's validation genes are
scored as pasted proteins (sequence only: GO transferred from homologs, the other species'
homolog phenotypes), with every beta on the same logits, and Fmax / AUC are computed on the
propagated scores as in the benchmark. Only validation genes are read: the test split is not
scored, because nothing here is chosen for shipping unless validation shows a gain.

Prints a Markdown table (beta, valid Fmax %, valid AUC %, genes with a same-species hit).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="checkpoint directory (default: the shipped hpo model)")
    parser.add_argument("--betas", type=float, nargs="+", default=[0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0])
    parser.add_argument("--threads", type=int, default=2, help="DIAMOND threads")
    args = parser.parse_args(argv)

    import numpy as np
    import scipy.sparse as sp

    from genepheno_core.datasets import load_dataset
    from genepheno_core.evaluation import evaluate_scores
    from genepheno_core.interpret.inference import logit_matrix, prepare_inputs
    from genepheno_core.interpret.model_store import resolve_model
    from genepheno_core.models.features import homology_vectors

    model = resolve_model(args.model)
    split = model.config.split
    ds = load_dataset(model.config.dataset)
    train, valid = ds.split_indices("train", split), ds.split_indices("valid", split)
    column = {t: j for j, t in enumerate(ds.terms["term_id"].astype(str))}
    cols = np.array([column[t] for t in model.terms["term_id"].astype(str)])  # the model's terms
    labels = sp.csr_matrix(ds.labels)
    # (n, K) bit-score weighted labels of each gene's homologs among the training genes
    hom, _ = homology_vectors(ds.genes["sequence"].tolist(), train, labels, threads=args.threads)
    hom = np.asarray(hom)[valid][:, cols]
    y = labels[valid][:, cols]
    ancestors = sp.csr_matrix(ds.term_ancestors)[cols][:, cols]
    genes = ds.genes.iloc[valid]
    inputs = prepare_inputs(model, list(zip(genes["gene_id"].astype(str), genes["sequence"])))
    logits = logit_matrix(model, inputs)  # (n_valid, K), GO transferred from homologs

    print(f"{model.config.dataset}, {split} split, {len(valid)} validation genes as pasted proteins; "
          f"{int((hom.sum(axis=1) > 0).sum())} have a same-species homolog among the training genes\n")
    print("| beta | valid Fmax % | valid AUC % |")
    print("| --- | --- | --- |")
    for beta in args.betas:
        scores = 1.0 / (1.0 + np.exp(-(logits + beta * hom)))
        m = evaluate_scores(y, scores, term_ancestors=ancestors)
        print(f"| {beta:g} | {100 * m['fmax']:.2f} | {100 * m['auc']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
