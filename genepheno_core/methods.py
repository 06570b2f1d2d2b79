"""The method registry: what every method reads and how the benchmark names, keys and groups it.

One table (`METHODS`) read by the training config (inputs, losses), the trainer (which arrays
to prepare, neural or not), the benchmark (cell keys, seed reuse) and its tables (row groups).
Adding a method or an input means adding one entry here. Nothing in this module imports
torch, so configs can read it cheaply.

Benchmark method names are a trainer method plus at most one ablation:
"genepheno-no-go" -> ("genepheno", ("no-go",)).
"""

from __future__ import annotations

from dataclasses import dataclass

# TrainConfig fields that change a neural baseline's result (the benchmark's cell key)
_NEURAL_FIELDS = ("lr", "weight_decay", "batch_size", "max_epochs", "patience", "min_epochs",
                  "hidden", "n_layers", "dropout")


@dataclass(frozen=True)
class MethodSpec:
    """One trainer method.

    family: "baseline" (the specified baselines), "reference" (not a specified baseline,
        shown in its own table) or "genepheno".
    neural: trained by `fit_module` (else scored directly by a function of models.baselines).
    reads_embeddings: reads the `--encoder` sequence embeddings (the benchmark's encoder).
    reads_go: reads the gene's GO annotations.
    reads_cross_species: reads the other species' homolog phenotypes (DIAMOND against it).
    deterministic: the result does not depend on the seed (fixed splits, deterministic fit),
        so the benchmark computes one cell and reuses it for the other seeds.
    cell_fields: TrainConfig fields that change the result; None = every field that is not
        run control (GenePheno, whose every option matters).
    bottleneck: the GenePheno module (concept bottleneck): GenePheno's own options apply
        (contrastive loss, exclusion and concept losses, weight EMA, GO modality dropout,
        the homology branch); every other neural method is an MLPBaseline trained with BCE.
    ablations: the ablations that exist for this method (keys of ABLATIONS).
    """

    name: str
    family: str
    description: str
    neural: bool = False
    reads_embeddings: bool = False
    reads_go: bool = False
    reads_cross_species: bool = False
    deterministic: bool = False
    cell_fields: tuple[str, ...] | None = ()
    bottleneck: bool = False
    ablations: tuple[str, ...] = ()


@dataclass(frozen=True)
class AblationSpec:
    """One GenePheno ablation: which input it removes or which loss term it switches off."""

    name: str
    description: str
    drops_embeddings: bool = False
    drops_go: bool = False
    drops_cross_species: bool = False
    # trained on GO transferred from the protein's sequence homologs (models.go_transfer)
    # instead of the gene's own annotations
    transfers_go: bool = False
    # adds the functional-neighbour vote (models.go_neighbours): the training genes with the
    # most similar GO input and / or homolog phenotypes vote with their phenotypes; what makes
    # them similar and the vote's weight are chosen on validation
    neighbours: bool = False
    # a prediction-time variant: the method's own trained model, its test genes scored with
    # other inputs ("transferred-go": GO transferred from their sequence homologs in place
    # of their own GO). Not a training option: the benchmark scores it from the cell of the
    # method itself (one training, two rows)
    at_prediction: str | None = None
    # an input variant users meet (shown as its own row of the main tables, not only in the
    # ablation table): the label the tables give it
    main_row: str | None = None


ABLATIONS: dict[str, AblationSpec] = {a.name: a for a in (
    # a pasted protein, as the tool scores it (choose_model routes a protein given no GO to the
    # shipped `<name>-go-transfer` model; the benchmark's validation choice between this and
    # "pasted" below): trained (not only scored) on GO transferred from sequence homologs,
    # computed as for a new protein (never the gene's own annotations or protein)
    AblationSpec("go-transfer", "trained and scored on GO transferred from sequence homologs",
                 transfers_go=True, main_row="pasted protein"),
    # the same model (same training, same seed) plus the functional-neighbour vote: the
    # training genes whose transferred GO and / or homolog phenotypes are most like the
    # protein's vote with their phenotypes; the similarity and the weight are chosen on
    # validation per run (weight 0 = off)
    AblationSpec("go-neighbours", "go-transfer plus the vote of the training genes with the most similar GO "
                 "and / or homolog phenotypes, chosen on validation",
                 transfers_go=True, neighbours=True, main_row="pasted protein, functional neighbours"),
    # the default model (trained on own GO) given a protein's GO predicted from sequence (GO
    # terms of its DIAMOND homologs among GO-annotated human and mouse proteins, never its own
    # entry) in place of its own annotations: what `--exact-model` does for a protein without GO
    AblationSpec("pasted", "GO transferred from sequence homologs at prediction time, not the gene's own",
                 at_prediction="transferred-go", main_row="own-GO model, GO from homologs"),
    # sequence + the other species' homolog phenotypes, no GO at all, trained for that input
    AblationSpec("no-go", "without the GO input", drops_go=True, main_row="no GO input"),
    AblationSpec("no-seq", "without the sequence embeddings", drops_embeddings=True),
    AblationSpec("bce", "BCE instead of the contrastive loss"),
    AblationSpec("no-excl", "without the exclusion loss"),
    AblationSpec("no-concept", "without concept supervision"),
    AblationSpec("no-orth", "without the other species' homolog phenotypes", drops_cross_species=True),
    # the paper's premise: the sequence and nothing else (no GO, no cross-species input)
    AblationSpec("seq-only", "sequence only (no GO, no homolog phenotypes)", drops_go=True,
                 drops_cross_species=True, main_row="sequence only"),
)}

