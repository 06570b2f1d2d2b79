"""scripts/compare_protocols.py: protocol-1 and protocol-2 tables side by side."""
import importlib.util

import pytest
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "scripts" / "compare_protocols.py"
_spec = importlib.util.spec_from_file_location("compare_protocols", _PATH)
mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mod)

V1 = """# protocol 1

## Main table: random split (All)

| method | hpo (random) | gwas (random) |
| --- | --- | --- |
| naive | 36.00 ± 0.00 / 50.00 ± 0.00 | 10.00 ± 0.00 / 50.00 ± 0.00 |
| mlp-bce | 38.00 ± 0.10 / 64.00 ± 0.20 | **11.00 ± 0.10** / 55.00 ± 0.20 |
| genepheno | **42.00 ± 0.20** / **74.00 ± 0.50** | 10.50 ± 0.10 / **56.00 ± 0.30** |

## Ablations (All)

| method | hpo (random) | gwas (random) |
| --- | --- | --- |
| genepheno | 42.00 ± 0.20 / 74.00 ± 0.50 | 10.50 ± 0.10 / 56.00 ± 0.30 |
| genepheno-no-orth | 41.00 ± 0.10 / 72.00 ± 0.10 | 10.00 ± 0.10 / 53.00 ± 0.10 |

## Per frequency bin (Fmax / AUC)

| method | hpo (random) |
| --- | --- |
| naive | 99.00 ± 0.00 / 99.00 ± 0.00 |
"""

V2 = """# protocol 2

## Main table: random split (All)

| method | gwas (random) | hpo (random) |
| --- | --- | --- |
| naive | 23.00 ± 0.00 / 50.00 ± 0.00 | 37.00 ± 0.00 / 50.00 ± 0.00 |
| mlp-bce | 24.00 ± 0.10 / 63.00 ± 0.20 | 38.00 ± 0.30 / 64.00 ± 0.30 |
| genepheno | **25.50 ± 0.60** / **63.80 ± 0.70** | **42.20 ± 0.10** / **75.00 ± 0.40** |
| genepheno (pasted protein) | 25.00 ± 0.50 / 62.00 ± 0.30 | 41.70 ± 0.10 / 73.80 ± 0.40 |

## Ablations (All)

| method | gwas (random) | hpo (random) |
| --- | --- | --- |
| genepheno-no-orth | 25.00 ± 0.10 / 63.70 ± 0.10 | 41.00 ± 0.10 / 72.20 ± 0.10 |
"""


def test_reads_main_and_ablation_tables_but_not_other_sections(tmp_path):
    path = tmp_path / "v1.md"
    path.write_text(V1)
    values, main_rows = mod.read_tables(path)
    assert values[("genepheno", "hpo (random)")] == (42.0, 74.0)  # bold stripped
    assert values[("mlp-bce", "gwas (random)")] == (11.0, 55.0)
    assert values[("genepheno-no-orth", "gwas (random)")] == (10.0, 53.0)
    assert values[("naive", "hpo (random)")] == (36.0, 50.0)  # not the per-bin 99
    assert main_rows == {"naive", "mlp-bce", "genepheno"}


def test_side_by_side_rows_changes_and_ranks(tmp_path):
    (tmp_path / "benchmark-v1.md").write_text(V1)
    (tmp_path / "benchmark.md").write_text(V2)
    assert mod.main(["--results", str(tmp_path)]) == 0
    text = (tmp_path / "v1_vs_v2.md").read_text()
    gwas = text.split("## gwas (random)")[1].split("## ")[0]
    # genepheno: 10.50 -> 25.50 (+15.00), 0.50 above naive -> 2.50; rank 2 -> 1 (mlp-bce 1 -> 2)
    assert "| genepheno | 10.50 / 56.00 | 25.50 / 63.80 | +15.00 / +7.80 | +0.50 | +2.50 | 2 → 1 |" in gwas
    assert "| mlp-bce | 11.00 / 55.00 | 24.00 / 63.00 | +13.00 / +8.00 | +1.00 | +1.00 | 1 → 2 |" in gwas
    # an ablation row is compared but not ranked; a protocol-2-only row is not listed
    assert "| genepheno-no-orth | 10.00 / 53.00 | 25.00 / 63.70 | +15.00 / +10.70 | +0.00 | +2.00 |  |" in gwas
    assert "pasted protein" not in gwas
    hpo = text.split("## hpo (random)")[1]
    assert "| genepheno | 42.00 / 74.00 | 42.20 / 75.00 | +0.20 / +1.00 | +6.00 | +5.20 | 1 → 1 |" in hpo


def test_a_missing_table_is_named(tmp_path, capsys):
    (tmp_path / "benchmark-v1.md").write_text(V1)
    with pytest.raises(SystemExit) as exc:
        mod.main(["--results", str(tmp_path)])
    assert exc.value.code == 2
    assert f"{tmp_path / 'benchmark.md'}: no such file" in capsys.readouterr().err
    assert not (tmp_path / "v1_vs_v2.md").exists()
