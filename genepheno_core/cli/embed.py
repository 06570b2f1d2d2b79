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
    embed.add_argument("--engine", choices=("local", "ray"), default="local",
                       help="ray: blocks of --block-size sequences embedded in parallel by Ray Data workers (one "
                            "encoder each) into the embedding cache, which several workers fill safely at once")
    embed.add_argument("--address", default=None, metavar="ADDR",
                       help="with --engine ray: join this Ray cluster (default: a local instance sized to this machine)")
    embed.add_argument("--workers", type=int, default=None, metavar="N",
                       help="with --engine ray: workers of one CPU each (default: one per CPU)")
    embed.add_argument("--cpus", type=int, default=None, metavar="N",
                       help="with --engine ray and no --address: CPUs of the local Ray instance (default: all)")
    embed.add_argument("--block-size", type=int, default=None, metavar="N",
                       help="with --engine ray: sequences per block (default 500)")
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
    if args.engine == "ray":
        return _embed_ray(args, target)
    if args.address or args.workers is not None or args.cpus is not None or args.block_size is not None:
        raise GenePhenoError("--address, --workers, --cpus and --block-size need --engine ray")
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


def _embed_ray(args: argparse.Namespace, target: Path | None) -> int:
    """--engine ray: fill the cache block by block on Ray; -o then reads the vectors from it."""
    from genepheno_core.scale.batch import DEFAULT_BLOCK_SIZE, embed_blocks, embeddings_of

    if args.no_cache:
        raise GenePhenoError("--engine ray fills the embedding cache (its output): --no-cache does not apply")
    if args.batch_tokens is not None:
        raise GenePhenoError("--batch-tokens applies to --engine local (Ray workers use the encoder's default)")
    for name in ("workers", "cpus", "block_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise GenePhenoError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    summary = embed_blocks(args.fasta, args.encoder, engine="ray", address=args.address, workers=args.workers,
                           cpus=args.cpus, block_size=args.block_size or DEFAULT_BLOCK_SIZE,
                           translate=not args.no_translate, progress=not args.no_progress)
    print(f"embedded {summary.proteins} sequences in {summary.blocks} blocks with {args.encoder} on Ray "
          f"({summary.workers} workers, {summary.seconds:.1f} s, {summary.residues / max(summary.seconds, 1e-9):,.0f} "
          "residues/s); the vectors are in the embedding cache")
    if target is not None:
        ids, vectors = embeddings_of(args.fasta, args.encoder, translate=not args.no_translate)
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, ids=np.array(ids), embeddings=vectors)
        print(f"wrote {len(ids)} x {vectors.shape[1]} embeddings to {target}")
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
