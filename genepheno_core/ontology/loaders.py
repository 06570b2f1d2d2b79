"""Build an Ontology from an OBO file (obonet) or the EFO JSON of the data mirror."""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import Sequence
from pathlib import Path

from genepheno_core.errors import InputFormatError, MissingDataError
from genepheno_core.io import atomic_write_bytes, genepheno_home
from genepheno_core.ontology.core import Ontology, TermInfo
from genepheno_core.sources._util import PathLike, open_text
from genepheno_core.sources.obo import read_obo_graph, synonym_text
from genepheno_core.sources.registry import file_sha256

logger = logging.getLogger(__name__)


# bump when the cached content (TermInfo fields, edge triples) changes meaning
_CACHE_VERSION = 1


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
    cache: keep the parsed terms and edges in genepheno_home()/cache/ontology/, keyed by
        the file's sha256, so the next load skips the OBO parse (GO: ~6 s -> <1 s).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"ontology file {path} not found")
    key = None
    if cache:
        try:
            key = genepheno_home() / "cache" / "ontology" / f"{file_sha256(path)}-v{_CACHE_VERSION}.pkl"
            if key.is_file():
                with open(key, "rb") as handle:
                    terms, edges, parsed_name, data_version = pickle.load(handle)
                return Ontology(terms, edges, relations=relations, name=name or parsed_name,
                                source=str(path), data_version=data_version)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, AttributeError) as exc:
            logger.debug("ontology cache unusable (%s); parsing %s", exc, path)
    suffixes = [s.lower() for s in path.suffixes]
    if ".json" in suffixes:
        ontology = load_efo_json(path, relations=relations, name=name)
    else:
        ontology = load_obo(path, relations=relations, name=name)
    if key is not None:
        try:
            payload = (ontology._info, ontology._edges, ontology.ontology_name, ontology.data_version)
            atomic_write_bytes(key, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError as exc:
            logger.debug("cannot write ontology cache %s: %s", key, exc)
    return ontology


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
