"""TrainConfig: per-dataset defaults and how replace() re-decides them."""

from __future__ import annotations

import pytest

from genepheno_core.training import TrainConfig
from genepheno_core.training.config import DATASET_DEFAULTS, GLOBAL_DEFAULTS, dataset_default


def test_a_field_left_unset_takes_the_dataset_default():
    assert TrainConfig(dataset="hpo").ortholog_rank == GLOBAL_DEFAULTS["ortholog_rank"] == 256
    assert TrainConfig(dataset="hpo").ortholog_mapped is False
    mpo = TrainConfig(dataset="mpo")
    assert (mpo.ortholog_rank, mpo.ortholog_mapped) == (32, True)
    # a dataset given as a directory is known by its last part
    assert TrainConfig(dataset="/data/datasets/mpo").ortholog_mapped is True
    # the leakage check's dataset is one model with the dataset it checks
    assert DATASET_DEFAULTS["mpo-no-imp-igi"] == DATASET_DEFAULTS["mpo"]
    assert dataset_default("gwas", "ortholog_rank") == 256


def test_a_field_set_explicitly_wins_over_the_dataset_default():
    cfg = TrainConfig(dataset="mpo", ortholog_rank=256, ortholog_mapped=False)
    assert (cfg.ortholog_rank, cfg.ortholog_mapped) == (256, False)
    assert cfg.replace(dataset="hpo").ortholog_rank == 256
    assert TrainConfig(dataset="hpo", ortholog_mapped=True).replace(dataset="mpo").ortholog_rank == 32


def test_replace_decides_the_defaulted_fields_again_for_a_new_dataset():
    # the benchmark builds its config without a dataset and the trainer sets it later
    base = TrainConfig()
    mpo = base.replace(dataset="mpo", seed=2)
    assert (mpo.ortholog_rank, mpo.ortholog_mapped, mpo.seed) == (32, True, 2)
    back = mpo.replace(dataset="hpo")
    assert (back.ortholog_rank, back.ortholog_mapped) == (256, False)
    # a replace that keeps the dataset keeps the values
    assert mpo.replace(seed=1).ortholog_rank == 32


def test_a_saved_config_reloads_with_the_values_it_ran_with():
    saved = TrainConfig(dataset="mpo").to_dict()
    assert saved["ortholog_rank"] == 32 and saved["ortholog_mapped"] is True
    assert TrainConfig.from_dict(saved).replace(dataset="hpo").ortholog_rank == 32  # explicit now
    assert "_dataset_defaulted" not in saved


def test_bad_rank_is_refused():
    with pytest.raises(ValueError, match="ortholog_rank must be >= 0"):
        TrainConfig(dataset="mpo", ortholog_rank=-1)
