"""The trainer: tiny end-to-end train-and-predict, determinism, resume, every method."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from _tiny_dataset import family_embeddings, make_tiny_dataset
from genepheno_core.errors import GenePhenoError
from genepheno_core.training import TrainConfig, load_model, run, train, train_and_predict


needs_diamond = pytest.mark.skipif(shutil.which("diamond") is None, reason="diamond not installed")


@pytest.fixture(scope="module")
def tiny():
    ds = make_tiny_dataset()
    return ds, family_embeddings(ds)


def _cfg(**kw):
    base = dict(dataset="tiny", encoder="family16", hidden=32, lr=1e-2, batch_size=16, max_epochs=12,
                patience=20, concept_min_genes=5, go_min_genes=2, tau=1.0)
    base.update(kw)
    return TrainConfig(**base)


def test_end_to_end_train_and_predict(tiny, tmp_path):
    ds, emb = tiny
    path = train(_cfg(out_dir=str(tmp_path / "ck")), ds, embeddings=emb)
    model = load_model(path, dataset=ds, encoder="family16")
    assert model.terms["term_id"].tolist() == ds.terms["term_id"].tolist()
    assert 0.0 < model.threshold < 1.0
    test = np.flatnonzero(ds.splits["random"] == "test")
    go_sets = [ds.go_terms["go_id"].iloc[ds.go[i].indices].tolist() for i in test]
    scores = model.probabilities(emb[test], go_sets)
    assert scores.shape == (test.size, ds.labels.shape[1])
    assert np.all((scores >= 0) & (scores <= 1))
    # it learned: better than the training-frequency baseline on test Fmax
    from genepheno_core.evaluation.metrics import fmax, propagate_scores

    naive, _ = train_and_predict(ds, "naive", "family16", "random", 0, _cfg())
    y = ds.labels[test].toarray()
    f_model = fmax(y, propagate_scores(scores, ds.term_ancestors))["fmax"]
    f_naive = fmax(y, propagate_scores(naive, ds.term_ancestors))["fmax"]
    assert f_model > f_naive + 0.05
    # sequence-only prediction works and concept activations are probabilities
    seq_only = model.probabilities(emb[test])
    assert seq_only.shape == scores.shape and not np.allclose(seq_only, scores)
    acts = model.concept_activations(emb[test], go_sets)
    assert acts.shape == (test.size, len(model.concepts)) and np.all((acts >= 0) & (acts <= 1))
    # W_p, W_g and bias reproduce the probabilities: s = W_p a + W_g g / sqrt(n) + b
    bag = model.go_bag(go_sets)
    g = bag / np.sqrt(np.maximum(bag.sum(axis=1, keepdims=True), 1.0))
    recon = 1 / (1 + np.exp(-(acts @ model.W_p.T + g @ model.W_g().T + model.bias)))
    np.testing.assert_allclose(recon, scores, atol=1e-5)
    # without GO the GO term path adds nothing
    acts0 = model.concept_activations(emb[test])
    np.testing.assert_allclose(1 / (1 + np.exp(-(acts0 @ model.W_p.T + model.bias))), seq_only, atol=1e-5)
    # W_g is formed from its factors only for the rows / columns asked for
    np.testing.assert_allclose(model.W_g([1, 3], [0, 2]), model.W_g()[np.ix_([1, 3], [0, 2])], atol=1e-12)
    assert model.metrics["valid"]["concept_auc"] > 0.5


def test_same_result_twice(tiny, tmp_path):
    ds, emb = tiny
    a = train(_cfg(out_dir=str(tmp_path / "a"), max_epochs=4), ds, embeddings=emb)
    b = train(_cfg(out_dir=str(tmp_path / "b"), max_epochs=4), ds, embeddings=emb)
    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert wa.keys() == wb.keys()
    assert all((wa[k] == wb[k]).all() for k in wa)
    c = train(_cfg(out_dir=str(tmp_path / "c"), max_epochs=4, seed=1), ds, embeddings=emb)
    wc = load_file(str(c / "model.safetensors"))
    assert not all((wa[k] == wc[k]).all() for k in wa)


def test_resume_after_kill_gives_the_same_model(tiny, tmp_path):
    ds, emb = tiny
    full = train(_cfg(out_dir=str(tmp_path / "full"), max_epochs=6), ds, embeddings=emb)

    def kill(epoch, record):
        if epoch == 3:
            raise KeyboardInterrupt

    out = tmp_path / "killed"
    with pytest.raises(KeyboardInterrupt):
        train(_cfg(out_dir=str(out), max_epochs=6), ds, embeddings=emb, epoch_callback=kill)
    assert not out.exists() and (tmp_path / "killed.partial" / "state.safetensors").exists()
    seen = []
    train(_cfg(out_dir=str(out), max_epochs=6, resume=True), ds, embeddings=emb,
          epoch_callback=lambda e, r: seen.append(e))
    assert seen == [4, 5, 6]  # continued after epoch 3
    assert not (tmp_path / "killed.partial").exists()
    wa, wb = load_file(str(full / "model.safetensors")), load_file(str(out / "model.safetensors"))
    assert all(np.allclose(wa[k].numpy(), wb[k].numpy(), atol=1e-6) for k in wa)
    # resuming with another configuration is refused
    with pytest.raises(KeyboardInterrupt):
        train(_cfg(out_dir=str(tmp_path / "k2"), max_epochs=6), ds, embeddings=emb, epoch_callback=kill)
    with pytest.raises(GenePhenoError, match="different configuration"):
        train(_cfg(out_dir=str(tmp_path / "k2"), max_epochs=6, lr=0.5, resume=True), ds, embeddings=emb)


def _ablation_facts(result) -> dict:
    """What each ablation switches off, read from a finished run."""
    module, config = result.module, result.config
    return {"no-go": module.config.go_dim == 0, "no-seq": module.config.seq_dim == 0,
            "bce": module.config.temperature == 1.0 and config.effective_loss == "bce",
            "no-excl": config.effective_lambda_excl == 0.0, "no-concept": config.effective_lambda_concept == 0.0}


@pytest.mark.parametrize("ablation", ["no-go", "no-seq", "bce", "no-excl", "no-concept"])
def test_ablations_run(tiny, ablation):
    ds, emb = tiny
    result = run(_cfg(max_epochs=2, ablations=(ablation,)), ds, embeddings=emb)
    # exactly this ablation's switch is off (the tiny config has tau=1.0, so "bce" is also read from the loss)
    assert {k for k, off in _ablation_facts(result).items() if off} == {ablation}
    assert np.isfinite(result.valid_metrics["fmax"])


def test_sparse_concepts_penalty_shrinks_w_p(tiny):
    from genepheno_core.training.trainer import _loss

    ds, emb = tiny
    plain = run(_cfg(max_epochs=6), ds, embeddings=emb)
    sparse = run(_cfg(max_epochs=6, lambda_sparse_concepts=5.0), ds, embeddings=emb)
    l1 = [np.abs(r.module.phenotype_head.weight.detach().numpy()).sum(axis=1).mean() for r in (plain, sparse)]
    assert l1[1] < 0.7 * l1[0]
    # the penalty is exactly lambda x the mean row L1 of W_p, added to the loss
    module = plain.module
    y = torch.zeros(2, ds.labels.shape[1])
    out = module(seq_emb=torch.from_numpy(emb[:2]))
    base = _loss(module, out, y, None, None, _cfg(), None)
    more = _loss(module, out, y, None, None, _cfg(lambda_sparse_concepts=0.3), None)
    assert (more - base).item() == pytest.approx(0.3 * l1[0], rel=1e-4)


def test_low_rank_homolog_penalty_is_the_factors_squared_norm():
    from genepheno_core.models import GenePheno, GenePhenoConfig
    from genepheno_core.training.trainer import _loss

    torch.manual_seed(0)
    module = GenePheno(GenePhenoConfig(n_terms=3, n_concepts=2, seq_dim=2, hidden=4, ortholog_dim=4,
                                       ortholog_rank=2, mapped_pairs=1))
    with torch.no_grad():
        module.ortholog_head[2].weight.normal_()
    out = module(seq_emb=torch.randn(2, 2), ortholog=torch.rand(2, 4))
    y = torch.zeros(2, 3)
    base = _loss(module, out, y, None, None, _cfg(), None)
    more = _loss(module, out, y, None, None, _cfg(lambda_ortholog_lowrank=0.2), None)
    expected = 0.2 * sum(float(module.ortholog_head[i].weight.detach().square().sum()) for i in (0, 2))
    assert (more - base).item() == pytest.approx(expected, rel=1e-4)


def _mapped_setup(**kw):
    """(module, config, data): a GenePheno module with a 2-pair mapped part, built by build_module as in training."""
    import scipy.sparse as sp

    from genepheno_core.training.trainer import PreparedData, build_module

    rng = np.random.default_rng(0)
    data = PreparedData(
        labels=sp.csr_matrix(rng.random((4, 3)) > 0.5, dtype=np.float32), train=np.arange(3),
        valid=np.array([3]), test=np.array([3]), term_ancestors=sp.identity(3, format="csr"),
        term_counts=np.ones(3), seq=rng.random((4, 2)).astype(np.float32),
        ortholog=np.zeros((4, 5), dtype=np.float32), concept_ids=["GO:1", "GO:2"],
        ortholog_related=sp.csr_matrix((np.ones(2, bool), ([0, 2], [1, 4])), shape=(3, 5)))
    cfg = _cfg(ortholog_rank=2, ortholog_mapped=True, **kw)
    torch.manual_seed(0)
    return build_module(cfg, data), cfg, data


def test_mapped_init_and_learning_rate_set_the_mapped_part_only():
    from genepheno_core.training.trainer import _param_groups

    plain, cfg, _ = _mapped_setup()
    assert torch.equal(plain.mapped_weight.detach(), torch.zeros(2))
    groups = _param_groups(plain, cfg)
    assert len(groups) == 1 and len(groups[0]["params"]) == len(list(plain.parameters()))
    primed, cfg, _ = _mapped_setup(mapped_init=0.25, mapped_lr_scale=4.0)
    assert torch.equal(primed.mapped_weight.detach(), torch.full((2,), 0.25))
    # a constant fill draws no random numbers: every other weight is the seeded default
    rest = {k: v for k, v in plain.state_dict().items() if k != "mapped_weight"}
    assert all(torch.equal(v, primed.state_dict()[k]) for k, v in rest.items())
    groups = _param_groups(primed, cfg)
    assert len(groups) == 2 and groups[1]["params"] == [primed.mapped_weight]
    assert groups[1]["lr"] == pytest.approx(4.0 * cfg.lr)
    assert all(p is not primed.mapped_weight for p in groups[0]["params"])
    assert len(groups[0]["params"]) + 1 == len(list(primed.parameters()))
    with pytest.raises(ValueError, match="mapped_lr_scale"):
        _cfg(mapped_lr_scale=0.0)


def test_mapped_options_without_a_mapped_part_are_named_as_ignored(caplog):
    from genepheno_core.training.trainer import build_module

    _, cfg, data_without = _mapped_setup()
    data_without.ortholog_related = None
    with caplog.at_level("WARNING", logger="genepheno_core.training.trainer"):
        build_module(cfg, data_without)
        assert not caplog.records
        build_module(cfg.replace(mapped_lr_scale=10.0), data_without)
    assert "ignored" in caplog.text and "mapped_lr_scale" in caplog.text


def test_concept_init_starts_w_p_at_the_training_enrichment(caplog):
    import scipy.sparse as sp

    from genepheno_core.training.trainer import build_module

    _, cfg, data = _mapped_setup()
    cfg = cfg.replace(concept_init=0.0, concept_init_min_genes=0)  # off (the default is on), to compare against
    # training genes 0-2, all GO-annotated; gene 3 (validation) must not count
    data.labels = sp.csr_matrix(np.array([[1, 0, 1], [1, 1, 0], [0, 1, 0], [1, 1, 1]], dtype=np.float32))
    data.concept_labels = sp.csr_matrix(np.array([[1, 0], [1, 1], [0, 1], [0, 0]], dtype=np.float32))
    data.has_go = np.array([True, True, True, True])
    torch.manual_seed(0)
    plain = build_module(cfg, data)
    torch.manual_seed(0)
    primed = build_module(cfg.replace(concept_init=0.5), data)

    def log_odds(a, b, c, d, p=0.5):  # term & concept, term only, concept only, neither
        return np.log((a + p) / (b + p)) - np.log((c + p) / (d + p))

    # phenotype 0 (genes 0, 1): concept 0 in both, concept 1 in gene 1 (and gene 2 without the term)
    expected = 0.5 * np.array([[log_odds(2, 0, 0, 1), log_odds(1, 1, 1, 0)],
                               [log_odds(1, 1, 1, 0), log_odds(2, 0, 0, 1)],
                               [log_odds(1, 0, 1, 1), log_odds(0, 1, 2, 0)]])
    assert np.allclose(primed.phenotype_head.weight.detach().numpy(), expected, atol=1e-6)
    # nothing else moves: the random init was drawn before it was replaced
    rest = {k: v for k, v in plain.state_dict().items() if k != "phenotype_head.weight"}
    assert all(torch.equal(v, primed.state_dict()[k]) for k, v in rest.items())
    # with a minimum number of training genes, the rarer phenotypes keep their random start
    torch.manual_seed(0)
    masked = build_module(cfg.replace(concept_init=0.5, concept_init_min_genes=2), data)
    weight = masked.phenotype_head.weight.detach().numpy()
    assert np.allclose(weight[:2], expected[:2], atol=1e-6)  # phenotypes 0 and 1: 2 training genes each
    assert np.array_equal(weight[2], plain.phenotype_head.weight.detach().numpy()[2])  # phenotype 2: 1 gene
    data.concept_labels = None
    with caplog.at_level("WARNING", logger="genepheno_core.training.trainer"):
        build_module(cfg.replace(concept_init=0.01, concept_init_min_genes=20), data)  # the default: no warning
        assert not caplog.records
        build_module(cfg.replace(concept_init=0.5), data)
    assert "concept_init" in caplog.text and "ignored" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="genepheno_core.training.trainer"):
        build_module(cfg.replace(concept_init_min_genes=2), data)  # the mask alone does nothing: said so
    assert "concept_init_min_genes 2 has no effect" in caplog.text


def test_init_from_starts_the_shared_parts_from_another_model(tiny, tmp_path):
    import copy

    from genepheno_core.training.trainer import build_module, init_shared_parts, prepare_data

    ds, emb = tiny
    source = load_model(train(_cfg(out_dir=str(tmp_path / "src"), max_epochs=3), ds, embeddings=emb))
    src = source.module
    data = prepare_data(ds.for_split("random") if hasattr(ds, "for_split") else ds, _cfg(), emb)
    # this model's GO vocabulary in another order, with one term the source has not
    data.go_vocab = list(reversed(data.go_vocab))[:-1] + ["GO:9999999"]
    data.concept_ids = list(reversed(data.concept_ids))
    torch.manual_seed(1)
    fresh = build_module(_cfg(), data)
    module = copy.deepcopy(fresh)
    counts = init_shared_parts(module, data, source.path)
    n_go = len(data.go_vocab)
    assert counts["GO inputs"] == (n_go - 1, n_go) and counts["concepts"] == (len(data.concept_ids),) * 2
    index = {g: i for i, g in enumerate(source.go_inputs)}
    for j, g in enumerate(data.go_vocab):  # each column is the source's column of the same GO term
        want = src.inputs.go_proj.weight[:, index[g]] if g in index else fresh.inputs.go_proj.weight[:, j]
        assert torch.equal(module.inputs.go_proj.weight[:, j], want)
    concept = {g: i for i, g in enumerate(source.concepts["go_id"])}
    rows = [concept[g] for g in data.concept_ids]
    assert torch.equal(module.concept_head.weight, src.concept_head.weight[rows])
    assert torch.equal(module.concept_head.bias, src.concept_head.bias[rows])
    for name in ("seq_proj.weight", "seq_proj.bias", "go_present"):
        assert torch.equal(module.inputs.state_dict()[name], src.inputs.state_dict()[name])
    assert all(torch.equal(v, src.trunk.state_dict()[k]) for k, v in module.trunk.state_dict().items())
    # the phenotype paths keep their fresh start
    for name in ("phenotype_head.weight", "phenotype_head.bias", "go_term_head.0.weight"):
        assert torch.equal(module.state_dict()[name], fresh.state_dict()[name])
    # the config option does the same inside build_module (seeded draws unchanged)
    torch.manual_seed(1)
    built = build_module(_cfg(init_from=str(source.path)), data)
    assert all(torch.equal(v, built.state_dict()[k]) for k, v in module.state_dict().items())
    with pytest.raises(ValueError, match="hidden is 32, this model's 16"):
        init_shared_parts(build_module(_cfg(hidden=16), data), data, source)
    with pytest.raises(ValueError, match="init_from"):
        _cfg(model="mlp-bce", init_from=str(source.path))


@pytest.mark.parametrize("method", ["naive", "mlp-bce", "go-mlp", "kmer-lr",
                                    pytest.param("diamond-score", marks=needs_diamond)])
def test_train_and_predict_every_method(tiny, method, tmp_path, monkeypatch):
    # mlp-bce and kmer-lr use the real composition encoder (no weights; cache in tmp_path)
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    ds, _ = tiny
    cfg = _cfg(max_epochs=3, out_dir=str(tmp_path / method))
    scores, info = train_and_predict(ds, method, "composition", "random", 0, cfg)
    n_test = int((ds.splits["random"] == "test").sum())
    assert scores.shape == (n_test, ds.labels.shape[1])
    assert np.all((scores >= 0) & (scores <= 1))
    assert info["test_index"].tolist() == np.flatnonzero(ds.splits["random"] == "test").tolist()
    assert 0 < info["valid_metrics"]["fmax"] <= 1
    assert (tmp_path / method / "metrics.json").exists()


def test_mlp_bce_with_given_embeddings(tiny):
    ds, emb = tiny
    result = run(_cfg(model="mlp-bce", max_epochs=3), ds, embeddings=emb)
    assert result.module.config.seq_dim == emb.shape[1]
    assert result.test_scores().shape[0] == int((ds.splits["random"] == "test").sum())


@needs_diamond
def test_homology_branch(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    ds, emb = tiny
    path = train(_cfg(out_dir=str(tmp_path / "hom"), homology=True, max_epochs=3), ds, embeddings=emb)
    model = load_model(path, dataset=ds)
    assert model.uses_homology and model.module.config.homology_dim == ds.labels.shape[1]
    seqs = ds.genes["sequence"].tolist()[:4]
    with_hom = model.probabilities(emb[:4], sequences=seqs)
    without = model.probabilities(emb[:4])
    assert with_hom.shape == (4, ds.labels.shape[1]) and not np.allclose(with_hom, without)


def test_config_validation():
    with pytest.raises(ValueError):
        TrainConfig(model="svm")
    with pytest.raises(ValueError):
        TrainConfig(ablations=("no-brain",))
    with pytest.raises(ValueError):
        TrainConfig(model="naive", ablations=("bce",))
    cfg = TrainConfig(ablations=["bce", "no-excl"])
    assert cfg.effective_loss == "bce" and cfg.effective_lambda_excl == 0
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="loss"):
        TrainConfig(loss="hinge")
    # the "bce" ablation drops the contrastive part of the combined loss
    assert TrainConfig(loss="contrastive+bce", ablations=["bce"]).effective_loss == "bce"


def test_combined_loss_is_contrastive_plus_weighted_bce():
    import torch

    from genepheno_core.models.genepheno import GenePhenoOutput
    from genepheno_core.models.losses import bce_loss, contrastive_multilabel_loss
    from genepheno_core.training.trainer import _loss

    class Module:
        class config:
            temperature = 0.5

    s = torch.tensor([[2.0, -1.0, 0.5], [-3.0, 1.0, 4.0]])
    y = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    cfg = TrainConfig(loss="contrastive+bce", lambda_bce=7.0, lambda_excl=0.0, lambda_concept=0.0, tau=0.5)
    got = _loss(Module(), GenePhenoOutput(s), y, None, None, cfg, None)
    want = contrastive_multilabel_loss(s, y, tau=0.5) + 7.0 * bce_loss(s / 0.5, y)
    assert float(got) == pytest.approx(float(want))
    assert float(want) > float(contrastive_multilabel_loss(s, y, tau=0.5))


def test_missing_split(tiny):
    ds, emb = tiny
    with pytest.raises(GenePhenoError, match="no 'temporal' split"):
        run(_cfg(split="temporal"), ds, embeddings=emb)


@pytest.mark.integration
def test_real_hpo_subset_end_to_end(tmp_path):
    """hpo from the mirror (built when absent), 900 genes: GenePheno with real GO concepts,
    real exclusive pairs and composition embeddings trains, saves, reloads and propagates
    user GO ids with the training GO release."""
    import os

    if not os.environ.get("GENEPHENO_MIRROR"):
        pytest.skip("GENEPHENO_MIRROR is not set")
    from genepheno_core.datasets import build_dataset, load_dataset, save_dataset
    from genepheno_core.errors import MissingDataError

    try:
        full = load_dataset("hpo")
    except (MissingDataError, FileNotFoundError):
        full = build_dataset("hpo")
        save_dataset(full)
    rows = np.random.default_rng(0).choice(len(full.genes), size=900, replace=False)
    ds = full.subset(np.sort(rows))
    cfg = TrainConfig(dataset="hpo", encoder="composition", max_epochs=2, concept_min_genes=10,
                      out_dir=str(tmp_path / "hpo"), hidden=64)
    path = train(cfg, ds)
    model = load_model(path, dataset=ds, encoder="composition")
    assert len(model.concepts) > 20 and model.go_inputs
    assert np.isfinite(model.metrics["valid"]["fmax"]) and 0 < model.metrics["valid"]["concept_auc"] <= 1
    # a leaf GO term is propagated to its ancestors in the input bag
    leaf = "GO:0007268"  # chemical synaptic transmission
    bag = model.go_bag([[leaf]])
    ancestors = model.go_ontology().ancestors(leaf, include_self=True)
    expected = {g for g in model.go_inputs if g in ancestors}
    assert {model.go_inputs[j] for j in np.flatnonzero(bag[0])} == expected and expected
    # the cross-species input: the real mpo genes (mouse knockouts), stored with the model
    assert model.uses_ortholog and model.cross_species.dataset == "mpo"
    assert len(model.cross_species.genes) > 7000 and model.cross_species.terms["term_id"].str.startswith("MP:").all()
    # most human disease genes find a mouse homolog whose knockout phenotypes they then read
    o = model.cross_species.vectors(ds.genes["sequence"].iloc[:20].tolist())
    assert o.shape == (20, len(model.cross_species.terms)) and (o.sum(axis=1) > 0).sum() >= 12
    assert (o >= 0).all() and (o <= 1 + 1e-6).all()  # bit-score-weighted means of 0/1 labels


def test_cross_species_resolution():
    assert TrainConfig(dataset="hpo").cross_species_dataset == "mpo"
    assert TrainConfig(dataset="hpo-temporal").cross_species_dataset == "mpo"
    assert TrainConfig(dataset="mpo").cross_species_dataset == "hpo"
    assert TrainConfig(dataset="/data/datasets/mpo-no-imp-igi").cross_species_dataset == "hpo"
    assert TrainConfig(dataset="tiny").cross_species_dataset is None  # no known other species
    assert TrainConfig(dataset="hpo", cross_species="my-mouse").cross_species_dataset == "my-mouse"
    assert TrainConfig(dataset="hpo", ablations=("no-orth",)).cross_species_dataset is None
    assert TrainConfig(dataset="hpo", ortholog_rank=0).cross_species_dataset is None
    assert TrainConfig(dataset="hpo", cross_species=None).cross_species_dataset is None
    assert TrainConfig(dataset="hpo", model="go-mlp").cross_species_dataset is None
    assert TrainConfig(dataset="hpo", model="go-orth-mlp").cross_species_dataset == "mpo"


def test_weight_average_is_bias_corrected():
    import torch

    from genepheno_core.training.trainer import WeightAverage

    module = torch.nn.Linear(2, 1, bias=False)
    avg = WeightAverage(module, decay=0.9)
    assert torch.equal(avg.averaged(module)["weight"], module.weight)  # no step yet: as is
    seen = []
    for value in (1.0, 2.0, 4.0):
        with torch.no_grad():
            module.weight.fill_(value)
        avg.update(module)
        seen.append(value)
    # sum_i (1 - d) d^(t - i) w_i / (1 - d^t): the initial weights carry no weight
    w = np.array([0.9 ** 2, 0.9, 1.0]) * 0.1
    expected = float((w * np.array(seen)).sum() / (1 - 0.9 ** 3))
    assert avg.averaged(module)["weight"][0, 0].item() == pytest.approx(expected, rel=1e-6)


def test_ema_off_changes_the_result(tiny):
    ds, emb = tiny
    on = run(_cfg(max_epochs=3), ds, embeddings=emb)
    off = run(_cfg(max_epochs=3, ema_decay=0.0), ds, embeddings=emb)
    assert not np.allclose(on.valid_scores, off.valid_scores)
    # baselines never average
    assert TrainConfig(model="go-mlp").effective_ema_decay == 0.0


@needs_diamond
def test_cross_species_input(tmp_path, monkeypatch):
    from unittest import mock

    from _tiny_dataset import FAMILY_PHENOTYPES, make_tiny_other_species

    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    ds = make_tiny_dataset()
    emb = family_embeddings(ds)
    other = make_tiny_other_species(ds)
    cfg = _cfg(max_epochs=3, cross_species="tiny-other", ortholog_rank=4, go_term_rank=4)
    with mock.patch("genepheno_core.datasets.load_labels_dataset", return_value=other) as loader:
        result = run(cfg, ds, embeddings=emb)
        loader.assert_called_once_with("tiny-other")
        orth = result.data.ortholog
        assert orth.shape == (len(ds.genes), other.labels.shape[1])
        assert (orth.sum(axis=1) > 0).mean() > 0.9  # nearly every gene has a homolog there
        # each gene's homologs carry its own family's phenotypes (weights sum to 1 per gene)
        fam = ds.genes["gene_id"].str[1].astype(int).to_numpy()
        col = {t: j for j, t in enumerate(ds.terms["term_id"])}
        hit = orth.sum(axis=1) > 0
        for f, phenos in enumerate(FAMILY_PHENOTYPES):
            rows = hit & (fam == f)
            assert np.allclose(orth[rows][:, col[phenos[0]]], 1.0)
        assert result.module.ortholog_head is not None and result.module.config.ortholog_dim == orth.shape[1]
        # the ablation and the reference MLP
        ablated = run(cfg.replace(ablations=("no-orth",)), ds, embeddings=emb)
        assert ablated.data.ortholog is None and ablated.module.ortholog_head is None
        mlp = run(cfg.replace(model="go-orth-mlp"), ds, embeddings=emb)
        assert mlp.module.config.ortholog_dim == orth.shape[1] and mlp.module.config.seq_dim == 0
        assert np.isfinite(mlp.valid_metrics["fmax"])


def _other_species_with_go(ds):
    """The tiny other species with GO annotations (its family's GO terms, propagated) in the
    reverse column order of the tiny dataset's GO table."""
    import scipy.sparse as sp

    from _tiny_dataset import FAMILY_GO, _go_ancestors, make_tiny_other_species

    other = make_tiny_other_species(ds)
    go_terms = ds.go_terms.iloc[::-1].reset_index(drop=True)
    col = {g: j for j, g in enumerate(go_terms["go_id"])}
    fam = other.genes["gene_id"].str[1].astype(int).to_numpy()
    go = sp.lil_matrix((len(fam), len(col)), dtype=np.uint8)
    for i, f in enumerate(fam):
        for g in set().union(*(_go_ancestors(t) for t in FAMILY_GO[f])):
            go[i, col[g]] = 1
    other.go, other.go_terms = go.tocsr(), go_terms
    return other


@needs_diamond
def test_other_species_genes_train_as_extra_rows(tmp_path, monkeypatch):
    """cross_species_rows: the other species' genes are extra training rows labelled through
    equivalent mappings only; a phenotype no mapping reaches is unknown for them (out of the
    loss); their inputs are their own embedding and GO (by GO id) and an empty homolog-phenotype
    vector; genes with no mapped phenotype, and on a homology split genes linked to a valid or
    test gene, are left out; validation and the frequency start use this dataset's genes."""
    from unittest import mock

    import pandas as pd

    from _tiny_dataset import FAMILY_PHENOTYPES
    from genepheno_core.ontology import load_ontology
    from genepheno_core.training import trainer as trainer_module

    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    ds = make_tiny_dataset()
    emb = family_embeddings(ds)
    other = _other_species_with_go(ds)
    fam = other.genes["gene_id"].str[1].astype(int).to_numpy()
    mapped = ["HP:0000252", "HP:0001250", "HP:0000256"]  # two family-0 leaves, one of family 1
    mappings = pd.DataFrame({"mp_id": mapped, "hp_id": mapped, "predicate_id": "skos:exactMatch",
                             "mapping_set": "tiny"})
    mappings.loc[len(mappings)] = ["HP:0001943", "HP:0001943", "skos:broadMatch", "tiny"]  # not carried
    rng = np.random.default_rng(3)
    vectors = {seq: rng.normal(size=16).astype(np.float32) for seq in other.genes["sequence"]}
    embedded = []

    def fake_embed(sequences, encoder, **kw):
        embedded.append(list(sequences))
        return np.stack([vectors[q] for q in sequences])

    ont = load_ontology(Path(__file__).parent / "data" / "models" / "tiny_hp.obo")
    col = {t: j for j, t in enumerate(ds.terms["term_id"])}

    def closure(leaves):
        return sorted({col[t] for leaf in leaves for t in ont.ancestors(leaf, include_self=True) if t in col})

    cfg = _cfg(max_epochs=2, cross_species="tiny-other", ortholog_rank=4, go_term_rank=4, cross_species_rows=0.5)
    losses = []
    real_loss = trainer_module._loss

    def spy_loss(*args, **kwargs):
        losses.append((kwargs.get("label_mask"), kwargs.get("row_weight"), kwargs.get("logit_offset")))
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "_loss", spy_loss)
    with mock.patch("genepheno_core.datasets.load_labels_dataset", return_value=other), \
            mock.patch("genepheno_core.sources.sssom.mp_hp_mappings", return_value=mappings), \
            mock.patch("genepheno_core.embeddings.embed_sequences", side_effect=fake_embed):
        result = run(cfg, ds, embeddings=emb)
        data, n = result.data, len(ds.genes)
        kept = np.flatnonzero(fam < 2)  # family 2 reaches no mapped phenotype
        np.testing.assert_array_equal(data.extra, n + np.arange(kept.size))
        assert data.labels.shape == (n + kept.size, len(col)) and data.extra_weight == 0.5
        expected = {0: closure(mapped[:2]), 1: closure(mapped[2:])}
        for row, gene in zip(data.extra, kept):
            assert sorted(data.labels[row].indices.tolist()) == expected[fam[gene]]
        known = np.zeros(len(col), dtype=bool)
        known[closure(mapped)] = True
        np.testing.assert_array_equal(data.label_known, known)
        # inputs: own embedding, own GO by id, no homolog phenotypes; validation is untouched
        assert embedded == [other.genes["sequence"].iloc[kept].tolist()]
        np.testing.assert_array_equal(data.seq[data.extra], np.stack([vectors[q] for q in embedded[0]]))
        assert (data.ortholog[data.extra] == 0).all() and (data.ortholog[:n].sum(axis=1) > 0).mean() > 0.9
        other_ids = other.go_terms["go_id"].tolist()
        for name, vocab in (("go_bag", data.go_vocab), ("concept_labels", data.concept_ids)):
            want = other.go[kept][:, [other_ids.index(g) for g in vocab]].toarray()
            np.testing.assert_array_equal(getattr(data, name)[data.extra].toarray(), want)
        assert data.has_go[data.extra].all()
        assert (data.valid < n).all() and (data.test < n).all() and (data.train < n).all()
        freq = np.asarray(ds.labels[data.train].mean(axis=0)).ravel().clip(1e-4, 1 - 1e-4)
        assert np.isfinite(result.valid_metrics["fmax"])
        # the loss saw the extra rows with their unknown phenotypes masked and their weight
        # their label shift: the log-odds of a phenotype's rate among them minus among the training genes
        def logit(p):
            p = np.clip(p, 1e-4, 1 - 1e-4)
            return np.log(p / (1 - p))

        extra_rate = np.asarray(data.labels[data.extra].mean(axis=0)).ravel()
        own_rate = np.asarray(ds.labels[data.train].mean(axis=0)).ravel()
        np.testing.assert_allclose(data.extra_shift, np.where(known, logit(extra_rate) - logit(own_rate), 0.0),
                                   rtol=1e-5, atol=1e-6)
        assert (data.extra_shift[known] > 0).all()  # here every one of them has a mapped phenotype
        seen = [(m, w, o) for m, w, o in losses if m is not None]
        assert seen, "no batch held an extra row"
        temperature = float(result.module.config.temperature)
        for label_mask, weight, offset in seen:
            extra_rows = weight.numpy() == 0.5
            assert extra_rows.any() and set(np.unique(weight.numpy())) <= {0.5, 1.0}
            assert (label_mask[torch.from_numpy(extra_rows)] == torch.from_numpy(known)).all()
            assert label_mask[torch.from_numpy(~extra_rows)].all()
            np.testing.assert_allclose(offset.numpy()[extra_rows], np.tile(temperature * data.extra_shift,
                                                                          (int(extra_rows.sum()), 1)), rtol=1e-5)
            assert (offset.numpy()[~extra_rows] == 0).all()
        # the frequency start reads this dataset's training genes only
        fresh = trainer_module.build_module(cfg, data)
        np.testing.assert_allclose(torch.sigmoid(fresh.phenotype_head.bias / cfg.tau).detach().numpy(), freq,
                                   rtol=1e-4)
        # a homology split: the other species' family-1 genes are homologs of the held-out family
        ds.splits["homology"] = np.where(ds.genes["gene_id"].str[1] == "0", "train",
                                         np.where(ds.genes["gene_id"].str[1] == "1", "valid", "test"))
        hom = trainer_module.prepare_data(ds, cfg.replace(split="homology"), embeddings=emb)
        assert hom.extra.size == int((fam == 0).sum())
        np.testing.assert_array_equal(hom.seq[hom.extra], np.stack([vectors[q] for q in embedded[-1]]))
        assert embedded[-1] == other.genes["sequence"].iloc[np.flatnonzero(fam == 0)].tolist()
    with pytest.raises(ValueError, match="cross_species_rows"):
        _cfg(cross_species_rows=-1.0)
    with pytest.raises(ValueError, match="cross_species"):
        _cfg(cross_species="none", cross_species_rows=1.0)


