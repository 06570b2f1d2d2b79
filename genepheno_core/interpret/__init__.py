"""Predictions and explanations for any protein.

predict (`inference`), explain (`contributions`: exact contributions of concepts, GO terms
and the other species' homolog phenotypes), nearest_proteins, ortholog_evidence and
model_knowledge (`neighbours`, DIAMOND: is the query a training protein, or without any homolog?), captum attributions (`attributions`: concept_attributions,
residue_attributions), phenotype graphs (`graphs`: correlation_graph, exclusion_graph,
term_neighbourhood), user input for services (`user_input`: parse_user_input,
parse_user_records, parse_go_text and the input limits), the shipped default model (`model_store`: default_model_path,
resolve_model, choose_model: the model for proteins given no GO) and case studies (`case_studies`: load_case_studies, interpretability_check).
No public function shares its name with a module. All functions return data (DataFrames,
arrays, networkx graphs, dataclasses); none prints. Torch and captum are imported on first use.
"""

from __future__ import annotations

import importlib

_API = {
    "predict": "genepheno_core.interpret.inference",
    "specific_view": "genepheno_core.interpret.inference",
    "explain": "genepheno_core.interpret.contributions",
    "Explanation": "genepheno_core.interpret.contributions",
    "default_model_path": "genepheno_core.interpret.model_store",
    "resolve_model": "genepheno_core.interpret.model_store",
    "choose_model": "genepheno_core.interpret.model_store",
    "models_dir": "genepheno_core.interpret.model_store",
    "write_explain_extras": "genepheno_core.interpret.model_store",
    "nearest_proteins": "genepheno_core.interpret.neighbours",
    "model_knowledge": "genepheno_core.interpret.neighbours",
    "ortholog_evidence": "genepheno_core.interpret.neighbours",
    "residue_attributions": "genepheno_core.interpret.attributions",
    "concept_attributions": "genepheno_core.interpret.attributions",
    "ConceptAttributions": "genepheno_core.interpret.attributions",
    "correlation_graph": "genepheno_core.interpret.graphs",
    "exclusion_graph": "genepheno_core.interpret.graphs",
    "term_neighbourhood": "genepheno_core.interpret.graphs",
    "load_case_studies": "genepheno_core.interpret.case_studies",
    "interpretability_check": "genepheno_core.interpret.case_studies",
    "parse_user_input": "genepheno_core.interpret.user_input",
    "parse_user_records": "genepheno_core.interpret.user_input",
    "parse_go_text": "genepheno_core.interpret.user_input",
    "UserInput": "genepheno_core.interpret.user_input",
    "input_limits_text": "genepheno_core.interpret.user_input",
    "MAX_USER_SEQUENCES": "genepheno_core.interpret.user_input",
    "MAX_USER_RESIDUES": "genepheno_core.interpret.user_input",
    "MAX_USER_INPUT_BYTES": "genepheno_core.interpret.user_input",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'genepheno_core.interpret' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
