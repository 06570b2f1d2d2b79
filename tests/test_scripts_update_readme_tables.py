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

## Ablations (All)

| method | hpo (random) |
| --- | --- |
| genepheno-no-go | 2 |

## Per frequency bin (Fmax / AUC)

not copied
"""


def test_block_keeps_headline_sections_in_order_and_drops_the_rest():
    block = mod.readme_block(BENCH)
    assert block.index("#### Main table: random split (All)") < block.index("#### Ablations (All)")
    assert "| naive | 1 |" in block and "| genepheno-no-go | 2 |" in block
    assert "not copied" not in block and "Per frequency bin" not in block


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