def test_training_uses_the_split_vocabulary_of_training_genes(tiny, tmp_path):
    """A term that reaches min_genes only with valid/test genes is neither trained, scored
    nor saved with the model."""
    from genepheno_core.datasets import Dataset

    small, emb = tiny
    train_rows = np.flatnonzero(small.splits["random"] == "train")
    train_counts = np.asarray(small.labels[train_rows].sum(axis=0)).ravel()
    all_counts = np.asarray(small.labels.sum(axis=0)).ravel()
    # the smallest min_genes that some term reaches overall but not among training genes
    min_genes = int(min(c + 1 for c, a in zip(train_counts, all_counts) if a > c))
    ds = Dataset("tiny", small.genes, small.labels, small.terms, small.term_ancestors, small.go, small.go_terms,
                 small.splits, {"config": {"min_genes": min_genes}})
    expected = small.terms["term_id"][train_counts >= min_genes].tolist()
    assert 0 < len(expected) < ds.n_terms
    scores, info = train_and_predict(ds, "naive", "family16", "random", 0, _cfg())
    assert info["term_ids"] == expected and scores.shape[1] == len(expected)
    path = train(_cfg(model="mlp-bce", max_epochs=2, out_dir=str(tmp_path / "ck")), ds, embeddings=emb)
    assert load_model(path).terms["term_id"].tolist() == expected


