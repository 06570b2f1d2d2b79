"""Build the benchmark datasets (mpo, hpo, gwas, hpo-temporal) from registry files.

Every builder reads its upstream files through the data registry (mirror or download
cache), records their sha256 in the manifest, and hands plain data to `_finish`, which
does the shared part: protein mapping, term filtering, label/GO matrices, splits and the
manifest with every drop count.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from genepheno_core.datasets import assemble
from genepheno_core.datasets.artifact import Dataset
from genepheno_core.datasets.config import DATASET_NAMES, DatasetConfig
from genepheno_core.datasets.splits import (
    component_summary,
    homology_split,
    random_split,
    residual_similarity,
    temporal_split,
)
from genepheno_core.errors import GenePhenoError
from genepheno_core.version import __version__

logger = logging.getLogger(__name__)

MP_NO_ABNORMAL = "MP:0002169"  # "no abnormal phenotype detected": not a label
MP_ROOT = "MP:0000001"
HP_ROOT = "HP:0000001"
HP_PHENOTYPIC_ABNORMALITY = "HP:0000118"
HPO_CURRENT = "2025-01-16"
HPO_TRAINING = "2020-10-12"


# ---------------------------------------------------------------------------- helpers


class _Steps:
    """Step-level progress (tqdm when progress=True) and timing of a build."""

    def __init__(self, name: str, total: int, progress: bool):
        self.name = name
        self.bar = None
        if progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=f"build {name}", unit="step")
        self.t0 = time.perf_counter()
        self.timings: dict[str, float] = {}
        self._last = self.t0

    def __call__(self, label: str) -> None:
        now = time.perf_counter()
        logger.info("%s: %s (%.1f s)", self.name, label, now - self.t0)
        if self.bar is not None:
            self.bar.set_postfix_str(label)
            self.bar.update(1)
        self._last = now

    def close(self) -> float:
        if self.bar is not None:
            self.bar.close()
        return time.perf_counter() - self.t0


@dataclass
class _Inputs:
    """Registry files used by a build, with their sha256 (recorded in the manifest)."""

    files: list[dict] = field(default_factory=list)

    def path(self, source: str, filename: str, release: str | None = None):
        from genepheno_core.sources.registry import default_release, obtain_verified, resource

        release = release or default_release(source)
        entry = resource(source, filename, release)
        # the hash the registry's check was made on: the bytes read now, not the
        # registry's expected value (they differ for a re-compressed download)
        path, sha256 = obtain_verified(entry)
        self.files.append(
            {
                "source": source,
                "release": release,
                "filename": filename,
                "sha256": sha256,
                "pinned": entry.pinned,
                "licence": entry.licence,
            }
        )
        return path

    def releases(self) -> dict[str, list[str]]:
        out: dict[str, set[str]] = {}
        for f in self.files:
            out.setdefault(f["source"], set()).add(f["release"])
        return {k: sorted(v) for k, v in sorted(out.items())}


def _ontology_entry(source: str, filename: str, release: str, relations=("is_a",)) -> dict:
    return {"source": source, "filename": filename, "release": release, "relations": list(relations)}


def _load_ontology(inputs: _Inputs, source: str, filename: str, release: str | None = None, relations=("is_a",)):
    from genepheno_core.ontology import load_ontology

    return load_ontology(inputs.path(source, filename, release), relations=tuple(relations))


def _sequences(inputs: _Inputs, species: str) -> tuple[dict[str, str], pd.DataFrame]:
    from genepheno_core.sources.fasta import fasta_frame

    frame = fasta_frame(inputs.path("uniprot", f"swissprot_{species}.fasta.gz"))
    frame = frame.drop_duplicates("accession", keep="first")
    return dict(zip(frame["accession"], frame["sequence"])), frame


def _gaf(inputs: _Inputs, species: str) -> pd.DataFrame:
    from genepheno_core.sources.gaf import read_gaf

    return read_gaf(inputs.path("goa", f"goa_{species}.gaf.gz"))


def _protein_lookups(gaf: pd.DataFrame, fasta: pd.DataFrame, sequences: dict[str, str], entrez=None):
    """Symbol -> accession lookups in order of trust: GOA symbol (the join the mirror
    README counts were made with), NCBI Gene id mapping (human), the FASTA GN= symbol,
    unambiguous GOA synonyms."""
    with_seq = set(sequences)
    lookups = [("goa_symbol", "symbol", assemble.symbol_index(gaf, with_seq))]
    if entrez is not None:
        lookups.append(("entrez_idmapping", "entrez_id", entrez))
    gn = fasta.dropna(subset=["gene"])
    gn_counts = gn.groupby("gene")["accession"].nunique()
    unique_gn = set(gn_counts[gn_counts == 1].index)
    gn = gn[gn["gene"].isin(unique_gn)]
    lookups.append(("fasta_gene_name", "symbol", dict(zip(gn["gene"].astype(str), gn["accession"].astype(str)))))
    lookups.append(("goa_synonym", "symbol", assemble.synonym_index(gaf, with_seq)))
    return lookups


def _entrez_to_uniprot(inputs: _Inputs, sequences: dict[str, str]) -> dict[str, str]:
    """{NCBI gene id: accession with a sequence}; a gene with several keeps the smallest."""
    from genepheno_core.sources.idmapping import read_entrez_uniprot

    frame = read_entrez_uniprot(inputs.path("idmapping", "entrez_uniprot.tsv.gz"))
    frame = frame[frame["uniprot"].isin(set(sequences))].sort_values(["ncbi_gene_id", "uniprot"])
    frame = frame.drop_duplicates("ncbi_gene_id", keep="first")
    return dict(zip(frame["ncbi_gene_id"].astype(str), frame["uniprot"].astype(str)))


# ---------------------------------------------------------------------------- shared tail


def _finish(
    name: str,
    gene_terms: dict[str, set[str]],
    genes: pd.DataFrame,
    lookups,
    sequences: dict[str, str],
    label_ontology,
    gaf: pd.DataFrame,
    go_ontology,
    config: DatasetConfig,
    inputs: _Inputs,
    steps: _Steps,
    manifest: dict,
    drops: dict,
    term_names: dict[str, str] | None = None,
    vocabulary_genes: set[str] | None = None,
    new_genes: set[str] | None = None,
    merge_duplicates: bool = False,
) -> Dataset:
    """Shared tail of every build (see module docstring).

    gene_terms: {gene_id: set of propagated label terms} (may be empty sets).
    genes: DataFrame[gene_id, symbol, + lookup key columns], one row per gene_id.
    vocabulary_genes: genes whose labels decide the term vocabulary (default: all).
    new_genes: hpo-temporal: genes of the test release (temporal split = test).
    merge_duplicates: genes that reach the same accession give their labels to the gene
        that keeps it (otherwise the others are dropped and counted).
    """
    empty = sorted(g for g, t in gene_terms.items() if not t)
    drops["genes_without_labels"] = len(empty)
    labelled = genes[genes["gene_id"].isin({g for g, t in gene_terms.items() if t})]
    mapped, mapping = assemble.map_genes_to_proteins(labelled, lookups, sequences)
    drops["genes_without_protein"] = mapping["unmapped"]
    # why: no UniProt accession at all for the symbol in GOA, or accession(s) but none with a
    # Swiss-Prot sequence in the FASTA
    unmapped = labelled[~labelled["gene_id"].isin(set(mapped["gene_id"]) | set(mapping["duplicates"]))]
    in_gaf = unmapped["symbol"].astype(str).isin(set(gaf["symbol"].astype(str)))
    drops["genes_without_protein_accession_without_sequence"] = int(in_gaf.sum())
    drops["genes_without_protein_no_accession"] = int((~in_gaf).sum())
    drops["genes_duplicate_accession"] = mapping["duplicate_accession"]
    if merge_duplicates and mapping["duplicates"]:
        # e.g. gwas: an alias symbol (found via a GOA synonym) and the current symbol of
        # the same gene are one protein; its labels are the union of both
        gene_terms = dict(gene_terms)
        for dropped, kept in sorted(mapping["duplicates"].items()):
            gene_terms[kept] = gene_terms[kept] | gene_terms[dropped]
        drops["genes_duplicate_accession_merged"] = True
    manifest["protein_mapping"] = mapping["by_method"]
    steps("mapped genes to proteins")

    gene_ids = mapped["gene_id"].tolist()
    voc_source = {g: gene_terms[g] for g in gene_ids if vocabulary_genes is None or g in vocabulary_genes}
    vocabulary, counts = assemble.select_terms(voc_source, config.min_genes)
    drops["terms_below_min_genes"] = int(sum(1 for n in counts.values() if n < config.min_genes))
    labels = assemble.binary_matrix([gene_terms[g] for g in gene_ids], vocabulary)
    keep = np.diff(labels.indptr) > 0
    drops["genes_without_frequent_terms"] = int((~keep).sum())
    mapped = mapped[keep].reset_index(drop=True)
    labels = labels[np.flatnonzero(keep)].tocsr()
    gene_ids = mapped["gene_id"].tolist()
    # n_genes column: genes per term in the final artifact
    n_per_term = np.asarray(labels.sum(axis=0)).ravel()
    terms = assemble.term_table(vocabulary, dict(zip(vocabulary, n_per_term.tolist())), label_ontology, term_names)
    ancestors = assemble.ancestor_matrix(vocabulary, label_ontology)
    steps("label matrix")

    go_annotations, go_report = assemble.go_annotations(gaf, config.evidence_codes)
    go, go_terms, go_matrix_report = assemble.go_matrix(mapped["accession"].tolist(), go_annotations, go_ontology)
    manifest["go"] = {"gaf": go_report, **go_matrix_report}
    steps("GO matrix")

    splits = pd.DataFrame({"random": random_split(len(mapped), config.fractions, config.seed)})
    if config.homology:
        parts, clusters = homology_split(
            mapped["accession"].tolist(), mapped["sequence"].tolist(), config.fractions, config.seed,
            config.min_seq_id, config.coverage, config.threads,
            rule=config.homology_rule, min_identity=config.homology_min_identity,
            min_length=config.homology_min_length,
        )
        splits["homology"] = parts
        manifest["homology_clusters"] = int(len(set(clusters)))
        manifest["homology_components"] = component_summary(clusters, config.fractions)
    if new_genes is not None:
        is_new = mapped["gene_id"].isin(new_genes).to_numpy()
        splits["temporal"] = temporal_split(is_new, config.temporal_valid_fraction, config.seed)
    if config.homology:  # DIAMOND is needed for the split anyway; --no-homology builds stay DIAMOND-free
        # how close valid/test proteins still are to training, per split column (`data stats`)
        manifest["residual_similarity"] = {
            column: residual_similarity(mapped["accession"].tolist(), mapped["sequence"].tolist(),
                                        splits[column].to_numpy(), config.homology_min_identity,
                                        config.homology_min_length, config.threads)
            for column in splits.columns
        }
    steps("splits")
    manifest["build_step_seconds"] = round(steps.close(), 1)

    manifest.update(
        {
            "name": name,
            "config": config.to_dict(),
            "inputs": inputs.files,
            "releases": inputs.releases(),
            "drops": drops,
            "counts": {
                "genes": int(len(mapped)),
                "terms": int(len(vocabulary)),
                "labels": int(labels.nnz),
                "go_terms": int(len(go_terms)),
                "go_annotations": int(go.nnz),
            },
            "splits": {c: {p: int((splits[c] == p).sum()) for p in ("train", "valid", "test")} for c in splits},
        }
    )
    genes_out = mapped[["gene_id", "symbol", "accession", "sequence"]].astype(str)
    return Dataset(name, genes_out, labels, terms, ancestors, go, go_terms, splits.astype(str), manifest)


# ---------------------------------------------------------------------------- mpo


def build_mpo(config: DatasetConfig, progress: bool = False) -> Dataset:
    from genepheno_core.sources.mgi import read_mgi_gene_model_coord, read_mgi_genepheno

    steps = _Steps("mpo", 6, progress)
    inputs = _Inputs()
    drops: dict = {}
    pheno = read_mgi_genepheno(inputs.path("mgi", "MGI_GenePheno.rpt.gz"))
    coord = read_mgi_gene_model_coord(inputs.path("mgi", "MGI_Gene_Model_Coord.rpt.gz"))
    mp = _load_ontology(inputs, "mp", "mp.obo.gz")
    sequences, fasta = _sequences(inputs, "mouse")
    gaf = _gaf(inputs, "mouse")
    go_ontology = _load_ontology(inputs, "go", "go.obo.gz", relations=config.go_relations)
    steps("read inputs")

    multi = ~pheno["single_gene"].astype(bool)
    drops["annotations_multi_gene_genotypes"] = int(multi.sum())
    drops["multi_gene_genotypes"] = int(pheno.loc[multi, "genotype_id"].nunique())
    single = pheno[~multi]
    no_abn = single["mp_id"] == MP_NO_ABNORMAL
    drops["annotations_no_abnormal_phenotype"] = int(no_abn.sum())
    single = single[~no_abn]
    annotations: dict[str, set[str]] = {}
    for marker, term in zip(single["marker_id"].astype(str), single["mp_id"].astype(str)):
        annotations.setdefault(marker, set()).add(term)
    # a gene whose only annotations were "no abnormal phenotype detected" has no labels
    only_normal = set(pheno.loc[~multi & (pheno["mp_id"] == MP_NO_ABNORMAL), "marker_id"].astype(str)) - set(annotations)
    drops["genes_only_no_abnormal_phenotype"] = len(only_normal)
    gene_terms, report = assemble.propagate_labels(annotations, mp, exclude=set(mp.roots) | {MP_ROOT, MP_NO_ABNORMAL})
    drops["label_remap"] = report["remap"]
    steps("propagated labels")

    coord = coord.drop_duplicates("marker_id")
    symbols = dict(zip(coord["marker_id"].astype(str), coord["symbol"].astype(str)))
    genes = pd.DataFrame({"gene_id": sorted(gene_terms)})
    genes["symbol"] = genes["gene_id"].map(symbols).fillna("")
    drops["genes_without_symbol"] = int((genes["symbol"] == "").sum())
    manifest = {
        "description": "MGI single-gene genotypes -> MP terms, mouse Swiss-Prot proteins",
        "label_ontology": _ontology_entry("mp", "mp.obo.gz", inputs.releases()["mp"][0]),
        "go_ontology": _ontology_entry("go", "go.obo.gz", inputs.releases()["go"][0], config.go_relations),
    }
    return _finish(
        "mpo", gene_terms, genes, _protein_lookups(gaf, fasta, sequences), sequences, mp, gaf,
        go_ontology, config, inputs, steps, manifest, drops,
    )


# ---------------------------------------------------------------------------- hpo


def _hpo_genes(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per NCBI gene id: gene_id ("NCBIGene:<id>"), symbol, entrez_id."""
    genes = frame[["ncbi_gene_id", "gene_symbol"]].drop_duplicates("ncbi_gene_id").astype(str)
    return pd.DataFrame(
        {
            "gene_id": "NCBIGene:" + genes["ncbi_gene_id"],
            "symbol": genes["gene_symbol"].str.strip(),
            "entrez_id": genes["ncbi_gene_id"],
        }
    ).sort_values("gene_id").reset_index(drop=True)


