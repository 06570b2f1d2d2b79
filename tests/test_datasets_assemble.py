"""Pure building blocks: propagation/filters, term selection, matrices, protein joins, GO."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from genepheno_core.datasets import assemble
from genepheno_core.ontology import load_ontology
from genepheno_core.sources.gaf import read_gaf

DATA = Path(__file__).parent / "data" / "datasets"


def hp():
    return load_ontology(DATA / "hp_2025.obo")


def test_propagate_labels_subtree_roots_and_remap():
    annotations = {
        "g1": {"HP:0001250", "HP:0000007"},  # seizure + an inheritance mode
        "g2": {"HP:0002279"},                # alt_id of seizure
        "g3": {"HP:0000999"},                # obsolete, replaced by HP:0001627
        "g4": {"HP:0000998"},                # obsolete, no replacement
    }
    out, report = assemble.propagate_labels(annotations, hp(), subtree="HP:0000118", exclude={"HP:0000001"})
    assert out == {
        "g1": {"HP:0001250", "HP:0000707"},
        "g2": {"HP:0001250", "HP:0000707"},
        "g3": {"HP:0001627", "HP:0001626"},
        "g4": set(),
    }
    assert report["annotations_outside_subtree"] == 1
    assert report["remap"]["counts"] == {"ok": 2, "alt_id": 1, "replaced": 1, "obsolete": 1}


def test_propagate_labels_without_subtree_excludes_roots_only():
    out, _ = assemble.propagate_labels({"g": {"HP:0000007"}}, hp(), exclude={"HP:0000001"})
    assert out == {"g": {"HP:0000007", "HP:0000005"}}


def test_select_terms_and_binary_matrix():
    rows = {"a": {"x", "y"}, "b": {"x"}, "c": {"x", "z"}}
    vocabulary, counts = assemble.select_terms(rows, 2)
    assert vocabulary == ["x"]
    assert counts == {"x": 3, "y": 1, "z": 1}
    matrix = assemble.binary_matrix([rows["a"], rows["b"], set()], ["x", "y"])
    assert matrix.toarray().tolist() == [[1, 1], [1, 0], [0, 0]]
    assert matrix.dtype.name == "uint8"


def test_ancestor_matrix_and_term_table():
    onto = hp()
    vocabulary = ["HP:0000118", "HP:0000707", "HP:0001250"]
    assert assemble.ancestor_matrix(vocabulary, onto).toarray().tolist() == [[0, 0, 0], [1, 0, 0], [1, 1, 0]]
    assert assemble.ancestor_matrix(vocabulary, None).nnz == 0
    table = assemble.term_table(vocabulary, {"HP:0000707": 4}, onto)
    assert table.to_dict("list") == {
        "term_id": vocabulary,
        "name": ["Phenotypic abnormality", "Abnormality of the nervous system", "Seizure"],
        "n_genes": [0, 4, 0],
        "depth": [1, 2, 3],
    }


def test_symbol_index_prefers_accessions_with_sequence_and_more_lines():
    gaf = pd.DataFrame({"symbol": ["S", "S", "S", "T", "T"], "accession": ["P2", "P2", "P1", "P3", "P4"],
                        "synonyms": ["S|s1", "S|s1", "S", "T|shared", "T4|shared"]})
    assert assemble.symbol_index(gaf, {"P1", "P2", "P3", "P4"}) == {"S": "P2", "T": "P3"}
    assert assemble.symbol_index(gaf, {"P1", "P4"}) == {"S": "P1", "T": "P4"}
    # ambiguous synonyms ("S" on P1 and P2, "shared" on P3 and P4) are left out
    assert assemble.synonym_index(gaf, {"P1", "P2", "P3", "P4"}) == {"s1": "P2", "T": "P3", "T4": "P4"}


def test_map_genes_to_proteins_order_and_duplicates():
    genes = pd.DataFrame({"gene_id": ["g1", "g2", "g3", "g4"], "symbol": ["A", "B", "C", ""],
                          "entrez_id": ["1", "2", "3", "4"]})
    sequences = {"P1": "MK", "P2": "MA", "P3": "MS"}
    lookups = [("symbol", "symbol", {"A": "P1", "B": "P9", "C": "P1"}), ("entrez", "entrez_id", {"2": "P2", "4": "P3"})]
    mapped, counts = assemble.map_genes_to_proteins(genes, lookups, sequences)
    # g2: symbol hit P9 has no sequence -> entrez P2; g3's P1 is already g1's (same rank,
    # smaller gene id wins); g4 has no symbol but an entrez hit
    assert mapped[["gene_id", "accession", "method"]].values.tolist() == [
        ["g1", "P1", "symbol"], ["g2", "P2", "entrez"], ["g4", "P3", "entrez"],
    ]
    assert mapped["sequence"].tolist() == ["MK", "MA", "MS"]
    assert counts == {"by_method": {"entrez": 2, "symbol": 1}, "unmapped": 0, "duplicate_accession": 1,
                      "duplicates": {"g3": "g1"}}


def test_go_annotations_evidence_and_not():
    gaf = read_gaf(DATA / "goa_human.gaf")
    annotations, report = assemble.go_annotations(gaf, ["IDA", "IMP", "HDA"])
    assert annotations == {"P00001": {"GO:0000003"}, "P99999": {"GO:0000003"}, "P00002": {"GO:0000005"},
                           "P00003": {"GO:0000008"}}
    assert report == {"lines": 7, "kept": 4, "not_qualified": 1, "other_evidence": 2}
    only_ida, _ = assemble.go_annotations(gaf, ["IDA"])
    assert set(only_ida) == {"P00001", "P99999"}


def test_go_matrix_columns_and_depth():
    go = load_ontology(DATA / "go.obo")
    matrix, table, report = assemble.go_matrix(["P1", "P2"], {"P1": {"GO:0000003"}}, go)
    assert table["go_id"].tolist() == ["GO:0000002", "GO:0000003", "GO:0008150"]
    assert table["depth"].tolist() == [1, 2, 0]
    assert matrix.toarray().tolist() == [[1, 1, 1], [0, 0, 0]]
    assert report["genes_with_go"] == 1 and report["genes_without_go"] == 1