def _tiny_go_reference(ds):
    """The tiny dataset's own proteins and GO as a GO reference, and its GO closure."""
    import pandas as pd

    from _tiny_dataset import _go_ancestors
    from genepheno_core.models import go_transfer as gt

    go_ids = ds.go_terms["go_id"].astype(str).tolist()
    own = [[go_ids[j] for j in ds.go[i].indices] for i in range(len(ds.genes))]
    annotated = [i for i, terms in enumerate(own) if terms]
    reference = gt.GoReference(
        ds.genes["accession"].to_numpy(dtype=object)[annotated], ds.genes["sequence"].iloc[annotated].tolist(),
        np.array(["human"] * len(annotated), dtype=object),
        pd.DataFrame([(ds.genes["accession"].iloc[i], t, "IEA", "") for i in annotated for t in own[i]],
                     columns=gt.ANNOTATION_COLUMNS))
    closure = gt.GoClosure({g: g for g in go_ids}, {g: frozenset(_go_ancestors(g) - {g}) for g in go_ids})
    return reference, closure


@pytest.fixture
def tiny_go_reference(tmp_path, monkeypatch):
    """(tiny dataset, its embeddings, GO reference, GO closure): GO transfer reads the tiny
    dataset's own proteins as the GO reference (load_go_reference and the dataset's
    go_ontology patched); GENEPHENO_HOME in tmp_path."""
    from genepheno_core.models import go_transfer as gt

    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path))
    ds = make_tiny_dataset()
    reference, closure = _tiny_go_reference(ds)
    monkeypatch.setattr(gt, "load_go_reference", lambda *a, **k: reference)
    monkeypatch.setattr(ds, "go_ontology", lambda: closure, raising=False)
    return ds, family_embeddings(ds), reference, closure


