"""Typed configuration of a training run (one trainer for GenePheno and every baseline)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from genepheno_core.methods import ABLATIONS as _ABLATION_SPECS
from genepheno_core.methods import METHODS as _METHOD_SPECS
from genepheno_core.methods import reads

# names of the trainer methods and ablations (the specs live in genepheno_core/methods.py)
METHODS = tuple(_METHOD_SPECS)
ABLATIONS = tuple(_ABLATION_SPECS)
SPLITS = ("random", "homology", "temporal")
LOSSES = ("contrastive", "bce", "contrastive+bce")
GO_SOURCES = ("own", "transferred", "own+transferred")


@dataclass
class TrainConfig:
    """Everything that defines a run; saved as JSON in the checkpoint.

    Defaults are the hyperparameters chosen on the hpo validation split (random split,
    seed 0, unirep256); every run is recorded in docs/VALIDATION_RUNS.md. A field left at
    None is filled from DATASET_DEFAULTS for the run's dataset (chosen on that dataset's
    validation split), else from GLOBAL_DEFAULTS; `replace(dataset=...)` fills such a field
    again for the new dataset.
    """

    dataset: str = "hpo"  # dataset name (under genepheno_home()/datasets) or directory
    model: str = "genepheno"  # one of METHODS (genepheno_core/methods.py)
    encoder: str = "unirep256"  # sequence encoder for the neural models
    split: str = "random"  # split column of the dataset
    seed: int = 0
    ablations: tuple[str, ...] = ()  # subset of ABLATIONS (genepheno only)
    out_dir: str | None = None  # checkpoint directory (None: genepheno_home()/models/<run name>)

    # optimisation (AdamW, early stopping on validation Fmax)
    lr: float = 1e-3
    weight_decay: float = 1e-2
    batch_size: int = 64
    max_epochs: int = 60
    patience: int = 5
    min_epochs: int = 3
    # GenePheno: validate, early-stop on and keep an exponential moving average of the weights
    # (per optimiser step; 0 = off). Baselines train without it (measured: +0.1 Fmax for go-mlp)
    ema_decay: float = 0.998

    # network
    hidden: int = 512
    n_layers: int = 2
    dropout: float = 0.3

    # GenePheno losses: L = L_mlc(s, y) + lambda_excl * L_excl + lambda_concept * L_concept
    loss: str = "contrastive+bce"  # contrastive (ZLPR with temperature), bce, or contrastive+bce (their sum)
    tau: float = 1.0
    lambda_bce: float = 100.0  # weight of the BCE term of loss "contrastive+bce" (BCE is a mean over K labels)
    lambda_excl: float = 0.1
    lambda_concept: float = 10.0
    # L1 on W_p (mean over phenotypes of a row's sum |W_p[k, :]|): each phenotype then leans
    # on a few concepts, so that its explanation is carried by few items; 0 = off
    lambda_sparse_concepts: float = 0.0
    concept_loss: str = "bce"  # loss on the concept logits: bce (per-concept calibrated) or contrastive
    hierarchical_loss: bool = False  # losses on max-propagated logits (C-HMCNN's max constraint)
    modality_dropout: float = 0.25  # fraction of training genes whose GO input is dropped
    # readable direct paths next to the concepts: s = W_p sigmoid(c) + W_g g + W_o o + b
    go_term_rank: int = 512  # rank of W_g (K, G): the gene's GO input terms -> phenotypes; 0 = off
    # the other species' dataset whose phenotypes of the gene's DIAMOND homologs form o:
    # "auto" (hpo, hpo-temporal, gwas <- mpo mouse knockouts; mpo <- hpo), a dataset name, or None
    cross_species: str | None = "auto"
    # rank of W_o's low-rank part (K, K'): the homologs' phenotypes -> phenotypes; 0 = off;
    # None: the dataset's default (256; mpo: 32)
    ortholog_rank: int | None = None
    ortholog_max_hits: int = 5  # DIAMOND hits per protein in the other species
    # W_o gets one weight of its own per (phenotype, other-species term) pair related by a
    # curated / lexical MP-HP mapping (the mapped part), next to the low-rank part; None: the
    # dataset's default (off; mpo: on)
    ortholog_mapped: bool | None = None
    # L2 on the low-rank part of W_o (||U||^2 + ||V||^2 of its factors): with ortholog_mapped,
    # leaves the largest homolog weights to the mapped pairs unless the data insist; 0 = off
    lambda_ortholog_lowrank: float = 0.0
    # the curated mappings as a prior for W_o's mapped part (with ortholog_mapped): each mapped
    # pair's weight starts at mapped_init instead of 0, and learns at mapped_lr_scale x lr, so
    # the mapped pairs can own the largest homolog weights before the low-rank part does
    mapped_init: float = 0.0
    mapped_lr_scale: float = 1.0
    # the training genes' GO-concept enrichment as a prior for the concept path: W_p (K, J)
    # starts at concept_init x the log-odds enrichment of each concept among the GO-annotated
    # training genes with each phenotype (evaluation.evidence.concept_enrichment) instead of
    # at random; 0 = off (nn.Linear's default initialisation). The default 0.01 was chosen on
    # validation (docs/VALIDATION_RUNS.md, "The concept enrichment as a prior for W_p"): the
    # concept check's Spearman goes from ~0.2 to ~0.6 at no accuracy cost, because accuracy
    # does not pin W_p down
    concept_init: float = 0.01
    # ... only for phenotypes with >= this many GO-annotated training genes (the others keep the
    # random start: their enrichment rests on a handful of genes); 0 = every phenotype
    concept_init_min_genes: int = 20
    # warm start: a GenePheno checkpoint (of another dataset, e.g. the other species') whose
    # shared parts start this model: the sequence projection, the GO projection (columns
    # matched by GO id), the trunk and the concept head (rows matched by concept GO id); the
    # phenotype-specific paths start as usual. None = off
    init_from: str | None = None
    # both species at once: the other species' genes (cross_species, "auto": hpo <- mpo, mpo <-
    # hpo) as extra training genes, their phenotypes carried into this vocabulary through the
    # equivalent MP <-> HP mappings (models.features.mapped_labels); a phenotype no mapping
    # reaches is unknown for them (neither positive nor negative), their homolog-phenotype input
    # is empty (their own species' phenotypes are their labels), and each one's loss weighs
    # cross_species_rows against one of this dataset's genes; 0 = off. On a homology split no
    # such gene that shares a linking alignment with a valid or test gene is used.
    cross_species_rows: float = 0.0
    path_dropout: float = 0.5  # dropout between the low-rank factors of W_g and W_o (training only)
    homology: bool = False  # Diamond-score vectors over training genes as a third input

    # vocabularies (chosen on training genes)
    go_min_genes: int = 5  # GO input terms need >= this many training genes
    concept_depth: int = 2  # default concepts: GO terms at this depth ...
    concept_max_depth: int | None = 4  # ... or depths concept_depth..concept_max_depth
    concept_min_genes: int = 30  # ... with >= this many training genes
    concepts: tuple[str, ...] | None = None  # explicit concept GO ids (overrides the rule)
    go_inputs_exclude_concepts: bool = False  # leave the concept terms out of the GO input bag
    # where the GO input comes from: "own" (the gene's annotations in the dataset),
    # "transferred" (GO of its DIAMOND homologs among GO-annotated human and mouse proteins,
    # computed as for a new protein: models.go_transfer.dataset_go_transfer) or
    # "own+transferred" (each epoch, a go_transfer_rate share of the training genes get their
    # transferred GO in place of their own; validation uses their own)
    go_source: str = "own"
    go_transfer_rate: float = 0.5
    # GO transfer (training with a transferred source, and a protein given no GO at
    # prediction): the protein's best DIAMOND hits among GO-annotated proteins kept
    go_transfer_max_hits: int = 10
    # functional neighbours (the "go-neighbours" ablation, models.go_neighbours): how many of
    # the most similar training genes vote; the blend weight is chosen on validation
    go_neighbours_k: int = 50

    # exclusive pairs
    co_annotation_pairs: bool = False
    pair_max_overlap: float | None = 0.1  # drop antonym pairs co-annotated in training above this
    pairs_tsv: str | None = None

    # baselines
    kmer_encoder: str = "composition"
    kmer_C: float = 0.1
    diamond_threads: int = 2

    # run control
    num_threads: int = 1
    progress: bool = False
    resume: bool = False
    eval_batch_size: int = 512

    def __post_init__(self):
        # fields the dataset decides (remembered, so that replace(dataset=...) decides again)
        self._dataset_defaulted = tuple(name for name in GLOBAL_DEFAULTS if getattr(self, name) is None)
        for name in self._dataset_defaulted:
            setattr(self, name, dataset_default(self.dataset, name))
        self.ablations = tuple(self.ablations or ())
        if self.concepts is not None:
            self.concepts = tuple(self.concepts)
        if self.model not in METHODS:
            raise ValueError(f"unknown model {self.model!r}; choose from {', '.join(METHODS)}")
        allowed = self.spec.ablations
        if self.ablations and not allowed:
            having = " / ".join(m for m, spec in _METHOD_SPECS.items() if spec.ablations)
            raise ValueError(f"ablations apply to --model {having} only")
        bad = [a for a in self.ablations if a not in allowed]
        if bad:
            raise ValueError(f"unknown ablation(s) {bad}; choose from {', '.join(allowed)}")
        scored = [a for a in self.ablations if _ABLATION_SPECS[a].at_prediction]
        if scored:
            raise ValueError(f"{', '.join(scored)}: a prediction-time variant, not a training option (train "
                             f"without it; predict() transfers GO to a protein given none)")
        if int(self.ortholog_rank) < 0:
            raise ValueError(f"ortholog_rank must be >= 0 (0: no low-rank part), got {self.ortholog_rank}")
        if not float(self.mapped_lr_scale) > 0:
            raise ValueError(f"mapped_lr_scale must be > 0, got {self.mapped_lr_scale}")
        if not float(self.concept_init) >= 0:
            raise ValueError(f"concept_init must be >= 0, got {self.concept_init}")
        if int(self.concept_init_min_genes) < 0:
            raise ValueError(f"concept_init_min_genes must be >= 0, got {self.concept_init_min_genes}")
        if self.init_from is not None and not self.spec.bottleneck:
            raise ValueError(f"init_from starts a GenePheno model's shared parts; {self.model} has none")
        if not float(self.cross_species_rows) >= 0:
            raise ValueError(f"cross_species_rows must be >= 0, got {self.cross_species_rows}")
        if float(self.cross_species_rows) > 0 and (
                not self.cross_species or self.cross_species == "none"
                or (self.cross_species == "auto" and Path(self.dataset).name not in CROSS_SPECIES)):
            raise ValueError(f"cross_species_rows needs the other species' dataset: none is known for "
                             f"{self.dataset!r} (name one with cross_species)")
        if int(self.go_neighbours_k) < 1:
            raise ValueError(f"go_neighbours_k must be >= 1, got {self.go_neighbours_k}")
        if int(self.go_transfer_max_hits) < 1:
            raise ValueError(f"go_transfer_max_hits must be >= 1, got {self.go_transfer_max_hits}")
        if not 0.0 <= float(self.go_transfer_rate) <= 1.0:
            raise ValueError(f"go_transfer_rate must be within [0, 1], got {self.go_transfer_rate}")
        if self.go_source not in GO_SOURCES:
            raise ValueError(f"go_source must be one of {', '.join(GO_SOURCES)}, got {self.go_source!r}")
        if self.loss not in LOSSES or self.concept_loss not in ("contrastive", "bce"):
            raise ValueError(f"loss must be one of {', '.join(LOSSES)} and concept_loss contrastive or bce, "
                             f"got {self.loss!r}, {self.concept_loss!r}")

    @property
    def spec(self):
        """The method's entry in the registry (genepheno_core.methods.MethodSpec)."""
        return _METHOD_SPECS[self.model]

    # effective switches after ablations (what the method reads: the registry)
    @property
    def use_go(self) -> bool:
        return reads(self.model, self.ablations)["go"]

    @property
    def effective_go_source(self) -> str | None:
        """Where the GO input comes from ("own", "transferred" or "own+transferred"; the
        "go-transfer" ablation sets "transferred"), None when the method reads no GO input."""
        if not self.use_go:
            return None
        return "transferred" if reads(self.model, self.ablations)["transferred_go"] else self.go_source

    @property
    def use_go_neighbours(self) -> bool:
        """Blend in the functional-neighbour vote (the "go-neighbours" ablation)."""
        return reads(self.model, self.ablations)["go_neighbours"]

    @property
    def use_seq(self) -> bool:
        return reads(self.model, self.ablations)["embeddings"]

    @property
    def effective_loss(self) -> str:
        if not self.spec.bottleneck:
            return "bce"
        return "bce" if "bce" in self.ablations else self.loss

    @property
    def effective_lambda_excl(self) -> float:
        return 0.0 if (not self.spec.bottleneck or "no-excl" in self.ablations) else self.lambda_excl

    @property
    def effective_lambda_concept(self) -> float:
        return 0.0 if (not self.spec.bottleneck or "no-concept" in self.ablations) else self.lambda_concept

    @property
    def effective_ema_decay(self) -> float:
        return self.ema_decay if self.spec.bottleneck else 0.0

    @property
    def cross_species_dataset(self) -> str | None:
        """The other species' dataset name, or None (off, the "no-orth" ablation, or a method
        that does not read it)."""
        if (not reads(self.model, self.ablations)["cross_species"] or not self.cross_species
                or self.cross_species == "none" or (self.ortholog_rank <= 0 and not self.ortholog_mapped)):
            return None
        if self.cross_species == "auto":
            return CROSS_SPECIES.get(Path(self.dataset).name)
        return self.cross_species

    @property
    def rows_species_dataset(self) -> str | None:
        """The other species' dataset whose genes are extra training rows (cross_species_rows >
        0), whatever the ablations say about the homolog-phenotype input; None when off."""
        if not float(self.cross_species_rows) > 0:
            return None
        if self.cross_species == "auto":
            return CROSS_SPECIES[Path(self.dataset).name]  # known: checked in __post_init__
        return self.cross_species

    @property
    def run_name(self) -> str:
        parts = [self.dataset.replace("/", "_"), self.model, self.encoder, self.split, f"seed{self.seed}"]
        parts += [a for a in self.ablations]
        if self.homology and self.spec.bottleneck:
            parts.append("hom")
        if self.go_source != "own" and self.use_go and "go-transfer" not in self.ablations:
            parts.append(f"go-{self.go_source}")
        if float(self.cross_species_rows) > 0:
            parts.append(f"xrows{float(self.cross_species_rows):g}")
        return "-".join(parts)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["ablations"] = list(self.ablations)
        data["concepts"] = list(self.concepts) if self.concepts is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def replace(self, **changes) -> "TrainConfig":
        if "dataset" in changes:
            for name in self._dataset_defaulted:
                changes.setdefault(name, None)
        return replace(self, **changes)


