"""GO concepts and input vocabulary chosen on training genes; DIAMOND scores and self-hits."""

import shutil

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from _tiny_dataset import make_tiny_dataset
from genepheno_core.errors import GenePhenoError
from genepheno_core.models.features import (
    diamond_hits,
    diamond_score_matrix,
    homology_vectors,
    select_concepts,
    select_go_inputs,
)


needs_diamond = pytest.mark.skipif(shutil.which("diamond") is None, reason="diamond not installed")


def test_select_concepts_and_inputs():
    go_terms = pd.DataFrame({"go_id": ["A", "B", "C", "D", "E"], "depth": [1, 2, 2, 3, 4]})
    go = sp.csr_matrix(np.array([[1, 1, 1, 1, 0], [1, 1, 0, 1, 1], [1, 1, 0, 0, 1]]))
    concepts = select_concepts(go_terms, go, depth=2, min_genes=2)
    assert concepts.tolist() == [1]  # C has only 1 training gene
    inputs = select_go_inputs(go_terms, go, concepts, min_genes=2, max_depth_excluded=2, exclude_concepts=True)
    assert inputs.tolist() == [3, 4]
    # default: concepts stay in the bag, only the coarse terms above them go
    assert select_go_inputs(go_terms, go, concepts, min_genes=2).tolist() == [1, 3, 4]
    assert select_concepts(go_terms, go, explicit=["C", "A"]).tolist() == [2, 0]
    with pytest.raises(GenePhenoError):
        select_concepts(go_terms, go, explicit=["Z"])
    with pytest.raises(GenePhenoError):
        select_concepts(go_terms, go, depth=2, min_genes=10)


def test_diamond_score_matrix_hand_computed():
    hits = pd.DataFrame({"query": [0, 0, 1, 2], "target": [0, 1, 1, 0], "bitscore": [30.0, 10.0, 5.0, 8.0]})
    labels = sp.csr_matrix(np.array([[1, 0, 1], [1, 1, 0]]))
    scores, has_hit = diamond_score_matrix(hits, labels, n_query=4)
    np.testing.assert_allclose(scores[0], [1.0, 10 / 40, 30 / 40])
    np.testing.assert_allclose(scores[1], [1.0, 1.0, 0.0])
    assert has_hit.tolist() == [True, True, True, False] and scores[3].sum() == 0
    # excluding query 0's own database row (0) leaves only the hit on row 1
    scores, has_hit = diamond_score_matrix(hits, labels, 4, exclude=np.array([0, -1, 0, -1]))
    np.testing.assert_allclose(scores[0], [1.0, 1.0, 0.0])
    assert has_hit.tolist() == [True, True, False, False]


