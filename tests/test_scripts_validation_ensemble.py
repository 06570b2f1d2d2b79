"""scripts/validation_ensemble.py: the mean-logit ensemble of members' probabilities."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[1] / "scripts" / "validation_ensemble.py"
sys.path.insert(0, str(_PATH.parent))  # the script imports its sibling validation_evidence
_spec = importlib.util.spec_from_file_location("validation_ensemble", _PATH)
mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mod)


def test_mean_logit_matches_hand_computed_values():
    # logit(0.5) = 0, logit(0.8) = ln 4, logit(0.2) = -ln 4
    a = np.array([[0.5, 0.8]])
    b = np.array([[0.8, 0.2]])
    out = mod.mean_logit_probabilities([a, b])
    expected_logits = np.array([[np.log(4) / 2, 0.0]])
    assert np.allclose(out, 1 / (1 + np.exp(-expected_logits)))
    # not the mean of probabilities: (0.5 + 0.8) / 2 = 0.65, but sigmoid(ln 2) = 2/3
    assert abs(out[0, 0] - 2 / 3) < 1e-9


def test_single_member_is_unchanged_and_extremes_stay_finite():
    p = np.array([[0.0, 1.0, 0.3]])
    out = mod.mean_logit_probabilities([p])
    assert np.all(np.isfinite(out))
    assert abs(out[0, 2] - 0.3) < 1e-9
    assert out[0, 0] < 1e-6 and out[0, 1] > 1 - 1e-6


def test_member_path_depends_on_the_whole_key(tmp_path):
    k1 = {"dataset": "hpo", "split": "homology", "seed": 0, "ablations": ["go-transfer"]}
    k2 = {**k1, "ablations": ["seq-only"]}
    p1, p2 = mod.member_path(tmp_path, k1), mod.member_path(tmp_path, k2)
    assert p1 != p2 and p1.name.startswith("hpo-homology-s0-") and p1.suffix == ".npy"


def test_a_cached_member_is_read_not_retrained(tmp_path):
    from validation_evidence import run_key

    fields = {"ablations": ["go-transfer"]}
    path = mod.member_path(tmp_path, run_key("hpo", "homology", 3, fields))
    path.parent.mkdir(parents=True)
    cached = np.array([[0.25, 0.75]], dtype=np.float32)
    np.save(path, cached)
    # ds=None: training would fail, so this passes only when the cache is read
    probabilities, data = mod.member_probabilities(tmp_path, None, "hpo", "homology", 3, fields)
    assert data is None and np.array_equal(probabilities, cached)


@pytest.mark.parametrize("argv, message", [
    (["--members", "0"], "--members must be >= 1"),
    (["--set", "{not json"], "is not JSON"),
    (["--set", "[1, 2]"], "must be a JSON object"),
    (["--set", '{"no_such_field": 1}'], "not TrainConfig fields: no_such_field"),
])
def test_bad_arguments_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        mod.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
