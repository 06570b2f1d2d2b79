"""Evidence-quality measures on hand-made models, ontologies and mappings where the answer
is known (genepheno_core.evaluation.evidence)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

from genepheno_core.evaluation.evidence import (
    GeneEvidence,
    annotation_groups,
    concentration,
    concept_correlation,
    concept_enrichment,
    deletion_check,
    evidence_quality,
    group_evidence,
    homolog_plausibility,
    prediction_evidence,
    related_matrix,
)
from genepheno_core.models.config import GenePhenoConfig
from genepheno_core.models.genepheno import GenePheno
from genepheno_core.ontology import load_ontology

# two four-term chains in the official OBO format:  X:1 <- X:2 <- X:3, and X:4 <- X:1
OBO = """format-version: 1.2
ontology: {name}

[Term]
id: {p}:0000001
name: {p} root

[Term]
id: {p}:0000002
name: {p} two
is_a: {p}:0000001

[Term]
id: {p}:0000003
name: {p} three
is_a: {p}:0000002

[Term]
id: {p}:0000004
name: {p} four
is_a: {p}:0000001
"""


def _ontology(tmp_path, prefix: str):
    path = tmp_path / f"{prefix.lower()}.obo"
    path.write_text(OBO.format(name=prefix.lower(), p=prefix))
    return load_ontology(path)


def hp(n: int) -> str:
    return f"HP:{n:07d}"


def mp(n: int) -> str:
    return f"MP:{n:07d}"


@pytest.fixture
def ontologies(tmp_path):
    return _ontology(tmp_path, "HP"), _ontology(tmp_path, "MP")


def test_related_matrix_allows_descendants_of_the_phenotype_and_both_directions_of_the_homolog_term(ontologies):
    hpo, mpo = ontologies
    mappings = pd.DataFrame({"mp_id": [mp(3)], "hp_id": [hp(3)]})
    targets, sources = [hp(i) for i in range(1, 5)], [mp(i) for i in range(1, 5)]
    R = related_matrix(mappings, targets, hpo, sources, mpo).toarray()
    # HP:3 is a descendant of HP:1, HP:2 and itself; MP:3 is itself, a descendant of MP:1
    # and MP:2; HP:4 / MP:4 are on another branch
    expected = np.zeros((4, 4), bool)
    expected[:3, :3] = True
    assert (R == expected).all()
    # the same mapping seen from the mouse side (an mpo model's W_o: MP target, HP source)
    R_mp = related_matrix(mappings, sources, mpo, targets, hpo).toarray()
    assert (R_mp == expected).all()
    # a mapping to the leaf MP:4 relates it to MP:1 (its ancestor) but not to MP:2
    R4 = related_matrix(pd.DataFrame({"mp_id": [mp(4)], "hp_id": [hp(2)]}), targets, hpo, sources, mpo).toarray()
    assert R4[0].tolist() == [True, False, False, True] and R4[1].tolist() == [True, False, False, True]
    assert not R4[2:].any()  # HP:3 and HP:4 are not ancestors of HP:2


def test_homolog_plausibility_by_hand():
    related = np.zeros((4, 4), bool)
    related[:3, :3] = True
    W = np.array([[0, 0, 0, 9.0],   # top: x=3, unrelated
                  [0, 5, 0, 0],     # x=1 related
                  [0, 0, 2, 1],     # x=2 related
                  [7, 0, 0, 0]])    # x=0 but term 3 has no related term at all
    out = homolog_plausibility(W, sp.csr_matrix(related), top=1)
    assert out["share"] == pytest.approx(2 / 4)
    assert out["random_share"] == pytest.approx(9 / 16)
    assert out["share_mapped"] == pytest.approx(2 / 3) and out["n_terms_mapped"] == 3
    # top 2 of row 2: x=2 (related), x=3 (not): 1/2 for that row
    assert homolog_plausibility(W, sp.csr_matrix(related), top=2)["share"] == pytest.approx(
        np.mean([related[0, [3, 0]].mean(), related[1, [1, 0]].mean(), 0.5, related[3, [0, 1]].mean()]))
    with pytest.raises(ValueError, match="shape"):
        homolog_plausibility(W[:, :3], sp.csr_matrix(related))


def _evidence(items) -> GeneEvidence:
    items = np.asarray(items, dtype=float)
    T, M = items.shape
    return GeneEvidence(np.arange(T), items.sum(1) + 0.25, np.full(T, 0.25), items,
                        np.array(["concept"] * M), np.arange(M))


def test_concentration_by_hand():
    ev = _evidence([[1.0, 0.9, 0.8, 0.7],      # net 3.4, top-2 carry 1.9
                    [-1.0, -0.5, 0.2, 0.0],    # net -1.3, top-2 (-1, -0.5) carry 1.5 -> clipped to 1
                    [4.0, -3.0, 0.1, 0.1]])    # net 1.2, top-2 (4, -3) carry 1.0 of it
    out = concentration([ev], top_items=2)
    shares = [1.9 / 3.4, 1.0, 1.0 / 1.2]
    assert out["share"] == pytest.approx(np.mean(shares))
    assert out["abs_share"] == pytest.approx(np.mean([1.9 / 3.4, 1.5 / 1.7, 7.0 / 7.2]))
    assert out["n_predictions"] == 3 and out["max_residual"] == pytest.approx(0.0)


def test_concept_enrichment_and_correlation_by_hand():
    # 6 genes; term 0 in genes 0-2; concept 0 in genes 0, 1, 3
    Y = sp.csr_matrix(np.array([[1], [1], [1], [0], [0], [0]]))
    C = sp.csr_matrix(np.array([[1], [1], [0], [1], [0], [0]]))
    enrich, keep = concept_enrichment(Y, C, min_genes=3)
    assert enrich[0, 0] == pytest.approx(np.log(2.5 / 1.5) - np.log(1.5 / 2.5)) and keep.tolist() == [True]
    rng = np.random.default_rng(0)
    Y = sp.csr_matrix(rng.random((60, 3)) < 0.5)
    C = sp.csr_matrix(rng.random((60, 5)) < 0.4)
    enrich, _ = concept_enrichment(Y, C, min_genes=1)
    summary, table = concept_correlation(enrich, Y, C, min_genes=1)
    assert summary["median_spearman"] == pytest.approx(1.0) and summary["n_terms"] == 3
    summary, _ = concept_correlation(-enrich, Y, C, min_genes=1)
    assert summary["median_spearman"] == pytest.approx(-1.0) and summary["fraction_positive"] == 0.0
    # min_genes leaves out rare terms
    summary, table = concept_correlation(enrich, Y, C, min_genes=100)
    assert summary["n_terms"] == 0 and table.empty


def _module(seed: int = 0, **sizes) -> GenePheno:
    config = GenePhenoConfig(**{"n_terms": 3, "n_concepts": 4, "seq_dim": 2, "go_dim": 5, "hidden": 6,
                                "go_term_rank": 2, "ortholog_dim": 4, "ortholog_rank": 2, "temperature": 0.5,
                                **sizes})
    torch.manual_seed(seed)
    module = GenePheno(config)
    with torch.no_grad():  # the direct paths start at zero: give them weights
        for head in (module.go_term_head, module.ortholog_head):
            if head is not None:
                head[2].weight.normal_()
    return module.eval()


def _tensors(n: int = 6, seed: int = 1) -> dict:
    g = torch.Generator().manual_seed(seed)
    go = (torch.rand(n, 5, generator=g) < 0.6).float()
    go[0] = 0.0  # a gene without GO
    orth = torch.rand(n, 4, generator=g) * (torch.rand(n, 4, generator=g) < 0.5)
    return {"seq_emb": torch.randn(n, 2, generator=g), "go_bag": go, "ortholog": orth}


def test_prediction_evidence_sums_to_the_logit_and_names_every_input():
    module, tensors = _module(), _tensors()
    evidence = prediction_evidence(module, tensors, top=2, batch_size=4)
    with torch.no_grad():
        logits = module(**tensors).phenotype_logits.numpy() / 0.5
    for i, ev in enumerate(evidence):
        assert ev.terms.tolist() == np.argsort(-logits[i], kind="stable")[:2].tolist()
        assert np.allclose(ev.bias + ev.items.sum(1), logits[i, ev.terms], atol=1e-5)
        n_go = int((tensors["go_bag"][i] > 0).sum())
        n_orth = int((tensors["ortholog"][i] > 0).sum())
        assert list(ev.kinds).count("GO term") == n_go and list(ev.kinds).count("homolog phenotype") == n_orth
        assert list(ev.kinds).count("concept") == 4


def _brute_force_drop(module, tensors, i: int, term: int, items, ev: GeneEvidence) -> float:
    """The logit drop when `items` of gene i are removed, through the full forward pass."""
    one = {k: v[i:i + 1].clone() for k, v in tensors.items()}
    mask = torch.ones(1, module.config.n_concepts)
    for item in items:
        col = int(ev.index[item])
        if ev.kinds[item] == "concept":
            mask[0, col] = 0
        elif ev.kinds[item] == "GO term":
            one["go_bag"][0, col] = 0
        else:
            one["ortholog"][0, col] = 0
    with torch.no_grad():
        after = module.logit_parts(**one, concept_mask=mask).phenotype_logits[0, term].item() / 0.5
    return float(ev.logit[list(ev.terms).index(term)] - after)


def test_deletion_check_matches_a_full_rerun_of_the_model():
    module, tensors = _module(), _tensors()
    evidence = prediction_evidence(module, tensors, top=3)
    out = deletion_check(module, tensors, evidence, k=2, n_random=3)
    expected = []
    for i, ev in enumerate(evidence):
        for row, term in enumerate(ev.terms):
            top = np.argsort(-ev.items[row], kind="stable")[:2]
            expected.append(_brute_force_drop(module, tensors, i, int(term), top, ev))
    assert out["mean_drop_top"] == pytest.approx(np.mean(expected), abs=1e-5)
    assert out["n_predictions"] == 6 * 3 and 0.0 <= out["pass_rate"] <= 1.0


def _concept_only_module(weights) -> GenePheno:
    """Sequence -> concepts with zero weights (every activation 0.5), one phenotype with the
    given concept weights: the contributions are weights / 2, known by hand."""
    module = GenePheno(GenePhenoConfig(n_terms=1, n_concepts=len(weights), seq_dim=2, hidden=3))
    with torch.no_grad():
        module.concept_head.weight.zero_()
        module.concept_head.bias.zero_()
        module.phenotype_head.weight.copy_(torch.tensor([weights], dtype=torch.float32))
        module.phenotype_head.bias.zero_()
    return module.eval()


def test_deletion_check_passes_only_when_the_top_items_matter_more():
    tensors = {"seq_emb": torch.randn(4, 2)}
    # contributions 2, 0.5, 0.25, 0.25: removing the top two drops the logit by 2.5, a random
    # pair by 2 x 0.75 = 1.5 on average; no pair drops it more than the top two
    # (one dominant concept)
    module = _concept_only_module([4.0, 1.0, 0.5, 0.5])
    out = deletion_check(module, tensors, prediction_evidence(module, tensors), k=2, n_random=6)
    assert out["pass_rate"] == 1.0 and out["mean_drop_top"] == pytest.approx(2.5)
    # equal evidence: removing the "top" items is no better than any others -> never passes
    module = _concept_only_module([1.0, 1.0, 1.0, 1.0])
    out = deletion_check(module, tensors, prediction_evidence(module, tensors), k=2, n_random=6)
    assert out["pass_rate"] == 0.0 and out["mean_drop_top"] == pytest.approx(1.0)
    assert out["mean_drop_random"] == pytest.approx(1.0)


def test_evidence_quality_collects_the_measures():
    module, tensors = _module(), _tensors()
    related = sp.csr_matrix(np.eye(3, 4, dtype=bool))
    labels = sp.csr_matrix(np.random.default_rng(0).random((30, 3)) < 0.5)
    concepts = sp.csr_matrix(np.random.default_rng(1).random((30, 4)) < 0.5)
    out = evidence_quality(module, tensors, related=related, train_labels=labels, train_concepts=concepts,
                           min_genes=5, max_deletion_genes=2)
    assert out["plausibility"]["n_terms"] == 3 and out["plausibility"]["top"] == 4
    assert out["concentration"]["n_predictions"] == 6 * 3
    assert out["deletion"]["n_predictions"] == 2 * 3
    assert out["concepts"]["n_terms"] >= 1
    # without the inputs for them, the measures are None
    out = evidence_quality(module, tensors)
    assert out["plausibility"] is None and out["concepts"] is None


# four input columns: 0 <- 1 <- 2 and 0 <- 3 ([i, j] = 1: column j is a proper ancestor of i)
CHAIN = sp.csr_matrix(np.array([[0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0], [1, 0, 0, 0]]))


def test_annotation_groups_split_each_broader_term_among_the_specific_terms_below_it():
    leaves, share = annotation_groups(np.array([0, 1, 2, 3]), CHAIN)
    assert leaves.tolist() == [2, 3]  # positions of the specific terms 2 and 3
    # column 0 lies above both leaves (half each), column 1 above leaf 2 only
    assert np.allclose(share.toarray(), [[0.5, 0.5], [1, 0], [1, 0], [0, 1]])
    # a gene with only 0 and 1: 1 is its specific term and carries 0 as well
    leaves, share = annotation_groups(np.array([0, 1]), CHAIN)
    assert leaves.tolist() == [1] and np.allclose(share.toarray(), [[1], [1]])


def test_group_evidence_keeps_the_sum_and_says_what_each_item_stands_for():
    # two concepts, then homolog columns 0, 1, 2, 3
    items = np.array([[0.1, -0.2, 0.4, 0.3, 0.2, 0.6]])
    ev = GeneEvidence(np.array([0]), np.array([items.sum() + 1.0]), np.array([1.0]), items,
                      np.array(["concept"] * 2 + ["homolog phenotype"] * 4), np.array([0, 1, 0, 1, 2, 3]))
    grouped = group_evidence(ev, {"homolog phenotype": CHAIN})
    assert grouped.kinds.tolist() == ["concept", "concept", "homolog phenotype", "homolog phenotype"]
    assert grouped.index.tolist() == [0, 1, 2, 3]
    # leaf 2: 0.2 + 0.3 + 0.4 / 2; leaf 3: 0.6 + 0.4 / 2
    assert np.allclose(grouped.items, [[0.1, -0.2, 0.7, 0.8]])
    assert grouped.bias + grouped.items.sum() == pytest.approx(ev.logit[0])
    assert [c.tolist() for c in grouped.covers] == [[0], [1], [2, 0, 1], [3, 0]]
    # no table for a kind: its items stay as they are
    assert np.allclose(group_evidence(ev, {"GO term": CHAIN}).items, items)
    # the top-2 share rises from (0.6 + 0.4) / 1.4 to 1.5 / 1.4 (clipped to 1)
    assert concentration([ev], top_items=2)["share"] == pytest.approx(1.0 / 1.4)
    assert concentration([grouped], top_items=2)["share"] == pytest.approx(1.0)


def test_deletion_check_on_grouped_evidence_removes_what_no_other_item_implies():
    """Removing a specific homolog phenotype takes out its broader terms too, except those a
    remaining specific term still implies: checked against the full forward pass."""
    module = _module()
    tensors = _tensors()
    tensors["ortholog"] = torch.tensor([[0.5, 0.5, 0.5, 0.5]] * 6)  # columns 0-3 present, closed
    tensors["go_bag"] = torch.zeros_like(tensors["go_bag"])
    evidence = [group_evidence(ev, {"homolog phenotype": CHAIN}) for ev in prediction_evidence(module, tensors, top=3)]
    out = deletion_check(module, tensors, evidence, k=1, n_random=2)
    assert out["mean_drop_top"] == pytest.approx(np.mean(_grouped_top1_drops(module, tensors, evidence)), abs=1e-5)


def _grouped_top1_drops(module, tensors, evidence) -> list[float]:
    """Each prediction's logit drop when its largest grouped item is removed, by a full
    forward pass (homolog phenotypes grouped by CHAIN; temperature 0.5)."""
    expected = []
    for i, ev in enumerate(evidence):
        for row, term in enumerate(ev.terms):
            top = int(np.argsort(-ev.items[row], kind="stable")[0])
            one = {k: v[i:i + 1].clone() for k, v in tensors.items()}
            mask = torch.ones(1, module.config.n_concepts)
            if ev.kinds[top] == "concept":
                mask[0, int(ev.index[top])] = 0
            else:  # leaf 2 takes out 2 and 1 (0 stays: leaf 3 implies it); leaf 3 only 3
                one["ortholog"][0, {2: [2, 1], 3: [3]}[int(ev.index[top])]] = 0
            with torch.no_grad():
                after = module.logit_parts(**one, concept_mask=mask).phenotype_logits[0, term].item() / 0.5
            expected.append(ev.logit[row] - after)
    return expected


def test_evidence_quality_reports_the_grouped_concentration_next_to_the_per_term_one():
    module, tensors = _module(), _tensors()
    tensors["ortholog"] = torch.tensor([[0.5, 0.5, 0.5, 0.5]] * 6)
    out = evidence_quality(module, tensors, ancestors={"homolog phenotype": CHAIN}, max_deletion_genes=2)
    per_term = concentration(prediction_evidence(module, tensors))
    grouped = concentration([group_evidence(ev, {"homolog phenotype": CHAIN})
                             for ev in prediction_evidence(module, tensors)])
    assert out["concentration"] == per_term and out["concentration_grouped"] == grouped
    assert out["deletion"]["grouped"] is True
    out = evidence_quality(module, tensors)
    assert out["concentration_grouped"] is None and out["deletion"]["grouped"] is False


def test_grouped_deletion_check_on_a_model_without_go_input():
    # the no-go ablation (sequence + homolog phenotypes): grouped homolog phenotypes are rerun
    # through the model although there is no GO bag (its cells once failed with KeyError 'go_bag')
    module = _module(go_dim=0)
    tensors = _tensors()
    del tensors["go_bag"]
    tensors["ortholog"] = torch.tensor([[0.5, 0.5, 0.5, 0.5]] * 6)
    evidence = [group_evidence(ev, {"homolog phenotype": CHAIN}) for ev in prediction_evidence(module, tensors, top=3)]
    out = deletion_check(module, tensors, evidence, k=1, n_random=2)
    expected = _grouped_top1_drops(module, tensors, evidence)
    assert out["n_predictions"] == 18 and out["mean_drop_top"] == pytest.approx(np.mean(expected), abs=1e-5)
    quality = evidence_quality(module, tensors, ancestors={"homolog phenotype": CHAIN}, max_deletion_genes=2)
    assert quality["deletion"]["grouped"] is True and quality["deletion"]["n_predictions"] == 6
