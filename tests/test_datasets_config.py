"""DatasetConfig: defaults, evidence codes, validation, dict round trip."""

from __future__ import annotations

import pytest

from genepheno_core.datasets import DatasetConfig


def test_defaults_and_evidence_codes():
    config = DatasetConfig()
    assert config.min_genes == 11
    assert config.fractions == (0.8, 0.1, 0.1)
    assert config.evidence_codes == tuple(sorted(
        ["EXP", "IDA", "IPI", "IMP", "IGI", "IEP", "HTP", "HDA", "HMP", "HGI", "HEP"]))
    dropped = DatasetConfig(drop_imp_igi=True).evidence_codes
    assert dropped == ("EXP", "HDA", "HEP", "HTP", "IDA", "IEP", "IPI")


@pytest.mark.parametrize(
    "changes",
    [{"min_genes": 0}, {"fractions": (0.8, 0.1, 0.2)}, {"fractions": (1.1, -0.1, 0.0)}, {"go_relations": ("part_of",)}],
)
def test_invalid_values_are_rejected(changes):
    with pytest.raises(ValueError):
        DatasetConfig(**changes)


def test_dict_round_trip_ignores_derived_keys():
    config = DatasetConfig(min_genes=5, evidence=["IDA"], go_relations=["is_a", "part_of"])
    data = config.to_dict()
    assert data["evidence"] == ["IDA"] and data["evidence_codes"] == ["IDA"]
    assert DatasetConfig.from_dict(data) == config
