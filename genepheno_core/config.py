"""Typed configuration objects, re-exported from the areas that define them.

Each area keeps its config next to its code (datasets/config.py, embeddings/config.py,
models/config.py, training/config.py); this module gathers them for users.
"""

from __future__ import annotations

from genepheno_core.datasets.config import DatasetConfig
from genepheno_core.embeddings.config import CompositionConfig, EmbeddingConfig

__all__ = ["CompositionConfig", "DatasetConfig", "EmbeddingConfig", "GenePhenoConfig", "TrainConfig"]


def __getattr__(name: str):
    # torch-backed configs are imported lazily so that `import genepheno_core.config` stays light
    if name == "GenePhenoConfig":
        from genepheno_core.models.config import GenePhenoConfig

        return GenePhenoConfig
    if name == "TrainConfig":
        from genepheno_core.training.config import TrainConfig

        return TrainConfig
    raise AttributeError(name)