METHODS: dict[str, MethodSpec] = {m.name: m for m in (
    MethodSpec("naive", "baseline", "term frequency among training genes", deterministic=True),
    MethodSpec("diamond-score", "baseline", "DIAMOND bit-score weighted labels of training homologs",
               deterministic=True),
    MethodSpec("kmer-lr", "baseline", "k-mer composition + logistic regression per term", deterministic=True,
               cell_fields=("kmer_encoder", "kmer_C")),
    MethodSpec("mlp-bce", "baseline", "MLP with BCE on sequence embeddings (DeepGOPlus-like head)",
               neural=True, reads_embeddings=True, cell_fields=_NEURAL_FIELDS),
    MethodSpec("go-mlp", "baseline", "MLP on the GO annotations (DeepPheno-like)", neural=True, reads_go=True,
               cell_fields=_NEURAL_FIELDS + ("go_min_genes",)),
    MethodSpec("go-orth-mlp", "reference",
               "go-mlp's network fed GenePheno's GO bag and cross-species vector (not a specified baseline)",
               neural=True, reads_go=True, reads_cross_species=True,
               cell_fields=_NEURAL_FIELDS + ("go_min_genes", "cross_species", "ortholog_max_hits")),
    MethodSpec("genepheno", "genepheno", "GO-concept bottleneck with direct GO-term and homolog-phenotype paths",
               neural=True, reads_embeddings=True, reads_go=True, reads_cross_species=True, cell_fields=None,
               bottleneck=True, ablations=tuple(ABLATIONS)),
)}

# The order methods appear in: the baselines, the references, then each method with ablations
# followed by its ablation rows.
TRAINER_METHODS: tuple[str, ...] = tuple(METHODS)


def benchmark_methods() -> tuple[str, ...]:
    """Every benchmark method name, in table order."""
    names = [m.name for m in METHODS.values() if m.family != "genepheno"]
    for spec in METHODS.values():
        if spec.family == "genepheno":
            names.append(spec.name)
            names += [f"{spec.name}-{a}" for a in spec.ablations]
    return tuple(names)


def split_method(method: str) -> tuple[str, tuple[str, ...]]:
    """Benchmark method name -> (trainer method, ablations): "genepheno-no-go" -> ("genepheno",
    ("no-go",)); a trainer method maps to itself. Unknown names raise ValueError."""
    if method in METHODS:
        return method, ()
    for spec in METHODS.values():
        for ablation in spec.ablations:
            if method == f"{spec.name}-{ablation}":
                return spec.name, (ablation,)
    raise ValueError(f"unknown method {method!r}; choose from {', '.join(benchmark_methods())}")


def method_spec(method: str) -> MethodSpec:
    """The spec of a trainer or benchmark method name (an ablation row gets its method's spec)."""
    return METHODS[split_method(method)[0]]


def is_ablation(method: str) -> bool:
    return bool(split_method(method)[1])


def main_row_label(method: str) -> str | None:
    """The main-table label of an input-variant row ("genepheno-go-transfer" -> "pasted protein"),
    None for every other method."""
    _, ablations = split_method(method)
    return ABLATIONS[ablations[0]].main_row if ablations else None


def prediction_variant(method: str) -> tuple[str, str] | None:
    """(the benchmark method whose trained model it scores, the input variant) for a
    prediction-time variant ("genepheno-pasted" -> ("genepheno", "transferred-go")), else None."""
    name, ablations = split_method(method)
    for a in ablations:
        if ABLATIONS[a].at_prediction:
            rest = [b for b in ablations if b != a]
            return (f"{name}-{rest[0]}" if rest else name), ABLATIONS[a].at_prediction
    return None


def training_ablations(ablations) -> tuple[str, ...]:
    """The ablations that change training (prediction-time variants left out)."""
    return tuple(a for a in ablations if not ABLATIONS[a].at_prediction)


def reads(method: str, ablations: tuple[str, ...] = ()) -> dict[str, bool]:
    """What `method` (with `ablations`, or those in its benchmark name) reads:
    {"embeddings", "go", "cross_species", "transferred_go", "go_neighbours"}."""
    name, named = split_method(method)
    spec = METHODS[name]
    dropped = [ABLATIONS[a] for a in tuple(named) + tuple(ablations)]
    return {
        "embeddings": spec.reads_embeddings and not any(a.drops_embeddings for a in dropped),
        "go": spec.reads_go and not any(a.drops_go for a in dropped),
        "cross_species": spec.reads_cross_species and not any(a.drops_cross_species for a in dropped),
        "transferred_go": spec.reads_go and any(a.transfers_go for a in dropped)
        and not any(a.drops_go for a in dropped),
        "go_neighbours": spec.reads_go and any(a.neighbours for a in dropped)
        and not any(a.drops_go for a in dropped),
    }
