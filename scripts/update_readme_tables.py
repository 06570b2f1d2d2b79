"""Copy the headline tables of results/benchmark.md into README.md.

The README shows the main tables (random, homology, temporal), the go-orth-mlp reference,
the ablations and the leakage check exactly as the benchmark wrote them; this replaces
what sits between the `<!-- benchmark-tables -->` and `<!-- /benchmark-tables -->` markers.
Run after `make benchmark` (it is part of that target).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- benchmark-tables -->", "<!-- /benchmark-tables -->"
# Section titles of benchmark.md (prefixes) copied in this order; per-bin and cost tables
# stay in benchmark.md, which the README links.
SECTIONS = ("Main table: random split", "Main table: homology split", "Main table: temporal split",
            "Reference:", "Ablations", "Leakage check")


def sections(markdown: str) -> dict[str, str]:
    """Level-2 sections of a Markdown text: title -> body (without the title line)."""
    parts = re.split(r"^## (.+)$", markdown, flags=re.M)
    return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def readme_block(benchmark_md: str) -> str:
    found = sections(benchmark_md)
    out = []
    for prefix in SECTIONS:
        for title, body in found.items():
            if title.startswith(prefix):
                out += [f"#### {title}", "", body, ""]
    if not out:
        raise ValueError("no benchmark tables found (is results/benchmark.md a benchmark report?)")
    return "\n".join(out).strip()


def replace_block(readme: str, block: str) -> str:
    if START not in readme:
        raise ValueError(f"README.md has no {START} marker")
    head, rest = readme.split(START, 1)
    tail = rest.split(END, 1)[1] if END in rest else rest
    return f"{head}{START}\n\n{block}\n\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", default=str(ROOT / "results" / "benchmark.md"))
    parser.add_argument("--readme", default=str(ROOT / "README.md"))
    args = parser.parse_args(argv)
    try:
        block = readme_block(Path(args.benchmark).read_text())
        readme = Path(args.readme)
        new = replace_block(readme.read_text(), block)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    tmp = readme.with_suffix(".md.tmp")
    tmp.write_text(new)
    tmp.replace(readme)
    print(f"updated {readme} from {args.benchmark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