def _hpo_annotations(frame: pd.DataFrame) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for gene, term in zip(frame["ncbi_gene_id"].astype(str), frame["hpo_id"].astype(str)):
        out.setdefault("NCBIGene:" + gene, set()).add(term)
    return out


def build_hpo(config: DatasetConfig, progress: bool = False) -> Dataset:
    from genepheno_core.sources.hpo import read_genes_to_phenotype

    steps = _Steps("hpo", 6, progress)
    inputs = _Inputs()
    drops: dict = {}
    g2p = read_genes_to_phenotype(inputs.path("hpo", "genes_to_phenotype.txt.gz", HPO_CURRENT))
    hp = _load_ontology(inputs, "hpo", "hp.obo.gz", HPO_CURRENT)
    sequences, fasta = _sequences(inputs, "human")
    gaf = _gaf(inputs, "human")
    entrez = _entrez_to_uniprot(inputs, sequences)
    go_ontology = _load_ontology(inputs, "go", "go.obo.gz", relations=config.go_relations)
    steps("read inputs")

    annotations = _hpo_annotations(g2p)
    gene_terms, report = assemble.propagate_labels(annotations, hp, subtree=HP_PHENOTYPIC_ABNORMALITY, exclude={HP_ROOT})
    drops["label_remap"] = report["remap"]
    drops["annotations_outside_phenotypic_abnormality"] = report["annotations_outside_subtree"]
    steps("propagated labels")
    manifest = {
        "description": "HPO genes_to_phenotype (Phenotypic abnormality subtree) -> human Swiss-Prot proteins",
        "label_ontology": _ontology_entry("hpo", "hp.obo.gz", HPO_CURRENT),
        "go_ontology": _ontology_entry("go", "go.obo.gz", inputs.releases()["go"][0], config.go_relations),
        "label_root": HP_PHENOTYPIC_ABNORMALITY,
    }
    return _finish(
        "hpo", gene_terms, _hpo_genes(g2p), _protein_lookups(gaf, fasta, sequences, entrez), sequences, hp,
        gaf, go_ontology, config, inputs, steps, manifest, drops,
    )


