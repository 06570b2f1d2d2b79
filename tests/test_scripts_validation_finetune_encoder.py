"""scripts/validation_finetune_encoder.py: crops, whole-protein embeddings in the caller's
order, and fine-tuning that moves the encoder only when it has a learning rate (on the toy
dataset with the real UniRep-256 weights)."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from _interpret_toy import toy_dataset

_PATH = Path(__file__).resolve().parents[1] / "scripts" / "validation_finetune_encoder.py"
_spec = importlib.util.spec_from_file_location("validation_finetune_encoder", _PATH)
mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mod)


def test_random_crop_is_a_window_of_the_sequence():
    rng = np.random.default_rng(0)
    seq = "ACDEFGHIKLMNPQRSTVWY" * 3
    starts = set()
    for _ in range(50):
        crop = mod.random_crop(seq, 7, rng)
        assert len(crop) == 7 and crop in seq
        starts.add(seq.index(crop))
    assert len(starts) > 5  # the window moves
    assert mod.random_crop("MKV", 7, rng) == "MKV"  # shorter than the window: whole


def test_embed_whole_matches_the_reference_path_in_the_callers_order():
    from genepheno_core.embeddings.unirep import load_unirep, pad_tokens

    model = load_unirep(256)
    seqs = ["MKTAYIAKQR", "MA", "MSTNPKPQRKTKRNTNRRPQDVKFPGG", "MKV"]
    got = mod.embed_whole(model, seqs, batch=2)  # batches of two after sorting by length
    tokens, mask = pad_tokens(seqs)
    with torch.no_grad():
        want = model(tokens, mask).numpy()
    assert got.shape == (4, 256)
    np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.fixture
def seq_only_run():
    from genepheno_core.embeddings.unirep import load_unirep
    from genepheno_core.training import TrainConfig
    from genepheno_core.training.trainer import run

    ds, _, _ = toy_dataset()
    seqs = ds.genes["sequence"].tolist()
    embeddings = mod.embed_whole(load_unirep(256), seqs)
    config = TrainConfig(dataset="toy", split="random", seed=0, ablations=("seq-only",), max_epochs=2,
                         min_epochs=1, concept_min_genes=2, go_min_genes=1, lambda_excl=0.0)
    return run(config, ds, embeddings=embeddings), seqs


@pytest.mark.parametrize("encoder_lr", [0.0, 1e-3])
def test_finetune_moves_the_encoder_only_with_a_learning_rate(seq_only_run, encoder_lr):
    from genepheno_core.embeddings.unirep import load_unirep

    result, seqs = seq_only_run
    before = {k: v.clone() for k, v in result.module.state_dict().items()}
    encoder, log = mod.finetune(result, seqs, epochs=1, crop=24, encoder_lr=encoder_lr, seed=0, batch_size=8,
                                on_epoch=mod.joint_valid_metrics(result, seqs))
    pretrained = load_unirep(256).state_dict()
    moved = [k for k, v in encoder.state_dict().items() if not torch.equal(v, pretrained[k])]
    if encoder_lr == 0:
        assert moved == []  # AdamW at lr 0 without weight decay leaves every weight as it was
    else:
        assert {"embedding.weight", "layers.0.wx", "layers.3.wh"} <= set(moved)  # the loss reaches layer 0
    # the model trains at its own rate either way
    assert any(not torch.equal(v, before[k]) for k, v in result.module.state_dict().items())
    assert len(log) == 1 and log[0]["epoch"] == 1 and np.isfinite(log[0]["loss"])
    assert 0.0 <= log[0]["joint_valid"]["fmax"] <= 1.0 and 0.0 <= log[0]["joint_valid"]["auc"] <= 1.0
    assert log[0]["residues_per_s"] > 0
    assert not any(p.requires_grad for p in encoder.parameters())
    # the shared pretrained encoder is never the one fine-tuned
    assert encoder is not load_unirep(256)


def test_finetune_with_the_model_held_fixed_moves_only_the_encoder(seq_only_run):
    result, seqs = seq_only_run
    before = {k: v.clone() for k, v in result.module.state_dict().items()}
    encoder, _ = mod.finetune(result, seqs, epochs=1, crop=24, encoder_lr=1e-3, seed=0, batch_size=8, model_lr=0.0)
    assert all(torch.equal(v, before[k]) for k, v in result.module.state_dict().items())
    from genepheno_core.embeddings.unirep import load_unirep

    assert not torch.equal(encoder.layers[3].wh, load_unirep(256).layers[3].wh)


@pytest.mark.parametrize("argv, message", [
    (["--crop", "0"], "--crop and --batch-size must be >= 1"),
    (["--then", "seq-only"], "--then 'seq-only': TrainConfig fields as a JSON object expected"),
    (["--set", "[1]"], "--set '[1]': TrainConfig fields as a JSON object expected"),
])
def test_bad_options_exit_with_a_message_before_any_work(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        mod.main(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err
