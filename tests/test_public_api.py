"""The curated public API in genepheno_core/__init__.py."""

import importlib

import genepheno_core as gp


def test_every_public_name_resolves():
    for name in gp.__all__:
        assert getattr(gp, name) is not None, name


def test_explain_is_callable_before_and_after_submodule_imports():
    assert callable(gp.explain)
    importlib.import_module("genepheno_core.explain.graphs")
    assert callable(gp.explain)
    from genepheno_core.explain.contributions import explain as real

    # calling through the package reaches the real function (same error on a bad model)
    import pytest

    with pytest.raises(Exception) as via_package:
        gp.explain("/nonexistent/model", "G1")
    with pytest.raises(Exception) as direct:
        real("/nonexistent/model", "G1")
    assert type(via_package.value) is type(direct.value)