# Defaults that differ between datasets (fields left at None take them). Chosen on each
# dataset's validation split over 3 seeds (docs/VALIDATION_RUNS.md, "the trade-off curve over
# 3 seeds"): on mpo, the mapped homolog-phenotype pairs with a rank-32 low-rank part are better
# on both metrics (+0.7 Fmax, +1.3 AUC) and 44 % of the largest homolog weights are mapped;
# on hpo the same costs ~0.9 AUC points, so hpo keeps the rank-256 unmapped W_o. The leakage
# check's dataset takes the defaults of the dataset it checks, so that it compares one model.
GLOBAL_DEFAULTS = {"ortholog_rank": 256, "ortholog_mapped": False}
DATASET_DEFAULTS = {
    "mpo": {"ortholog_rank": 32, "ortholog_mapped": True},
    "mpo-no-imp-igi": {"ortholog_rank": 32, "ortholog_mapped": True},
}


def dataset_default(dataset: str, name: str):
    """The default of field `name` for `dataset` (a dataset name or directory: its last part)."""
    return DATASET_DEFAULTS.get(Path(str(dataset)).name, {}).get(name, GLOBAL_DEFAULTS[name])


# the other species' dataset used by cross_species="auto"
CROSS_SPECIES = {"hpo": "mpo", "hpo-temporal": "mpo", "gwas": "mpo", "mpo": "hpo", "mpo-no-imp-igi": "hpo",
                 "hpo-no-imp-igi": "mpo"}


# settings that do not change the trained result (allowed to differ on --resume)
RUN_CONTROL_FIELDS = ("progress", "resume", "num_threads", "out_dir", "eval_batch_size")
