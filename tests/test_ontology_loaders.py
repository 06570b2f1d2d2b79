"""Loading ontologies: OBO (plain/.gz), the EFO JSON (.zst), the parse cache, real files."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import pickle
import time
from pathlib import Path

import pytest

from genepheno_core.errors import InputFormatError, MissingDataError
from genepheno_core.ontology import load_ontology
from genepheno_core.ontology import loaders

DATA = Path(__file__).parent / "data" / "ontology"
needs_mirror = pytest.mark.skipif(not os.environ.get("GENEPHENO_MIRROR"), reason="GENEPHENO_MIRROR not set")


@pytest.fixture
def private_home(tmp_path, monkeypatch):
    """Unit tests keep their parse cache in tmp_path (integration tests share GENEPHENO_HOME's)."""
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path / "home"))


@pytest.mark.parametrize("name", ["efo_tiny.json", "efo_tiny.json.zst"])
def test_efo_json(name, private_home):
    efo = load_ontology(DATA / name)
    assert len(efo) == 5
    # parents recovered from the ancestor lists (transitive reduction)
    assert efo.parents("EFO:0000249") == {"EFO:0005772"}
    assert efo.parents("EFO:0005772") == {"EFO:0000408"}
    assert efo.ancestors("EFO:0000249") == {"EFO:0005772", "EFO:0000408", "EFO:0000001"}
    assert efo.descendants("EFO:0000408") == {"EFO:0005772", "EFO:0000249"}
    assert efo.roots == ["EFO:0000001"]
    assert efo.depth("EFO:0000249") == 3
    assert efo.synonyms("EFO:0000249") == ("AD",)
    assert efo.name("EFO:0000249") == "Alzheimer disease"
    assert efo.remap("EFO:0000999") == "EFO:0000249"
    assert efo.remap_status("EFO:0000692") == (None, "obsolete")  # replacement outside EFO
    # deprecated + replaced_by read from the JSON: a chain of two, and "replaced_by": null
    assert efo.remap_status("EFO:0000999") == ("EFO:0000249", "replaced")
    assert efo.remap_status("EFO:0000998") == ("EFO:0000249", "replaced")
    assert efo.remap_status("EFO:0000997") == (None, "obsolete")
    assert efo.info("EFO:0000997").replaced_by == () and efo.is_obsolete("EFO:0000997")
    assert efo.remap_status("MONDO:0005090") == (None, "unknown")
    assert efo.namespace("EFO:0000249") == "efo"


def test_cache_returns_same_ontology(tmp_path, private_home):
    first = load_ontology(DATA / "tiny.obo")
    cached = list((tmp_path / "home" / "cache" / "ontology").iterdir())
    assert len(cached) == 1
    second = load_ontology(DATA / "tiny.obo", relations=("is_a", "part_of"))
    assert second.terms == first.terms and second.names == first.names
    assert second.relations == ("is_a", "part_of")
    assert second.ancestors("TT:0000005") == first.ancestors("TT:0000005") | {"TT:0000006"}
    assert second.remap("TT:0000009") == "TT:0000004"
    uncached = load_ontology(DATA / "tiny.obo", cache=False)
    assert uncached.ancestor_map() == first.ancestor_map()


def _cache_dir(tmp_path) -> Path:
    return tmp_path / "home" / "cache" / "ontology"


def _same(a, b) -> bool:
    return (a.terms == b.terms and dict(a.names) == dict(b.names) and a.ancestor_map() == b.ancestor_map()
            and a.ontology_name == b.ontology_name and a.data_version == b.data_version
            and [a.remap(t) for t in ("TT:0000007", "TT:0000009", "TT:0000013")]
            == [b.remap(t) for t in ("TT:0000007", "TT:0000009", "TT:0000013")])


def test_cache_is_json_and_is_used(tmp_path, private_home, monkeypatch):
    first = load_ontology(DATA / "tiny.obo")
    (cached,) = _cache_dir(tmp_path).iterdir()
    payload = json.loads(gzip.decompress(cached.read_bytes()))  # plain data, no pickle
    assert payload["source_sha256"] == hashlib.sha256((DATA / "tiny.obo").read_bytes()).hexdigest()
    assert "TT:0000004" in payload["terms"]

    def no_parse(*args, **kwargs):
        raise AssertionError("parsed again despite the cache")

    monkeypatch.setattr(loaders, "load_obo", no_parse)
    assert _same(load_ontology(DATA / "tiny.obo"), first)


