"""CAFA2 reference files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genepheno_core.errors import InputFormatError
from genepheno_core.sources.cafa import (
    read_cafa_groundtruth,
    read_cafa_ontology_rel,
    read_cafa_ontology_terms,
    read_cafa_targets,
)

DATA = Path(__file__).parent / "data" / "sources"
needs_mirror = pytest.mark.skipif(not os.environ.get("GENEPHENO_MIRROR"), reason="GENEPHENO_MIRROR not set")


def test_fixtures():
    truth = read_cafa_groundtruth(DATA / "cafa_groundtruth_tiny.txt")
    assert truth.values.tolist() == [
        ["T96060000002", "HP:0000098"], ["T96060000002", "HP:0000112"], ["T96060000019", "HP:0001250"]
    ]
    assert read_cafa_targets(DATA / "cafa_targets_tiny.txt") == ["T96060000002", "T96060000019"]
    assert read_cafa_ontology_rel(DATA / "cafa_rel_tiny.txt").values.tolist()[0] == ["HP:0000002", "is_a", "HP:0001507"]
    assert read_cafa_ontology_terms(DATA / "cafa_term_tiny.txt")["name"].tolist() == ["Abnormality of body height"]


def test_bad_lines(tmp_path):
    path = tmp_path / "truth.txt"
    path.write_text("T1\tHP:0000001\nT2\tHP 0000002\n")
    with pytest.raises(InputFormatError, match="line 2: bad term id 'HP 0000002'"):
        read_cafa_groundtruth(path)
    path.write_text("T1\tHP:0000001\nT2\n")
    with pytest.raises(InputFormatError, match="line 2: expected 2 tab-separated columns, found 1"):
        read_cafa_groundtruth(path)


@pytest.mark.integration
@needs_mirror
def test_mirror_cafa2():
    from genepheno_core.sources.registry import fetch

    files = fetch("cafa2")
    leaf = read_cafa_groundtruth(files["benchmark_groundtruth_leafonly_HPO.txt"])
    propagated = read_cafa_groundtruth(files["benchmark_groundtruth_propagated_HPO.txt"])
    targets = read_cafa_targets(files["benchmark_lists_hpo_HUMAN_type1.txt"])
    assert (len(leaf), len(propagated), len(targets)) == (10164, 37090, 238)
    assert set(leaf["target"]) <= set(propagated["target"])
    assert len(read_cafa_ontology_rel(files["ontology_hpo_rel.txt"])) == 13249
    assert len(read_cafa_ontology_terms(files["ontology_hpo_term.txt"])) == 10034
