"""Property-based fuzzing of the upstream-format readers (hypothesis).

Every reader, fed arbitrary bytes, a mutated copy of a valid fixture (truncated, spliced,
with format tokens and bad bytes inserted) or either of those gzip-wrapped (whole,
truncated or with a flipped byte), must either parse or raise the project's own error
type (a GenePhenoError subclass): never UnicodeDecodeError, IndexError, KeyError,
zlib.error, pandas errors or anything else that would reach the user as a traceback.

Runs are bounded and derandomized (the same examples on every run) so CI is reproducible.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genepheno_core.errors import GenePhenoError
from genepheno_core.ontology.loaders import load_efo_json, load_ontology
from genepheno_core.sources import _util, cafa, fasta, gaf, gwas, hpo, idmapping, mgi, obo

DATA = Path(__file__).parent / "data"
SOURCES = DATA / "sources"

FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

def _walk(onto) -> None:
    """Use what the rest of the code uses: closures (a cycle must be a clear error), depths."""
    for term in onto:
        onto.ancestors(term)
        onto.depth(term)
    assert set(onto.roots) <= set(onto)


# reader name -> (callable(path), a valid fixture to mutate, file suffix)
READERS = {
    "read_fasta": (fasta.read_fasta, SOURCES / "uniprot_tiny.fasta", ".fasta"),
    "fasta_frame": (fasta.fasta_frame, SOURCES / "uniprot_tiny.fasta", ".fasta"),
    "read_gaf": (gaf.read_gaf, SOURCES / "goa_tiny.gaf", ".gaf"),
    "read_tsv": (lambda p: _util.read_tsv(p, 2), SOURCES / "cafa_groundtruth_tiny.txt", ".tsv"),
    "read_tsv_multi": (
        lambda p: _util.read_tsv(p, (2, 3), comment="#", header=True), SOURCES / "entrez_uniprot_tiny.tsv", ".tsv"
    ),
    "read_tsv_rows": (lambda p: _util.read_tsv_rows(p, (2, 3), comment="!", header=True),
                      SOURCES / "entrez_uniprot_tiny.tsv", ".tsv"),
    "read_genes_to_phenotype": (hpo.read_genes_to_phenotype, SOURCES / "genes_to_phenotype_2025.txt", ".txt"),
    "read_phenotype_to_genes_2020": (hpo.read_phenotype_to_genes, SOURCES / "phenotype_to_genes_2020.txt", ".txt"),
    "read_hpoa": (hpo.read_hpoa, SOURCES / "phenotype_tiny.hpoa", ".hpoa"),
    "read_mgi_genepheno": (mgi.read_mgi_genepheno, SOURCES / "MGI_GenePheno.rpt", ".rpt"),
    "read_mgi_gene_model_coord": (mgi.read_mgi_gene_model_coord, SOURCES / "MGI_Gene_Model_Coord.rpt", ".rpt"),
    "read_idmapping": (idmapping.read_idmapping, SOURCES / "entrez_uniprot_tiny.tsv", ".tsv"),
    "read_entrez_uniprot": (idmapping.read_entrez_uniprot, SOURCES / "entrez_uniprot_tiny.tsv", ".tsv"),
    "read_gene_refseq_uniprotkb_collab": (
        idmapping.read_gene_refseq_uniprotkb_collab, SOURCES / "entrez_uniprot_tiny.tsv", ".tsv"
    ),
    "read_cafa_groundtruth": (cafa.read_cafa_groundtruth, SOURCES / "cafa_groundtruth_tiny.txt", ".txt"),
    "read_cafa_targets": (cafa.read_cafa_targets, SOURCES / "cafa_targets_tiny.txt", ".txt"),
    "read_cafa_ontology_rel": (cafa.read_cafa_ontology_rel, SOURCES / "cafa_rel_tiny.txt", ".txt"),
    "read_cafa_ontology_terms": (cafa.read_cafa_ontology_terms, SOURCES / "cafa_term_tiny.txt", ".txt"),
    "read_tiga_gene_trait": (gwas.read_tiga_gene_trait, SOURCES / "gt_stats_tiny.csv", ".csv"),
    "read_gwas_catalog_associations": (
        gwas.read_gwas_catalog_associations, SOURCES / "gwas_catalog_associations_tiny.tsv", ".tsv"
    ),
    "read_obo_graph": (obo.read_obo_graph, DATA / "ontology" / "tiny.obo", ".obo"),
    "read_obo_terms": (obo.read_obo_terms, DATA / "ontology" / "tiny.obo", ".obo"),
    "load_ontology": (lambda p: _walk(load_ontology(p, cache=False)), DATA / "ontology" / "tiny.obo", ".obo"),
    "load_efo_json": (load_efo_json, DATA / "ontology" / "efo_tiny.json", ".json"),
}

# pieces of the formats above (and classic troublemakers) spliced into valid files
TOKENS = [
    b"\t", b"\n", b"\r\n", b"\r", b" ", b"!", b"#", b">", b"|", b",", b":", b'"', b"\\", b"\x00",
    b"\xff", b"\xc3", b"\xe2\x80", b"\xef\xbb\xbf", b"[Term]\n", b"[Typedef]\n", b"id: ", b"is_a: ",
    b"relationship: part_of ", b"alt_id: ", b"replaced_by: ", b"synonym: \"", b"is_obsolete: true\n",
    b"GO:0008150", b"HP:0000118", b"MP:0000001", b"MGI:97490", b"TT:0000001", b"EFO:0000001",
    b"!gaf-version: 2.1\n", b"!gaf-version: 1.0\n", b"#Format: ", b"<tab>", b"NOT", b"taxon:9606",
    b"sp|P04637|P53_HUMAN", b"GN=", b"OX=", b"NA", b"NaN", b"1e999", b"1.5", b"-1", b"-", b"*", b"{", b"}", b"[", b"]",
    b'"label": ', b'"ancestors": ', b"null", b"http://www.ebi.ac.uk/efo/EFO_", b"\x1f\x8b", b"\x28\xb5\x2f\xfd",
    # header names: a column named twice, or renamed away
    b"\thpo_id", b"\tncbi_gene_id", b"\tentrez", b"\tuniprot", b"\t1. MGI accession id", b"\t3. marker symbol",
    b"\tP-VALUE", b'"gsymb",', b"node_for_adding: x\n",
]


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    """A valid file with a few random edits: the inputs most likely to reach deep code."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "delete", "insert", "flip", "duplicate"]))
        pos = draw(st.integers(0, len(data)))
        if op == "truncate":
            del data[pos:]
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 40))]
        elif op == "insert":
            piece = draw(st.one_of(st.sampled_from(TOKENS), st.binary(min_size=1, max_size=8)))
            data[pos:pos] = piece
        elif op == "flip" and data:
            i = min(pos, len(data) - 1)
            data[i] = draw(st.integers(0, 255))
        elif op == "duplicate":
            data[pos:pos] = data[pos:pos + draw(st.integers(1, 80))]
    return bytes(data)