@needs_diamond
def test_transferred_go_variant_scores_the_same_model_with_homolog_go(tiny_go_reference, monkeypatch):
    from genepheno_core.models import go_transfer as gt
    from genepheno_core.training.trainer import predict_module

    ds, emb, reference, closure = tiny_go_reference
    monkeypatch.setattr("genepheno_core.training.trainer._embeddings", lambda d, e, given, p: emb)
    scores, info = train_and_predict(ds, "genepheno", "family16", "random", 0, _cfg(max_epochs=3),
                                     variants=("transferred-go",))
    pasted = info["variant_scores"]["transferred-go"]
    # the concept layer on the test genes, by hand: macro AUC of the concept activations
    from genepheno_core.evaluation.metrics import macro_auc

    check = run(_cfg(max_epochs=3), ds, embeddings=emb)
    rows = check.data.test[check.data.has_go[check.data.test]]
    acts = predict_module(check.module, check.data, rows, concepts=True)
    assert info["test_concept_auc"] == pytest.approx(
        macro_auc(check.data.concept_labels[rows].toarray().astype(bool), acts))
    assert 0.5 < info["test_concept_auc_without_go"] < info["test_concept_auc"] <= 1.0
    assert pasted.shape == scores.shape and not np.allclose(pasted, scores)
    # by hand: the same model, each test gene's GO input = its homologs' GO (not its own)
    result = run(_cfg(max_epochs=3), ds, embeddings=emb)
    test = result.data.test
    genes = ds.genes.iloc[test]
    transfer = gt.transfer_go(genes["sequence"].tolist(), reference, closure,
                              exclude_accessions=genes["accession"].tolist(), threads=1)
    assert not (transfer.evidence["target"].to_numpy()
                == genes["accession"].to_numpy()[transfer.evidence["query"].to_numpy()]).any()
    bag = result.data.go_bag.tolil()
    bag[test] = transfer.reindex(result.data.go_vocab)
    result.data.go_bag = bag.tocsr()
    np.testing.assert_allclose(pasted, predict_module(result.module, result.data, test), atol=1e-6)
    # the variant's validation metrics: the validation genes fed their homologs' GO, by hand
    from genepheno_core.training.trainer import full_metrics

    valid = result.data.valid
    genes = ds.genes.iloc[valid]
    transfer = gt.transfer_go(genes["sequence"].tolist(), reference, closure,
                              exclude_accessions=genes["accession"].tolist(), threads=1)
    bag = result.data.go_bag.tolil()
    bag[valid] = transfer.reindex(result.data.go_vocab)
    result.data.go_bag = bag.tocsr()
    expect = full_metrics(result.data, predict_module(result.module, result.data, valid), valid)
    got = info["variant_valid_metrics"]["transferred-go"]
    assert got["fmax"] == pytest.approx(expect["fmax"]) and got["auc"] == pytest.approx(expect["auc"])
    assert got["fmax"] != pytest.approx(info["valid_metrics"]["fmax"])  # not the own-GO metrics
    # the evidence-quality measures of both cells: recomputed by hand on the same model, the
    # pasted one with the homologs' GO; no homolog-phenotype path here, so no plausibility
    from genepheno_core.training.trainer import evidence_measures

    own, homolog_go = info["evidence"], info["variant_evidence"]["transferred-go"]
    assert own["plausibility"] is None
    k = min(20, ds.labels.shape[1])
    assert own["concentration"]["n_predictions"] == test.size * k
    assert own["deletion"]["n_predictions"] == min(200, test.size) * k
    assert own["concepts"]["n_genes"] == int(result.data.has_go[result.data.train].sum())
    pasted_bag = result.data.go_bag
    result.data.go_bag = check.data.go_bag
    by_hand = evidence_measures(result, test)
    assert by_hand["concentration"]["share"] == pytest.approx(own["concentration"]["share"])
    assert by_hand["deletion"]["pass_rate"] == pytest.approx(own["deletion"]["pass_rate"])
    by_hand = evidence_measures(result, test, pasted_bag)
    assert by_hand["concentration"]["share"] == pytest.approx(homolog_go["concentration"]["share"])
    assert homolog_go["concentration"]["share"] != pytest.approx(own["concentration"]["share"])
    with pytest.raises(GenePhenoError, match="unknown prediction variant"):
        train_and_predict(ds, "genepheno", "family16", "random", 0, _cfg(max_epochs=1), variants=("guess",))


