"""Command line: `get_parser()` + `main(argv=None)`.

Each area of the core registers its own subcommands from a module in this package
(`data.py`, `embed.py`, ...), so the CLI stays a thin layer over the Python API.
Only this module configures logging.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import sys
from collections.abc import Iterator

from genepheno_core.errors import GenePhenoError

logger = logging.getLogger(__name__)

# Modules in this package that define `register(subparsers)`, one per area of the core
# (named after the area, never after a public function: `predict` is genepheno_core.predict).
_COMMAND_MODULES = ("data", "embed", "pairs", "training", "evaluate", "interpret", "benchmark", "serve")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genepheno",
        description="GenePheno: predict knockout phenotypes from protein sequence and GO annotations.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(f"genepheno_core.cli.{name}").register(subparsers)
    return parser


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at emit time (tests swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


@contextlib.contextmanager
def _logging_for_cli(verbose: int, quiet: bool) -> Iterator[None]:
    """Log the package's messages to stderr for one CLI call, then restore the old state,
    so that calling main() in-process (tests, notebooks) leaves logging as it was."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    package_logger = logging.getLogger("genepheno_core")
    saved = (package_logger.handlers[:], package_logger.level, package_logger.propagate)
    package_logger.handlers[:] = [handler]
    package_logger.setLevel(level)
    package_logger.propagate = False
    try:
        yield
    finally:
        package_logger.handlers[:], package_logger.level, package_logger.propagate = saved


def main(argv: list[str] | None = None) -> int:
    parser = get_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        with _logging_for_cli(args.verbose, args.quiet):
            result = args.func(args)
    except GenePhenoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)
