"""Which path carries a model's predictions: the share of |contribution| of the GO concepts,
the GO terms and the homolog phenotypes on its dataset's test genes (prints a Markdown table).

    python scripts/source_shares.py [--model assets/models/hpo] [--split random]

Three inputs per test gene: its own GO (as in the benchmark's full row), GO transferred from
its sequence homologs (the pasted-protein row: never its own protein or annotations
projected from it), and no GO. Shares are `genepheno_core.interpret.contributions.source_shares`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="checkpoint directory (default: the shipped hpo model)")
    parser.add_argument("--split", default=None, help="split whose test genes are used (default: the model's)")
    args = parser.parse_args(argv)

    from genepheno_core.datasets import load_dataset
    from genepheno_core.embeddings import embed_sequences
    from genepheno_core.interpret.contributions import SOURCES, source_shares
    from genepheno_core.interpret.model_store import resolve_model
    from genepheno_core.models.go_transfer import transfer_go

    model = resolve_model(args.model)
    split = args.split or model.config.split
    ds = load_dataset(model.config.dataset)
    test = ds.split_indices("test", split)
    genes = ds.genes.iloc[test]
    seqs = genes["sequence"].tolist()
    emb = embed_sequences(seqs, model.encoder, cache=True)
    go_ids = ds.go_terms["go_id"].astype(str).to_numpy()
    own = [set(go_ids[ds.go[i].indices]) for i in test]
    reference, closure = model.go_reference()
    transfer = transfer_go(seqs, reference, closure, exclude_accessions=genes["accession"].fillna("").tolist(),
                           with_from_ids=[[g] for g in genes["gene_id"].astype(str)], cache=True,
                           max_hits=model.go_transfer_max_hits)
    bag = transfer.reindex(model.go_inputs)
    pasted = [{model.go_inputs[j]: float(v) for j, v in zip(bag.getrow(r).indices, bag.getrow(r).data)} or None
              for r in range(len(test))]
    rows = []
    for name, go_sets in (("own GO (full model row)", [g or None for g in own]),
                          ("GO from homologs (pasted protein)", pasted), ("no GO", None)):
        shares = source_shares(model, emb, go_sets, seqs if model.needs_sequences else None)
        rows.append((name, shares))
    print(f"model {model.path}, {ds.name} {split} test genes: {len(test)}\n")
    print("| GO input | " + " | ".join(SOURCES) + " |")
    print("| --- |" + " --- |" * len(SOURCES))
    for name, shares in rows:
        print(f"| {name} | " + " | ".join(f"{100 * shares[s]:.1f} %" for s in SOURCES) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
