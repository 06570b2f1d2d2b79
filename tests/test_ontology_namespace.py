"""write_obo_with_namespace: HP/MP obo copies with `namespace:` lines for cafaeval."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from genepheno_core.ontology import load_ontology, write_obo_with_namespace

DATA = Path(__file__).parent / "data" / "ontology"
needs_mirror = pytest.mark.skipif(not os.environ.get("GENEPHENO_MIRROR"), reason="GENEPHENO_MIRROR not set")


def test_adds_namespace_after_id(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path / "home"))
    dst = write_obo_with_namespace(DATA / "tiny.obo.gz", tmp_path / "tiny_ns.obo", "tiny_phenotype")
    lines = dst.read_text().splitlines()
    original = (DATA / "tiny.obo").read_text().splitlines()
    n_terms = sum(1 for line in original if line == "[Term]")
    assert len(lines) == len(original) + n_terms
    index = lines.index("id: TT:0000004")
    assert lines[index + 1] == "namespace: tiny_phenotype"
    # the Typedef stanza is left alone
    typedef = lines.index("[Typedef]")
    assert "namespace: tiny_phenotype" not in lines[typedef:]
    onto = load_ontology(dst, cache=False)
    assert {onto.namespace(t) for t in onto} == {"tiny_phenotype"}
    assert onto.ancestor_map() == load_ontology(DATA / "tiny.obo", cache=False).ancestor_map()


def test_existing_namespace_kept_and_gz_output(tmp_path):
    src = tmp_path / "mixed.obo"
    src.write_text(
        "format-version: 1.2\n\n[Term]\nid: GO:0000001\nname: a\nnamespace: biological_process\n\n"
        "[Term]\nid: GO:0000002\nname: b\nis_a: GO:0000001\n"
    )
    dst = write_obo_with_namespace(src, tmp_path / "out.obo.gz", "other")
    text = gzip.decompress(dst.read_bytes()).decode()
    assert text.count("namespace:") == 2
    assert "id: GO:0000001\nname: a\nnamespace: biological_process" in text
    assert "id: GO:0000002\nnamespace: other\nname: b" in text


def test_cafaeval_reads_the_copy(tmp_path):
    from cafaeval.parser import obo_parser

    dst = write_obo_with_namespace(DATA / "tiny.obo", tmp_path / "tiny_ns.obo", "tiny_phenotype")
    ontologies = obo_parser(str(dst))
    assert list(ontologies) == ["tiny_phenotype"]
    assert ontologies["tiny_phenotype"].idxs == 6  # current terms only


@pytest.mark.integration
@needs_mirror
def test_real_hpo_copy_for_cafaeval(tmp_path):
    from cafaeval.parser import obo_parser

    from genepheno_core.sources.registry import resource_path

    src = resource_path("hpo", "hp.obo.gz")
    dst = write_obo_with_namespace(src, tmp_path / "hp_ns.obo", "human_phenotype")
    ontologies = obo_parser(str(dst), valid_rel=("is_a",))
    assert ontologies["human_phenotype"].idxs == len(load_ontology(src))
