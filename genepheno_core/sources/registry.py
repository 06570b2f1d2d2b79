"""Registry of every upstream file GenePheno reads, and fetching with checksum checks.

Each `Resource` names one file of one release of one source, with its official download
URL, licence and, where the release is pinned, the expected sha256 of the file as stored
(`<source>/<release>/<filename>`, the layout of the project's data mirror).

Resolution (`resource_path`, `fetch`):
- `GENEPHENO_MIRROR=DIR` set: read `DIR/<source>/<release>/<filename>`; nothing is
  downloaded. Pinned files are verified (ChecksumError on mismatch); a file missing from
  the mirror is taken from the download cache if it was downloaded earlier, else raises
  MissingDataError.
- otherwise: download `url` into `genepheno_home()/downloads/<source>/<release>/` through
  a temporary file renamed into place only after the checksum matched. Upstream files that
  are served uncompressed are gzip-compressed on the way in (the registry's file names end
  in .gz), so for those the check uses `content_sha256`, the hash of the decompressed
  content.

Sources whose upstream only serves a "current" file (MGI reports, UniProt, the GWAS
Catalog) have a `current` release with `sha256=None`: callers record what they obtained
(`obtain_verified` returns the path with the sha256 of its bytes; the dataset manifest
records it).

Every check hashes the file's bytes when it is made (no cache keyed by path, size or
mtime, which a rewritten file can keep).

Some mirror files are derived from an upstream package rather than served as-is (the
Swiss-Prot subsets, the org.Hs.eg.db id mappings, the EFO JSON, the CAFA2 files):
`downloadable=False`, `url` points to the upstream release they come from, and without a
mirror asking for them raises MissingDataError saying so.
"""

from __future__ import annotations

import gzip
import logging
import os
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

from genepheno_core import environment
from genepheno_core.errors import ChecksumError, GenePhenoError, MissingDataError
from genepheno_core.io import atomic_path, genepheno_home, sha256_file

logger = logging.getLogger(__name__)

MIRROR_ENV = environment.MIRROR
USER_AGENT = "genepheno/0.1 (+https://github.com/; python urllib)"


@dataclass(frozen=True)
class Resource:
    """One upstream file of one release.

    sha256: expected hash of the file as stored under `filename` (None: "current-only"
    upstream, the caller records what it obtained). content_sha256: hash of the
    decompressed content, used when the download is compressed locally.
    """

    source: str
    release: str
    filename: str
    url: str | None
    sha256: str | None
    licence: str
    description: str = ""
    content_sha256: str | None = None
    downloadable: bool = True
    note: str = ""
    mirror_dir: str | None = None  # directory in the mirror when not <source>/<release>
    upstream_gzip: bool | None = None  # upstream bytes are gzip; None: infer from the URL suffix

    @property
    def pinned(self) -> bool:
        return self.sha256 is not None

    @property
    def relpath(self) -> str:
        """Path of the file relative to the mirror / download root."""
        folder = self.mirror_dir if self.mirror_dir is not None else f"{self.source}/{self.release}"
        return f"{folder}/{self.filename}" if folder else self.filename

    @property
    def compress_on_download(self) -> bool:
        """Upstream serves the file uncompressed; store it gzip-compressed."""
        if not self.url or not self.filename.endswith(".gz"):
            return False
        gzipped = self.upstream_gzip if self.upstream_gzip is not None else _url_path(self.url).endswith(".gz")
        return not gzipped


def _url_path(url: str) -> str:
    return url.split("?", 1)[0]


_MGI_2016 = (
    "https://raw.githubusercontent.com/evolgeniusteam/ogee2016/"
    "14f20bbafec3d26ff276cefb8c0962b0d6918771/perlscripts/mouse_mgi_files/"
)
_HPO_GH = "https://github.com/obophenotype/human-phenotype-ontology/releases/download/"
_TIGA = "https://raw.githubusercontent.com/unmtransinfo/TIGA/07ea77a49383296bcecf95147225d082f95ab762/"
_UNIPROT_REST = (
    "https://rest.uniprot.org/uniprotkb/stream?compressed=true&format=fasta"
    "&query=%28reviewed%3Atrue%29+AND+%28organism_id%3A{taxon}%29"
)
_MGI_LICENCE = "MGI terms of use (https://www.informatics.jax.org/mgihome/other/copyright.shtml)"
_HPO_LICENCE = "HPO licence (https://hpo.jax.org/license), free to use with attribution"
_CC_BY = "CC-BY-4.0"
_MH_MAPPINGS = "https://raw.githubusercontent.com/mapping-commons/mh_mapping_initiative/master/mappings/"

