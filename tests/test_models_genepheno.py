"""The GenePheno module: shapes, optional inputs, bottleneck algebra, batch-size invariance."""

import pytest
import torch

from genepheno_core.models import GenePheno, GenePhenoConfig, GenePhenoOutput, MLPBaseline, MLPConfig
from genepheno_core.models.genepheno import normalise_go_bag


def _model(**kw):
    torch.manual_seed(0)
    cfg = GenePhenoConfig(n_terms=7, n_concepts=4, seq_dim=5, go_dim=6, homology_dim=7, hidden=8, **kw)
    return GenePheno(cfg).eval()


def test_shapes_and_output_type():
    model = _model()
    out = model(torch.randn(3, 5), torch.ones(3, 6), torch.rand(3, 7))
    assert isinstance(out, GenePhenoOutput)
    assert out.phenotype_logits.shape == (3, 7) and out.concept_logits.shape == (3, 4)


def test_phenotype_logits_are_linear_in_concept_activations():
    model = _model()
    out = model(torch.randn(4, 5), torch.ones(4, 6))
    W, b = model.phenotype_head.weight, model.phenotype_head.bias
    recon = torch.sigmoid(out.concept_logits) @ W.T + b
    assert torch.allclose(recon, out.phenotype_logits, atol=1e-6)
    # per-concept contributions W_p[k, j] * sigmoid(c_j) sum to s - b
    contrib = W[None] * torch.sigmoid(out.concept_logits)[:, None, :]  # (B, K, J)
    assert torch.allclose(contrib.sum(-1) + b, out.phenotype_logits, atol=1e-6)


def test_optional_inputs():
    model = _model()
    seq = torch.randn(2, 5)
    seq_only = model(seq_emb=seq).phenotype_logits
    with_empty_go = model(seq_emb=seq, go_bag=torch.zeros(2, 6)).phenotype_logits
    assert torch.allclose(seq_only, with_empty_go)  # an empty bag is "no GO"
    assert not torch.allclose(seq_only, model(seq_emb=seq, go_bag=torch.ones(2, 6)).phenotype_logits)
    assert model(go_bag=torch.ones(2, 6)).phenotype_logits.shape == (2, 7)
    with pytest.raises(ValueError):
        model()
    with pytest.raises(ValueError):
        GenePheno(GenePhenoConfig(n_terms=3, n_concepts=2))


def test_batch_size_invariance():
    model = _model()
    torch.manual_seed(1)
    seq, go = torch.randn(64, 5), (torch.rand(64, 6) > 0.5).float()
    full = model(seq, go).phenotype_logits
    for bs in (1, 8):
        parts = torch.cat([model(seq[i:i + bs], go[i:i + bs]).phenotype_logits for i in range(0, 64, bs)])
        assert torch.allclose(parts, full, atol=1e-5)


