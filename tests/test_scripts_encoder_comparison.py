"""scripts/encoder_comparison.py: sequence encoders compared like for like."""
import importlib.util
import json
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "scripts" / "encoder_comparison.py"
_spec = importlib.util.spec_from_file_location("encoder_comparison", _PATH)
mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mod)


def _cell(directory: Path, encoder: str, seed: int, valid: tuple, test: tuple, method: str = "genepheno-seq-only",
          **options) -> None:
    key = {"method": method, "split": "random", "seed": seed, "encoder": encoder,
           "data": f"fingerprint-{encoder}", "lr": 0.001, **options}
    rec = {"dataset": "hpo", "split": "random", "method": method, "seed": seed, "encoder": encoder,
           "config_key": key, "metrics": {"fmax": test[0], "auc": test[1]},
           "info": {"valid_metrics": {"fmax": valid[0], "auc": valid[1]}}}
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"hpo__random__{method}__seed{seed}.json").write_text(json.dumps(rec))


def test_means_over_the_seeds_every_encoder_has(tmp_path):
    _cell(tmp_path / "cells", "unirep256", 0, (0.40, 0.70), (0.38, 0.66))
    _cell(tmp_path / "cells", "unirep256", 1, (0.42, 0.72), (0.40, 0.68))
    _cell(tmp_path / "encoders" / "unirep64" / "cells", "unirep64", 0, (0.30, 0.60), (0.36, 0.62))
    text = mod.table(mod.read_cells(tmp_path))
    # seed 1 exists for unirep256 only: both rows are seed 0 alone
    assert "| hpo, random | genepheno-seq-only | unirep64 | 0 | 30.00 / 60.00 | 36.00 / 62.00 |" in text
    assert "| hpo, random | genepheno-seq-only | unirep256 | 0 | 40.00 / 70.00 | 38.00 / 66.00 |" in text


def test_kept_unirep256_cells_replace_the_grids(tmp_path):
    # the grid moved to another default; its cells of the comparison's configuration are kept
    _cell(tmp_path / "cells", "unirep256", 0, (0.50, 0.80), (0.50, 0.80), concept_init=0.01)
    _cell(tmp_path / "encoders" / "unirep256" / "cells", "unirep256", 0, (0.40, 0.70), (0.38, 0.66))
    _cell(tmp_path / "encoders" / "unirep64" / "cells", "unirep64", 0, (0.30, 0.60), (0.36, 0.62))
    text = mod.table(mod.read_cells(tmp_path))
    assert "| unirep256 | 0 | 40.00 / 70.00 | 38.00 / 66.00 |" in text and "50.00" not in text


def test_cells_of_different_configurations_are_not_compared(tmp_path, capsys):
    _cell(tmp_path / "cells", "unirep256", 0, (0.50, 0.80), (0.50, 0.80), concept_init=0.01)
    _cell(tmp_path / "encoders" / "unirep64" / "cells", "unirep64", 0, (0.30, 0.60), (0.36, 0.62))
    assert mod.main(["--results", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "hpo, random, genepheno-seq-only" in err and "different configurations" in err
    assert "unirep64" in err and "hpo__random__genepheno-seq-only__seed0.json" in err


def test_the_pasted_row_reads_its_models_validation(tmp_path):
    for encoder, d in (("unirep256", tmp_path / "cells"), ("unirep64", tmp_path / "encoders" / "unirep64" / "cells")):
        _cell(d, encoder, 0, (0.44, 0.77), (0.42, 0.75), method="genepheno")
        # a newer pasted cell records its own inputs' validation: not what the row shows
        _cell(d, encoder, 0, (0.43, 0.76), (0.41, 0.74), method="genepheno-pasted")
    text = mod.table(mod.read_cells(tmp_path))
    assert "| hpo, random | genepheno-pasted | unirep64 | 0 | 44.00 / 77.00 | 41.00 / 74.00 |" in text