@needs_diamond
def test_go_transfer_trains_on_go_of_homologs_within_the_split(tiny_go_reference, monkeypatch):
    """The "go-transfer" ablation: the GO input is transferred from DIAMOND homologs (here the
    tiny dataset's own proteins as the GO reference), never from the gene itself and, for a
    training gene, never from a valid / test protein; the concept targets stay its own GO."""
    from genepheno_core.models import go_transfer as gt

    ds, emb, _, _ = tiny_go_reference
    go_ids = ds.go_terms["go_id"].astype(str).tolist()
    seen = {}
    real = gt.transfer_go

    def spy(*args, **kwargs):
        seen["result"] = real(*args, **kwargs)
        return seen["result"]

    monkeypatch.setattr(gt, "transfer_go", spy)
    result = run(_cfg(max_epochs=3, ablations=("go-transfer",)), ds, embeddings=emb)
    data = result.data
    assert result.config.effective_go_source == "transferred"
    transfer = seen["result"]
    part = ds.splits["random"].to_numpy()
    held = set(ds.genes["accession"][part != "train"])
    used = transfer.evidence.assign(part=part[transfer.evidence["query"].to_numpy()])
    assert not (used["target"] == ds.genes["accession"].to_numpy()[used["query"].to_numpy()]).any()
    assert not used.loc[used["part"] == "train", "target"].isin(held).any()
    # the GO input is the transferred scores over the GO input vocabulary, not the own GO
    cols = [go_ids.index(g) for g in data.go_vocab]
    np.testing.assert_allclose(data.go_bag.toarray(), transfer.reindex(data.go_vocab).toarray())
    assert not np.array_equal(data.go_bag.toarray() > 0, ds.go[:, cols].toarray() > 0)
    assert data.go_bag.max() <= 1.0 + 1e-6
    assert (data.go_bag.sum(axis=1) > 0).mean() > 0.8  # family members are homologs
    # the concept loss is masked by the gene's own GO, not by the transferred input
    np.testing.assert_array_equal(data.has_go, np.asarray(ds.go.sum(axis=1)).ravel() > 0)
    # concept targets: the gene's own annotations
    concept_cols = [go_ids.index(g) for g in data.concept_ids]
    np.testing.assert_array_equal(data.concept_labels.toarray(), ds.go[:, concept_cols].toarray())
    assert np.isfinite(result.valid_metrics["fmax"])