RESOURCES: tuple[Resource, ...] = (
    # --- MGI (mouse knockout phenotypes) ----------------------------------------------------
    Resource("mgi", "2016-06", "MGI_GenePheno.rpt.gz", _MGI_2016 + "MGI_GenePheno.rpt.gz",
             "ba2590573cf7c2f50bdcf00279eb240ec8df4a2c95641a739a3090bda446810a", _MGI_LICENCE,
             "MGI genotype -> MP annotations (no header)",
             content_sha256="70d631221b22a01b3443a74f41a9a9afe7432d2d9a3759d9488ac77b33ac540e",
             note="2016-06 MGI report as committed in GitHub evolgeniusteam/ogee2016"),
    Resource("mgi", "2016-06", "MGI_Gene_Model_Coord.rpt.gz", _MGI_2016 + "MGI_Gene_Model_Coord.rpt.gz",
             "905004683956a3dd60e122f1ea88b9afb37933eee62e647d5582cb463fa0fa49", _MGI_LICENCE,
             "MGI marker -> symbol, Entrez, Ensembl",
             content_sha256="7b4e93cdadc718490216c9bf754ed75bae7743dd6cc9f1076a6f5570f48b3dca",
             note="2016-06 MGI report as committed in GitHub evolgeniusteam/ogee2016"),
    Resource("mgi", "current", "MGI_GenePheno.rpt.gz",
             "https://www.informatics.jax.org/downloads/reports/MGI_GenePheno.rpt", None, _MGI_LICENCE,
             "MGI genotype -> MP annotations, current report (unversioned upstream)"),
    Resource("mgi", "current", "MGI_Gene_Model_Coord.rpt.gz",
             "https://www.informatics.jax.org/downloads/reports/MGI_Gene_Model_Coord.rpt", None,
             _MGI_LICENCE, "MGI marker coordinates, current report (unversioned upstream)"),
    # --- Mammalian Phenotype Ontology -------------------------------------------------------
    Resource("mp", "2025-08-27", "mp.obo.gz",
             "http://purl.obolibrary.org/obo/mp/releases/2025-08-27/mp.obo",
             "ffb6a523dbbd76556c459cb6cbcc66cfe0345cffcbc5a8b4d83af68f09b5ddd3", _CC_BY,
             "Mammalian Phenotype Ontology",
             content_sha256="0cccd1e5038e85ae351dd0761bc5ed7030b925f6ebb14435ab15c3e5bd32dbed"),
    # --- HPO --------------------------------------------------------------------------------
    Resource("hpo", "2025-01-16", "hp.obo.gz", _HPO_GH + "v2025-01-16/hp.obo",
             "9f75a9a7f173eb2fdd5090340939b04f1fd7c3547e25fd59b1e5e77977f73da9", _HPO_LICENCE,
             "Human Phenotype Ontology",
             content_sha256="6b77de067eecc838319ce7650ed5bab0f92a502eabb160e6bc7c0238bc1548c5"),
    Resource("hpo", "2025-01-16", "genes_to_phenotype.txt.gz", _HPO_GH + "v2025-01-16/genes_to_phenotype.txt",
             "0cc398159c11077c31b98abfa63162aea320dda3980ea534ab6f395010f8265c", _HPO_LICENCE,
             "gene -> HPO term (direct annotations, 2025 layout)",
             content_sha256="77d4c616780ac048a6766f958ec8f6f194cd216e2edd3944c1a0756b6f3e9a36"),
    Resource("hpo", "2025-01-16", "phenotype_to_genes.txt.gz", _HPO_GH + "v2025-01-16/phenotype_to_genes.txt",
             "e353793d9a5c17b56cb32d5fb78e2b1d6c9b2932703968ba4b124d1f19f05ee2", _HPO_LICENCE,
             "HPO term -> genes (propagated, 2025 layout)",
             content_sha256="e18708c72d8fab1857664df3eb0aefbbcfeab7806b042efa8ef51de12b784aec"),
    Resource("hpo", "2025-01-16", "phenotype.hpoa.gz", _HPO_GH + "v2025-01-16/phenotype.hpoa",
             "ed3f1410767285eb240f263644e2a2f04e620c10e47f7a886ee3d0bb8c2befa8", _HPO_LICENCE,
             "disease -> HPO term annotations",
             content_sha256="8180403e2f5de0d8f41890e587d95077ce7f8bb8228d5d7b29dd358b70f0938c"),
    Resource("hpo", "2020-10-12", "hp.obo.gz", _HPO_GH + "v2020-10-12/hp.obo",
             "2a365489d8155ce10706ba48ac968d6748363e769f20512f047bbbefa9496f3c", _HPO_LICENCE,
             "Human Phenotype Ontology (2020 release, temporal benchmark)",
             content_sha256="a5650e403e516087b584c581e7a54c2b4c87fb66abcd6f23fcf27a6b3c12e8d8"),
    Resource("hpo", "2020-10-12", "phenotype_to_genes.txt.gz", _HPO_GH + "v2020-10-12/phenotype_to_genes.txt",
             "15add32aec8c8215c96838e23b39461d5825d4d4c320a36737ec3ace35ac815d", _HPO_LICENCE,
             "HPO term -> genes (2020 layout with #Format header)",
             content_sha256="0ae759140fc9f594bf4ce05b8f6572b0f95ad12f42e77376b1c3c81a9b8da597"),
    Resource("hpo", "2020-10-12", "phenotype.hpoa.gz", _HPO_GH + "v2020-10-12/phenotype.hpoa",
             "f660ac9c66455696939b7ac2ab9e822043bc6ee5bf45ccc56b6de3e5b57b6e99", _HPO_LICENCE,
             "disease -> HPO term annotations (2020)",
             content_sha256="e6200e19964475d594dca8518e5467055a64b80c1d7886fd67e1d6969fd72b8c"),
    # --- Gene Ontology and GOA --------------------------------------------------------------
    Resource("go", "2019-01-27", "go.obo.gz", "http://release.geneontology.org/2019-01-27/ontology/go.obo",
             "71fcb0f2df289c583ee81704cf77636d2f34dfb08969692c3e3debb3b7de34a7", _CC_BY,
             "Gene Ontology",
             content_sha256="310e574b929a73f7527934b67215fbdaf1dbf309b552960144c065497b3f6bc2"),
    Resource("goa", "2019-01-14", "goa_human.gaf.gz",
             "http://release.geneontology.org/2019-01-27/annotations/goa_human.gaf.gz",
             "f263dd98cc5a7bceddd1667f809805a9c4bddf3af98daa29345259d68018cc22", _CC_BY,
             "UniProt-GOA human reference proteome GAF 2.1",
             content_sha256="023224ddaefd84708492592a256fdb9a582ea04b3570151af08b24b604033466",
             note="generated by UniProt-GOA 2019-01-14; URL is the GO archive of that period"),
    Resource("goa", "2019-01-14", "goa_mouse.gaf.gz",
             "http://release.geneontology.org/2019-01-27/annotations/goa_mouse.gaf.gz",
             "9e455226cad0d73bc2d391af0e3af1f3ddecf67a9d2b624b95001a6326f73d43", _CC_BY,
             "UniProt-GOA mouse reference proteome GAF 2.1",
             content_sha256="ebf1050e9317b85148de0280c1c3b90765c011f0097dab07930bfc2cbaac5397",
             note="generated by UniProt-GOA 2019-01-14; URL is the GO archive of that period"),
    Resource("goa", "current", "goa_human.gaf.gz",
             "https://ftp.ebi.ac.uk/pub/databases/GO/goa/HUMAN/goa_human.gaf.gz", None, _CC_BY,
             "UniProt-GOA human, current"),
    Resource("goa", "current", "goa_mouse.gaf.gz",
             "https://ftp.ebi.ac.uk/pub/databases/GO/goa/MOUSE/goa_mouse.gaf.gz", None, _CC_BY,
             "UniProt-GOA mouse, current"),
    # --- UniProt ----------------------------------------------------------------------------
    Resource("uniprot", "2014-01", "swissprot_human.fasta.gz",
             "https://ftp.uniprot.org/pub/databases/uniprot/previous_releases/release-2014_01/",
             "1aae572558b8374393429bfb891e6fdc8c30d14120f286cff40f7110fbd176fc",
             "CC-BY-4.0 (UniProt)", "Swiss-Prot human canonical sequences",
             content_sha256="fd459a061ade1c9e1d62af769697f92d46f13861f2ae9ed1706ae2ddbd754716",
             downloadable=False,
             note="subset of Swiss-Prot 2014_01 (accessions in the GOA files), dumped from Debian "
                  "metastudent-data 2.0.1; headers rewritten to the UniProt convention"),
    Resource("uniprot", "2014-01", "swissprot_mouse.fasta.gz",
             "https://ftp.uniprot.org/pub/databases/uniprot/previous_releases/release-2014_01/",
             "22e6afd9098af22b0c8b6d003bdc4da4e404ed4cde26364b8e5dbb5915b9f4ef",
             "CC-BY-4.0 (UniProt)", "Swiss-Prot mouse canonical sequences",
             content_sha256="8fba431da895ed08c1129b059052886fd9a6611567ad7f98d129ff5940f712d7",
             downloadable=False,
             note="subset of Swiss-Prot 2014_01 (accessions in the GOA files), dumped from Debian "
                  "metastudent-data 2.0.1; headers rewritten to the UniProt convention"),
    Resource("uniprot", "current", "swissprot_human.fasta.gz", _UNIPROT_REST.format(taxon=9606), None,
             "CC-BY-4.0 (UniProt)", "Swiss-Prot human canonical sequences, current", upstream_gzip=True),
    Resource("uniprot", "current", "swissprot_mouse.fasta.gz", _UNIPROT_REST.format(taxon=10090), None,
             "CC-BY-4.0 (UniProt)", "Swiss-Prot mouse canonical sequences, current", upstream_gzip=True),
    # --- GWAS -------------------------------------------------------------------------------
    Resource("gwas", "tiga-2018-08", "gt_stats.csv.gz", _TIGA + "R/gwax/gt_stats.csv.gz",
             "cf5ffbebc24b634458651b275d6625bf09eb3a72312613f37fd1dfbc3fbcf805", "BSD-2-Clause (TIGA repository)",
             "GWAS Catalog gene-trait table (TIGA/GWAX, GWAS Catalog ~2018-08)",
             content_sha256="5380b8135c96a3ce08a3c94ad7c7285e2c7d85adaf7efd39a63c66aad28645e4"),
    Resource("gwas", "tiga-2018-08", "LICENSE", _TIGA + "LICENSE",
             "54394f5790f5855c73a7ed61a54de81fc47be7f39f25ecdb3df076a70b8c65b5", "BSD-2-Clause (TIGA repository)",
             "licence of the TIGA repository"),
    Resource("gwas", "current", "gwas_catalog_v1.0-associations.tsv.gz",
             "https://www.ebi.ac.uk/gwas/api/search/downloads/full", None,
             "EMBL-EBI terms of use (GWAS Catalog data are free to use)",
             "GWAS Catalog associations v1.0 (current)"),
    # --- EFO --------------------------------------------------------------------------------
    Resource("efo", "3.90.0", "EFO-ontology-v3.90.0.json.zst",
             "https://github.com/EBISPOT/efo/releases/tag/v3.90.0",
             "b8c62abf28956b5fb703abc0a26784620518d078a1b1a6620541b5f67057fe02", "Apache-2.0 (EFO)",
             "EFO terms with labels, synonyms and ancestor lists (zstd JSON)",
             content_sha256="733142ba0ce71003fa02d6019ef306e72c6efd17091d2ecdd1edf6de7fff2f91",
             downloadable=False,
             note="EFO 3.90.0 as packaged by PyPI cellxgene-ontology-guide 1.11.1"),
    # --- NCBI Gene id mappings --------------------------------------------------------------
    *(
        Resource("idmapping", "human-2022-09", name,
                 "https://bioconductor.org/packages/3.16/data/annotation/src/contrib/org.Hs.eg.db_3.16.0.tar.gz",
                 sha, "Artistic-2.0", desc, content_sha256=csha, downloadable=False,
                 note="two-column TSV extracted from Bioconductor org.Hs.eg.db 3.16.0 "
                      "(Debian r-bioc-org.hs.eg.db 3.16.0)")
        for name, sha, csha, desc in (
            ("entrez_uniprot.tsv.gz",
             "c1f5741d4bbe3cc4a305c686ed0338343579425511c48641892d2a9d0dae9bea",
             "9cc8861a0df9c33f4ed4e1411f8144b449c7c8884ea186b7f0b60135780a2b68", "NCBI Gene -> UniProt"),
            ("entrez_symbol_type.tsv.gz",
             "8ac4afcbac9094ceb4d2a8dfdba2bcd634d30df14872b26636a5d201b62244f8",
             "e33c9196502daa8cb7786312213e49068819c6fb45dc7895d87424114953719f",
             "NCBI Gene -> symbol, name, gene type"),
            ("entrez_ensembl.tsv.gz",
             "093f7a77b54505ceb565b2f6a3f65104fe3c95e8773c7b2da58d983b7797f7e5",
             "e3519aefcd4ee511a18e285e9b5ba3f81ee5ac909ee1473524f9d77f92c13e1b", "NCBI Gene -> Ensembl gene"),
        )
    ),
    # --- curated mouse (MP) <-> human (HP) phenotype mappings, SSSOM -------------------------
    *(
        Resource("mappings", "mh-mapping-initiative-2026-06-23", name, _MH_MAPPINGS + upstream, sha, licence, desc,
                 note="mapping-commons mh_mapping_initiative, commit of 2026-06-23 (the URL serves the newest "
                      "version: a later one fails the checksum)")
        for name, upstream, sha, licence, desc in (
            ("mp_hp_mgi_all.sssom.tsv", "mp_hp_mgi_all.sssom.tsv",
             "6b23131d80d596a8a5d5a5e6c3a3e94a63c83229059bc6b346888d6b9fd7a5de", _CC_BY,
             "MGI's curated MP -> HP mappings"),
            ("mp_hp_mgi_lex.tsv", "mp_hp_mgi_lex.sssom.tsv",
             "bac70d760cd68412871671929f7e8893d062dde499ae90f57b0b0e49f1080db2", _CC_BY,
             "MGI's lexical MP -> HP mappings (term and synonym labels)"),
            ("mp_hp_pistoia.sssom.tsv", "mp_hp_pistoia.sssom.tsv",
             "929f241915b478e6b6eea371d593f9f034694c04ac1207b6532fd078dfddf0db", "CC0-1.0",
             "the Pistoia Alliance MP -> HP mappings"),
        )
    ),
    # --- CAFA2 (reference only: target ids cannot be mapped to proteins offline) -----------
    *(
        Resource("cafa2", "2014", name, "https://github.com/yuxjiang/CAFA2", sha, "MIT (CAFA2 repository)",
                 desc, downloadable=False, mirror_dir="cafa2",
                 note="collected from GitHub yuxjiang/CAFA2")
        for name, sha, desc in (
            ("ontology_hpo_v810-17-SEP-2013.obo.gz",
             "02892c207309ef40f58dd40740c5eb54311c0c3fab2e57340b050ae9ae95c35c", "HPO used in CAFA2 (2013)"),
            ("benchmark_groundtruth_leafonly_HPO.txt",
             "7fadf6a97569589153993441e7dc34f65c9484aedff5e0dcc5a0136ff79a81f4", "CAFA2 HPO ground truth (leaves)"),
            ("benchmark_groundtruth_propagated_HPO.txt",
             "603213442b74ba6f9e43789dd90620726a740f77929e93f11d4f7e4e0e3b65c0",
             "CAFA2 HPO ground truth (propagated)"),
            ("benchmark_lists_hpo_HUMAN_type1.txt",
             "063f257bf81a3ab5ba86ea51c3bdec2058ffd69dca0e2e4f5def0834b7556c9f", "CAFA2 HPO benchmark targets"),
            ("ontology_hpo_rel.txt",
             "d50d3680032edd019ec38acd455914ec51ba7ff992791c88661f302cb3bbfaa7", "CAFA2 HPO relations"),
            ("ontology_hpo_term.txt",
             "678686d1a39c9681cdb37fbce580afff3e968ffc0dbb363ff93f57bdea1840fa", "CAFA2 HPO term names"),
            ("LICENSE.txt", "5de3e6f7c8cfe00bea9b442b2f136613c26ad4c68746146ac1a733ca0ab5787c",
             "CAFA2 repository licence"),
        )
    ),
)

