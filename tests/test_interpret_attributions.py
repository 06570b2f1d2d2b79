"""captum attributions: bottleneck IG equals the exact contributions; completeness of the
input and residue-level Integrated Gradients (through UniRep)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from _interpret_toy import toy_genes
from genepheno_core.errors import GenePhenoError, ModelMismatchError
from genepheno_core.interpret import concept_attributions, explain, residue_attributions
from genepheno_core.interpret.attributions import forward_parts


pytestmark = pytest.mark.usefixtures("toy_home")  # GENEPHENO_HOME for the toy model (conftest.py)


def test_forward_parts_matches_module(model):
    torch.manual_seed(0)
    seq = torch.randn(3, 64)
    g = len(model.go_inputs)
    go = torch.zeros(3, g)
    go[0] = 1.0
    go[2, ::3] = 1.0  # row 1: no GO
    present = (go.sum(1, keepdim=True) > 0).float()
    out = model.module(seq_emb=seq, go_bag=go)
    c, s = forward_parts(model.module, seq, go, present)
    torch.testing.assert_close(c, out.concept_logits)
    torch.testing.assert_close(s, out.phenotype_logits)


def test_bottleneck_ig_equals_exact_contributions(model):
    seq = toy_genes()["sequence"][2]
    go = ["GO:0005634", "GO:0022607"]
    ca = concept_attributions(model, ("g", seq), phenotype="HP:0012638", go_annotations=go)
    ex = explain(model, ("g", seq), phenotype="HP:0012638", go_annotations=go)
    exact = ex.contributions["HP:0012638"]
    b = ca.bottleneck.set_index("concept_id")
    np.testing.assert_allclose(b.loc[exact.index, "ig"], exact.to_numpy(), atol=1e-5)
    np.testing.assert_allclose(b.loc[exact.index, "contribution"], exact.to_numpy(), atol=1e-6)
    # LayerIntegratedGradients on the bottleneck from the input baseline: W (a - a_baseline)
    np.testing.assert_allclose(b["layer_ig"], b["layer_ig_exact"], atol=1e-5)
    assert abs(ca.bottleneck_delta) < 1e-5
    assert ca.logit == pytest.approx(ex.logit["HP:0012638"], abs=1e-5)


@pytest.mark.parametrize("target", [{"phenotype": "HP:0000707"}, {"concept": "GO:0043227"}])
def test_input_ig_completeness(model, target):
    seq = toy_genes()["sequence"][5]
    ca = concept_attributions(model, ("g", seq), go_annotations=["GO:0005634"], n_steps=64, **target)
    total = ca.go_inputs["attribution"].sum() + ca.embedding_dims["attribution"].sum()
    # attributions + the GO-indicator effect account for f(x) - f(baseline)
    assert total == pytest.approx(ca.logit - ca.baseline_logit, abs=1e-3)
    assert abs(ca.delta) < 1e-3
    from genepheno_core.interpret.inference import propagate_go

    assert set(ca.go_inputs["go_id"]) == propagate_go(model, {"GO:0005634"})  # the gene's propagated inputs
    assert {"GO:0005634", "GO:0043231"} <= set(ca.go_inputs["go_id"])
    if "concept" in target:
        assert ca.bottleneck is None and ca.target_kind == "concept"
    else:
        assert ca.target_kind == "phenotype" and len(ca.bottleneck) == len(model.concepts)


@pytest.mark.parametrize("method", ["hidden", pytest.param("input", marks=pytest.mark.slow)])
def test_residue_ig_completeness(model, method):
    seq = toy_genes()["sequence"][6]
    df = residue_attributions(model, ("g", seq), phenotype="HP:0012638", method=method, n_steps=8, max_steps=64)
    assert list(df.columns) == ["position", "residue", "attribution"]
    assert len(df) == len(seq) and "".join(df["residue"]) == seq
    assert df["position"].tolist() == list(range(1, len(seq) + 1))
    diff = df.attrs["logit"] - df.attrs["baseline_logit"]
    # completeness: attributions sum to the logit change from the all-X baseline
    assert df["attribution"].sum() == pytest.approx(diff + df.attrs["delta"], abs=1e-6)
    assert abs(df.attrs["delta"]) < 0.05 * max(abs(diff), 0.02)
    assert df.attrs["target"] == "HP:0012638" and df.attrs["converged"] and df.attrs["n_steps"] <= 64
    assert df.attrs["method"] == method and np.abs(df["attribution"]).sum() > 0
    # the logit explained is the model's own: the same as explain() gives for this protein
    ex = explain(model, ("g", seq), phenotype="HP:0012638")
    assert df.attrs["logit"] == pytest.approx(ex.logit["HP:0012638"], abs=1e-4)


@pytest.mark.parametrize("method", ["hidden", pytest.param("input", marks=pytest.mark.slow)])
def test_residues_equal_to_the_baseline_get_nothing(model, method):
    # a leading run of X: those positions (embeddings and, being a prefix, UniRep states)
    # are the baseline's exactly, so IG gives them exactly 0 and the real residues the rest
    seq = "XXXX" + toy_genes()["sequence"][6]
    df = residue_attributions(model, ("g", seq), phenotype="HP:0012638", method=method, n_steps=8, max_steps=64)
    assert (df["attribution"].iloc[:4] == 0).all()
    assert np.abs(df["attribution"].iloc[4:]).sum() > 0
    with pytest.raises(ValueError, match="method"):
        residue_attributions(model, ("g", seq), method="gradient")


@pytest.mark.slow
def test_residue_ig_refines_until_the_budget(model):
    seq = toy_genes()["sequence"][6]
    # an unreachable tolerance: the worst segment is halved until 64 gradient evaluations (a
    # phenotype whose logit this protein moves by far more than the 1e-3 absolute floor)
    df = residue_attributions(model, ("g", seq), phenotype="HP:0012639", method="input", n_steps=8, max_steps=64,
                              tolerance=0.0)
    assert abs(df.attrs["logit"] - df.attrs["baseline_logit"]) > 0.1 and not df.attrs["converged"]
    assert df.attrs["n_steps"] == 64 and df.attrs["n_segments"] == 2 + (64 - 16) // 16
    diff = df.attrs["logit"] - df.attrs["baseline_logit"]
    assert df["attribution"].sum() == pytest.approx(diff + df.attrs["delta"], abs=1e-6)
    with pytest.raises(ValueError, match="n_steps"):
        residue_attributions(model, ("g", seq), n_steps=8, max_steps=8)


def test_residue_ig_needs_unirep(model):
    other = copy.copy(model)
    other.encoder = "composition"
    with pytest.raises(ModelMismatchError, match="UniRep"):
        residue_attributions(other, ("g", "MKVLAAGIVG" * 3))


def test_unknown_targets(model):
    with pytest.raises(GenePhenoError):
        concept_attributions(model, ("g", "MKVLAAGIVG" * 3), concept="GO:9999999")
    with pytest.raises(GenePhenoError, match="unknown phenotype"):
        residue_attributions(model, ("g", "MKVLAAGIVG" * 3), phenotype="HP:9999999")


def test_residue_length_limit(model):
    from genepheno_core.errors import InputFormatError
    from genepheno_core.interpret.attributions import MAX_ATTRIBUTION_RESIDUES

    seq = toy_genes()["sequence"][6]
    with pytest.raises(InputFormatError, match=f"{len(seq)} residues: residue attributions are limited to 50 .*"
                                               "max_residues="):
        residue_attributions(model, ("g", seq), max_residues=50)
    too_long = ("long", "MKVLAAGIVG" * (MAX_ATTRIBUTION_RESIDUES // 10 + 1))
    with pytest.raises(InputFormatError, match=f"limited to {MAX_ATTRIBUTION_RESIDUES:,}"):
        residue_attributions(model, too_long)


def test_ig_batches_shrink_with_length():
    from genepheno_core.interpret.attributions import IG_BATCH_BYTES, ig_batch_size

    assert ig_batch_size(500, 64, "hidden") == 32  # short proteins: the usual batch
    for method, per_value in (("hidden", 4), ("input", 24)):
        b = ig_batch_size(10_000, 256, method)
        assert 1 <= b < 32 and b * 10_001 * 256 * 4 * per_value <= IG_BATCH_BYTES
    assert ig_batch_size(10**7, 256, "input") == 1
    assert ig_batch_size(500, 64, "hidden", limit=4) == 4


def test_unirep_mean_hidden_matches_encoder():
    from genepheno_core.embeddings.unirep import load_unirep, pad_tokens
    from genepheno_core.interpret.attributions import unirep_mean_hidden

    unirep = load_unirep(64)
    seqs = ["MKVLAAGIVGW", "MSTNPKPQRKTKRNTNRRPQDVKFPGG"]
    for s in seqs:
        tokens, mask = pad_tokens([s])
        with torch.no_grad():
            ref = unirep(tokens, mask)
            got = unirep_mean_hidden(unirep, unirep.embedding(tokens))
        torch.testing.assert_close(got, ref, atol=1e-6, rtol=1e-5)
        np.testing.assert_allclose(got.numpy(), unirep.mean_hidden([s]).numpy(), atol=1e-5)
