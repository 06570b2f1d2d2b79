"""GenePheno model core: public API.

Everything a user, the benchmark or the dashboard needs is importable from here; the
sub-packages are internals. Imports are lazy so that `import genepheno_core` is fast and
does not pull torch until a model is needed.
"""

from __future__ import annotations

import importlib

from genepheno_core.version import __version__  # noqa: F401 (re-exported)

# public name -> module that defines it
_API = {
    # errors with messages meant for users (the CLI and the dashboard show them as they are)
    "GenePhenoError": "genepheno_core.errors",
    "InputFormatError": "genepheno_core.errors",
    "ChecksumError": "genepheno_core.errors",
    "MissingDataError": "genepheno_core.errors",
    "ModelMismatchError": "genepheno_core.errors",
    "ModelLoadError": "genepheno_core.errors",
    "UnknownGeneError": "genepheno_core.errors",
    # data layer
    "fetch": "genepheno_core.sources.registry",
    "load_ontology": "genepheno_core.ontology",
    "Ontology": "genepheno_core.ontology",
    "build_dataset": "genepheno_core.datasets",
    "load_dataset": "genepheno_core.datasets",
    "save_dataset": "genepheno_core.datasets",
    "Dataset": "genepheno_core.datasets",
    "DatasetConfig": "genepheno_core.datasets",
    # sequences and encoders
    "parse_sequences": "genepheno_core.embeddings",
    "check_query_sequences": "genepheno_core.embeddings",
    "is_nucleotide": "genepheno_core.embeddings",
    "MIN_QUERY_LENGTH": "genepheno_core.embeddings",
    "MAX_NONSTANDARD_FRACTION": "genepheno_core.embeddings",
    "get_encoder": "genepheno_core.embeddings",
    "embed_sequences": "genepheno_core.embeddings",
    # models and training
    "GenePheno": "genepheno_core.models",
    "GenePhenoConfig": "genepheno_core.models",
    "TrainConfig": "genepheno_core.training",
    "train": "genepheno_core.training",
    "load_model": "genepheno_core.training",
    "TrainedModel": "genepheno_core.models",
    # evaluation
    "evaluate_scores": "genepheno_core.evaluation",
    # prediction and explanation
    "predict": "genepheno_core.interpret",
    "specific_view": "genepheno_core.interpret",
    "explain": "genepheno_core.interpret",
    "Explanation": "genepheno_core.interpret",
    "default_model_path": "genepheno_core.interpret",
    "choose_model": "genepheno_core.interpret",
    "models_dir": "genepheno_core.interpret",
    "nearest_proteins": "genepheno_core.interpret",
    "model_knowledge": "genepheno_core.interpret",
    "ortholog_evidence": "genepheno_core.interpret",
    "residue_attributions": "genepheno_core.interpret",
    "concept_attributions": "genepheno_core.interpret",
    "correlation_graph": "genepheno_core.interpret",
    "exclusion_graph": "genepheno_core.interpret",
    "term_neighbourhood": "genepheno_core.interpret",
    "load_case_studies": "genepheno_core.interpret",
    "interpretability_check": "genepheno_core.interpret",
    # user input of the services (the dashboard and the REST API read it the same way)
    "parse_user_input": "genepheno_core.interpret",
    "parse_user_records": "genepheno_core.interpret",
    "parse_go_text": "genepheno_core.interpret",
    "UserInput": "genepheno_core.interpret",
    "input_limits_text": "genepheno_core.interpret",
    "MAX_USER_SEQUENCES": "genepheno_core.interpret",
    "MAX_USER_RESIDUES": "genepheno_core.interpret",
    "MAX_USER_INPUT_BYTES": "genepheno_core.interpret",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'genepheno_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
