"""Ontology structure, remapping, propagation, depth, IC and IA on a hand-worked fixture.

tests/data/ontology/tiny.obo (is_a unless noted):

    TT:1 root
    |-- TT:2 A ---------.
    `-- TT:3 B (alt_id TT:13)
        |-- TT:4 C  (is_a A and B)
        |   `-- TT:5 D  (is_a C; part_of TT:6)
        `-- TT:6 E
    obsolete: TT:7 -> replaced_by TT:4; TT:9 -> replaced_by TT:7 (chain); TT:8 no replacement
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from genepheno_core.ontology import Ontology, RemapReport, load_ontology

DATA = Path(__file__).parent / "data" / "ontology"


def t(n: int) -> str:
    return f"TT:{n:07d}"


@pytest.fixture(scope="module")
def onto() -> Ontology:
    return load_ontology(DATA / "tiny.obo")


def test_terms_names_synonyms(onto):
    assert len(onto) == 6
    assert onto.terms == [t(i) for i in range(1, 7)]
    assert onto.names[t(2)] == "A"
    assert onto.name(t(7)) == "obsolete C"  # obsolete names stay readable
    assert onto.synonyms(t(3)) == ("bee", 'the "B" term')
    assert onto.synonyms(t(1)) == ("everything",)
    assert t(7) not in onto and t(4) in onto
    assert onto.data_version == "tiny/releases/2024-01-01"


def test_gz_loads_the_same(onto):
    gz = load_ontology(DATA / "tiny.obo.gz")
    assert gz.terms == onto.terms
    assert gz.ancestor_map() == onto.ancestor_map()


def test_parents_children_roots(onto):
    assert onto.parents(t(4)) == {t(2), t(3)}
    assert onto.parents(t(5)) == {t(4)}
    assert onto.parents(t(5), relations=("is_a", "part_of")) == {t(4), t(6)}
    assert onto.children(t(3)) == {t(4), t(6)}
    assert onto.children(t(6), relations=("part_of",)) == {t(5)}
    assert onto.roots == [t(1)]


def test_ancestors_descendants(onto):
    assert onto.ancestors(t(5)) == {t(1), t(2), t(3), t(4)}
    assert onto.ancestors(t(5), include_self=True) == {t(1), t(2), t(3), t(4), t(5)}
    assert onto.ancestors(t(5), relations=("is_a", "part_of")) == {t(1), t(2), t(3), t(4), t(6)}
    assert onto.ancestors(t(1)) == set()
    assert onto.ancestors("XX:0000001") == set()
    assert onto.descendants(t(3)) == {t(4), t(5), t(6)}
    assert onto.descendants(t(2)) == {t(4), t(5)}
    assert onto.descendants(t(6), relations=("is_a", "part_of")) == {t(5)}
    assert onto.descendants(t(5)) == set()


def test_go_style_default_relations():
    go_like = load_ontology(DATA / "tiny.obo", relations=("is_a", "part_of"))
    assert go_like.ancestors(t(5)) == {t(1), t(2), t(3), t(4), t(6)}
    assert go_like.depth(t(5)) == 3  # via 6 (depth 2) or 4 (depth 2)


def test_depth_is_shortest_distance_to_root(onto):
    assert [onto.depth(t(i)) for i in range(1, 7)] == [0, 1, 1, 2, 3, 2]
    with pytest.raises(KeyError):
        onto.depth(t(7))


def test_topological_order_parents_first(onto):
    order = onto.topological_order()
    pos = {term: i for i, term in enumerate(order)}
    for term in onto:
        for parent in onto.parents(term):
            assert pos[parent] < pos[term]


def test_remap(onto):
    assert onto.remap(t(4)) == t(4)
    assert onto.remap(t(13)) == t(3)  # alt_id
    assert onto.remap(t(7)) == t(4)  # replaced_by
    assert onto.remap(t(9)) == t(4)  # replaced_by chain 9 -> 7 -> 4
    assert onto.remap(t(8)) is None  # obsolete, no replacement (consider is not followed)
    assert onto.remap("XX:0000001") is None
    assert onto.remap_status(t(13)) == (t(3), "alt_id")
    assert onto.remap_status(t(9)) == (t(4), "replaced")
    assert onto.remap_status(t(8)) == (None, "obsolete")
    assert onto.remap_status("XX:0000001") == (None, "unknown")
    assert onto.is_obsolete(t(8)) and not onto.is_obsolete(t(4)) and not onto.is_obsolete("XX:1")
    assert onto.info(t(8)).consider == (t(2),)


ANNOTATIONS = {
    "g1": [t(5)],
    "g2": [t(2)],
    "g3": [t(6), t(13)],
    "g4": [t(8)],
    "g5": [t(7), "XX:0000001"],
}


def test_propagate_remaps_and_reports(onto):
    propagated, report = onto.propagate(ANNOTATIONS)
    assert propagated == {
        "g1": {t(5), t(4), t(2), t(3), t(1)},
        "g2": {t(2), t(1)},
        "g3": {t(6), t(3), t(1)},
        "g4": set(),  # kept, visible as empty
        "g5": {t(4), t(2), t(3), t(1)},
    }
    assert isinstance(report, RemapReport)
    assert dict(report.counts) == {"ok": 3, "alt_id": 1, "replaced": 1, "obsolete": 1, "unknown": 1}
    assert report.n_dropped == 2 and report.n_remapped == 2
    assert report.examples["obsolete"] == [t(8)]
    assert report.dropped_terms["unknown"] == {"XX:0000001": 1}
    summary = report.as_dict()
    assert summary["counts"]["obsolete"] == 1 and summary["dropped_terms"] == {"obsolete": 1, "unknown": 1}


def test_propagate_part_of(onto):
    propagated, _ = onto.propagate({"g": [t(5)]}, relations=("is_a", "part_of"))
    assert propagated["g"] == {t(1), t(2), t(3), t(4), t(5), t(6)}


def test_information_accretion_hand_worked(onto):
    # items with terms after propagation: g1, g2, g3, g5 (g4 is empty) -> 4
    ia = onto.information_accretion(ANNOTATIONS)
    assert ia[t(1)] == pytest.approx(0.0)  # root reached by all 4
    assert ia[t(2)] == pytest.approx(-math.log2(3 / 4))  # g1 g2 g5 of 4
    assert ia[t(3)] == pytest.approx(-math.log2(3 / 4))  # g1 g3 g5 of 4
    assert ia[t(4)] == pytest.approx(0.0)  # g1 g5 of (A and B: g1 g5)
    assert ia[t(5)] == pytest.approx(1.0)  # g1 of (C: g1 g5)
    assert ia[t(6)] == pytest.approx(math.log2(3))  # g3 of (B: g1 g3 g5)
    assert set(ia) == set(onto.terms)


def test_information_accretion_unannotated_term_is_zero(onto):
    ia = onto.information_accretion({"g": [t(2)]})
    assert ia[t(5)] == 0.0 and ia[t(2)] == 0.0


def test_information_content(onto):
    ic = onto.information_content(ANNOTATIONS)
    assert ic[t(1)] == pytest.approx(0.0)
    assert ic[t(5)] == pytest.approx(2.0)
    assert ic[t(2)] == pytest.approx(math.log2(4 / 3))
    assert t(8) not in ic


def test_term_counts(onto):
    counts = onto.term_counts(ANNOTATIONS)
    assert counts[t(1)] == 4 and counts[t(4)] == 2 and counts[t(6)] == 1


def test_namespace_falls_back_to_ontology_name(onto):
    assert onto.namespace(t(2)) == "tiny"
    assert onto.namespace("XX:1") is None


def test_pickle_roundtrip(onto):
    import pickle

    onto.names  # populate caches first
    onto.ancestor_map()
    clone = pickle.loads(pickle.dumps(onto))
    assert clone.names == onto.names
    assert clone.ancestor_map() == onto.ancestor_map()
    assert clone.remap(t(9)) == t(4)


def test_terms_at_depth_and_namespaces(onto):
    assert onto.terms_at_depth(1) == [t(2), t(3)]
    assert onto.terms_at_depth(2) == [t(4), t(6)]
    assert onto.terms_at_depth(2, namespace="other") == []
    assert onto.namespaces() == {"tiny": [t(i) for i in range(1, 7)]}
