"""Predictions and explanations for any protein.

predict / explain (exact contributions of concepts, GO terms and the other species' homolog
phenotypes), nearest_proteins and ortholog_evidence (DIAMOND), captum
attributions (concept_attributions, residue_attributions), phenotype graphs
(correlation_graph, exclusion_graph, term_neighbourhood), the shipped default model
(default_model_path) and case studies (load_case_studies), and the interpretability check.
All functions return data (DataFrames, arrays, networkx graphs, dataclasses); none prints.
Torch and captum are imported on first use.
"""

from __future__ import annotations

import importlib
import sys
import types

# Imported eagerly: the submodule `predict` has the same name as the function, and importing
# the submodule would otherwise rebind `genepheno_core.explain.predict` to the module.
from genepheno_core.explain.predict import predict  # noqa: E402

_API = {
    "predict": "genepheno_core.explain.predict",
    "explain": "genepheno_core.explain.contributions",
    "Explanation": "genepheno_core.explain.contributions",
    "default_model_path": "genepheno_core.explain.default_model",
    "resolve_model": "genepheno_core.explain.default_model",
    "write_explain_extras": "genepheno_core.explain.default_model",
    "nearest_proteins": "genepheno_core.explain.neighbours",
    "ortholog_evidence": "genepheno_core.explain.neighbours",
    "residue_attributions": "genepheno_core.explain.attributions",
    "concept_attributions": "genepheno_core.explain.attributions",
    "ConceptAttributions": "genepheno_core.explain.attributions",
    "correlation_graph": "genepheno_core.explain.graphs",
    "exclusion_graph": "genepheno_core.explain.graphs",
    "term_neighbourhood": "genepheno_core.explain.graphs",
    "load_case_studies": "genepheno_core.explain.case_studies",
    "interpretability_check": "genepheno_core.explain.case_studies",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'genepheno_core.explain' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


class _CallablePackage(types.ModuleType):
    """`genepheno_core.explain` is both this sub-package and the public `explain()` function.

    Importing a sub-package binds the parent's attribute to the module, which would shadow
    the function exported by `genepheno_core`. Making the package callable keeps
    `genepheno_core.explain(model, gene, phenotype=None)` working whichever is bound.
    """

    def __call__(self, *args, **kwargs):
        from genepheno_core.explain.contributions import explain as _explain

        return _explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
