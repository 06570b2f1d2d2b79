"""One trainer for GenePheno and the baselines, and checkpoints (save, and load_model ->
genepheno_core.models.TrainedModel)."""

from genepheno_core.training.checkpoint import load_model, save_checkpoint
from genepheno_core.training.config import ABLATIONS, METHODS, SPLITS, TrainConfig
from genepheno_core.training.trainer import prepare_data, run, train, train_and_predict

__all__ = [
    "ABLATIONS",
    "METHODS",
    "SPLITS",
    "TrainConfig",
    "load_model",
    "prepare_data",
    "run",
    "save_checkpoint",
    "train",
    "train_and_predict",
]
