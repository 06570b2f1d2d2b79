"""Build an Ontology from an OBO file (obonet) or the EFO JSON of the data mirror."""

from __future__ import annotations

import gzip
import json
import logging
import zlib
from collections.abc import Sequence
from pathlib import Path

from genepheno_core.errors import InputFormatError, MissingDataError
from genepheno_core.io import atomic_write_bytes, genepheno_home, sha256_file
from genepheno_core.ontology.core import Ontology, TermInfo
from genepheno_core.sources._util import PathLike, open_text
from genepheno_core.sources.obo import read_obo_graph, synonym_text

logger = logging.getLogger(__name__)


# The parse cache is gzip-compressed JSON, never pickle: anything that can write to
# genepheno_home() could otherwise run code in every process that loads an ontology.
# Bump the version when the cached content (TermInfo fields, edge triples) changes meaning.
_CACHE_FORMAT = "genepheno-ontology-cache"
_CACHE_VERSION = 2


def load_ontology(
    path: PathLike, relations: Sequence[str] = ("is_a",), name: str | None = None, cache: bool = True
) -> Ontology:
    """Load an ontology file.

    path: OBO (plain, .gz, .zst) or the EFO JSON (`*.json`, `*.json.zst`: {id: {label,
        synonyms, ancestors, deprecated, replaced_by}}).
    relations: the default relation set for parents/ancestors/propagation; ("is_a",) by
        default, ("is_a", "part_of") is the usual choice for GO.
    name: ontology name used as namespace fallback (default: the file's `ontology:` header,
        e.g. "hp", "mp", "go").
    cache: keep the parsed terms and edges in genepheno_home()/cache/ontology/ as
        gzip-compressed JSON keyed by the sha256 of the file's bytes, so the next load
        skips the OBO parse (GO 2019: ~7 s -> ~2 s). A cache file that is unreadable or
        not of the expected structure is ignored (the file is parsed again).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"ontology file {path} not found")
    key = sha256 = None
    if cache:
        try:
            sha256 = sha256_file(path)
            key = genepheno_home() / "cache" / "ontology" / f"{sha256}-v{_CACHE_VERSION}.json.gz"
        except OSError as exc:
            logger.debug("cannot hash %s for the ontology cache: %s", path, exc)
    if key is not None and key.is_file():
        cached = _read_cache(key, sha256)
        if cached is not None:
            terms, edges, parsed_name, data_version = cached
            return Ontology(terms, edges, relations=relations, name=name or parsed_name,
                            source=str(path), data_version=data_version)
    suffixes = [s.lower() for s in path.suffixes]
    if ".json" in suffixes:
        ontology = load_efo_json(path, relations=relations, name=name)
    else:
        ontology = load_obo(path, relations=relations, name=name)
    # a name given by the caller replaces the file's own: cache only the file's
    if key is not None and name is None:
        _write_cache(key, ontology, sha256)
    return ontology


def _write_cache(key: Path, ontology: Ontology, sha256: str) -> None:
    payload = {
        "format": _CACHE_FORMAT,
        "version": _CACHE_VERSION,
        "source_sha256": sha256,
        "name": ontology.ontology_name,
        "data_version": ontology.data_version,
        # TermInfo fields in declaration order
        "terms": {
            term: [info.name, info.namespace, list(info.synonyms), info.is_obsolete,
                   list(info.replaced_by), list(info.consider), list(info.alt_ids)]
            for term, info in ontology._info.items()
        },
        "edges": [list(edge) for edge in ontology._edges],
    }
    data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    try:
        atomic_write_bytes(key, gzip.compress(data, compresslevel=1, mtime=0))
    except OSError as exc:
        logger.debug("cannot write ontology cache %s: %s", key, exc)


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _read_cache(key: Path, sha256: str | None):
    """(terms, edges, name, data_version) from a cache file, or None when it is unusable."""
    try:
        payload = json.loads(gzip.decompress(key.read_bytes()))
    except (OSError, EOFError, zlib.error, ValueError) as exc:  # ValueError: bad JSON / UTF-8
        logger.warning("ignoring unreadable ontology cache %s (%s)", key, exc)
        return None
    problem = _cache_problem(payload, sha256)
    if problem:
        logger.warning("ignoring ontology cache %s: %s", key, problem)
        return None
    terms = {
        term: TermInfo(name, namespace, tuple(synonyms), obsolete, tuple(replaced), tuple(consider), tuple(alt))
        for term, (name, namespace, synonyms, obsolete, replaced, consider, alt) in payload["terms"].items()
    }
    edges = [tuple(edge) for edge in payload["edges"]]
    return terms, edges, payload["name"], payload["data_version"]


def _cache_problem(payload, sha256: str | None) -> str | None:
    """What is wrong with a decoded cache payload (None: it has exactly the written shape)."""
    if not isinstance(payload, dict):
        return "not a JSON object"
    if payload.get("format") != _CACHE_FORMAT or payload.get("version") != _CACHE_VERSION:
        return "unknown format or version"
    if payload.get("source_sha256") != sha256:
        return "made from another file"
    if not isinstance(payload.get("name"), str) or not isinstance(payload.get("data_version"), (str, type(None))):
        return "bad name or data_version"
    terms, edges = payload.get("terms"), payload.get("edges")
    if not isinstance(terms, dict) or not isinstance(edges, list):
        return "terms/edges missing"
    for term, fields in terms.items():
        if not (
            isinstance(fields, list) and len(fields) == 7 and isinstance(fields[0], str)
            and isinstance(fields[1], (str, type(None))) and isinstance(fields[3], bool)
            and all(_strings(fields[i]) for i in (2, 4, 5, 6))
        ):
            return f"bad entry for term {term!r}"
    if not all(_strings(edge) and len(edge) == 3 for edge in edges):
        return "bad edge"
    return None


def _tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    return tuple(str(v).split()[0] for v in value if str(v).strip())


def load_obo(path: PathLike, relations: Sequence[str] = ("is_a",), name: str | None = None) -> Ontology:
    """OBO file -> Ontology (obsolete terms kept for remapping)."""
    graph = read_obo_graph(path, ignore_obsolete=False, slim=True)
    header = graph.graph
    default_ns = header.get("default-namespace")
    if isinstance(default_ns, list):
        default_ns = default_ns[0] if default_ns else None
    onto_name = name or str(header.get("ontology") or default_ns or "").removesuffix(".obo")
    terms: dict[str, TermInfo] = {}
    for node, data in graph.nodes(data=True):
        if not data:  # edge target without a stanza
            continue
        terms[node] = TermInfo(
            name=data.get("name", ""),
            namespace=data.get("namespace") or default_ns,
            synonyms=tuple(synonym_text(s) for s in data.get("synonym", ())),
            is_obsolete=str(data.get("is_obsolete", "false")).lower() == "true",
            replaced_by=_tuple(data.get("replaced_by")),
            consider=_tuple(data.get("consider")),
            alt_ids=_tuple(data.get("alt_id")),
        )
    edges = [(child, relation, parent) for child, parent, relation in graph.edges(keys=True)]
    ontology = Ontology(
        terms, edges, relations=relations, name=str(onto_name), source=str(path),
        data_version=header.get("data-version"),
    )
    logger.info("loaded %s: %d current terms, %d edges", path, len(ontology), len(edges))
    return ontology


def load_efo_json(path: PathLike, relations: Sequence[str] = ("is_a",), name: str | None = None) -> Ontology:
    """The mirror's EFO JSON (cellxgene-ontology-guide layout) -> Ontology.

    The file lists each term's full ancestor set, not its parents; parents are recovered as
    the transitive reduction (ancestors that are not ancestors of another ancestor) and
    stored as is_a edges. Deprecated terms keep their replaced_by (often a MONDO id that is
    not in the file: remap() then returns None and counts the term obsolete).
    """
    try:
        with open_text(path) as handle:
            data = json.load(handle)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputFormatError(path, f"not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InputFormatError(path, "expected a JSON object {term id: {label, ancestors, ...}}")
    terms: dict[str, TermInfo] = {}
    ancestors: dict[str, set[str]] = {}
    for term, entry in data.items():
        if not isinstance(entry, dict) or "label" not in entry:
            raise InputFormatError(path, "term entry without a label", record=term)
        terms[term] = TermInfo(
            name=str(entry.get("label", "")),
            namespace=None,
            synonyms=tuple(entry.get("synonyms") or ()),
            is_obsolete=bool(entry.get("deprecated", False)),
            replaced_by=_tuple(entry.get("replaced_by")),
        )
        ancestors[term] = set(entry.get("ancestors") or ())
    edges = []
    for term, anc in ancestors.items():
        implied: set[str] = set()
        for a in anc:
            implied |= ancestors.get(a, set())
        for parent in anc - implied:
            edges.append((term, "is_a", parent))
    return Ontology(terms, edges, relations=relations, name=name or "efo", source=str(path))
