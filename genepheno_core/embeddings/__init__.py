"""Protein sequence encoders with a content-addressed embedding cache.

Public: `get_encoder(name, **options)`, `embed_sequences(sequences, encoder, cache=True,
progress=False)`, `parse_sequences(text_or_path)`, the encoder classes and
`UniRepModel` (the differentiable UniRep module used for residue attributions).
Torch and transformers are imported only when an encoder that needs them is built.
"""

from __future__ import annotations

import importlib

from genepheno_core.embeddings.api import ENCODER_NAMES, embed_sequences, get_encoder
from genepheno_core.embeddings.base import Encoder
from genepheno_core.embeddings.cache import EmbeddingCache
from genepheno_core.embeddings.composition import CompositionEncoder, composition_features
from genepheno_core.embeddings.config import CompositionConfig, EmbeddingConfig
from genepheno_core.embeddings.sequences import (
    MAX_NONSTANDARD_FRACTION,
    MIN_QUERY_LENGTH,
    check_query_sequences,
    is_nucleotide,
    parse_sequences,
)

# name -> module, imported on first use (these pull torch / transformers)
_LAZY = {
    "UniRepEncoder": "genepheno_core.embeddings.unirep",
    "UniRepModel": "genepheno_core.embeddings.unirep",
    "load_unirep": "genepheno_core.embeddings.unirep",
    "encode_tokens": "genepheno_core.embeddings.unirep",
    "pad_tokens": "genepheno_core.embeddings.unirep",
    "TransformersEncoder": "genepheno_core.embeddings.hf",
    "EsmEncoder": "genepheno_core.embeddings.hf",
}

__all__ = [
    "ENCODER_NAMES",
    "MAX_NONSTANDARD_FRACTION",
    "MIN_QUERY_LENGTH",
    "CompositionConfig",
    "CompositionEncoder",
    "EmbeddingCache",
    "EmbeddingConfig",
    "Encoder",
    "composition_features",
    "embed_sequences",
    "check_query_sequences",
    "is_nucleotide",
    "get_encoder",
    "parse_sequences",
    *_LAZY,
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'genepheno_core.embeddings' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
