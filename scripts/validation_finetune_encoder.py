"""Fine-tuning UniRep-256 end to end through GenePheno's heads: a validation-only measurement.

    python scripts/validation_finetune_encoder.py --dataset hpo [--split random] --seed 0 \
        --epochs 2 --crop 128 --encoder-lr 1e-4 \
        --set '{"ablations": ["seq-only"]}' --then '{"ablations": ["go-transfer"]}'

Issue 17's candidate "fine-tuning the sequence encoder end to end through the GO-concept and
phenotype heads". Three stages, all on the split's training genes, scored on its validation
genes only (the test split is never scored here):

1. the `--set` model (TrainConfig fields as JSON) trained as usual on the cached, frozen
   UniRep-256 embeddings (the baseline, and the heads fine-tuning starts from);
2. the encoder and that model trained together for `--epochs` epochs: each training protein
   is cut to a random window of `--crop` residues every epoch (backpropagating through a
   4-layer mLSTM runs at ~1,000-2,000 residues/s on one core here, so whole proteins would
   take ~30 min an epoch), its mean hidden state computed by the differentiable UniRep path,
   and the model's own loss (phenotypes, concepts, exclusivity) back-propagated into the
   encoder at `--encoder-lr` and into the model at its usual rate. After every epoch the
   validation proteins are embedded whole by the fine-tuned encoder and scored by the
   jointly trained model;
3. every protein of the dataset embedded whole by the fine-tuned encoder, and the `--set`
   model and each `--then` model trained from scratch on those embeddings as on the frozen
   ones (the fine-tuned encoder as a drop-in replacement of unirep256).

The fine-tuned weights and embeddings are kept under $GENEPHENO_HOME/finetuned/<key>/ (a rerun
skips stage 2), the runs are appended to --out as JSON lines, and a Markdown table is printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

logger = logging.getLogger("validation_finetune_encoder")


def random_crop(seq: str, length: int, rng) -> str:
    """A window of `length` residues at a random start (the whole sequence if shorter)."""
    if len(seq) <= length:
        return seq
    start = int(rng.integers(0, len(seq) - length + 1))
    return seq[start:start + length]


def embed_whole(encoder, seqs: list[str], batch: int = 128) -> "np.ndarray":
    """(len(seqs), D) float32 mean hidden states of whole sequences (the encoder's fast path,
    batched by length so that a batch runs side by side with little padding)."""
    import numpy as np

    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    out = np.zeros((len(seqs), encoder.hidden_dim), dtype=np.float32)
    for start in range(0, len(order), batch):
        rows = order[start:start + batch]
        out[rows] = encoder.mean_hidden([seqs[i] for i in rows]).numpy()
    return out


def finetune(result, seqs: list[str], epochs: int, crop: int, encoder_lr: float, seed: int,
             batch_size: int, on_epoch=None, model_lr: float | None = None):
    """Stage 2: the UniRep-256 encoder and result.module trained together on the training
    genes (module changed in place; model_lr None: at the model's own rate, 0: held fixed, so
    that only the encoder learns to serve it); returns the fine-tuned encoder and the
    per-epoch log."""
    import numpy as np
    import scipy.sparse as sp
    import torch

    from genepheno_core.embeddings.unirep import UniRepModel, pad_tokens, weights_path
    from genepheno_core.training.trainer import _batch_inputs, _loss

    config, data, module = result.config, result.data, result.module
    encoder = UniRepModel.from_npz(weights_path(256))  # a fresh copy (load_unirep's is shared)
    for param in encoder.parameters():
        param.requires_grad_(True)
    optimiser = torch.optim.AdamW([
        {"params": list(encoder.parameters()), "lr": encoder_lr, "weight_decay": 0.0},
        {"params": list(module.parameters()), "lr": config.lr if model_lr is None else model_lr,
         "weight_decay": config.weight_decay if model_lr is None or model_lr > 0 else 0.0},
    ])
    hierarchy = None
    if config.spec.bottleneck and config.hierarchical_loss:  # as fit_module
        closure = sp.coo_matrix(data.term_ancestors)
        hierarchy = (torch.from_numpy(closure.row.astype(np.int64)), torch.from_numpy(closure.col.astype(np.int64)))
    rng = np.random.default_rng(seed)
    log = []
    for epoch in range(1, epochs + 1):
        encoder.train()
        module.train()
        start, residues, total = time.perf_counter(), 0, 0.0
        order = rng.permutation(data.train)
        batches = [order[b:b + batch_size] for b in range(0, order.size, batch_size)]
        for k, idx in enumerate(batches):
            crops = [random_crop(seqs[i], crop, rng) for i in idx]
            tokens, mask = pad_tokens(crops)  # (B, L + 1)
            inputs = _batch_inputs(data, idx)
            inputs["seq_emb"] = encoder(tokens, mask)  # (B, 256), differentiable
            out = module(**inputs)
            y = torch.from_numpy(data.labels[idx].toarray())
            concept_y = concept_mask = None
            if data.concept_labels is not None:
                concept_y = torch.from_numpy(data.concept_labels[idx].toarray())
                concept_mask = torch.from_numpy(data.has_go[idx])
            loss = _loss(module, out, y, concept_y, concept_mask, config, data.pairs, hierarchy)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach())
            residues += sum(len(c) for c in crops)
            if (k + 1) % 10 == 0 or k + 1 == len(batches):
                seconds = time.perf_counter() - start
                logger.info("epoch %d: batch %d/%d, loss %.4f, %.0f residues/s", epoch, k + 1, len(batches),
                            total / (k + 1), residues / seconds)
        record = {"epoch": epoch, "loss": total / len(batches), "train_seconds": time.perf_counter() - start,
                  "residues_per_s": residues / (time.perf_counter() - start)}
        if on_epoch is not None:
            record.update(on_epoch(encoder, module))
        logger.info("epoch %d: %s", epoch, record)
        log.append(record)
    encoder.eval()
    module.eval()
    for param in encoder.parameters():
        param.requires_grad_(False)
    return encoder, log


def joint_valid_metrics(result, seqs: list[str]):
    """A callback for `finetune`: the validation proteins embedded whole by the encoder being
    fine-tuned and scored by the model being fine-tuned with it."""
    from genepheno_core.training.trainer import full_metrics, predict_module

    data = result.data

    def score(encoder, module) -> dict:
        encoder.eval()
        module.eval()
        seq = data.seq.copy()
        seq[data.valid] = embed_whole(encoder, [seqs[i] for i in data.valid])
        probs = predict_module(module, replace(data, seq=seq), data.valid, result.config.eval_batch_size)
        metrics = full_metrics(data, probs, data.valid)
        return {"joint_valid": {"fmax": metrics["fmax"], "auc": metrics["auc"]}}

    return score


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="hpo")
    parser.add_argument("--split", default="random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--crop", type=int, default=128, help="residues per training window")
    parser.add_argument("--encoder-lr", type=float, default=1e-4)
    parser.add_argument("--model-lr", type=float, default=None,
                        help="the model's rate in stage 2 (default: its training rate; 0: held fixed)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--set", default='{"ablations": ["seq-only"]}', help="TrainConfig fields as JSON: the model fine-tuned with the encoder")
    parser.add_argument("--then", action="append", default=[], help="TrainConfig fields as JSON: also trained on the fine-tuned embeddings (repeatable)")
    parser.add_argument("--out", default="results/validation_finetune_encoder.jsonl")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.crop < 1 or args.batch_size < 1:
        parser.error(f"--epochs, --crop and --batch-size must be >= 1 (got {args.epochs}, {args.crop}, {args.batch_size})")
    for option, text in [("--set", args.set)] + [("--then", t) for t in args.then]:
        try:
            if not isinstance(json.loads(text), dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            parser.error(f"{option} {text!r}: TrainConfig fields as a JSON object expected ({exc})")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import numpy as np
    import torch
    from safetensors.torch import load_file, save_file

    from genepheno_core.datasets import load_dataset
    from genepheno_core.io import atomic_path, genepheno_home
    from genepheno_core.training import TrainConfig
    from genepheno_core.training.trainer import run

    torch.set_num_threads(args.threads)
    fields = json.loads(args.set)
    key = {"dataset": args.dataset, "split": args.split, "seed": args.seed, "epochs": args.epochs,
           "crop": args.crop, "encoder_lr": args.encoder_lr, "batch_size": args.batch_size, "finetuned_with": fields}
    if args.model_lr is not None:  # keys of runs at the model's own rate stay as they were
        key["model_lr"] = args.model_lr
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    store = genepheno_home() / "finetuned" / digest
    ds = load_dataset(args.dataset).for_split(args.split)
    seqs = ds.genes["sequence"].astype(str).tolist()
    config = TrainConfig(dataset=args.dataset, split=args.split, seed=args.seed, num_threads=args.threads, **fields)

    record = {"key": key}
    if (store / "embeddings.npy").exists():
        logger.info("fine-tuned encoder and embeddings from %s", store)
        embeddings = np.load(store / "embeddings.npy", allow_pickle=False)
        record.update(json.loads((store / "stage2.json").read_text()))
    else:
        start = time.perf_counter()
        base = run(config, ds)  # stage 1: frozen embeddings
        record["frozen_valid"] = {k: base.valid_metrics[k] for k in ("fmax", "auc")}
        encoder, log = finetune(base, seqs, args.epochs, args.crop, args.encoder_lr, args.seed,
                                args.batch_size, on_epoch=joint_valid_metrics(base, seqs), model_lr=args.model_lr)
        record["epochs_log"] = log
        embeddings = embed_whole(encoder, seqs)  # stage 3's input: every protein, whole
        record["stage2_seconds"] = time.perf_counter() - start
        store.mkdir(parents=True, exist_ok=True)
        # embeddings.npy is the "stage 2 done" marker, so it is written last: a run killed
        # before it redoes stage 2, never reads a stage2.json it has not got
        with atomic_path(store / "encoder.safetensors") as tmp:
            save_file({k: v.contiguous() for k, v in encoder.state_dict().items()}, str(tmp))
        with atomic_path(store / "stage2.json") as tmp:
            tmp.write_text(json.dumps({k: record[k] for k in ("frozen_valid", "epochs_log", "stage2_seconds")},
                                      default=float))
        with atomic_path(store / "embeddings.npy") as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, embeddings, allow_pickle=False)
    record["retrained_valid"] = {}
    for text in [args.set, *args.then]:
        then = json.loads(text)
        cfg = TrainConfig(dataset=args.dataset, split=args.split, seed=args.seed, num_threads=args.threads, **then)
        result = run(cfg, ds, embeddings=embeddings)
        record["retrained_valid"][json.dumps(then, sort_keys=True)] = {
            k: result.valid_metrics[k] for k in ("fmax", "auc")}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as handle:
        handle.write(json.dumps(record, default=float) + "\n")
    print("| stage | model | valid Fmax % | valid AUC % |\n| --- | --- | --- | --- |")
    print(f"| frozen unirep256 | {args.set} | {100 * record['frozen_valid']['fmax']:.2f} | "
          f"{100 * record['frozen_valid']['auc']:.2f} |")
    for rec in record["epochs_log"]:
        m = rec["joint_valid"]
        print(f"| trained together, epoch {rec['epoch']} | {args.set} | {100 * m['fmax']:.2f} | {100 * m['auc']:.2f} |")
    for name, m in record["retrained_valid"].items():
        print(f"| retrained on fine-tuned embeddings | {name} | {100 * m['fmax']:.2f} | {100 * m['auc']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
