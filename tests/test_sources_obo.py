"""OBO reading through obonet: term table, obsolete terms kept, checked ids, .gz."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genepheno_core.errors import InputFormatError
from genepheno_core.sources.obo import read_obo_graph, read_obo_terms, synonym_text

DATA = Path(__file__).parent / "data" / "ontology"
needs_mirror = pytest.mark.skipif(not os.environ.get("GENEPHENO_MIRROR"), reason="GENEPHENO_MIRROR not set")


@pytest.mark.parametrize("name", ["tiny.obo", "tiny.obo.gz"])
def test_terms(name):
    terms = read_obo_terms(DATA / name).set_index("term_id")
    assert len(terms) == 9  # obsolete terms included
    assert terms.loc["TT:0000003", "alt_ids"] == ("TT:0000013",)
    assert terms.loc["TT:0000003", "synonyms"] == ("bee", 'the "B" term')
    assert terms.loc["TT:0000004", "is_a"] == ("TT:0000002", "TT:0000003")
    assert bool(terms.loc["TT:0000007", "is_obsolete"]) and terms.loc["TT:0000007", "replaced_by"] == ("TT:0000004",)
    assert terms.loc["TT:0000008", "consider"] == ("TT:0000002",)
    assert terms["is_obsolete"].sum() == 3


def test_graph_edges():
    graph = read_obo_graph(DATA / "tiny.obo")
    assert graph.has_edge("TT:0000005", "TT:0000006", key="part_of")
    assert graph.has_edge("TT:0000005", "TT:0000004", key="is_a")
    assert graph.graph["data-version"] == "tiny/releases/2024-01-01"


def test_synonym_text():
    assert synonym_text('"short stature" EXACT [HPO:skoehler]') == "short stature"


def test_bad_term_id_names_line(tmp_path):
    text = (DATA / "tiny.obo").read_text().replace("id: TT:0000006", "id: TT_0000006")
    path = tmp_path / "bad.obo"
    path.write_text(text)
    with pytest.raises(InputFormatError) as err:
        read_obo_graph(path)
    line = text.splitlines().index("id: TT_0000006") + 1
    assert f"{path}, line {line}: bad term id 'TT_0000006'" in str(err.value)


def test_malformed_tag_line(tmp_path):
    text = (DATA / "tiny.obo").read_text().replace("name: C\n", "name C without colon\n")
    path = tmp_path / "bad.obo"
    path.write_text(text)
    with pytest.raises(InputFormatError) as err:
        read_obo_graph(path)
    line = text.splitlines().index("name C without colon") + 1
    assert f"line {line}: malformed OBO line 'name C without colon'" in str(err.value)


def test_not_obo(tmp_path):
    path = tmp_path / "x.obo"
    path.write_text("format-version: 1.2\n")
    with pytest.raises(InputFormatError, match="no \\[Term\\] stanzas"):
        read_obo_graph(path)


@pytest.mark.integration
@needs_mirror
def test_mirror_obo_terms():
    from genepheno_core.sources.registry import resource_path

    terms = read_obo_terms(resource_path("mp", "mp.obo.gz"))
    assert terms["term_id"].str.startswith("MP:").all()
    assert "MP:0002169" in set(terms["term_id"])


def test_valid_term_id():
    from genepheno_core.sources.obo import valid_term_id

    assert valid_term_id("HP:0000118") and valid_term_id("NCBITaxon:9606") and valid_term_id("Orphanet:1020")
    assert not valid_term_id("HP:00001x8") and not valid_term_id("GO_0008150") and not valid_term_id("MP:")
    assert not valid_term_id("http://purl.obolibrary.org/obo/HP_0000118")


TINY = (DATA / "tiny.obo").read_text()


@pytest.mark.parametrize(
    "text, problem, line",
    [
        # cut right after a stanza header (found by fuzzing: obonet raised KeyError 'id')
        (TINY[: TINY.index("[Term]\nid: TT:0000003") + len("[Term]\n")], "stanza without an 'id:' line", 15),
        (TINY.replace("relationship: part_of TT:0000006 ! E", "relationship: part_of"), "malformed relationship", 33),
        (TINY.replace("name: A\n", "name: A\nnode_for_adding: x\n"), "malformed OBO stanza", None),
    ],
    ids=["truncated-after-header", "relationship-one-word", "tag-named-like-an-argument"],
)
def test_malformed_stanzas_are_format_errors(tmp_path, text, problem, line):
    path = tmp_path / "bad.obo"
    path.write_text(text)
    with pytest.raises(InputFormatError, match=problem) as err:
        read_obo_graph(path)
    assert err.value.line == line and str(path) in str(err.value)