# The release each source resolves to when none is given: the releases in the data mirror
# that the benchmark datasets are built from.
DEFAULT_RELEASES: dict[str, str] = {
    "mgi": "2016-06",
    "mp": "2025-08-27",
    "hpo": "2025-01-16",
    "go": "2019-01-27",
    "goa": "2019-01-14",
    "uniprot": "2014-01",
    "gwas": "tiga-2018-08",
    "efo": "3.90.0",
    "idmapping": "human-2022-09",
    "cafa2": "2014",
    "mappings": "mh-mapping-initiative-2026-06-23",
}


def sources() -> list[str]:
    """All source names in the registry."""
    return sorted({r.source for r in RESOURCES})


def releases(source: str) -> list[str]:
    """Releases of `source` in the registry (sorted)."""
    found = sorted({r.release for r in RESOURCES if r.source == source})
    if not found:
        raise GenePhenoError(f"unknown data source {source!r}; known: {', '.join(sources())}")
    return found


def default_release(source: str) -> str:
    """The release used when none is given (the mirror's release of `source`)."""
    if source not in DEFAULT_RELEASES:
        releases(source)  # raises for an unknown source
    return DEFAULT_RELEASES[source]


def resources(source: str, release: str | None = None) -> list[Resource]:
    """All registry entries of one source/release."""
    release = release or default_release(source)
    found = [r for r in RESOURCES if r.source == source and r.release == release]
    if not found:
        raise GenePhenoError(
            f"unknown release {release!r} of {source!r}; known: {', '.join(releases(source))}"
        )
    return found