class _Plant:
    """Unpickling this creates `marker`: proof that a cache file was unpickled."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_planted_pickle_in_the_cache_is_never_executed(tmp_path, private_home):
    marker = tmp_path / "pwned"
    sha = hashlib.sha256((DATA / "tiny.obo").read_bytes()).hexdigest()
    planted = pickle.dumps(_Plant(marker))
    cache = _cache_dir(tmp_path)
    cache.mkdir(parents=True)
    (cache / f"{sha}-v1.pkl").write_bytes(planted)  # where the pickle cache used to live
    (cache / f"{sha}-v{loaders._CACHE_VERSION}.json.gz").write_bytes(gzip.compress(planted))  # the new path
    onto = load_ontology(DATA / "tiny.obo")
    assert not marker.exists()
    assert _same(onto, load_ontology(DATA / "tiny.obo", cache=False))
    again = load_ontology(DATA / "tiny.obo")  # the bad file was replaced by a good cache
    assert not marker.exists() and _same(again, onto)
    assert json.loads(gzip.decompress((cache / f"{sha}-v{loaders._CACHE_VERSION}.json.gz").read_bytes()))


def _payload(tmp_path) -> dict:
    load_ontology(DATA / "tiny.obo")
    (cached,) = _cache_dir(tmp_path).iterdir()
    return json.loads(gzip.decompress(cached.read_bytes()))


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: gzip.compress(b"{not json"),
        lambda p: gzip.compress(json.dumps(p).encode())[:40],  # truncated
        lambda p: json.dumps(p).encode(),  # not gzip
        lambda p: gzip.compress(json.dumps({**p, "version": 1}).encode()),
        lambda p: gzip.compress(json.dumps({**p, "source_sha256": "0" * 64}).encode()),
        lambda p: gzip.compress(json.dumps({**p, "terms": {"TT:0000001": ["root"]}}).encode()),
        lambda p: gzip.compress(json.dumps({**p, "terms": {"TT:0000001": ["r", None, "s", False, [], [], []]}}).encode()),
        lambda p: gzip.compress(json.dumps({**p, "edges": [["TT:0000002", "is_a"]]}).encode()),
        lambda p: gzip.compress(json.dumps([p]).encode()),
    ],
    ids=["bad-json", "truncated", "not-gzip", "old-version", "other-file", "short-entry", "bad-synonyms",
         "bad-edge", "not-object"],
)
def test_unusable_cache_falls_back_to_the_obo_and_is_rewritten(tmp_path, private_home, damage):
    good = _payload(tmp_path)
    (cached,) = _cache_dir(tmp_path).iterdir()
    cached.write_bytes(damage(good))
    onto = load_ontology(DATA / "tiny.obo")
    assert _same(onto, load_ontology(DATA / "tiny.obo", cache=False))
    assert json.loads(gzip.decompress(cached.read_bytes())) == good  # rewritten from the parse


def _truncations(data: bytes):
    """Every cut of the file (plain), and a few of its gzip copy."""
    for cut in range(len(data)):
        yield f"plain-{cut}", data[:cut]
    packed = gzip.compress(data, mtime=0)
    for cut in range(0, len(packed), 7):
        yield f"gzip-{cut}", packed[:cut]


@pytest.mark.slow
def test_truncated_obo_parses_what_is_there_or_raises(tmp_path, private_home):
    full = load_ontology(DATA / "tiny.obo", cache=False)
    full_ids = set(full.terms) | {"TT:0000007", "TT:0000008", "TT:0000009"}
    path = tmp_path / "cut.obo"
    outcomes = {"parsed": 0, "error": 0}
    for label, data in _truncations((DATA / "tiny.obo").read_bytes()):
        path.write_bytes(data)
        try:
            onto = load_ontology(path, cache=False)
        except InputFormatError as exc:
            assert str(path) in str(exc), label
            outcomes["error"] += 1
            continue
        outcomes["parsed"] += 1
        # what is there: the terms before the cut, the last one maybe with its id cut short
        extra = set(onto.terms) - full_ids
        assert len(extra) <= 1 and all(any(t.startswith(e) for t in full_ids) for e in extra), label
        for term in onto.terms:
            onto.ancestors(term)
    assert outcomes["parsed"] and outcomes["error"]


def test_missing_and_bad_files(tmp_path, private_home):
    with pytest.raises(MissingDataError):
        load_ontology(tmp_path / "none.obo")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputFormatError, match="not valid JSON"):
        load_ontology(bad)


def test_cycle_is_reported(tmp_path, private_home):
    path = tmp_path / "cycle.obo"
    path.write_text(
        "format-version: 1.2\nontology: cyc\n\n[Term]\nid: CY:0000001\nname: a\nis_a: CY:0000002\n\n"
        "[Term]\nid: CY:0000002\nname: b\nis_a: CY:0000001\n"
    )
    onto = load_ontology(path, cache=False)
    with pytest.raises(InputFormatError, match="cycle in the is_a graph"):
        onto.ancestors("CY:0000001")


REAL = [
    # (source, release, file, relations, n current terms (approx), root)
    ("hpo", "2025-01-16", "hp.obo.gz", ("is_a",), 19034, "HP:0000001"),
    ("hpo", "2020-10-12", "hp.obo.gz", ("is_a",), 15371, "HP:0000001"),
    ("mp", "2025-08-27", "mp.obo.gz", ("is_a",), 14451, "MP:0000001"),
]


@pytest.mark.integration
@needs_mirror
@pytest.mark.parametrize("source, release, filename, relations, n_terms, root", REAL)
def test_real_ontologies(source, release, filename, relations, n_terms, root):
    from genepheno_core.sources.registry import resource_path

    onto = load_ontology(resource_path(source, filename, release), relations=relations)
    assert len(onto) == n_terms
    assert onto.roots == [root]
    start = time.perf_counter()
    closure = onto.ancestor_map()
    assert time.perf_counter() - start < 10
    assert all(root in anc for term, anc in closure.items() if term != root)
    assert onto.depth(root) == 0


@pytest.mark.integration
@needs_mirror
def test_real_hpo_remapping_and_propagation():
    from genepheno_core.sources.registry import resource_path

    hpo = load_ontology(resource_path("hpo", "hp.obo.gz"))
    assert hpo.name("HP:0000118") == "Phenotypic abnormality"
    assert "HP:0000118" in hpo.ancestors("HP:0004322")  # short stature
    assert hpo.depth("HP:0000118") == 1
    # every alt_id resolves to a current term; obsolete terms resolve or are counted
    obsolete = [t for t in hpo._info if hpo.is_obsolete(t)]
    assert obsolete
    statuses = {hpo.remap_status(t)[1] for t in obsolete}
    assert statuses <= {"replaced", "obsolete", "alt_id"}
    propagated, report = hpo.propagate({"g": ["HP:0004322"] + obsolete[:3]})
    assert "HP:0000001" in propagated["g"]
    assert report.counts["ok"] == 1 and sum(report.counts.values()) == 4


@pytest.mark.integration
@needs_mirror
def test_real_go_with_part_of():
    from genepheno_core.sources.registry import resource_path

    go = load_ontology(resource_path("go", "go.obo.gz"), relations=("is_a", "part_of"))
    assert go.roots == ["GO:0003674", "GO:0005575", "GO:0008150"]
    assert go.namespace("GO:0006915") == "biological_process"
    start = time.perf_counter()
    go.ancestor_map()
    assert time.perf_counter() - start < 10
    # nucleus (GO:0005634) is part_of nothing but is_a organelle ... -> cellular_component
    assert "GO:0005575" in go.ancestors("GO:0005634")
    assert go.ancestors("GO:0005634", relations=("is_a",)) <= go.ancestors("GO:0005634")


@pytest.mark.integration
@needs_mirror
def test_real_cafa2_hpo_and_efo():
    from genepheno_core.sources.registry import resource_path

    old = load_ontology(resource_path("cafa2", "ontology_hpo_v810-17-SEP-2013.obo.gz"))
    assert old.roots == ["HP:0000001"] and len(old) > 10000
    efo = load_ontology(resource_path("efo", "EFO-ontology-v3.90.0.json.zst"))
    assert efo.roots == ["EFO:0000001"]
    assert "EFO:0001444" in efo.ancestors("EFO:0007789")  # waist circumference -> measurement