@needs_diamond
def test_own_plus_transferred_go_swaps_a_share_of_training_genes(tiny_go_reference):
    """go_source "own+transferred": the own GO stays the input (validation uses it); each
    epoch a go_transfer_rate share of the training genes see their homologs' GO instead."""
    from genepheno_core.training.trainer import _batch_inputs

    ds, emb, _, _ = tiny_go_reference
    result = run(_cfg(max_epochs=2, go_source="own+transferred", go_transfer_rate=0.5), ds, embeddings=emb)
    data = result.data
    cols = [ds.go_terms["go_id"].tolist().index(g) for g in data.go_vocab]
    np.testing.assert_array_equal(data.go_bag.toarray(), ds.go[:, cols].toarray())
    transferred = data.go_bag_transferred.toarray()
    assert transferred.shape == data.go_bag.shape and not np.array_equal(transferred > 0, data.go_bag.toarray() > 0)
    idx = data.train[:6]
    swap = np.array([True, False, True, False, False, True])
    bag = _batch_inputs(data, idx, swap_go=swap)["go_bag"].numpy()
    np.testing.assert_allclose(bag[swap], transferred[idx[swap]])
    np.testing.assert_allclose(bag[~swap], data.go_bag[idx[~swap]].toarray())
    assert np.isfinite(result.valid_metrics["fmax"])
    # the rate is checked, and "own" runs carry no transferred bag
    with pytest.raises(ValueError, match="go_transfer_rate"):
        _cfg(go_transfer_rate=1.5)
    assert run(_cfg(max_epochs=1), ds, embeddings=emb).data.go_bag_transferred is None


