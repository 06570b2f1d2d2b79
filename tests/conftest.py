"""Fixtures shared by several test files.

Helper modules (`_interpret_toy.py`, `_datasets_inputs.py`, `_tiny_dataset.py`) sit next to
this file and are imported by plain name: tests/ has no __init__.py, so pytest's default
"prepend" import mode puts tests/ on sys.path for this conftest and every test module.
tests/e2e/ has its own conftest for the browser tests.

A fixture defined in a test file overrides the one of the same name here.
"""

from __future__ import annotations

import pytest

# ----------------------------------------------------------------- the toy GenePheno model


@pytest.fixture(scope="session")
def model(tmp_path_factory):
    """The toy TrainedModel of tests/_interpret_toy.py (trained once per session)."""
    from _interpret_toy import toy_model

    return toy_model(tmp_path_factory)


@pytest.fixture
def toy_home(tmp_path_factory, monkeypatch):
    """GENEPHENO_HOME = the toy model's session home (its embedding and DIAMOND caches), one
    torch thread. Files that use the toy model declare
    `pytestmark = pytest.mark.usefixtures("toy_home")`."""
    import torch

    from _interpret_toy import temp_home

    monkeypatch.setenv("GENEPHENO_HOME", str(temp_home(tmp_path_factory)))
    torch.set_num_threads(1)


@pytest.fixture
def routed_models(model, tmp_path, monkeypatch):
    """GENEPHENO_MODELS_DIR = a models folder with the toy model shipped as "toy" and a
    sibling "toy-go-transfer" (its copy with every phenotype bias +1: its scores differ), as
    `make default-model` ships hpo and hpo-go-transfer; returns the folder."""
    import shutil

    from safetensors.torch import load_file, save_file

    root = tmp_path / "models"
    shutil.copytree(model.path, root / "toy")
    shutil.copytree(model.path, root / "toy-go-transfer")
    weights = root / "toy-go-transfer" / "model.safetensors"
    tensors = load_file(weights)
    tensors["phenotype_head.bias"] = tensors["phenotype_head.bias"] + 1.0
    save_file(tensors, weights)
    monkeypatch.setenv("GENEPHENO_MODELS_DIR", str(root))
    return root


# ---------------------------------------------------------------- per-test GENEPHENO_HOME


@pytest.fixture
def tmp_home(tmp_path, monkeypatch):
    """GENEPHENO_HOME = tmp_path / "home" (not created); returns that path."""
    home = tmp_path / "home"
    monkeypatch.setenv("GENEPHENO_HOME", str(home))
    return home


@pytest.fixture
def fixture_inputs(tmp_home, monkeypatch):
    """The dataset builders read the tiny files of tests/data/datasets instead of the
    registry (tests/_datasets_inputs.py); GENEPHENO_HOME is a fresh temp dir, returned."""
    from _datasets_inputs import use_fixture_inputs

    use_fixture_inputs(monkeypatch)
    return tmp_home


@pytest.fixture
def tiny_by_name(tmp_home, monkeypatch):
    """The tiny synthetic dataset (tests/_tiny_dataset.py) as the trainer's dataset "tiny"
    (`load_dataset_by_name`, used by the CLI); any other name is a MissingDataError."""
    from _tiny_dataset import make_tiny_dataset

    from genepheno_core.errors import MissingDataError
    from genepheno_core.training import trainer

    ds = make_tiny_dataset()

    def fake_load(name):
        if name != "tiny":
            raise MissingDataError(f"no dataset {name!r}")
        return ds

    monkeypatch.setattr(trainer, "load_dataset_by_name", fake_load)
    return ds