def resource(source: str, filename: str, release: str | None = None) -> Resource:
    """The registry entry for one file."""
    for entry in resources(source, release):
        if entry.filename == filename:
            return entry
    names = ", ".join(r.filename for r in resources(source, release))
    raise GenePhenoError(
        f"no file {filename!r} in {source} {release or default_release(source)}; files: {names}"
    )


def mirror_dir() -> Path | None:
    """$GENEPHENO_MIRROR as a Path, or None when unset/empty (environment.mirror)."""
    return environment.mirror()


def download_dir() -> Path:
    return genepheno_home() / "downloads"


def resource_path(source: str, filename: str, release: str | None = None, progress: bool = False) -> Path:
    """Local path of one registry file (mirror, cache, or downloaded now); verified when pinned."""
    return obtain(resource(source, filename, release), progress=progress)


def fetch(source: str, release: str | None = None, progress: bool = False) -> dict[str, Path]:
    """Obtain every file of `source`/`release`; returns {filename: local path}."""
    return {r.filename: obtain(r, progress=progress) for r in resources(source, release)}


def obtain(entry: Resource, progress: bool = False) -> Path:
    """Local path of `entry`: from the mirror when set, else the download cache (downloading)."""
    return obtain_verified(entry, progress=progress)[0]


def obtain_verified(entry: Resource, progress: bool = False) -> tuple[Path, str]:
    """(local path, sha256 of its bytes as hashed now) for `entry`, verified when pinned.

    The hash is the one the pinned check was made on, so a caller recording it (the
    dataset manifest) records what was actually read, not what the registry expects.
    """
    mirror = mirror_dir()
    cached = download_dir() / entry.relpath
    if mirror is not None:
        path = mirror / entry.relpath
        if not path.is_file() and cached.is_file():  # downloaded earlier without the mirror
            return cached, verify(cached, entry)
        if not path.is_file():
            raise MissingDataError(
                f"{entry.source} {entry.release} file {entry.filename!r} is not in the mirror "
                f"{mirror} (looked for {path}); unset {MIRROR_ENV} to download it"
                + (f" from {entry.url}" if entry.downloadable and entry.url else "")
            )
        return path, verify(path, entry)
    path = cached
    if path.is_file():
        return path, verify(path, entry)
    if not entry.downloadable or not entry.url:
        raise MissingDataError(
            f"{entry.source} {entry.release} file {entry.filename!r} cannot be downloaded as is "
            f"({entry.note or 'derived file'}; upstream: {entry.url}); set {MIRROR_ENV} to a "
            f"mirror that holds {entry.relpath}"
        )
    download(entry, path, progress=progress)
    return path, verify(path, entry)


