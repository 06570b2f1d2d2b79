"""genepheno_core.models.trained: the one inference object and the one prediction loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _interpret_toy import toy_genes

from genepheno_core.interpret.inference import prepare_inputs
from genepheno_core.models.trained import (
    module_logits,
    module_probabilities,
    row_batches,
    temperature,
)


pytestmark = pytest.mark.usefixtures("toy_home")  # GENEPHENO_HOME for the toy model (conftest.py)


def _inputs(model):
    genes = toy_genes()
    records = list(zip(genes["gene_id"], genes["sequence"]))[:9]
    go = {records[0][0]: ["GO:0005634"], records[3][0]: ["GO:0070062", "GO:0005634"]}
    inputs = prepare_inputs(model, records, go)
    return inputs.embeddings, inputs.go_sets, inputs.sequences


def test_probabilities_are_sigmoid_of_logits_and_batch_size_free(model):
    emb, go_sets, seqs = _inputs(model)
    logits = model.logits(emb, go_sets, seqs)
    probs = model.probabilities(emb, go_sets, seqs)
    assert probs.shape == (9, len(model.terms))
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-logits.astype(np.float64))), atol=1e-6)
    for batch_size in (1, 8, 64):
        np.testing.assert_allclose(model.probabilities(emb, go_sets, seqs, batch_size=batch_size), probs, atol=1e-6)


def test_logits_divide_the_module_output_by_its_temperature(model):
    emb, go_sets, seqs = _inputs(model)
    tensors = model.inputs(emb, go_sets, seqs)
    with torch.no_grad():
        raw = model.module(**tensors).phenotype_logits.numpy()
    t = temperature(model.module)
    np.testing.assert_allclose(module_logits(model.module, row_batches(tensors, 4)), raw / t, rtol=1e-6)
    np.testing.assert_array_equal(module_probabilities(model.module, [tensors]),
                                  model.probabilities(emb, go_sets, seqs))


def test_logit_parts_sum_to_the_logits(model):
    emb, go_sets, seqs = _inputs(model)
    parts = model.logit_parts(model.inputs(emb, go_sets, seqs))
    np.testing.assert_allclose(parts.phenotype_logits.numpy(), model.logits(emb, go_sets, seqs), atol=1e-5)
    # the concept part is W_p sigmoid(c) + bias with the effective (temperature-free) weights
    act = torch.sigmoid(parts.concept_logits).double().numpy()
    np.testing.assert_allclose(parts.concepts_and_bias.numpy(), act @ model.W_p.T + model.bias, atol=1e-5)


def test_inputs_need_what_the_model_reads(model):
    emb, go_sets, seqs = _inputs(model)
    names = set(model.inputs(emb, go_sets, seqs))
    assert "seq_emb" in names and ("go_bag" in names) == model.uses_go
    with pytest.raises(ValueError, match="embeddings"):
        model.inputs(None, go_sets, seqs)