def test_evidence_measures_group_the_go_input_by_its_most_specific_terms(tiny):
    """The benchmark's evidence measures: concentration per input term, and grouped by the
    genes' most specific GO terms (the dataset's GO ontology), the deletion check on the latter."""
    from genepheno_core.datasets.assemble import ancestor_matrix
    from genepheno_core.evaluation.evidence import concentration, group_evidence, prediction_evidence
    from genepheno_core.training.trainer import _batch_inputs, evidence_measures

    ds, emb = tiny
    result = run(_cfg(max_epochs=3), ds, embeddings=emb)
    out = evidence_measures(result, result.data.test)
    table = ancestor_matrix(result.data.go_vocab, ds.go_ontology())
    assert table.nnz > 0  # the GO input holds terms with their ancestors
    evidence = prediction_evidence(result.module, _batch_inputs(result.data, result.data.test))
    assert out["concentration"] == concentration(evidence)
    grouped = [group_evidence(ev, {"GO term": table}) for ev in evidence]
    assert out["concentration_grouped"] == concentration(grouped)
    n_items = [sum(int((ev.kinds == "GO term").sum()) for ev in evs) for evs in (evidence, grouped)]
    assert 0 < n_items[1] < n_items[0]
    assert out["deletion"]["grouped"] is True


def test_the_tiny_go_fixture_file_is_the_go_table():
    from _tiny_dataset import GO, make_tiny_dataset

    ontology = make_tiny_dataset().go_ontology()
    for go_id, (name, _, _, parents) in GO.items():
        assert ontology.name(go_id) == name
        assert ontology.ancestors(go_id) == set().union(*[ontology.ancestors(p, include_self=True) for p in parents])