# ---------------------------------------------------------------------------------------
# checksums
#
# Hashes are always computed from the bytes, never remembered by path, size and mtime:
# a file rewritten to the same size with its mtime restored must fail the check. All
# pinned mirror files (73 MB) hash in about 0.25 s, so there is nothing worth caching.

# what a corrupt or truncated gzip stream raises while being read
_GZIP_ERRORS = (OSError, EOFError, zlib.error)


def verify(path: str | os.PathLike, entry: Resource) -> str:
    """Check `path` against the entry's pinned hash by content; return the file's sha256.

    Accepts either the stored-file hash or, for gzip files, the hash of the decompressed
    content (a re-compressed download of the same upstream bytes). Unpinned entries are
    not checked. Raises ChecksumError naming the file, expected and actual hashes (also
    for a .gz that cannot be decompressed).
    """
    actual = sha256_file(path)
    if entry.sha256 is None or actual == entry.sha256:
        return actual
    if entry.content_sha256 and str(path).endswith(".gz"):
        try:
            if sha256_file(path, decompressed=True) == entry.content_sha256:
                return actual
        except _GZIP_ERRORS as exc:  # corrupt archive: a plain checksum mismatch
            logger.debug("cannot decompress %s: %s", path, exc)
    raise ChecksumError(path, entry.sha256, actual)