# ---------------------------------------------------------------------------- hpo-temporal


def build_hpo_temporal(config: DatasetConfig, progress: bool = False) -> Dataset:
    """Train/valid: genes of HPO 2020-10-12 (phenotype_to_genes, 2020 hp.obo); test: genes
    annotated in 2025-01-16 (genes_to_phenotype) without any 2020 annotation.

    The 2020 annotations (Phenotypic abnormality subtree of the 2020 ontology) are remapped
    to 2025 ids (alt_id / replaced_by; obsolete without replacement: dropped and counted)
    and closed under the 2025 ancestors (within the 2025 Phenotypic abnormality subtree),
    so labels agree with `term_ancestors` (2025 ontology). The vocabulary is decided on the
    2020 genes only: terms with >= min_genes of them. Test genes keep their 2025 labels
    within that vocabulary.
    """
    from genepheno_core.sources.hpo import read_genes_to_phenotype, read_phenotype_to_genes

    steps = _Steps("hpo-temporal", 6, progress)
    inputs = _Inputs()
    drops: dict = {}
    p2g_old = read_phenotype_to_genes(inputs.path("hpo", "phenotype_to_genes.txt.gz", HPO_TRAINING))
    hp_old = _load_ontology(inputs, "hpo", "hp.obo.gz", HPO_TRAINING)
    g2p_new = read_genes_to_phenotype(inputs.path("hpo", "genes_to_phenotype.txt.gz", HPO_CURRENT))
    hp = _load_ontology(inputs, "hpo", "hp.obo.gz", HPO_CURRENT)
    sequences, fasta = _sequences(inputs, "human")
    gaf = _gaf(inputs, "human")
    entrez = _entrez_to_uniprot(inputs, sequences)
    go_ontology = _load_ontology(inputs, "go", "go.obo.gz", relations=config.go_relations)
    steps("read inputs")

    # training release, in 2020 ids (phenotype_to_genes is already propagated upstream;
    # propagating again is a no-op but makes sure)
    old_terms, old_report = assemble.propagate_labels(
        _hpo_annotations(p2g_old), hp_old, subtree=HP_PHENOTYPIC_ABNORMALITY, exclude={HP_ROOT}
    )
    old_genes = {g for g, t in old_terms.items() if t}
    # map 2020 ids to 2025 ids
    remapped: dict[str, str | None] = {}
    statuses: Counter = Counter()
    for term in sorted({t for ts in old_terms.values() for t in ts}):
        current, status = hp.remap_status(term)
        statuses[status] += 1
        remapped[term] = current
    obsolete = sorted(t for t, c in remapped.items() if c is None)
    drops["training_terms_remapped_to_2025"] = {k: int(v) for k, v in sorted(statuses.items())}
    drops["training_terms_obsolete_without_replacement"] = len(obsolete)
    drops["training_terms_obsolete_examples"] = obsolete[:10]
    allowed = hp.descendants(HP_PHENOTYPIC_ABNORMALITY)
    closure = hp.ancestor_map()

    def to_current(terms: set[str]) -> set[str]:
        out: set[str] = set()
        for t in terms:
            c = remapped.get(t)
            if c is not None and c in allowed:
                out.add(c)
                out |= closure.get(c, frozenset()) & allowed
        return out

    train_terms = {g: to_current(t) for g, t in old_terms.items()}
    drops["training_label_remap"] = old_report["remap"]

    # test release: genes with 2025 annotations and no 2020 annotation
    new_all, new_report = assemble.propagate_labels(
        _hpo_annotations(g2p_new), hp, subtree=HP_PHENOTYPIC_ABNORMALITY, exclude={HP_ROOT}
    )
    drops["test_label_remap"] = new_report["remap"]
    all_old_ids = set(_hpo_annotations(p2g_old))  # any 2020 annotation, any subtree
    new_genes = {g for g, t in new_all.items() if t and g not in all_old_ids}
    drops["release_2025_genes_already_in_2020"] = len({g for g, t in new_all.items() if t} - new_genes)
    gene_terms = {**{g: train_terms[g] for g in old_genes}, **{g: new_all[g] for g in new_genes}}
    for g in gene_terms:
        gene_terms[g].discard(HP_PHENOTYPIC_ABNORMALITY)
    steps("propagated labels")

    genes = pd.concat(
        [_hpo_genes(p2g_old[("NCBIGene:" + p2g_old["ncbi_gene_id"].astype(str)).isin(old_genes)]),
         _hpo_genes(g2p_new[("NCBIGene:" + g2p_new["ncbi_gene_id"].astype(str)).isin(new_genes)])]
    ).drop_duplicates("gene_id").sort_values("gene_id").reset_index(drop=True)
    manifest = {
        "description": (
            "HPO temporal benchmark: train/valid = genes annotated in HPO 2020-10-12, test = genes "
            "first annotated by HPO 2025-01-16; term ids of the 2025 release"
        ),
        "label_ontology": _ontology_entry("hpo", "hp.obo.gz", HPO_CURRENT),
        "training_ontology": _ontology_entry("hpo", "hp.obo.gz", HPO_TRAINING),
        "go_ontology": _ontology_entry("go", "go.obo.gz", inputs.releases()["go"][0], config.go_relations),
        "label_root": HP_PHENOTYPIC_ABNORMALITY,
        "test_genes_candidates": len(new_genes),
    }
    return _finish(
        "hpo-temporal", gene_terms, genes, _protein_lookups(gaf, fasta, sequences, entrez), sequences, hp,
        gaf, go_ontology, config, inputs, steps, manifest, drops,
        vocabulary_genes=old_genes, new_genes=new_genes,
    )