@needs_diamond
def test_go_neighbours_choose_alpha_on_validation_and_blend_test_scores(tiny_go_reference, tmp_path):
    """The "go-neighbours" ablation: the go-transfer model (same training, same seed), then
    the functional-neighbour vote with the blend weight that scores best on validation
    (mean of Fmax and AUC); validation and test scores are that blend, and the checkpoint
    keeps the reference so that a loaded model predicts the same."""
    from genepheno_core.models.go_neighbours import ALPHAS, shift_by_vote
    from genepheno_core.training.checkpoint import load_model, save_checkpoint
    from genepheno_core.training.trainer import full_metrics, predict_module

    ds, emb, _, _ = tiny_go_reference
    plain = run(_cfg(max_epochs=3, ablations=("go-transfer",)), ds, embeddings=emb)
    result = run(_cfg(max_epochs=3, ablations=("go-neighbours",)), ds, embeddings=emb)
    data = result.data
    chosen = result.valid_metrics["go_neighbours"]
    assert set(chosen["by_alpha"]) == {str(a) for a in ALPHAS}
    # alpha 0 is the go-transfer model itself
    assert chosen["by_alpha"]["0.0"]["fmax"] == pytest.approx(plain.valid_metrics["fmax"])
    assert chosen["by_alpha"]["0.0"]["auc"] == pytest.approx(plain.valid_metrics["auc"])
    best = max(ALPHAS, key=lambda a: (chosen["by_alpha"][str(a)]["fmax"] + chosen["by_alpha"][str(a)]["auc"]) / 2)
    assert chosen["alpha"] == best
    neighbours = result.extra["go_neighbours"]
    assert neighbours.alpha == best and neighbours.bags.shape[0] == data.train.size
    # the validation and test scores are the model's moved by the vote's excess (shift_by_vote)
    p_valid = predict_module(result.module, data, data.valid)
    vote = neighbours.vote(data.go_bag[data.valid])
    np.testing.assert_allclose(result.valid_scores, shift_by_vote(p_valid, vote, neighbours.prior, best),
                               rtol=1e-5, atol=1e-6)
    # and for a made-up alpha too (the toy may choose 0): not the earlier average
    moved = neighbours.blend(p_valid, data.go_bag[data.valid], alpha=0.3)
    np.testing.assert_allclose(moved, shift_by_vote(p_valid, vote, neighbours.prior, 0.3), rtol=1e-5, atol=1e-6)
    assert result.valid_metrics["fmax"] == pytest.approx(full_metrics(data, result.valid_scores, data.valid)["fmax"])
    p_test = predict_module(result.module, data, data.test)
    np.testing.assert_allclose(result.test_scores(), neighbours.blend(p_test, data.go_bag[data.test]), rtol=1e-6)
    # saved and loaded with a non-zero alpha (forced: a 3-epoch toy may choose 0), the model
    # predicts the blend of its own inputs
    result.extra["go_neighbours"] = neighbours.with_alpha(0.3)
    path = save_checkpoint(tmp_path / "ckpt", result, result.dataset, result.config)
    loaded = load_model(path)
    assert loaded.uses_go_neighbours and loaded.go_neighbours.alpha == 0.3 and loaded.go_neighbours.k == 50
    assert (path / "go_neighbours" / "bags.npz").exists()
    rows = data.test[:4]
    weighted = [{loaded.go_inputs[j]: float(v) for j, v in zip(r.indices, r.data)} for r in data.go_bag[rows]]
    got = loaded.probabilities(emb[rows], go_sets=weighted)
    want = neighbours.with_alpha(0.3).blend(predict_module(result.module, data, rows), data.go_bag[rows])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(1 / (1 + np.exp(-loaded.logits(emb[rows], go_sets=weighted))), got, rtol=1e-5, atol=1e-6)
    # alpha 0 writes no reference: the model is the go-transfer model
    result.extra["go_neighbours"] = neighbours.with_alpha(0.0)
    assert load_model(save_checkpoint(tmp_path / "ckpt0", result, result.dataset, result.config)).go_neighbours is None


@needs_diamond
def test_go_neighbours_choose_the_similarity_on_validation_with_homolog_phenotypes(tiny_go_reference, tmp_path):
    """With the other species' input the trainer offers every similarity of SIMILARITIES:
    the reference's homolog-phenotype profiles are the model's own ortholog input of the
    training genes (hit shares x the other species' labels), each similarity at each alpha
    is scored on validation and the best mean of Fmax and AUC is kept; test scores use the
    query's profile, and a saved model with a profile similarity predicts the same blend."""
    from unittest import mock

    from _tiny_dataset import make_tiny_other_species

    from genepheno_core.models.go_neighbours import ALPHAS, BOTH, GO_INPUT, SIMILARITIES, shift_by_vote
    from genepheno_core.training.checkpoint import load_model, save_checkpoint
    from genepheno_core.training.trainer import predict_module

    ds, emb, _, _ = tiny_go_reference
    other = make_tiny_other_species(ds)
    cfg = _cfg(max_epochs=3, ablations=("go-neighbours",), cross_species="tiny-other", ortholog_rank=4, go_term_rank=4)
    with mock.patch("genepheno_core.datasets.load_labels_dataset", return_value=other):
        result = run(cfg, ds, embeddings=emb)
    data, chosen, neighbours = result.data, result.valid_metrics["go_neighbours"], result.extra["go_neighbours"]
    assert set(chosen["by_similarity"]) == set(SIMILARITIES)
    assert all(set(by) == {str(a) for a in ALPHAS} for by in chosen["by_similarity"].values())
    # alpha 0 is the model alone whichever the similarity
    assert len({(by["0.0"]["fmax"], by["0.0"]["auc"]) for by in chosen["by_similarity"].values()}) == 1
    scores = {(s, float(a)): (v["fmax"] + v["auc"]) / 2 for s, by in chosen["by_similarity"].items()
              for a, v in by.items()}
    assert scores[(chosen["similarity"], chosen["alpha"])] == pytest.approx(max(scores.values()))
    assert chosen["by_alpha"] == chosen["by_similarity"][chosen["similarity"]]
    assert (neighbours.similarity, neighbours.alpha) == (chosen["similarity"], chosen["alpha"])
    # the reference's profiles are the training genes' ortholog input
    profiles = (neighbours.hit_shares @ neighbours.other_labels).toarray()
    np.testing.assert_allclose(profiles, data.ortholog[data.train], rtol=1e-5, atol=1e-6)
    # by hand: the vote by the mean of the two cosines moves the model's probabilities
    both = neighbours.with_choice(0.3, BOTH)
    p_test = predict_module(result.module, data, data.test)
    profile = data.ortholog[data.test]
    w_go = neighbours.weights(data.go_bag[data.test], similarity=GO_INPUT)
    sims = both.similarities(data.go_bag[data.test], profile)
    assert set(sims) == {"go", "profile"}
    w = both.weights(data.go_bag[data.test], profile)
    mean = (sims["go"] + sims["profile"]) / 2
    k = min(both.k, mean.shape[1])
    for i in range(len(data.test)):  # each row keeps k most similar genes (ties: any), weight sim^2
        row = w.getrow(i)
        kth = np.sort(mean[i])[-k]
        assert row.nnz <= k and np.all(mean[i, row.indices] >= kth - 1e-12)
        assert np.allclose(row.data, mean[i, row.indices] ** 2)
    assert (w != w_go).nnz > 0  # the profile changes who the neighbours are
    vote = both.vote(None, w)
    np.testing.assert_allclose(both.blend(p_test, data.go_bag[data.test], profile=profile),
                               shift_by_vote(p_test, vote, both.prior, 0.3), rtol=1e-6)
    with pytest.raises(ValueError, match="homolog-phenotype profile"):
        both.weights(data.go_bag[data.test])
    # saved with that choice, the loaded model rebuilds the profiles from its cross_species/
    result.extra["go_neighbours"] = both
    path = save_checkpoint(tmp_path / "ckpt", result, result.dataset, result.config)
    assert (path / "go_neighbours" / "hit_shares.npz").exists()
    loaded = load_model(path)
    assert loaded.go_neighbours.similarity == BOTH and loaded.go_neighbours.reads_profile
    rows = data.test[:4]
    weighted = [{loaded.go_inputs[j]: float(v) for j, v in zip(r.indices, r.data)} for r in data.go_bag[rows]]
    seqs = ds.genes["sequence"].iloc[rows].tolist()
    got = loaded.probabilities(emb[rows], go_sets=weighted, sequences=seqs)
    want = both.blend(predict_module(result.module, data, rows), data.go_bag[rows], profile=data.ortholog[rows])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
