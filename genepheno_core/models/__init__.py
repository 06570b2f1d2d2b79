"""GenePheno (GO-concept bottleneck), its losses, exclusive pairs, the baselines and the
trained model as one inference object (TrainedModel)."""

from genepheno_core.models.baselines import (
    MLPBaseline,
    diamond_scores,
    kmer_lr_scores,
    naive_scores,
)
from genepheno_core.models.config import GenePhenoConfig, MLPConfig
from genepheno_core.models.go_transfer import GoReference, GoTransfer, load_go_reference, read_go_reference, transfer_go
from genepheno_core.models.genepheno import GenePheno, GenePhenoOutput, LogitParts
from genepheno_core.models.losses import bce_loss, contrastive_multilabel_loss, exclusivity_loss
from genepheno_core.models.pairs import dataset_pairs, find_exclusive_pairs
from genepheno_core.models.trained import CrossSpecies, TrainedModel

__all__ = [
    "CrossSpecies",
    "GenePheno",
    "GenePhenoConfig",
    "GenePhenoOutput",
    "GoReference",
    "GoTransfer",
    "LogitParts",
    "MLPBaseline",
    "MLPConfig",
    "TrainedModel",
    "bce_loss",
    "contrastive_multilabel_loss",
    "dataset_pairs",
    "diamond_scores",
    "exclusivity_loss",
    "find_exclusive_pairs",
    "kmer_lr_scores",
    "load_go_reference",
    "naive_scores",
    "read_go_reference",
    "transfer_go",
]
