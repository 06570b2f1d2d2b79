"""Losses: ZLPR contrastive loss is well posed, BCE, exclusivity; gradients and stability."""

import math

import pytest
import torch

from genepheno_core.models.losses import bce_loss, contrastive_multilabel_loss, exclusivity_loss

Y = torch.tensor([[1.0, 0.0, 1.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 1.0]])


@pytest.mark.parametrize("tau", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("loss_fn", ["contrastive", "bce"])
def test_correct_lt_zero_lt_inverted(tau, loss_fn):
    correct = (2 * Y - 1) * 3.0
    f = (lambda s: contrastive_multilabel_loss(s, Y, tau=tau)) if loss_fn == "contrastive" else (lambda s: bce_loss(s, Y))
    assert f(correct) < f(torch.zeros_like(Y)) < f(-correct)


def test_hand_computed_value():
    # gene 1: positives logits {2}, negatives {-1, 0}; tau = 1
    s = torch.tensor([[2.0, -1.0, 0.0]])
    y = torch.tensor([[1.0, 0.0, 0.0]])
    expected = math.log(1 + math.exp(-1) + math.exp(0)) + math.log(1 + math.exp(-2))
    assert contrastive_multilabel_loss(s, y).item() == pytest.approx(expected, rel=1e-6)
    # temperature divides the logits
    expected_t = math.log(1 + math.exp(-0.5) + 1) + math.log(1 + math.exp(-1))
    assert contrastive_multilabel_loss(s, y, tau=2.0).item() == pytest.approx(expected_t, rel=1e-6)


def test_zero_logits_value_is_not_degenerate():
    # with zero logits: log(1 + n_neg) + log(1 + n_pos), the paper's degenerate form would not
    # distinguish this from the correct/inverted cases (tested above)
    s = torch.zeros(1, 5)
    y = torch.tensor([[1.0, 1.0, 0.0, 0.0, 0.0]])
    assert contrastive_multilabel_loss(s, y).item() == pytest.approx(math.log(4) + math.log(3), rel=1e-6)


@pytest.mark.parametrize("loss_fn", ["contrastive", "bce"])
def test_gradient_signs(loss_fn):
    s = torch.zeros_like(Y, requires_grad=True)
    loss = contrastive_multilabel_loss(s, Y, tau=0.7) if loss_fn == "contrastive" else bce_loss(s, Y)
    loss.backward()
    # gradient descent moves against the gradient: positives up (grad < 0), negatives down
    assert (s.grad[Y == 1] < 0).all()
    assert (s.grad[Y == 0] > 0).all()


def test_stable_at_extreme_logits():
    for scale in (50.0, -50.0):
        s = torch.full_like(Y, scale).requires_grad_(True)
        loss = contrastive_multilabel_loss(s, Y, tau=0.1)
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(s.grad).all()
    # confident correct predictions give ~0 loss, confident wrong ones ~ |s| / tau
    good = contrastive_multilabel_loss((2 * Y - 1) * 50.0, Y, tau=1.0)
    bad = contrastive_multilabel_loss((1 - 2 * Y) * 50.0, Y, tau=1.0)
    assert good.item() < 1e-10
    assert bad.item() == pytest.approx(2 * (50 + math.log(2)) + 0.0, rel=0.02)


def test_genes_without_positives_or_negatives():
    s = torch.tensor([[-3.0, -1.0, 0.5], [1.0, 2.0, -0.5]], requires_grad=True)
    y = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    loss = contrastive_multilabel_loss(s, y)
    loss.backward()
    expected_0 = math.log(1 + math.exp(-3) + math.exp(-1) + math.exp(0.5))
    expected_1 = math.log(1 + math.exp(-1) + math.exp(-2) + math.exp(0.5))
    assert loss.item() == pytest.approx((expected_0 + expected_1) / 2, rel=1e-6)
    assert torch.isfinite(s.grad).all()
    assert (s.grad[0] > 0).all() and (s.grad[1] < 0).all()


def test_row_mask_selects_genes():
    s = torch.tensor([[5.0, -5.0], [-5.0, 5.0]])
    y = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    only_good = contrastive_multilabel_loss(s, y, row_mask=torch.tensor([True, False]))
    assert only_good.item() == pytest.approx(contrastive_multilabel_loss(s[:1], y[:1]).item())
    none = bce_loss(s, y, row_mask=torch.tensor([False, False]))
    assert none.item() == 0.0


def test_label_mask_leaves_unknown_labels_out_and_row_weights_weigh_genes():
    """An unknown label is neither positive nor negative: the loss of a masked row equals
    the loss over its known columns alone; float row weights give a weighted mean."""
    torch.manual_seed(0)
    s = torch.randn(3, 6)
    y = torch.tensor([[1.0, 0.0, 1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0, 0.0, 1.0]])
    known = torch.tensor([True, True, False, True, False, True])
    mask = torch.stack([torch.ones(6, dtype=torch.bool), known, known])
    weight = torch.tensor([1.0, 0.5, 0.25])
    for fn in (lambda a, b: contrastive_multilabel_loss(a, b, tau=0.7), bce_loss):
        per_row = [fn(s[:1], y[:1]).item()] + [fn(s[i:i + 1, known], y[i:i + 1, known]).item() for i in (1, 2)]
        expected = sum(w * v for w, v in zip(weight.tolist(), per_row)) / weight.sum().item()
        if fn is bce_loss:
            got = bce_loss(s, y, row_mask=weight, label_mask=mask)
        else:
            got = contrastive_multilabel_loss(s, y, tau=0.7, row_mask=weight, label_mask=mask)
        assert got.item() == pytest.approx(expected, rel=1e-6)
    # an unknown label gets no gradient
    s.requires_grad_(True)
    contrastive_multilabel_loss(s, y, label_mask=mask).backward()
    assert (s.grad[1:, ~known] == 0).all() and (s.grad[1:, known] != 0).all()


def test_exclusivity_pushes_larger_down():
    s = torch.tensor([[3.0, 1.0, 0.0]], requires_grad=True)
    pairs = torch.tensor([[0, 1]])
    loss = exclusivity_loss(s, pairs)
    loss.backward()
    assert loss.item() == pytest.approx(math.log1p(math.exp(4.0)), rel=1e-6)
    assert s.grad[0, 0] > 0 and s.grad[0, 1] > 0  # descent lowers both logits ...
    assert s.grad[0, 2] == 0
    # ... and a few steps of gradient descent bring the larger one below 0 first
    x = torch.tensor([[3.0, -1.0]], requires_grad=True)
    opt = torch.optim.SGD([x], lr=1.0)
    for _ in range(20):
        opt.zero_grad()
        exclusivity_loss(x, pairs).backward()
        opt.step()
    assert (x[0, 0] + x[0, 1]).item() < 0


def test_exclusivity_empty_and_stable():
    s = torch.full((2, 3), 50.0, requires_grad=True)
    assert exclusivity_loss(s, torch.zeros((0, 2), dtype=torch.long)).item() == 0.0
    loss = exclusivity_loss(s, torch.tensor([[0, 1], [1, 2]]))
    loss.backward()
    assert loss.item() == pytest.approx(100.0, rel=1e-6) and torch.isfinite(s.grad).all()


def test_bad_tau():
    with pytest.raises(ValueError):
        contrastive_multilabel_loss(torch.zeros(1, 2), torch.zeros(1, 2), tau=0.0)


def _chain():
    # terms 0 <- 1 <- 2 (2 is the deepest) and 0 <- 3: closure pairs (descendant, ancestor)
    pairs = [(1, 0), (2, 1), (2, 0), (3, 0)]
    d = torch.tensor([p[0] for p in pairs])
    a = torch.tensor([p[1] for p in pairs])
    return d, a


def test_max_propagate_matches_the_evaluator():
    import numpy as np
    import scipy.sparse as sp

    from genepheno_core.evaluation.metrics import propagate_scores
    from genepheno_core.models.losses import max_propagate

    d, a = _chain()
    s = torch.tensor([[-1.0, 0.5, 2.0, -3.0], [4.0, -1.0, -2.0, 1.0]])
    out = max_propagate(s, d, a)
    assert out.tolist() == [[2.0, 2.0, 2.0, -3.0], [4.0, -1.0, -2.0, 1.0]]
    anc = sp.csr_matrix((np.ones(4), (d.numpy(), a.numpy())), shape=(4, 4))
    probs = torch.sigmoid(s).numpy().astype(np.float64)
    np.testing.assert_allclose(torch.sigmoid(out).numpy(), propagate_scores(probs, anc), atol=1e-7)
    # the gradient reaches the argmax only
    s.requires_grad_(True)
    max_propagate(s, d, a)[0, 0].backward()
    assert s.grad[0].tolist() == [0.0, 0.0, 1.0, 0.0]


def test_hierarchical_logits_positives_read_positive_descendants():
    from genepheno_core.models.losses import hierarchical_logits

    d, a = _chain()
    s = torch.tensor([[-1.0, 0.5, 2.0, 3.0]])
    # gene annotated with 1 (and so 0); 2 and 3 negative
    y = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    h = hierarchical_logits(s, y, d, a)
    # positives: max over positive descendants (0 -> max(s0, s1) = 0.5, not the negative 3.0)
    # negatives: max over all descendants (2 -> 2.0, 3 -> 3.0)
    assert h.tolist() == [[0.5, 0.5, 2.0, 3.0]]
