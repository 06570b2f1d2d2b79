"""scripts/update_readme_tables.py: the README block copied from benchmark.md."""
import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "scripts" / "update_readme_tables.py"
_spec = importlib.util.spec_from_file_location("update_readme_tables", _PATH)
mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mod)

BENCH = """# GenePheno benchmark

intro

## Main table: random split (All)

| method | hpo (random) |
| --- | --- |
| naive | 1 |

## Negative control: gwas (All)

| method | gwas (random) | gwas (random) Fmax − naive |
| --- | --- | --- |
| genepheno | 3 | +0.1 |

## Specific phenotypes

what the columns mean

### gwas, random split

| method | wFmax % |
| --- | --- |
| genepheno | gwas-specific |

### hpo, random split

| method | wFmax % |
| --- | --- |
| genepheno | hpo-specific |

### hpo-temporal, temporal split

| method | wFmax % |
| --- | --- |
| genepheno | temporal-specific |

### mpo, homology split

| method | wFmax % |
| --- | --- |
| genepheno | mpo-specific |

## Novel proteins

### hpo, random split

| method | n genes |
| --- | --- |
| genepheno | 96 |

## Reference: an older benchmark.md

| method | hpo (random) |
| --- | --- |
| go-orth-mlp | 4 |

## Ablations (All)

| method | hpo (random) |
| --- | --- |
| genepheno-no-go | 2 |

## Vocabulary

| dataset | split |
| --- | --- |
| hpo | random |

## Per frequency bin (Fmax / AUC)

not copied
"""


def test_block_keeps_headline_sections_in_order_and_drops_the_rest():
    block = mod.readme_block(BENCH)
    titles = [line for line in block.splitlines() if line.startswith("#")]
    assert titles == [
        "#### Main table: random split (All)", "#### Negative control: gwas (All)",
        "#### Specific phenotypes", "##### hpo, random split", "##### mpo, homology split",
        "#### Novel proteins", "##### hpo, random split",
        "#### Reference: an older benchmark.md", "#### Ablations (All)",
    ]
    assert "| naive | 1 |" in block and "| genepheno-no-go | 2 |" in block and "| genepheno | 3 | +0.1 |" in block
    assert "what the columns mean" in block and "| genepheno | 96 |" in block
    # per-dataset tables of hpo and mpo only (hpo-temporal is another dataset)
    assert "hpo-specific" in block and "mpo-specific" in block
    assert "gwas-specific" not in block and "temporal-specific" not in block
    assert "not copied" not in block and "Per frequency bin" not in block and "Vocabulary" not in block


def test_replace_is_idempotent_and_keeps_text_after_the_block():
    readme = "head\n\n<!-- benchmark-tables -->\n\n**Status.** kept\n"
    once = mod.replace_block(readme, "TABLE A")
    assert once.startswith("head\n") and once.endswith("**Status.** kept\n")
    assert "TABLE A" in once and "<!-- /benchmark-tables -->" in once
    twice = mod.replace_block(once, "TABLE B")
    assert "TABLE A" not in twice and twice.count("TABLE B") == 1
    assert twice.endswith("**Status.** kept\n")


def test_errors_name_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match="marker"):
        mod.replace_block("no marker here", "x")
    with pytest.raises(ValueError, match="no benchmark tables"):
        mod.readme_block("# empty\n")
    missing = tmp_path / "missing.md"
    assert mod.main(["--benchmark", str(missing), "--readme", str(tmp_path / "README.md")]) == 1