def test_normalise_go_bag():
    bag = torch.tensor([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    out = normalise_go_bag(bag)
    assert torch.allclose(out[0], torch.full((4,), 0.5)) and out[1].abs().sum() == 0


def test_config_round_trip_and_mlp():
    cfg = GenePhenoConfig(n_terms=3, n_concepts=2, seq_dim=4, temperature=0.5)
    assert GenePhenoConfig.from_dict({**cfg.to_dict(), "unknown": 1}) == cfg
    mlp = MLPBaseline(MLPConfig(n_terms=3, go_dim=4, hidden=5))
    out = mlp(go_bag=torch.ones(2, 4))
    assert out.phenotype_logits.shape == (2, 3) and out.concept_logits is None


def _with_paths(**kw):
    torch.manual_seed(0)
    cfg = GenePhenoConfig(n_terms=7, n_concepts=4, seq_dim=5, go_dim=6, hidden=8, go_term_rank=3,
                          ortholog_dim=9, ortholog_rank=2, path_dropout=0.5, **kw)
    model = GenePheno(cfg)
    with torch.no_grad():  # the U factors start at 0 (the paths add nothing before training)
        for head in (model.go_term_head, model.ortholog_head):
            head[2].weight.normal_()
    return model.eval()


def test_direct_paths_start_at_zero():
    torch.manual_seed(0)
    model = GenePheno(GenePhenoConfig(n_terms=7, n_concepts=4, seq_dim=5, go_dim=6, hidden=8, go_term_rank=3,
                                      ortholog_dim=9, ortholog_rank=2)).eval()
    seq, go, orth = torch.randn(2, 5), torch.ones(2, 6), torch.rand(2, 9)
    out = model(seq, go, ortholog=orth)
    W, b = model.phenotype_head.weight, model.phenotype_head.bias
    assert torch.allclose(torch.sigmoid(out.concept_logits) @ W.T + b, out.phenotype_logits, atol=1e-6)


def test_logits_are_concepts_plus_go_terms_plus_orthologs():
    model = _with_paths()
    seq = torch.randn(4, 5)
    go = (torch.rand(4, 6) > 0.4).float()
    go[3] = 0.0  # one gene without GO
    orth = torch.rand(4, 9) * (torch.rand(4, 9) > 0.5)
    out = model(seq, go, ortholog=orth)
    W_p, b = model.phenotype_head.weight, model.phenotype_head.bias
    W_g = model.go_term_head[2].weight @ model.go_term_head[0].weight  # (K, G) = U V
    W_o = model.ortholog_head[2].weight @ model.ortholog_head[0].weight  # (K, K')
    g = go / go.sum(1, keepdim=True).clamp_min(1).sqrt()
    recon = torch.sigmoid(out.concept_logits) @ W_p.T + g @ W_g.T + orth @ W_o.T + b
    assert torch.allclose(recon, out.phenotype_logits, atol=1e-5)
    # the GO bag of the gene without GO and a missing ortholog input contribute nothing
    plain = model(seq, go).phenotype_logits
    assert torch.allclose(plain, out.phenotype_logits - orth @ W_o.T, atol=1e-5)
    # the ortholog vector does not reach the concepts (they stay functions of sequence and GO)
    assert torch.allclose(model(seq, go, ortholog=torch.zeros(4, 9)).concept_logits, out.concept_logits)
    # path dropout acts in training only: eval outputs are deterministic
    assert torch.allclose(model(seq, go, ortholog=orth).phenotype_logits, out.phenotype_logits)


def test_ortholog_only_model_and_mlp_with_orthologs():
    model = GenePheno(GenePhenoConfig(n_terms=3, n_concepts=2, ortholog_dim=4, ortholog_rank=2, hidden=5))
    # no sequence or GO: the concepts see only the learned bias; the ortholog path still reads o
    assert model(ortholog=torch.ones(2, 4)).phenotype_logits.shape == (2, 3)
    mlp = MLPBaseline(MLPConfig(n_terms=3, go_dim=4, ortholog_dim=6, hidden=5)).eval()
    a = mlp(go_bag=torch.ones(2, 4), ortholog=torch.zeros(2, 6)).phenotype_logits
    b = mlp(go_bag=torch.ones(2, 4), ortholog=torch.rand(2, 6) + 0.1).phenotype_logits
    assert a.shape == (2, 3) and not torch.allclose(a, b)


def test_logit_parts_sum_to_forward_and_follow_each_path():
    torch.manual_seed(0)
    cfg = GenePhenoConfig(n_terms=7, n_concepts=4, seq_dim=5, go_dim=6, hidden=8, go_term_rank=3,
                          ortholog_dim=9, ortholog_rank=2)
    model = GenePheno(cfg).eval()
    for head in (model.go_term_head[2], model.ortholog_head[2]):  # zero-initialised: make them count
        torch.nn.init.normal_(head.weight)
    seq, go, orth = torch.randn(3, 5), (torch.rand(3, 6) > 0.5).float(), torch.rand(3, 9)
    parts = model.logit_parts(seq, go, ortholog=orth)
    out = model(seq, go, ortholog=orth)
    assert torch.equal(parts.phenotype_logits, out.phenotype_logits)  # bit for bit
    assert torch.equal(parts.concept_logits, out.concept_logits)
    W_g = model.go_term_head[2].weight @ model.go_term_head[0].weight  # (K, G)
    assert torch.allclose(parts.go_terms, normalise_go_bag(go) @ W_g.T, atol=1e-5)
    W_o = model.ortholog_head[2].weight @ model.ortholog_head[0].weight  # (K, K')
    assert torch.allclose(parts.ortholog, orth @ W_o.T, atol=1e-5)
    no_orth = model.logit_parts(seq, go)
    assert torch.equal(no_orth.ortholog, torch.zeros(3, 7))


def test_presence_override_is_what_forward_computes_by_default():
    model = _model()
    torch.nn.init.normal_(model.inputs.go_present)  # zero-initialised: make "GO given" count
    seq, go = torch.randn(2, 5), torch.ones(2, 6)
    default = model.logit_parts(seq, go).phenotype_logits
    assert torch.equal(model.logit_parts(seq, go, go_present=torch.ones(2, 1)).phenotype_logits, default)
    # held at "present" while the bag is scaled to zero (the attribution path's baseline)
    scaled = model.logit_parts(seq, go * 0, go_present=torch.ones(2, 1)).phenotype_logits
    assert not torch.allclose(scaled, model.logit_parts(seq, go * 0).phenotype_logits)


def test_selected_logits_equal_the_forward_columns_with_and_without_a_concept_mask():
    config = GenePhenoConfig(n_terms=5, n_concepts=4, seq_dim=3, go_dim=6, hidden=8, go_term_rank=2,
                             ortholog_dim=3, ortholog_rank=2)
    torch.manual_seed(0)
    module = GenePheno(config).eval()
    with torch.no_grad():
        module.go_term_head[2].weight.normal_()
        module.ortholog_head[2].weight.normal_()
    inputs = {"seq_emb": torch.randn(4, 3), "go_bag": (torch.rand(4, 6) < 0.5).float(), "ortholog": torch.rand(4, 3)}
    terms = torch.tensor([0, 4, 2, 2])
    mask = (torch.rand(4, 4) < 0.5).float()
    with torch.no_grad():
        full = module.logit_parts(**inputs).phenotype_logits
        masked = module.logit_parts(**inputs, concept_mask=mask).phenotype_logits
        assert torch.allclose(module.selected_logits(terms, **inputs), full[torch.arange(4), terms], atol=1e-5)
        assert torch.allclose(module.selected_logits(terms, **inputs, concept_mask=mask),
                              masked[torch.arange(4), terms], atol=1e-5)
    # a mask of zeros leaves only the bias and the direct paths
    parts = module.logit_parts(**inputs, concept_mask=torch.zeros(4, 4))
    assert torch.allclose(parts.concepts_and_bias, module.phenotype_head.bias.expand(4, 5))


def test_mapped_pairs_add_one_readable_weight_per_pair_to_w_o():
    config = GenePhenoConfig(n_terms=3, n_concepts=2, seq_dim=2, hidden=4, ortholog_dim=4, ortholog_rank=2,
                             mapped_pairs=3)
    torch.manual_seed(0)
    module = GenePheno(config).eval()
    module.set_mapped_pairs([0, 2, 2], [1, 0, 3])
    with torch.no_grad():
        module.ortholog_head[2].weight.normal_()
        module.mapped_weight.copy_(torch.tensor([1.5, -2.0, 0.5]))
    o = torch.rand(5, 4)
    seq = torch.randn(5, 2)
    # by hand: W_o = U V + the three mapped weights
    dense = module.ortholog_head[2].weight.double() @ module.ortholog_head[0].weight.double()
    dense[0, 1] += 1.5
    dense[2, 0] += -2.0
    dense[2, 3] += 0.5
    assert torch.allclose(module.ortholog_weight(), dense.detach())
    assert torch.allclose(module.ortholog_weight([2, 0], [3, 1]), dense.detach()[[2, 0]][:, [3, 1]])
    with torch.no_grad():
        parts = module.logit_parts(seq_emb=seq, ortholog=o)
        assert torch.allclose(parts.ortholog.double(), o.double() @ dense.T.detach(), atol=1e-5)
        terms = torch.tensor([2, 0, 1, 2, 0])
        assert torch.allclose(module.selected_logits(terms, seq_emb=seq, ortholog=o),
                              parts.phenotype_logits[torch.arange(5), terms], atol=1e-5)
    # the pairs are saved with the weights
    clone = GenePheno(config)
    clone.load_state_dict(module.state_dict())
    assert clone.mapped_index.tolist() == [[0, 2, 2], [1, 0, 3]]
    with pytest.raises(ValueError, match="expected 3 mapped pairs"):
        module.set_mapped_pairs([0], [1])