# ---------------------------------------------------------------------------- gwas


def _gwas_pairs(table: pd.DataFrame, config: DatasetConfig, drops: dict) -> pd.DataFrame:
    """The gene-trait pairs labels are made of: one plain gene symbol, genome-wide
    significant (TIGA's median p <= gwas_max_p), reported by >= gwas_min_studies studies.
    Each rule's drop is counted in `drops` (rules applied in this order)."""
    from genepheno_core.sources.gwas import genome_wide_significant

    drops["pairs_read"] = int(len(table))
    clean = table["clean_symbol"].astype(bool)
    drops["pairs_with_unclean_symbol"] = int((~clean).sum())
    table = table[clean]
    no_p = table["pvalue_mlog_median"].isna()
    drops["pairs_without_pvalue"] = int(no_p.sum())
    table = table[~no_p]
    significant = genome_wide_significant(table["pvalue_mlog_median"], config.gwas_max_p)
    drops["pairs_above_p_threshold"] = int((~significant).sum())
    table = table[significant]
    replicated = (table["n_study"] >= config.gwas_min_studies).astype(bool)
    drops["pairs_below_min_studies"] = int((~replicated).sum())
    table = table[replicated]
    drops["pairs_kept"] = int(len(table))
    return table


def _gwas_remap_traits(table: pd.DataFrame, efo, drops: dict) -> dict[str, set[str]]:
    """{gene symbol: current EFO terms}: each trait as itself, or through the release's
    replaced_by / alt ids; pairs whose trait has no current term in the release are dropped.
    Counts distinct traits per outcome (traits_obsolete includes those whose replacement
    is outside the EFO file: mostly MONDO diseases, which the mirror's EFO JSON lacks)."""
    from genepheno_core.ontology.core import ALT_ID, OBSOLETE, OK, REPLACED, UNKNOWN

    current: dict[str, str | None] = {}
    status: Counter = Counter()
    replaced_outside = 0
    for trait in sorted(set(table["trait_id"].astype(str))):
        current[trait], how = efo.remap_status(trait)
        status[how] += 1
        replaced_outside += how == OBSOLETE and bool(efo.info(trait).replaced_by)
    drops["traits"] = len(current)
    drops["traits_current"] = status[OK]
    drops["traits_remapped"] = status[ALT_ID] + status[REPLACED]
    drops["traits_obsolete"] = status[OBSOLETE]
    drops["traits_obsolete_replacement_not_in_efo"] = replaced_outside
    drops["traits_missing_from_efo"] = status[UNKNOWN]
    annotations: dict[str, set[str]] = {}
    n_lost = 0
    for gene, trait in zip(table["gene_symbol"].astype(str), table["trait_id"].astype(str)):
        if current[trait] is None:
            n_lost += 1
        else:
            annotations.setdefault(gene, set()).add(current[trait])
    drops["pairs_trait_not_in_efo"] = n_lost
    drops["genes_only_traits_not_in_efo"] = int(table["gene_symbol"].astype(str).nunique()) - len(annotations)
    return annotations


