"""Typed configuration of a dataset build (`DatasetConfig`)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace

logger = logging.getLogger(__name__)

# GO evidence codes (https://geneontology.org/docs/guide-go-evidence-codes/).
EXPERIMENTAL_CODES: tuple[str, ...] = ("EXP", "IDA", "IPI", "IMP", "IGI", "IEP")
HIGH_THROUGHPUT_CODES: tuple[str, ...] = ("HTP", "HDA", "HMP", "HGI", "HEP")
DEFAULT_EVIDENCE: tuple[str, ...] = EXPERIMENTAL_CODES + HIGH_THROUGHPUT_CODES
# Mutant-phenotype / genetic-interaction codes: in mouse these annotations are often made
# from the same knockout papers as the MP labels, so they leak labels into the GO input.
# HMP/HGI are their high-throughput twins and leak the same way.
MUTANT_PHENOTYPE_CODES: tuple[str, ...] = ("IMP", "IGI", "HMP", "HGI")

DATASET_NAMES: tuple[str, ...] = ("mpo", "hpo", "gwas", "hpo-temporal")


@dataclass(frozen=True)
class DatasetConfig:
    """How a benchmark dataset is built. Everything that changes the artifact is here.

    min_genes: keep label terms annotated (after propagation) to at least this many genes.
    evidence: GO evidence codes kept for the GO input matrix (NOT-qualified annotations are
        always excluded).
    drop_imp_igi: additionally drop the mutant-phenotype codes (IMP, IGI, HMP, HGI).
    go_relations: relations GO annotations are propagated over ("is_a" or ("is_a", "part_of")).
    seed: seed of the random split (and of the cluster order of the homology split).
    fractions: train/valid/test fractions of the random and homology splits.
    homology: compute the homology split; without it the column is absent.
    homology_min_identity / homology_min_length: the homology split's rule: two proteins
        are linked when DIAMOND finds a local alignment of >= homology_min_identity
        identity over >= homology_min_length aligned residues; linked proteins (single
        linkage) never sit on different sides of the train / valid+test boundary.
    min_seq_id / coverage: MMseqs2 easy-cluster parameters (--min-seq-id, -c) of the
        first-generation homology split (homology_rule="mmseqs"); threads: for MMseqs2 and
        DIAMOND.
    homology_rule: "local" (the rule above) or "mmseqs" (MMseqs2 clusters at min_seq_id
        identity and coverage of both sequences; kept to reproduce old artifacts).
    temporal_valid_fraction: hpo-temporal only: fraction of the training-release genes used
        for validation.
    propagate_gwas: gwas only: propagate traits over EFO is_a.
    gwas_max_p: gwas only: keep gene-trait associations with p <= this (genome-wide
        significance).
    gwas_min_studies: gwas only: keep gene-trait associations reported by >= this many
        studies.
    gwas_max_gene_fraction: gwas only: drop terms carried by more than this fraction of
        the genes (after propagation; the root is always dropped).
    """

    min_genes: int = 11
    evidence: tuple[str, ...] = DEFAULT_EVIDENCE
    drop_imp_igi: bool = False
    go_relations: tuple[str, ...] = ("is_a",)
    seed: int = 0
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    homology: bool = True
    homology_rule: str = "local"
    homology_min_identity: float = 0.3
    homology_min_length: int = 50
    min_seq_id: float = 0.3
    coverage: float = 0.8
    threads: int = 2
    temporal_valid_fraction: float = 0.1
    propagate_gwas: bool = True
    gwas_max_p: float = 5e-8
    gwas_min_studies: int = 1
    gwas_max_gene_fraction: float = 0.5

    def __post_init__(self) -> None:
        if self.min_genes < 1:
            raise ValueError(f"min_genes must be >= 1, got {self.min_genes}")
        if len(self.fractions) != 3 or abs(sum(self.fractions) - 1.0) > 1e-6 or min(self.fractions) < 0:
            raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {self.fractions}")
        if not set(self.go_relations) <= {"is_a", "part_of"} or "is_a" not in self.go_relations:
            raise ValueError(f"go_relations must be ('is_a',) or ('is_a', 'part_of'), got {self.go_relations}")
        if self.homology_rule not in ("local", "mmseqs"):
            raise ValueError(f"homology_rule must be 'local' or 'mmseqs', got {self.homology_rule!r}")
        # normalise sequences given as lists (e.g. from JSON) to tuples
        object.__setattr__(self, "evidence", tuple(self.evidence))
        object.__setattr__(self, "fractions", tuple(float(f) for f in self.fractions))
        object.__setattr__(self, "go_relations", tuple(self.go_relations))

    @property
    def evidence_codes(self) -> tuple[str, ...]:
        """The evidence codes actually kept (drop_imp_igi applied), sorted."""
        codes = set(self.evidence)
        if self.drop_imp_igi:
            codes -= set(MUTANT_PHENOTYPE_CODES)
        return tuple(sorted(codes))

    def to_dict(self) -> dict:
        out = asdict(self)
        for key in ("evidence", "fractions", "go_relations"):
            out[key] = list(out[key])
        out["evidence_codes"] = list(self.evidence_codes)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> DatasetConfig:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def replace(self, **changes) -> DatasetConfig:
        return replace(self, **changes)
