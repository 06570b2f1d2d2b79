"""GenePheno (GO-concept bottleneck), its losses, exclusive pairs and the baselines."""

from genepheno_core.models.baselines import diamond_scores, kmer_lr_scores, naive_scores
from genepheno_core.models.config import GenePhenoConfig, MLPConfig
from genepheno_core.models.genepheno import GenePheno, GenePhenoOutput, MLPBaseline
from genepheno_core.models.losses import bce_loss, contrastive_multilabel_loss, exclusivity_loss
from genepheno_core.models.pairs import dataset_pairs, find_exclusive_pairs

__all__ = [
    "GenePheno",
    "GenePhenoConfig",
    "GenePhenoOutput",
    "MLPBaseline",
    "MLPConfig",
    "bce_loss",
    "contrastive_multilabel_loss",
    "dataset_pairs",
    "diamond_scores",
    "exclusivity_loss",
    "find_exclusive_pairs",
    "kmer_lr_scores",
    "naive_scores",
]