def _gwas_common_terms(gene_terms: dict[str, set[str]], lookups, sequences: dict[str, str], max_fraction: float) -> dict[str, float]:
    """{term: fraction of genes} for terms carried by more than `max_fraction` of the genes
    that reach a protein (the genes `_finish` keeps; an alias symbol merged into its gene
    counts once). Such terms (EFO "measurement": ~90 % of the genes) are near-constant
    labels that reward the frequency prior, not knowledge of the gene."""
    labelled = sorted(g for g, terms in gene_terms.items() if terms)
    mapped, mapping = assemble.map_genes_to_proteins(pd.DataFrame({"gene_id": labelled, "symbol": labelled}), lookups, sequences)
    merged = {g: set(gene_terms[g]) for g in mapped["gene_id"]}
    for dropped, kept in mapping["duplicates"].items():
        merged[kept] |= gene_terms[dropped]
    counts: Counter = Counter()
    for terms in merged.values():
        counts.update(terms)
    n = max(len(merged), 1)
    return {term: count / n for term, count in sorted(counts.items()) if count > max_fraction * n}


def build_gwas(config: DatasetConfig, progress: bool = False) -> Dataset:
    """TIGA gene-trait pairs -> EFO trait labels.

    Pairs: plain gene symbol, p <= gwas_max_p, >= gwas_min_studies studies (`_gwas_pairs`);
    traits remapped to current EFO terms (`_gwas_remap_traits`); labels propagated over EFO
    is_a (propagate_gwas; flat otherwise), the root and terms carried by more than
    gwas_max_gene_fraction of the genes dropped; `_finish` then keeps terms with >=
    min_genes genes. Every step's drop is in manifest["drops"].
    """
    from genepheno_core.sources.gwas import read_tiga_gene_trait

    steps = _Steps("gwas", 6, progress)
    inputs = _Inputs()
    drops: dict = {}
    table = read_tiga_gene_trait(inputs.path("gwas", "gt_stats.csv.gz"))
    efo = _load_ontology(inputs, "efo", "EFO-ontology-v3.90.0.json.zst")
    sequences, fasta = _sequences(inputs, "human")
    gaf = _gaf(inputs, "human")
    go_ontology = _load_ontology(inputs, "go", "go.obo.gz", relations=config.go_relations)
    steps("read inputs")

    annotations = _gwas_remap_traits(_gwas_pairs(table, config, drops), efo, drops)
    if config.propagate_gwas:
        gene_terms, _ = assemble.propagate_labels(annotations, efo, exclude=set(efo.roots))
        label_ontology = efo
    else:
        gene_terms = {g: t - set(efo.roots) for g, t in annotations.items()}
        label_ontology = None
    lookups = _protein_lookups(gaf, fasta, sequences)
    common = _gwas_common_terms(gene_terms, lookups, sequences, config.gwas_max_gene_fraction)
    drops["terms_above_max_gene_fraction"] = len(common)
    gene_terms = {g: t - set(common) for g, t in gene_terms.items()}
    steps("labels")
    genes = pd.DataFrame({"gene_id": sorted(gene_terms)})
    genes["symbol"] = genes["gene_id"]
    manifest = {
        "description": f"TIGA GWAS Catalog gene-trait pairs (p <= {config.gwas_max_p:g}, >= {config.gwas_min_studies} "
        "studies) -> current EFO traits" + (" propagated over EFO is_a" if config.propagate_gwas else " (flat traits)"),
        "label_ontology": _ontology_entry("efo", "EFO-ontology-v3.90.0.json.zst", inputs.releases()["efo"][0]),
        "go_ontology": _ontology_entry("go", "go.obo.gz", inputs.releases()["go"][0], config.go_relations),
        "flat_labels": not config.propagate_gwas,
        "terms_above_max_gene_fraction": {t: {"name": efo.name(t), "fraction": round(f, 4)} for t, f in common.items()},
    }
    names = {t: efo.name(t) for terms in gene_terms.values() for t in terms}
    ds = _finish(
        "gwas", gene_terms, genes, lookups, sequences, label_ontology, gaf,
        go_ontology, config, inputs, steps, manifest, drops, term_names=names, merge_duplicates=True,
    )
    if label_ontology is None:  # flat labels: no term_ancestors, but the depth in EFO
        ds.terms["depth"] = [efo.depth(t) for t in ds.terms["term_id"]]
    return ds