def text_lines() -> st.SearchStrategy[bytes]:
    """Lines of format tokens and short words: text-ish input from scratch."""
    field = st.one_of(st.sampled_from(TOKENS), st.text(max_size=6).map(lambda s: s.encode("utf-8")))
    line = st.lists(field, max_size=8).map(b"".join)
    return st.lists(line, max_size=12).map(b"\n".join)


@st.composite
def wrapped(draw, content: bytes) -> bytes:
    """The content as is, or gzip-wrapped: whole, truncated or with one byte changed."""
    how = draw(st.sampled_from(["plain", "plain", "gzip", "gzip-truncated", "gzip-flipped"]))
    if how == "plain":
        return content
    packed = bytearray(gzip.compress(content, mtime=0))
    if how == "gzip-truncated":
        del packed[draw(st.integers(0, len(packed) - 1)):]
    elif how == "gzip-flipped":
        i = draw(st.integers(0, len(packed) - 1))
        packed[i] ^= draw(st.integers(1, 255))
    return bytes(packed)


def inputs(seed: bytes) -> st.SearchStrategy[bytes]:
    content = st.one_of(mutated(seed), text_lines(), st.binary(max_size=300))
    return content.flatmap(wrapped)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def _reads_or_raises_own_error(reader, path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        reader(path)
    except GenePhenoError:
        pass  # the property: a clear error of the project's own type is fine


@pytest.mark.parametrize("name", sorted(READERS))
def test_reader_parses_or_raises_own_error(name, workdir):
    reader, seed_path, suffix = READERS[name]
    seed = seed_path.read_bytes()
    reader(seed_path)  # the fixture itself parses: the mutations start from a valid file
    path = workdir / f"{name}{suffix}"

    @FUZZ
    @given(data=inputs(seed))
    def run(data):
        _reads_or_raises_own_error(reader, path, data)

    run()
