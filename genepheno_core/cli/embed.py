"""`embed` and `cache` subcommands.

    genepheno embed FASTA --encoder NAME [-o OUT.npz] [--batch-tokens N] [--no-cache]
                    [--threads N] [--no-progress] [--no-translate]
    genepheno cache info
    genepheno cache clear [--encoder NAME]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from genepheno_core.errors import GenePhenoError
from genepheno_core.io import atomic_path, check_output_file

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    embed = subparsers.add_parser(
        "embed",
        help="embed protein sequences (FASTA, gz, raw lines or nucleotide CDS) with an encoder",
        description="One vector per record, served from the embedding cache where possible.",
    )
    embed.add_argument(
        "fasta", metavar="FASTA", help="FASTA file (.gz ok) or raw sequences, one per line"
    )
    embed.add_argument(
        "--encoder", "-e", required=True,
        help="composition, unirep64, unirep256, unirep1900, esm2_<size> (e.g. esm2_t6_8M) "
        "or hf:<id or dir>",
    )
    embed.add_argument(
        "-o", "--output", metavar="OUT.npz", help="write arrays `ids` and `embeddings` here"
    )
    embed.add_argument(
        "--batch-tokens", type=int, default=None, metavar="N", help="padded tokens per batch"
    )
    embed.add_argument(
        "--no-cache", action="store_true", help="neither read nor write the embedding cache"
    )
    embed.add_argument("--no-progress", action="store_true", help="no progress bar")
    embed.add_argument(
        "--no-translate", action="store_true",
        help="keep nucleotide sequences as they are (for a nucleotide language model via hf:)",
    )
    embed.add_argument(
        "--threads", type=int, default=None, metavar="N",
        help="torch CPU threads (default: torch's; use 1 on a busy shared machine)",
    )
    embed.set_defaults(func=run_embed)

    cache = subparsers.add_parser("cache", help="inspect or clear the embedding cache")
    cache_sub = cache.add_subparsers(dest="cache_command", metavar="ACTION")
    info = cache_sub.add_parser("info", help="entries and size per encoder")
    info.set_defaults(func=run_cache_info)
    clear = cache_sub.add_parser("clear", help="delete cached embeddings")
    clear.add_argument("--encoder", "-e", default=None, help="only this encoder (default: all)")
    clear.set_defaults(func=run_cache_clear)
    cache.set_defaults(func=lambda args: (cache.print_help(), 2)[1])


def run_embed(args: argparse.Namespace) -> int:
    from genepheno_core.embeddings import embed_sequences, get_encoder, parse_sequences

    if args.batch_tokens is not None and args.batch_tokens < 1:
        raise GenePhenoError("--batch-tokens must be a positive number")
    if args.threads is not None:
        if args.threads < 1:
            raise GenePhenoError("--threads must be a positive number")
        import torch

        torch.set_num_threads(args.threads)
    # refuse an output that names a directory now, not after embedding everything
    target = check_output_file(args.output) if args.output else None
    options = {"translate": False} if args.no_translate else {}
    if options and not args.encoder.startswith("hf:"):
        raise GenePhenoError("--no-translate only applies to hf:<model> encoders")
    encoder = get_encoder(args.encoder, **options)
    records = parse_sequences(Path(args.fasta), translate=encoder.translate_nucleotides)
    logger.info(
        "%d records from %s, encoder %s (dim %d)",
        len(records), args.fasta, encoder.name, encoder.dim,
    )
    vectors = embed_sequences(
        [seq for _, seq in records],
        encoder,
        cache=not args.no_cache,
        progress=not args.no_progress,
        batch_tokens=args.batch_tokens,
    )
    if target is not None:
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as handle:  # a handle: np.savez would append .npz to a name
                np.savez(handle, ids=np.array([rid for rid, _ in records]), embeddings=vectors)
        print(f"wrote {len(records)} x {vectors.shape[1]} embeddings to {target}")
    else:
        print(f"embedded {len(records)} sequences with {encoder.name} (dim {vectors.shape[1]})")
    return 0


def run_cache_info(args: argparse.Namespace) -> int:
    from genepheno_core.embeddings import EmbeddingCache

    store = EmbeddingCache()
    spaces = store.info()
    print(f"embedding cache: {store.root}")
    if not spaces:
        print("(empty)")
        return 0
    print(f"{'encoder':<28} {'key':<12} {'dim':>5} {'entries':>9} {'shards':>7} {'size':>10}")
    for s in spaces:
        print(
            f"{s.encoder:<28} {s.cache_key[:12]:<12} {s.dim:>5} {s.entries:>9} {s.shards:>7} "
            f"{s.size_bytes / 1e6:>8.1f}MB"
        )
    total = sum(s.size_bytes for s in spaces)
    print(f"total: {sum(s.entries for s in spaces)} vectors, {total / 1e6:.1f} MB")
    return 0


def run_cache_clear(args: argparse.Namespace) -> int:
    from genepheno_core.embeddings import EmbeddingCache

    removed = EmbeddingCache().clear(args.encoder)
    which = f"encoder {args.encoder}" if args.encoder else "all encoders"
    print(f"removed {removed} cache space(s) of {which}")
    return 0
