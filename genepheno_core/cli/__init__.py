"""Command line: `get_parser()` + `main(argv=None)`.

Each area of the core registers its own subcommands from a module in this package
(`data.py`, `embed.py`, ...), so the CLI stays a thin layer over the Python API.
Only this module configures logging.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from genepheno_core.errors import GenePhenoError

logger = logging.getLogger(__name__)

# Modules in this package that define `register(subparsers)`. A module that is missing
# (an area not built yet) is skipped, so the CLI always starts.
_COMMAND_MODULES = ("data", "embed", "pairs", "train", "evaluate", "predict", "benchmark")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genepheno",
        description="GenePheno: predict knockout phenotypes from protein sequence and GO annotations.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(f"genepheno_core.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"genepheno_core.cli.{name}":
                continue
            raise
        module.register(subparsers)
    return parser


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("genepheno_core")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def main(argv: list[str] | None = None) -> int:
    parser = get_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    _configure_logging(args.verbose, args.quiet)
    try:
        result = args.func(args)
    except GenePhenoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)
