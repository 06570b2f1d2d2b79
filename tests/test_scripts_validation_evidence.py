"""scripts/validation_evidence.py: the mean ± sd table over seeds, on hand-made runs (the
expected numbers are computed by hand in the comments)."""
import importlib.util
import json
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "scripts" / "validation_evidence.py"
_spec = importlib.util.spec_from_file_location("validation_evidence", _PATH)
mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mod)


def _run(seed, fmax, auc, plaus, share, rho, passed, dataset="hpo", grouped=None, **fields):
    evidence = {"plausibility": {"share": plaus}, "concentration": {"share": share},
                "concepts": {"median_spearman": rho}, "deletion": {"pass_rate": passed}}
    if grouped is not None:  # runs before the grouped share was measured have none
        evidence["concentration_grouped"] = {"share": grouped}
    return {"key": {"dataset": dataset, "split": "random", "seed": seed, **fields},
            "valid": {"fmax": fmax, "auc": auc}, "evidence": evidence}


def _row(lines, start):
    return [c.strip() for c in next(line for line in lines if line.startswith(start)).strip("|").split("|")]


def test_summary_groups_seeds_by_configuration(tmp_path):
    runs = [_run(0, 0.43, 0.77, 0.02, 0.49, 0.18, 1.0, grouped=0.70),
            _run(0, 0.40, 0.70, 0.30, 0.50, 0.30, 1.0, ortholog_mapped=True, ortholog_rank=32),
            _run(1, 0.44, 0.78, 0.04, 0.51, 0.20, 0.99, grouped=0.72),
            _run(1, 0.42, 0.72, 0.28, 0.54, 0.32, 1.0, ortholog_mapped=True, ortholog_rank=32),
            _run(0, 0.10, 0.50, 0.0, 0.0, 0.0, 0.0, dataset="mpo")]  # another dataset: left out
    path = tmp_path / "runs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in runs))
    lines = mod.summary_table(mod.read_runs(path), "hpo", "random")
    assert len(lines) == 4
    # Fmax 43 and 44: mean 43.50, sample sd 0.7071; deletion 100 and 99: 99.5 ± 0.7
    # grouped share 70 and 72: 71.0 ± 1.4
    assert _row(lines, "| global defaults") == ["global defaults", "0,1", "43.50 ± 0.71", "77.50 ± 0.71", "3.0 ± 1.4",
                                        "50.0 ± 1.4", "71.0 ± 1.4", "0.19 ± 0.01", "99.5 ± 0.7"]
    # mapped: Fmax 40 and 42 (41.00 ± 1.41), rho 0.30 and 0.32 (0.31 ± 0.01)
    mapped = _row(lines, '| {"ortholog_mapped": true, "ortholog_rank": 32}')
    assert mapped[1:4] == ["0,1", "41.00 ± 1.41", "71.00 ± 1.41"] and mapped[7] == "0.31 ± 0.01"
    assert mapped[6] == "-"  # no run of it measured the grouped share


def test_a_single_seed_has_no_sd(tmp_path):
    lines = mod.summary_table([_run(2, 0.4321, 0.7654, 0.1, 0.5, 0.25, 1.0)], "hpo", "random")
    assert _row(lines, "| global defaults") == ["global defaults", "2", "43.21", "76.54", "10.0", "50.0", "-", "0.25",
                                        "100.0"]
    assert mod.read_runs(Path("/nonexistent/runs.jsonl")) == []


def test_a_run_key_spells_out_the_dataset_defaults():
    # hpo's defaults are the global ones: nothing added (older runs keep their keys)
    assert mod.run_key("hpo", "random", 0, {}) == {"dataset": "hpo", "split": "random", "seed": 0}
    # mpo's own defaults are written into the key, so {} on mpo is the mapped rank-32 row ...
    assert mod.run_key("mpo", "random", 1, {}) == {"dataset": "mpo", "split": "random", "seed": 1,
                                                   "ortholog_rank": 32, "ortholog_mapped": True}
    # ... and a field given explicitly is kept as given
    assert mod.run_key("mpo", "random", 0, {"ortholog_rank": 256, "ortholog_mapped": False}) == {
        "dataset": "mpo", "split": "random", "seed": 0, "ortholog_rank": 256, "ortholog_mapped": False}
