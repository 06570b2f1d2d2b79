"""genepheno_core.environment: the environment variables, read in one place."""

from pathlib import Path

import pytest

from genepheno_core import environment
from genepheno_core.errors import MissingDataError


def test_home_mirror_and_esm_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GENEPHENO_MIRROR", "  ")  # blank is unset
    monkeypatch.delenv("GENEPHENO_ESM_DIR", raising=False)
    assert environment.home() == tmp_path / "home"
    assert environment.mirror() is None and environment.esm_dir() is None
    monkeypatch.setenv("GENEPHENO_MIRROR", str(tmp_path))
    assert environment.mirror() == tmp_path
    monkeypatch.delenv("GENEPHENO_HOME")
    assert "genepheno" in str(environment.home())  # the platform cache directory


def test_assets_from_the_variable_the_checkout_or_the_installed_package(monkeypatch, tmp_path):
    monkeypatch.delenv("GENEPHENO_ASSETS", raising=False)
    monkeypatch.delenv("GENEPHENO_MODELS_DIR", raising=False)
    checkout = Path(__file__).resolve().parents[1] / "assets"
    assert environment.assets_dir() == checkout  # tests run from the repository
    assert environment.models_dir() == checkout / "models"
    installed = tmp_path / "share" / "genepheno" / "assets"
    installed.mkdir(parents=True)
    monkeypatch.setattr(environment, "_CHECKOUT_ASSETS", tmp_path / "no-checkout")
    monkeypatch.setattr(environment, "_INSTALLED_ASSETS", installed)
    assert environment.assets_dir() == installed
    monkeypatch.setenv("GENEPHENO_ASSETS", str(tmp_path))
    assert environment.assets_dir() == tmp_path
    monkeypatch.setenv("GENEPHENO_MODELS_DIR", str(tmp_path / "mine"))
    assert environment.models_dir() == tmp_path / "mine"


def test_missing_assets_name_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("GENEPHENO_ASSETS", str(tmp_path / "nope"))
    with pytest.raises(MissingDataError, match="GENEPHENO_ASSETS=.*nope is not a directory"):
        environment.assets_dir()
    monkeypatch.delenv("GENEPHENO_ASSETS")
    monkeypatch.setattr(environment, "_CHECKOUT_ASSETS", tmp_path / "a")
    monkeypatch.setattr(environment, "_INSTALLED_ASSETS", tmp_path / "b")
    with pytest.raises(MissingDataError, match="set GENEPHENO_ASSETS"):
        environment.assets_dir()
