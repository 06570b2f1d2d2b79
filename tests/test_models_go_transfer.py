"""GO terms transferred from DIAMOND homologs (models/go_transfer.py), with real DIAMOND on
hand-made proteins (tests/data/go_transfer/):

    P11111  human  the query's own entry (IDA GO:0000050; IBA GO:0000021 with from
                   PANTHER...|MGI:MGI:1000001, as if projected from a mouse gene)
    P22222  human  the same sequence under another accession (IDA GO:0000050)
    Q8AAA1  mouse  the query's residues 0..159, 8 substituted (IDA GO:0000011; ISO GO:0000020
                   with from UniProtKB:P11111; NOT GO:0000021)
    P33333  human  the query's residues 120..239, 30 substituted (IEA GO:0000012; IBA
                   GO:0000020 with from PANTHER...|UniProtKB:P11111-2)
    Q8DDD1  mouse  the query's residues 60..199, 20 substituted (only ISO GO:0000020 with from
                   UniProtKB:P11111)
    Q8EEE1  mouse  the query's residues 200..299, 5 substituted (IMP GO:0000040)
    Q8CCC1  mouse  unrelated (IDA GO:0000030)
    P66666  human  unrelated, only a NOT line: not in the reference
    P77777  human  annotated, no sequence: not in the reference

GO (is_a): GO:0000011, GO:0000012 -> GO:0000010 -> GO:0008150; GO:0000040, GO:0000050 ->
GO:0008150; GO:0000021 -> GO:0000020 -> GO:0003674; GO:0000030 -> GO:0005575.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from _proteins import random_protein, substitute

from genepheno_core.errors import GenePhenoError, MissingDataError
from genepheno_core.models import go_transfer as gt
from genepheno_core.ontology import load_ontology
from genepheno_core.sources.fasta import fasta_frame

DATA = Path(__file__).parent / "data" / "go_transfer"
FILES = {"human": (DATA / "goa_human.gaf", DATA / "swissprot_human.fasta"),
         "mouse": (DATA / "goa_mouse.gaf", DATA / "swissprot_mouse.fasta")}
QUERY = "P11111"
# each hit's GO terms propagated to the is_a ancestors, by hand (without the with-from
# exclusion; GO:0000020 comes from projections of P11111's annotations)
CARRIES = {
    "P11111": {"GO:0000050", "GO:0008150", "GO:0000021", "GO:0000020", "GO:0003674"},
    "P22222": {"GO:0000050", "GO:0008150"},
    "Q8AAA1": {"GO:0000011", "GO:0000010", "GO:0008150", "GO:0000020", "GO:0003674"},
    "P33333": {"GO:0000012", "GO:0000010", "GO:0008150", "GO:0000020", "GO:0003674"},
    "Q8DDD1": {"GO:0000020", "GO:0003674"},
    "Q8EEE1": {"GO:0000040", "GO:0008150"},
}
PROJECTED = {"GO:0000020", "GO:0003674"}  # what the with-from rule removes for P11111


def fixture_sequences() -> dict[str, str]:
    """How the FASTA fixtures were made (checked by test_fixture_sequences)."""
    rng = np.random.default_rng(17)
    q = random_protein(rng, 300)
    return {
        "P11111": q,
        "P22222": q,
        "Q8AAA1": random_protein(rng, 40) + substitute(rng, q[0:160], 8) + random_protein(rng, 60),
        "P33333": random_protein(rng, 80) + substitute(rng, q[120:240], 30) + random_protein(rng, 30),
        "Q8CCC1": random_protein(rng, 250),
        "Q8DDD1": substitute(rng, q[60:200], 20) + random_protein(rng, 50),
        "Q8EEE1": substitute(rng, q[200:300], 5) + random_protein(rng, 100),
        "P66666": random_protein(rng, 120),
    }


@pytest.fixture(scope="module")
def reference():
    return gt.read_go_reference(FILES)


@pytest.fixture(scope="module")
def go():
    return load_ontology(DATA / "go.obo", cache=False)


@pytest.fixture(scope="module")
def query():
    return fixture_sequences()[QUERY]


@pytest.fixture(autouse=True)
def _home(tmp_home):
    """DIAMOND databases go to a fresh GENEPHENO_HOME."""


def expected_scores(result, q: int, carries: dict[str, set[str]]) -> dict[str, float]:
    """Diamond-score by hand from the bit scores of the hits `result` kept for query q."""
    kept = result.hits[(result.hits["query"] == q) & (result.hits["status"] == gt.KEPT)]
    total = kept["bitscore"].sum()
    out: dict[str, float] = {}
    for target, bitscore in zip(kept["target"], kept["bitscore"]):
        for term in carries[target]:
            out[term] = out.get(term, 0.0) + bitscore / total
    return out


def row_scores(result, q: int) -> dict[str, float]:
    row = result.scores.getrow(q)
    return {result.go_ids[j]: float(v) for j, v in zip(row.indices, row.data)}


def statuses(result, q: int = 0) -> dict[str, str]:
    hits = result.hits[result.hits["query"] == q]
    return dict(zip(hits["target"], hits["status"]))


def test_fixture_sequences():
    made = fixture_sequences()
    read = {}
    for _, fasta in FILES.values():
        frame = fasta_frame(fasta)
        read.update(zip(frame["accession"], frame["sequence"]))
    assert read == made


def test_read_go_reference(reference):
    # P66666 has only a NOT line, P77777 no sequence
    assert sorted(reference.accessions) == sorted(set(CARRIES) | {"Q8CCC1"})
    species = dict(zip(reference.accessions, reference.species))
    assert species["Q8AAA1"] == "mouse" and species["P33333"] == "human"
    sequences = dict(zip(reference.accessions, reference.sequences))
    assert sequences["Q8EEE1"] == fixture_sequences()["Q8EEE1"]
    table = reference.annotations
    assert list(table.columns) == gt.ANNOTATION_COLUMNS
    assert len(table) == 10  # 13 lines - 2 NOT lines - the line of P77777
    assert table.loc[table["accession"] == "Q8AAA1", "go_id"].tolist() == ["GO:0000011", "GO:0000020"]
    iso = table[(table["accession"] == "Q8AAA1") & (table["evidence"] == "ISO")]
    assert iso["with_from"].tolist() == ["UniProtKB:P11111"]
    assert set(table.loc[table["evidence"] == "IEA", "accession"]) == {"P33333"}


def test_read_go_reference_evidence_filter():
    reference = gt.read_go_reference(FILES, evidence=["IDA"])
    assert sorted(reference.accessions) == ["P11111", "P22222", "Q8AAA1", "Q8CCC1"]
    assert set(reference.annotations["evidence"]) == {"IDA"}


def test_load_go_reference_reads_the_registry_files(monkeypatch):
    asked = []

    def fake_resource_path(source, filename, release=None):
        asked.append((source, filename, release))
        species = filename.split("_")[1].split(".")[0]
        return FILES[species][0 if source == "goa" else 1]

    monkeypatch.setattr("genepheno_core.sources.registry.resource_path", fake_resource_path)
    reference = gt.load_go_reference(species=("mouse",))
    assert asked == [("goa", "goa_mouse.gaf.gz", None), ("uniprot", "swissprot_mouse.fasta.gz", None)]
    assert sorted(reference.accessions) == ["Q8AAA1", "Q8CCC1", "Q8DDD1", "Q8EEE1"]
    with pytest.raises(GenePhenoError, match="species"):
        gt.load_go_reference(species=("rat",))


def test_no_exclusion_uses_every_hit(reference, go, query):
    result = gt.transfer_go([query], reference, go, exclude_identical=False, threads=1)
    assert statuses(result) == {t: gt.KEPT for t in CARRIES}  # Q8CCC1 unrelated: no hit
    expected = expected_scores(result, 0, CARRIES)
    got = row_scores(result, 0)
    assert got.keys() == expected.keys()
    for term, value in expected.items():
        assert got[term] == pytest.approx(value, rel=1e-5)
    assert got["GO:0008150"] < 1.0  # Q8DDD1 carries only molecular-function terms


def test_own_accession_projection_and_excluded_targets(reference, go, query):
    result = gt.transfer_go([query], reference, go, exclude_accessions=[QUERY], exclude_targets={"Q8EEE1"},
                            threads=1)
    assert statuses(result) == {
        "P11111": gt.OWN_ACCESSION,
        "P22222": gt.IDENTICAL,
        "Q8EEE1": gt.EXCLUDED_TARGET,
        "Q8DDD1": gt.NO_ANNOTATION_LEFT,  # its only annotation is projected from P11111
        "Q8AAA1": gt.KEPT,
        "P33333": gt.KEPT,
    }
    carries = {t: terms - PROJECTED for t, terms in CARRIES.items()}
    expected = expected_scores(result, 0, carries)
    assert set(expected) == {"GO:0000011", "GO:0000012", "GO:0000010", "GO:0008150"}
    kept = result.hits[result.hits["status"] == gt.KEPT].set_index("target")["bitscore"]
    b_a, b_b = kept["Q8AAA1"], kept["P33333"]
    assert expected["GO:0000011"] == pytest.approx(b_a / (b_a + b_b))
    got = row_scores(result, 0)
    assert got.keys() == expected.keys()
    for term, value in expected.items():
        assert got[term] == pytest.approx(value, rel=1e-5)
    assert got["GO:0000010"] == pytest.approx(1.0)  # both hits carry it through a child

    evidence = result.evidence
    assert list(evidence.columns) == gt.EVIDENCE_COLUMNS
    assert evidence["target"].tolist() == kept.sort_values(ascending=False).index.tolist()
    a = evidence.set_index("target").loc["Q8AAA1"]
    assert a["query"] == 0 and a["species"] == "mouse"
    assert a["go_ids"] == ("GO:0000011",)  # not the ISO GO:0000020, not the NOT GO:0000021
    assert a["weight"] == pytest.approx(b_a / (b_a + b_b))
    assert 0.85 < a["identity"] < 1.0  # 8 of 160 residues substituted
    assert evidence.set_index("target").loc["P33333", "go_ids"] == ("GO:0000012",)
    assert evidence["weight"].sum() == pytest.approx(1.0)


def test_each_exclusion_rule_alone(reference, go, query):
    own = gt.transfer_go([query], reference, go, exclude_accessions=[QUERY], exclude_identical=False, threads=1)
    assert statuses(own)["P11111"] == gt.OWN_ACCESSION
    assert statuses(own)["P22222"] == gt.KEPT
    assert "GO:0000020" not in own.go_ids  # projections of P11111 dropped from every hit
    # another query accession: the projections of P11111 are used
    other = gt.transfer_go([query], reference, go, exclude_accessions=["Q8AAA1"], exclude_identical=False,
                           threads=1)
    assert statuses(other)["Q8AAA1"] == gt.OWN_ACCESSION
    assert statuses(other)["Q8DDD1"] == gt.KEPT and "GO:0000020" in other.go_ids
    identical = gt.transfer_go([query], reference, go, threads=1)
    assert {t for t, s in statuses(identical).items() if s != gt.KEPT} == {"P11111", "P22222"}


def test_exclude_targets_forms(reference, go, query):
    forms = [
        [{"Q8EEE1"}, None],  # one set (or None) per query
        lambda q, accession: q == 0 and accession == "Q8EEE1",
    ]
    for form in forms:
        result = gt.transfer_go([query, query], reference, go, exclude_targets=form, threads=1)
        assert statuses(result, 0)["Q8EEE1"] == gt.EXCLUDED_TARGET
        assert statuses(result, 1)["Q8EEE1"] == gt.KEPT
        assert row_scores(result, 0) != row_scores(result, 1)
    with pytest.raises(GenePhenoError, match="exclude_targets"):
        gt.transfer_go([query, query], reference, go, exclude_targets=[{"Q8EEE1"}], threads=1)
    with pytest.raises(GenePhenoError, match="exclude_targets"):
        gt.transfer_go([query], reference, go, exclude_targets=["Q8EEE1"], threads=1)
    with pytest.raises(GenePhenoError, match="exclude_accessions"):
        gt.transfer_go([query], reference, go, exclude_accessions=QUERY, threads=1)


def test_max_hits_and_min_identity(reference, go, query):
    best = gt.transfer_go([query], reference, go, exclude_accessions=[QUERY], max_hits=1, threads=1)
    usable = best.hits[best.hits["status"].isin([gt.KEPT, gt.BEYOND_MAX_HITS])]
    assert len(usable) >= 2
    top = usable.sort_values("bitscore", ascending=False)["target"].iloc[0]
    assert best.evidence["target"].tolist() == [top]
    assert row_scores(best, 0) == pytest.approx({t: 1.0 for t in CARRIES[top] - PROJECTED})

    threshold = 0.85
    strict = gt.transfer_go([query], reference, go, exclude_accessions=[QUERY], min_identity=threshold,
                            threads=1)
    low = strict.hits["status"] == gt.LOW_IDENTITY
    assert low.any() and (strict.hits["status"] == gt.KEPT).any()
    assert (strict.hits.loc[low, "identity"] < threshold).all()
    assert (strict.evidence["identity"] >= threshold).all()


def test_several_queries_and_no_hit(reference, go, query):
    sequences = fixture_sequences()
    unrelated = random_protein(np.random.default_rng(99), 200)
    queries = [sequences["Q8AAA1"], unrelated, query]
    result = gt.transfer_go(queries, reference, go, exclude_accessions=["Q8AAA1", None, QUERY], threads=1)
    assert result.scores.shape == (3, len(result.go_ids))
    assert result.has_hit.tolist() == [True, False, True]
    assert statuses(result, 0)["Q8AAA1"] == gt.OWN_ACCESSION
    assert set(result.evidence["query"]) == {0, 2}
    for q, accession in ((0, "Q8AAA1"), (2, QUERY)):
        carries = {t: terms - PROJECTED if accession == QUERY else terms for t, terms in CARRIES.items()}
        expected = expected_scores(result, q, carries)
        assert row_scores(result, q) == pytest.approx(expected, rel=1e-5)
    alone = gt.transfer_go([query], reference, go, exclude_accessions=[QUERY], threads=1)
    assert row_scores(alone, 0) == pytest.approx(row_scores(result, 2), rel=1e-5)


def test_reindex(reference, go, query):
    result = gt.transfer_go([query], reference, go, exclude_accessions=[QUERY], threads=1)
    vocabulary = ["GO:0000012", "GO:9999999", "GO:0000010"]
    scores = result.reindex(vocabulary).toarray()
    got = row_scores(result, 0)
    np.testing.assert_allclose(scores, [[got["GO:0000012"], 0.0, got["GO:0000010"]]], rtol=1e-6)
    assert scores.dtype == np.float32


def test_with_from_ids_of_another_database(reference, go):
    """A mouse query: the human IBA line of P11111 names it by MGI id, not by accession."""
    query = fixture_sequences()["Q8AAA1"]
    plain = gt.transfer_go([query], reference, go, exclude_accessions=["Q8AAA1"], threads=1)
    named = gt.transfer_go([query], reference, go, exclude_accessions=["Q8AAA1"],
                           with_from_ids=[["MGI:MGI:1000001"]], threads=1)
    assert statuses(plain) == statuses(named)
    assert statuses(named)["P11111"] == gt.KEPT and statuses(named)["Q8AAA1"] == gt.OWN_ACCESSION
    projected = {"GO:0000021", "GO:0000020", "GO:0003674"}
    carries = {t: terms - projected if t == "P11111" else terms for t, terms in CARRIES.items()}
    assert row_scores(plain, 0) == pytest.approx(expected_scores(plain, 0, CARRIES), rel=1e-5)
    assert row_scores(named, 0) == pytest.approx(expected_scores(named, 0, carries), rel=1e-5)
    assert "GO:0000021" in plain.go_ids and "GO:0000021" not in named.go_ids
    p = named.evidence.set_index("target").loc["P11111"]
    assert p["go_ids"] == ("GO:0000050",)
    with pytest.raises(GenePhenoError, match="with_from_ids"):
        gt.transfer_go([query], reference, go, with_from_ids=[], threads=1)


def test_go_closure_gives_the_ontology_scores(reference, go, query):
    closure = gt.GoClosure.from_ontology(go, reference.annotations["go_id"])
    with_go = gt.transfer_go([query], reference, go, exclude_accessions=[QUERY], threads=1)
    with_closure = gt.transfer_go([query], reference, closure, exclude_accessions=[QUERY], threads=1)
    assert with_closure.go_ids == with_go.go_ids
    np.testing.assert_array_equal(with_closure.scores.toarray(), with_go.scores.toarray())
    assert closure.ancestors("GO:0000011", include_self=True) == {"GO:0000011", "GO:0000010", "GO:0008150"}
    assert closure.ancestors("GO:0008150") == set()
    again = gt.GoClosure.from_frame(closure.to_frame().fillna(""))
    assert again == closure


def test_cached_go_reference_builds_once_then_reloads(reference, go, monkeypatch):
    monkeypatch.setattr("genepheno_core.sources.registry.resource_path",
                        lambda source, filename, release=None:
                        FILES[filename.split("_")[1].split(".")[0]][0 if source == "goa" else 1])
    entry = {"source": "go", "filename": "go.obo", "release": "test"}
    first, closure = gt.cached_go_reference(entry, go_ontology=go)
    assert sorted(first.accessions) == sorted(reference.accessions)

    def no_parsing(*args, **kwargs):
        raise AssertionError("the cached reference must not parse the GAF / FASTA files again")

    monkeypatch.setattr(gt, "read_go_reference", no_parsing)
    second, closure2 = gt.cached_go_reference(entry)  # no ontology needed either
    assert second.accessions.tolist() == first.accessions.tolist()
    assert second.sequences == first.sequences and second.species.tolist() == first.species.tolist()
    pd.testing.assert_frame_equal(second.annotations, first.annotations.fillna({"with_from": ""}),
                                  check_dtype=False)
    assert closure2 == closure
    with pytest.raises(MissingDataError, match="GO release"):
        gt.cached_go_reference(None)


def test_dataset_go_transfer_keeps_training_genes_inside_the_split(reference, go):
    """A training gene never uses a valid / test protein; a test gene may use a training one."""
    seqs = fixture_sequences()
    genes = pd.DataFrame({"gene_id": ["HGNC:1", "MGI:MGI:1000001"], "accession": ["P11111", "Q8EEE1"],
                          "sequence": [seqs["P11111"], seqs["Q8EEE1"]]})
    dataset = SimpleNamespace(name="toy", genes=genes, splits=pd.DataFrame({"random": ["train", "test"]}),
                              go_ontology=lambda: go)
    result = gt.dataset_go_transfer(dataset, "random", reference=reference, threads=1, cache=False)
    assert statuses(result, 0)["Q8EEE1"] == gt.EXCLUDED_TARGET  # a test protein, for a training gene
    assert statuses(result, 0)["P11111"] == gt.OWN_ACCESSION and statuses(result, 0)["P22222"] == gt.IDENTICAL
    assert statuses(result, 1)["Q8EEE1"] == gt.OWN_ACCESSION
    assert statuses(result, 1)["P11111"] == gt.KEPT  # a training protein, for a test gene
    # the mouse gene's MGI id marks the IBA line of P11111 as a projection of its own GO
    assert result.evidence.set_index(["query", "target"]).loc[(1, "P11111"), "go_ids"] == ("GO:0000050",)
    with pytest.raises(GenePhenoError, match="no 'homology' split"):
        gt.dataset_go_transfer(dataset, "homology", reference=reference)