# ---------------------------------------------------------------------------------------
# downloading


def _open_url(url: str):
    """Open `url` for reading (module-level so tests can monkeypatch it)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    return urllib.request.urlopen(request, timeout=60)  # noqa: S310 (registry URLs only)


def download(entry: Resource, target: Path, progress: bool = False) -> Path:
    """Download `entry.url` to `target` atomically; verify the checksum before the rename."""
    from tqdm.auto import tqdm

    logger.info("downloading %s -> %s", entry.url, target)
    try:
        response = _open_url(entry.url)
    except OSError as exc:  # URLError is an OSError
        raise MissingDataError(f"cannot download {entry.url} ({exc}); set {MIRROR_ENV} to use a mirror") from exc
    with atomic_path(target) as tmp:
        total = None
        headers = getattr(response, "headers", None)
        length = headers.get("Content-Length") if headers is not None else None
        if length and str(length).isdigit():
            total = int(length)
        bar = tqdm(total=total, unit="B", unit_scale=True, desc=entry.filename, disable=not progress)
        try:
            with response, bar:
                if entry.compress_on_download:
                    # mtime=0 keeps the gzip bytes a pure function of the content
                    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
                        _copy(response, out, bar)
                else:
                    with open(tmp, "wb") as out:
                        _copy(response, out, bar)
        except OSError as exc:
            raise MissingDataError(f"download of {entry.url} failed: {exc}") from exc
        if entry.pinned:
            try:
                verify(tmp, entry)
            except ChecksumError as exc:
                raise ChecksumError(f"{target} (downloaded from {entry.url})", exc.expected, exc.actual) from None
    return target


def _copy(response, out, bar, chunk: int = 1 << 20) -> None:
    while block := response.read(chunk):
        out.write(block)
        bar.update(len(block))

