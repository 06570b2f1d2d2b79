"""SSSOM/TSV reader on hand-written fixtures in the official layout (YAML metadata in `#`
lines, then the mapping table): MGI's column order with a row whose last optional column is
left off (as in MGI's curated set), and Pistoia's order with the HP term as subject."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genepheno_core.errors import InputFormatError
from genepheno_core.sources.sssom import MP_HP_SETS, mp_hp_mappings, read_sssom

DATA = Path(__file__).parent / "data" / "sources"
needs_mirror = pytest.mark.skipif(not os.environ.get("GENEPHENO_MIRROR"), reason="GENEPHENO_MIRROR not set")


@pytest.mark.parametrize("name", ["mp_hp_tiny.sssom.tsv", "mp_hp_tiny.sssom.tsv.gz"])
def test_read_sssom_metadata_and_rows(name):
    mapping_set = read_sssom(DATA / name)
    meta = mapping_set.metadata
    assert meta["mapping_set_id"] == "https://w3id.org/sssom/commons/mouse-human/mappings/tiny.sssom.tsv"
    assert meta["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert meta["curie_map"]["MP"] == "http://purl.obolibrary.org/obo/MP_"
    table = mapping_set.mappings
    assert list(table["subject_id"]) == ["MP:0003622", "MP:0000534", "MP:0002064"]
    assert list(table["object_id"]) == ["HP:0000016", "HP:0000069", "HP:0001250"]
    assert list(table["predicate_id"]) == ["skos:exactMatch", "skos:broadMatch", "skos:exactMatch"]
    # the second row stops before its empty comment column: padded, not an error
    assert list(table["comment"]) == ["KidsFirst", "", "short row above"]


def test_read_sssom_pistoia_layout():
    table = read_sssom(DATA / "pistoia_tiny.sssom.tsv").mappings
    assert list(table.columns) == ["subject_id", "predicate_id", "object_id", "mapping_justification", "confidence"]
    assert list(table["subject_id"]) == ["MP:0000003", "HP:0001250"]


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "bad.sssom.tsv"
    path.write_text(text)
    return path


HEADER = "subject_id\tpredicate_id\tobject_id\tmapping_justification\n"


@pytest.mark.parametrize("text, message", [
    ("#license: [unclosed\n" + HEADER + "MP:1\tskos:exactMatch\tHP:1\tsemapv:LexicalMatching\n",
     "not valid YAML"),
    ("#- a\n#- list\n" + HEADER + "MP:1\tskos:exactMatch\tHP:1\tx\n", "not a YAML mapping"),
    ("subject_id\tobject_id\nMP:1\tHP:1\n", "lacks ['predicate_id']"),
    ("#license: x\n", "no mapping table"),
    (HEADER + "MP:1\tskos:exactMatch\tHP:1\tx\textra\n", "line 2"),
    (HEADER + "MP:1\tskos:exactMatch\n", "line 2"),
    (HEADER + "MP:1\tskos:exactMatch\tnot a curie\tx\n", "CURIE"),
    ("subject_id\tsubject_id\tpredicate_id\tobject_id\n", "twice"),
])
def test_read_sssom_bad_input_names_file_and_problem(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(InputFormatError) as err:
        read_sssom(path)
    assert str(path) in str(err.value) and message in str(err.value)


@needs_mirror
def test_mirror_mp_hp_mappings_are_oriented_mp_to_hp():
    table = mp_hp_mappings()
    assert set(table["mapping_set"]) == set(MP_HP_SETS)
    assert table["mp_id"].str.startswith("MP:").all() and table["hp_id"].str.startswith("HP:").all()
    # MGI's curated set maps ischuria to urinary retention (first row of the release)
    curated = table[table.mapping_set == "mgi_curated"]
    assert ((curated.mp_id == "MP:0003622") & (curated.hp_id == "HP:0000016")).any()
    assert len(curated) > 1000