# ---------------------------------------------------------------------------- entry point

_BUILDERS = {"mpo": build_mpo, "hpo": build_hpo, "gwas": build_gwas, "hpo-temporal": build_hpo_temporal}


def build_dataset(name: str, config: DatasetConfig | None = None, progress: bool = False) -> Dataset:
    """Build dataset `name` (mpo, hpo, gwas, hpo-temporal) from the registry's files.

    Returns the in-memory Dataset; `save_dataset(ds)` writes it. Raises GenePhenoError for
    an unknown name and MissingDataError when an input file cannot be obtained.
    """
    if name not in _BUILDERS:
        raise GenePhenoError(f"unknown dataset {name!r}; choose one of {', '.join(DATASET_NAMES)}")
    config = config or DatasetConfig()
    t0 = time.perf_counter()
    ds = _BUILDERS[name](config, progress=progress)
    ds.manifest["build_seconds"] = round(time.perf_counter() - t0, 1)
    ds.manifest["genepheno_version"] = __version__
    logger.info("built %r in %.1f s", ds, ds.manifest["build_seconds"])
    return ds


def load_labels_dataset(name: str) -> Dataset:
    """Dataset `name` when only its genes, sequences and labels are needed (the other
    species' dataset of the cross-species input): the cached artifact `name`, else
    `name-no-homology`, else built without the homology split (the all-vs-all DIAMOND search is most
    of the build time; genes and labels are the same) and cached as `name-no-homology`."""
    from genepheno_core.datasets.artifact import dataset_dir, load_dataset, save_dataset
    from genepheno_core.errors import MissingDataError

    for candidate in (name, f"{name}-no-homology"):
        try:
            return load_dataset(candidate)
        except MissingDataError:
            continue
    logger.info("building dataset %s without the homology split (for its labels)", name)
    ds = build_dataset(name, DatasetConfig(homology=False))
    try:
        save_dataset(ds, dataset_dir(f"{name}-no-homology"))
    except OSError as exc:  # caching is an optimisation
        logger.warning("could not cache dataset %s: %s", name, exc)
    ds.name = name
    return ds
