"""The curated public API in genepheno_core/__init__.py."""

import importlib
import inspect
import pkgutil
import types

import genepheno_core as gp


def test_every_public_name_is_the_object_its_module_defines():
    for name in gp.__all__:
        value = getattr(gp, name)
        defining = importlib.import_module(gp._API[name])
        assert value is getattr(defining, name), name
        assert not isinstance(value, types.ModuleType), f"{name} is a module, not a function or class"


def test_explain_and_predict_are_plain_functions():
    for name in ("explain", "predict"):
        importlib.import_module("genepheno_core.interpret.graphs")  # importing a sub-module changes nothing
        func = getattr(gp, name)
        assert inspect.isfunction(func), name
        params = list(inspect.signature(func).parameters)
        assert params[:2] == (["model", "gene"] if name == "explain" else ["model", "sequences_or_fasta"]), params
        assert func.__doc__  # help(gp.explain) shows the function's documentation


def test_no_public_function_shares_its_name_with_a_module():
    modules = {m.name.rsplit(".", 1)[-1] for m in pkgutil.walk_packages(gp.__path__, "genepheno_core.")}
    clashes = sorted(set(gp.__all__) & modules)
    assert not clashes, f"public names that are also module names: {clashes}"


def test_errors_are_public():
    for name in ("GenePhenoError", "InputFormatError", "ChecksumError", "MissingDataError",
                 "ModelMismatchError", "ModelLoadError", "UnknownGeneError"):
        assert issubclass(getattr(gp, name), Exception)
        if name != "GenePhenoError":
            assert issubclass(getattr(gp, name), gp.GenePhenoError)
