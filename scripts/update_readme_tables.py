"""Copy the headline tables of results/benchmark.md into README.md.

The README shows the main tables (random, homology, temporal), the negative control, the
specific-phenotypes and novel-proteins tables of hpo and mpo, the ablations and the leakage
checks exactly as the benchmark wrote them; this replaces what sits between the
`<!-- benchmark-tables -->` and `<!-- /benchmark-tables -->` markers. Run after
`make benchmark` (it is part of that target).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- benchmark-tables -->", "<!-- /benchmark-tables -->"
# The datasets whose per-dataset tables (`### <dataset>, <split> split` subsections) the
# README shows.
README_DATASETS = ("hpo", "mpo")
# Section titles of benchmark.md (prefixes) copied in this order, with the datasets whose
# subsections are kept (None: the whole section); per-bin, vocabulary and cost tables stay in
# benchmark.md, which the README links. "Reference:" is the go-orth-mlp table of benchmark.md
# files written before go-orth-mlp joined the main tables.
SECTIONS = (
    ("Main table: random split", None), ("Main table: homology split", None),
    ("Main table: temporal split", None), ("Negative control", None),
    ("Specific phenotypes", README_DATASETS), ("Novel proteins", README_DATASETS),
    ("Reference:", None), ("Ablations", None), ("Leakage check", None),
)


def sections(markdown: str, level: int = 2) -> dict[str, str]:
    """Sections of a Markdown text at one heading level: title -> body (without the title
    line); text before the first heading under the key ""."""
    parts = re.split(rf"^{'#' * level} (.+)$", markdown, flags=re.M)
    found = {"": parts[0].strip()}
    found.update({parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)})
    return found


def keep_datasets(body: str, datasets: tuple[str, ...]) -> str:
    """A section body with only the `### <dataset>, <split> split` subsections of `datasets`."""
    found = sections(body, level=3)
    out = [found.pop("")] if found[""] else []
    for title, text in found.items():
        if title.split(",")[0] in datasets:
            out += [f"### {title}", "", text]
    return "\n\n".join(out)


def readme_block(benchmark_md: str) -> str:
    found = sections(benchmark_md)
    found.pop("")
    out = []
    for prefix, datasets in SECTIONS:
        for title, body in found.items():
            if title.startswith(prefix):
                if datasets is not None:
                    body = keep_datasets(body, datasets)
                # under the README's "####" section titles
                body = re.sub(r"^### ", "##### ", body, flags=re.M)
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
