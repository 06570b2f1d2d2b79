"""Exclusive pairs: antonym siblings (names and synonyms), co-annotation, user TSV."""

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from genepheno_core.errors import InputFormatError
from genepheno_core.models.pairs import (
    _antonym_keys,
    co_annotation_pairs,
    find_exclusive_pairs,
    pairs_tensor,
    read_user_pairs,
)
from genepheno_core.ontology import load_ontology

DATA = Path(__file__).parent / "data" / "models"


@pytest.fixture(scope="module")
def ontology():
    return load_ontology(DATA / "tiny_hp.obo")


@pytest.fixture(scope="module")
def terms(ontology):
    return sorted(t for t in ontology.terms if t != "HP:0000118")


def _as_set(table):
    return {(a, b, r) for a, b, r in table[["term_a", "term_b", "rule"]].itertuples(index=False)}


def test_antonym_keys_prefix_and_word():
    assert _antonym_keys("Hyperglycemia")[0][0] == _antonym_keys("Hypoglycemia")[0][0]
    inc = {k for k, _, _ in _antonym_keys("Increased body weight")}
    dec = {k for k, _, _ in _antonym_keys("Decreased body weight")}
    assert inc & dec
    # "long" must be a whole word: "longitudinal" is not an antonym occurrence
    assert _antonym_keys("Longitudinal striation") == []
    # anatomy and microscopy are not sizes
    assert _antonym_keys("Neoplasm of the small intestine") == []
    assert _antonym_keys("Microscopic hematuria") == []


def test_antonym_rule_on_fixture(ontology, terms):
    table = find_exclusive_pairs(terms, ontology)
    found = _as_set(table)
    assert found == {
        ("HP:0000252", "HP:0000256", "antonym:macro/micro"),  # Microcephaly / Macrocephaly
        ("HP:0001943", "HP:0003074", "antonym:hyper/hypo"),  # Hypoglycemia / Hyperglycemia
        ("HP:0000276", "HP:0011219", "antonym:long/short"),  # Long face / Brachyfacia ("Short face")
    }
    # Increased / Decreased body weight differ by an antonym but are not siblings here
    assert not any("HP:0004325" in (a, b) for a, b, _ in found)
    row = table[table.term_a == "HP:0000252"].iloc[0]
    assert (row.name_a, row.name_b) == ("Microcephaly", "Macrocephaly")
    assert (terms[row.index_a], terms[row.index_b]) == (row.term_a, row.term_b)


def test_co_annotation_rule(ontology, terms):
    col = {t: j for j, t in enumerate(terms)}
    n = 100
    y = np.zeros((n, len(terms)), dtype=np.uint8)
    y[:40, col["HP:0000252"]] = 1  # microcephaly genes 0..39
    y[50:90, col["HP:0000256"]] = 1  # macrocephaly genes 50..89: never together
    y[:45, col["HP:0001250"]] = 1  # seizure and ...
    y[40:80, col["HP:0012758"]] = 1  # ... neurodevelopmental share genes 40..44
    found = co_annotation_pairs(terms, ontology, sp.csr_matrix(y), min_genes=30, min_expected=3.0)
    assert found == {(col["HP:0000252"], col["HP:0000256"]): "co-annotation"}
    # too rare in training: nothing
    assert co_annotation_pairs(terms, ontology, sp.csr_matrix(y), min_genes=41) == {}
    table = find_exclusive_pairs(terms, ontology, sp.csr_matrix(y), co_annotation=True, min_genes=30)
    rules = dict(zip(zip(table.term_a, table.term_b), table.rule))
    assert rules[("HP:0000252", "HP:0000256")] == "antonym:macro/micro,co-annotation"


def test_overlap_filter(ontology, terms):
    col = {t: j for j, t in enumerate(terms)}
    y = np.zeros((20, len(terms)), dtype=np.uint8)
    y[:10, col["HP:0001943"]] = 1  # hypoglycemia genes 0..9
    y[8:14, col["HP:0003074"]] = 1  # hyperglycemia genes 8..13: 2 shared of min(10, 6)
    y[:5, col["HP:0000252"]] = 1
    y[5:9, col["HP:0000256"]] = 1  # micro/macro: disjoint
    table = find_exclusive_pairs(terms, ontology, sp.csr_matrix(y))
    ov = dict(zip(table.term_a, table.overlap))
    assert ov["HP:0001943"] == pytest.approx(2 / 6) and ov["HP:0000252"] == 0.0
    kept = find_exclusive_pairs(terms, ontology, sp.csr_matrix(y), max_overlap=0.1)
    assert set(kept.term_a) == {"HP:0000252", "HP:0000276"}
    # a user pair survives the filter
    y[:3, col["HP:0000276"]] = 1
    y[:3, col["HP:0001250"]] = 1
    user = find_exclusive_pairs(terms, ontology, sp.csr_matrix(y), user_tsv=DATA / "user_pairs.tsv", max_overlap=0.1)
    assert "user" in set(user.rule)


def test_user_tsv(ontology, terms, caplog):
    found = read_user_pairs(DATA / "user_pairs.tsv", terms)
    col = {t: j for j, t in enumerate(terms)}
    assert found == {tuple(sorted((col["HP:0001250"], col["HP:0000276"]))): "user"}
    assert "1 pairs skipped" in caplog.text
    table = find_exclusive_pairs(terms, ontology, user_tsv=DATA / "user_pairs.tsv")
    assert len(table) == 4 and (table.rule == "user").sum() == 1


def test_user_tsv_errors(terms, tmp_path):
    with pytest.raises(InputFormatError, match="line 2"):
        read_user_pairs(DATA / "bad_pairs.tsv", terms)
    bad = tmp_path / "self.tsv"
    bad.write_text("HP:0001250\tHP:0001250\n")
    with pytest.raises(InputFormatError, match="itself"):
        read_user_pairs(bad, terms)
    with pytest.raises(InputFormatError, match="cannot read"):
        read_user_pairs(tmp_path / "missing.tsv", terms)


def test_pairs_tensor(ontology, terms):
    table = find_exclusive_pairs(terms, ontology)
    t = pairs_tensor(table)
    assert t.shape == (3, 2) and t.dtype.is_floating_point is False
    assert pairs_tensor([]).shape == (0, 2)
