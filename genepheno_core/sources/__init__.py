"""Upstream data: the download registry and one parser per official file format.

Registry: Resource, RESOURCES, fetch, resource, resource_path, obtain_verified (the path
and the sha256 of the bytes verified now: hashes are never cached), default_release,
releases, sources, verify (hashes: genepheno_core.io.sha256_file). Parsers (each returns a pandas DataFrame unless noted):
read_obo_graph / read_obo_terms (OBO via obonet), read_mgi_genepheno,
read_mgi_gene_model_coord, read_genes_to_phenotype, read_phenotype_to_genes, read_gaf,
read_fasta (list[FastaRecord]), fasta_frame, read_tiga_gene_trait,
read_gwas_catalog_associations, read_idmapping, read_entrez_uniprot, read_hpoa,
read_cafa_groundtruth / read_cafa_targets / read_cafa_ontology_rel / read_cafa_ontology_terms.
"""

from genepheno_core.sources.cafa import (
    read_cafa_groundtruth,
    read_cafa_ontology_rel,
    read_cafa_ontology_terms,
    read_cafa_targets,
)
from genepheno_core.sources.fasta import FastaRecord, fasta_frame, read_fasta
from genepheno_core.sources.gaf import EXPERIMENTAL_CODES, HIGH_THROUGHPUT_CODES, read_gaf
from genepheno_core.sources.gwas import read_gwas_catalog_associations, read_tiga_gene_trait, trait_uri_to_id
from genepheno_core.sources.hpo import read_genes_to_phenotype, read_hpo_gene_annotations, read_hpoa, read_phenotype_to_genes
from genepheno_core.sources.idmapping import read_entrez_uniprot, read_gene_refseq_uniprotkb_collab, read_idmapping
from genepheno_core.sources.mgi import read_mgi_gene_model_coord, read_mgi_genepheno
from genepheno_core.sources.obo import read_obo_graph, read_obo_terms
from genepheno_core.sources.registry import (
    RESOURCES,
    Resource,
    default_release,
    fetch,
    obtain_verified,
    releases,
    resource,
    resource_path,
    resources,
    sources,
    verify,
)

__all__ = [
    "EXPERIMENTAL_CODES",
    "HIGH_THROUGHPUT_CODES",
    "RESOURCES",
    "FastaRecord",
    "Resource",
    "default_release",
    "fasta_frame",
    "fetch",
    "obtain_verified",
    "read_cafa_groundtruth",
    "read_cafa_ontology_rel",
    "read_cafa_ontology_terms",
    "read_cafa_targets",
    "read_entrez_uniprot",
    "read_fasta",
    "read_gaf",
    "read_gene_refseq_uniprotkb_collab",
    "read_genes_to_phenotype",
    "read_gwas_catalog_associations",
    "read_hpo_gene_annotations",
    "read_hpoa",
    "read_idmapping",
    "read_mgi_gene_model_coord",
    "read_mgi_genepheno",
    "read_obo_graph",
    "read_obo_terms",
    "read_phenotype_to_genes",
    "read_tiga_gene_trait",
    "releases",
    "resource",
    "resource_path",
    "resources",
    "sources",
    "trait_uri_to_id",
    "verify",
]