def test_hit_shares_by_hand_give_the_diamond_scores():
    from genepheno_core.models.features import hit_shares

    hits = pd.DataFrame({"query": [0, 0, 1, 2], "target": [0, 1, 1, 0], "bitscore": [30.0, 10.0, 5.0, 8.0]})
    shares = hit_shares(hits, n_query=4, n_db=2).toarray()
    np.testing.assert_allclose(shares, [[0.75, 0.25], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    labels = sp.csr_matrix(np.array([[1, 0, 1], [1, 1, 0]]))
    scores, _ = diamond_score_matrix(hits, labels, n_query=4)
    np.testing.assert_allclose(shares @ labels.toarray(), scores, rtol=1e-6)


@needs_diamond
def test_diamond_hits_and_homology_vectors(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    ds = make_tiny_dataset(n_per_family=6)
    seqs = ds.genes["sequence"].tolist()
    hits = diamond_hits(seqs[:3], seqs, threads=1)
    # each query finds itself with the best bit score, and its own family
    best = hits.sort_values("bitscore", ascending=False).groupby("query").head(1)
    assert sorted(zip(best["query"], best["target"])) == [(0, 0), (1, 1), (2, 2)]
    assert set(hits["target"]) <= set(range(6))
    assert list((tmp_path / "diamond").glob("aln-*.tsv"))  # cached
    train = np.arange(0, 18, 2)
    vec, has_hit = homology_vectors(seqs, train, ds.labels, threads=1)
    assert vec.shape == ds.labels.shape and has_hit.all()
    # a training gene's vector does not see its own labels: it equals the score computed
    # from the other training genes only
    others = np.setdiff1d(train, [0])
    ref, _ = diamond_score_matrix(diamond_hits(seqs[:1], [seqs[i] for i in others], threads=1),
                                  ds.labels[others], 1)
    np.testing.assert_allclose(vec[0], ref[0], atol=1e-6)


@needs_diamond
def test_cross_species_vectors_and_the_cached_database(tmp_path, monkeypatch):
    from genepheno_core.models.features import cross_species_vectors, diamond_database

    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    rng = np.random.default_rng(0)
    amino = list("ACDEFGHIKLMNPQRSTVWY")
    fam = ["M" + "".join(rng.choice(amino, 120)) for _ in range(2)]

    def mutant(seq, rate=0.1):
        s = np.array(list(seq))
        hit = rng.random(s.size) < rate
        hit[0] = False
        s[hit] = rng.choice(amino, int(hit.sum()))
        return "".join(s)

    other = [mutant(fam[0]), mutant(fam[0]), mutant(fam[1])]
    labels = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=np.uint8))
    queries = [mutant(fam[0]), mutant(fam[1]), "M" + "W" * 80]
    vec, has = cross_species_vectors(queries, other, labels, threads=1)
    assert has.tolist() == [True, True, False]
    # query 0 hits the two family-0 genes: term 0 in both, term 1 in one (bit-score weighted)
    assert vec[0, 0] == pytest.approx(1.0) and 0 < vec[0, 1] < 1 and vec[0, 2] == 0
    assert vec[1].tolist() == [0.0, 0.0, 1.0] and vec[2].tolist() == [0.0, 0.0, 0.0]
    # the database is built once per content and reused
    db = diamond_database(other, threads=1)
    stamp = db.stat().st_mtime_ns
    assert diamond_database(list(other), threads=1) == db and db.stat().st_mtime_ns == stamp
    assert diamond_database(other[:2], threads=1) != db
    # a search without any hit (cached or not) gives zeros, not a dtype error
    for cache in (True, True, False):
        v, h = cross_species_vectors(["M" + "W" * 80], other, labels, threads=1, cache=cache)
        assert not h.any() and not v.any()


def test_mapped_labels_carry_equivalent_annotations_with_their_ancestors():
    from _tiny_dataset import OBO
    from genepheno_core.models.features import mapped_labels
    from genepheno_core.ontology import load_ontology

    hp = load_ontology(OBO)
    # target vocabulary: microcephaly (HP:0000252), its ancestors up to the root's child, a sibling
    target = ["HP:0000152", "HP:0000240", "HP:0000252", "HP:0000256", "HP:0001250"]
    source = ["MP:0000001", "MP:0000002", "MP:0000003", "MP:0000004"]
    mappings = pd.DataFrame({
        "mp_id": ["MP:0000001", "MP:0000002", "MP:0000003", "MP:0000004", "MP:0000009"],
        "hp_id": ["HP:0000252", "HP:0001250", "HP:0000256", "HP:9999999", "HP:0000256"],
        "predicate_id": ["skos:exactMatch", "skos:broadMatch", "owl:equivalentClass", "skos:exactMatch",
                         "skos:exactMatch"]})
    labels = sp.csr_matrix(np.array([[1, 0, 0, 0],    # MP:1 = microcephaly
                                     [0, 1, 0, 0],    # MP:2: only a broad match, not carried
                                     [0, 0, 0, 0],
                                     [1, 0, 1, 1]]))  # + macrocephaly (HP:0000256) + an unknown HP id
    out = mapped_labels(labels, source, target, mappings, hp)
    assert out.shape == (4, 5) and out.dtype == np.uint8
    # HP:0000252 and its ancestors HP:0000240, HP:0000152 (HP:0000118 is not in the vocabulary)
    assert out.toarray().tolist() == [[1, 1, 1, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 0]]
    # the other direction: human annotations into MP terms (no ontology knowledge: the term itself)
    class Flat:
        def __contains__(self, term):
            return False

    back = mapped_labels(sp.csr_matrix(np.array([[0, 0, 1, 0, 0], [0, 0, 0, 1, 1]])), target, source, mappings, Flat())
    assert back.toarray().tolist() == [[1, 0, 0, 0], [0, 0, 1, 0]]
