"""genepheno_core.methods: the one table of methods read by the config, trainer and benchmark."""

import pytest

from genepheno_core.benchmark.config import (
    ABLATIONS,
    BASELINES,
    METHODS,
    REFERENCES,
    cell_config_key,
)
from genepheno_core.methods import ABLATIONS as ABLATION_SPECS
from genepheno_core.methods import METHODS as METHOD_SPECS
from genepheno_core.methods import benchmark_methods, reads, split_method
from genepheno_core.training import TrainConfig


def test_split_method_names():
    assert split_method("genepheno-no-go") == ("genepheno", ("no-go",))
    assert split_method("genepheno-bce") == ("genepheno", ("bce",))
    assert split_method("diamond-score") == ("diamond-score", ())
    with pytest.raises(ValueError, match="unknown method 'genepheno-no-nothing'"):
        split_method("genepheno-no-nothing")
    for method in benchmark_methods():
        model, ablations = split_method(method)
        assert model in METHOD_SPECS and set(ablations) <= set(METHOD_SPECS[model].ablations)


def test_benchmark_groups_come_from_the_registry():
    assert BASELINES == ("naive", "diamond-score", "kmer-lr", "mlp-bce", "go-mlp")
    assert REFERENCES == ("go-orth-mlp",)
    assert ABLATIONS == tuple(f"genepheno-{a}" for a in ABLATION_SPECS)
    assert METHODS == BASELINES + REFERENCES + ("genepheno",) + ABLATIONS


@pytest.mark.parametrize("method, expected", [
    ("naive", (False, False, False)),
    ("mlp-bce", (True, False, False)),
    ("go-mlp", (False, True, False)),
    ("go-orth-mlp", (False, True, True)),
    ("genepheno", (True, True, True)),
    ("genepheno-no-go", (True, False, True)),
    ("genepheno-no-seq", (False, True, True)),
    ("genepheno-no-orth", (True, True, False)),
    ("genepheno-bce", (True, True, True)),
    ("genepheno-seq-only", (True, False, False)),
])
def test_inputs_read_by_each_method(method, expected):
    got = reads(method)
    assert (got["embeddings"], got["go"], got["cross_species"]) == expected
    model, ablations = split_method(method)
    config = TrainConfig(model=model, ablations=ablations)
    assert (config.use_seq, config.use_go, config.cross_species_dataset is not None) == expected


def test_cell_key_names_the_encoder_only_for_methods_that_read_embeddings():
    # go-mlp reads no sequence: its cells must not go stale when the encoder changes
    assert cell_config_key("go-mlp", "unirep256", "random", 0, {})["encoder"] is None
    assert cell_config_key("genepheno-no-seq", "unirep256", "random", 0, {})["encoder"] is None
    assert cell_config_key("mlp-bce", "unirep256", "random", 0, {})["encoder"] == "unirep256"
    assert cell_config_key("genepheno", "unirep256", "random", 0, {})["encoder"] == "unirep256"
    # seed-independent methods share one key across seeds; the others do not
    assert cell_config_key("naive", "x", "random", 0, {}) == cell_config_key("naive", "x", "random", 2, {})
    assert cell_config_key("go-mlp", "x", "random", 0, {}) != cell_config_key("go-mlp", "x", "random", 2, {})


def test_genepheno_options_apply_to_the_bottleneck_only():
    go_mlp = TrainConfig(model="go-mlp")
    assert go_mlp.effective_loss == "bce" and go_mlp.effective_lambda_excl == 0.0
    assert go_mlp.effective_lambda_concept == 0.0 and go_mlp.effective_ema_decay == 0.0
    gp = TrainConfig(model="genepheno", ablations=("no-excl",))
    assert gp.effective_loss == "contrastive+bce" and gp.effective_lambda_excl == 0.0
    assert gp.effective_lambda_concept > 0 and gp.effective_ema_decay > 0
    with pytest.raises(ValueError, match="ablations apply to --model genepheno only"):
        TrainConfig(model="naive", ablations=("bce",))


def test_input_variant_rows_have_main_table_labels():
    from genepheno_core.methods import main_row_label

    # a pasted protein is scored by the model trained on transferred GO (what choose_model
    # routes it to); the default model fed transferred GO keeps its own row
    assert main_row_label("genepheno-go-transfer") == "pasted protein"
    assert main_row_label("genepheno-pasted") == "own-GO model, GO from homologs"
    assert main_row_label("genepheno-no-go") == "no GO input"
    assert main_row_label("genepheno-seq-only") == "sequence only"
    assert main_row_label("genepheno") is None and main_row_label("genepheno-bce") is None
    assert main_row_label("naive") is None


def test_pasted_is_a_prediction_time_variant_of_the_trained_model():
    from genepheno_core.methods import prediction_variant, training_ablations

    assert prediction_variant("genepheno-pasted") == ("genepheno", "transferred-go")
    assert prediction_variant("genepheno") is None and prediction_variant("genepheno-no-go") is None
    assert training_ablations(("pasted", "no-excl")) == ("no-excl",)
    # its cell is keyed by the training of genepheno (plus its own name) ...
    base = cell_config_key("genepheno", "unirep256", "random", 0, {})
    variant = cell_config_key("genepheno-pasted", "unirep256", "random", 0, {})
    assert {k: v for k, v in variant.items() if k != "method"} == {k: v for k, v in base.items() if k != "method"}
    # ... and it is not something to train
    with pytest.raises(ValueError, match="prediction-time variant"):
        TrainConfig(model="genepheno", ablations=("pasted",))


def test_go_source_transferred_by_the_ablation_or_the_option():
    assert reads("genepheno-go-transfer")["transferred_go"] and reads("genepheno-go-transfer")["go"]
    assert not reads("genepheno")["transferred_go"] and not reads("genepheno-no-go")["transferred_go"]
    assert TrainConfig(model="genepheno", ablations=("go-transfer",)).effective_go_source == "transferred"
    assert TrainConfig(model="genepheno").effective_go_source == "own"
    assert TrainConfig(model="go-mlp", go_source="transferred").effective_go_source == "transferred"
    assert TrainConfig(model="genepheno", ablations=("no-go",), go_source="transferred").effective_go_source is None
    assert TrainConfig(model="mlp-bce").effective_go_source is None
    with pytest.raises(ValueError, match="go_source"):
        TrainConfig(go_source="guessed")
    assert "go-transferred" in TrainConfig(model="go-mlp", go_source="transferred").run_name


def test_options_added_later_leave_earlier_cell_keys_unchanged():
    # cells computed before go_source existed keep their key at its default ...
    key = cell_config_key("genepheno", "unirep256", "random", 0, {})
    assert "go_source" not in key
    # ... and a cell computed with another value gets another key
    other = cell_config_key("genepheno", "unirep256", "random", 0, {"go_source": "transferred"})
    assert other["go_source"] == "transferred" and other != key
    assert "go_source" not in cell_config_key("go-mlp", "x", "random", 0, {"go_source": "transferred"})


def test_go_transfer_hits_key_only_the_cells_that_transfer_go():
    def has(method, **options):
        return "go_transfer_max_hits" in cell_config_key(method, "u", "random", 0, options)

    # the value cells used before the option existed is implied: no key entry
    assert not has("genepheno-pasted", go_transfer_max_hits=10)
    # another value reruns the cells that transfer GO, and only those
    assert has("genepheno-pasted", go_transfer_max_hits=3)
    assert has("genepheno-go-transfer", go_transfer_max_hits=3)
    assert has("genepheno", go_transfer_max_hits=3, go_source="own+transferred")
    assert not has("genepheno", go_transfer_max_hits=3) and not has("genepheno-no-go", go_transfer_max_hits=3)
    with pytest.raises(ValueError, match="go_transfer_max_hits"):
        TrainConfig(go_transfer_max_hits=0)


def test_a_dataset_default_keys_the_cells_it_changes_and_no_other():
    hpo = cell_config_key("genepheno", "unirep256", "random", 0, {}, dataset="hpo")
    mpo = cell_config_key("genepheno", "unirep256", "random", 0, {}, dataset="mpo")
    # hpo's key is the one computed before per-dataset defaults (no dataset given)
    assert hpo == cell_config_key("genepheno", "unirep256", "random", 0, {})
    assert "ortholog_mapped" not in hpo and hpo["ortholog_rank"] == 256
    assert mpo["ortholog_mapped"] is True and mpo["ortholog_rank"] == 32
    # the same options given explicitly are the same cell
    assert mpo == cell_config_key("genepheno", "unirep256", "random", 0,
                                  {"ortholog_mapped": True, "ortholog_rank": 32}, dataset="mpo")
    # a method without the homolog-phenotype input is not rerun by W_o's options
    for method in ("genepheno-no-orth", "genepheno-seq-only"):
        assert cell_config_key(method, "u", "random", 0, {}, dataset="mpo") == \
            cell_config_key(method, "u", "random", 0, {}, dataset="hpo")
    assert cell_config_key("genepheno-no-go", "u", "random", 0, {}, dataset="mpo")["ortholog_rank"] == 32


def test_go_neighbours_is_the_go_transfer_model_plus_the_neighbour_vote():
    from genepheno_core.methods import main_row_label

    got = reads("genepheno-go-neighbours")
    assert got["go_neighbours"] and got["transferred_go"] and got["go"] and got["embeddings"]
    assert not reads("genepheno-go-transfer")["go_neighbours"] and not reads("genepheno")["go_neighbours"]
    config = TrainConfig(model="genepheno", ablations=("go-neighbours",))
    assert config.use_go_neighbours and config.effective_go_source == "transferred"
    assert main_row_label("genepheno-go-neighbours") == "pasted protein, functional neighbours"
    with pytest.raises(ValueError, match="go_neighbours_k"):
        TrainConfig(go_neighbours_k=0)
    # k enters a cell's key only when set away from the default
    assert "go_neighbours_k" not in cell_config_key("genepheno-go-neighbours", "unirep256", "random", 0, {})
    assert cell_config_key("genepheno-go-neighbours", "unirep256", "random", 0,
                           {"go_neighbours_k": 20})["go_neighbours_k"] == 20
    # how the vote moves the probability is part of a neighbour cell's key (cells computed
    # with the earlier probability average are stale), and of no other cell's
    assert cell_config_key("genepheno-go-neighbours", "unirep256", "random", 0, {})["neighbour_blend"] == "excess over frequency"
    assert "neighbour_blend" not in cell_config_key("genepheno-go-transfer", "unirep256", "random", 0, {})
    # so is the set of similarities the trainer chooses among (cells computed when only GO
    # was offered are stale)
    assert cell_config_key("genepheno-go-neighbours", "unirep256", "random", 0, {})["neighbour_similarities"] == [
        "GO input", "homolog phenotypes", "GO input and homolog phenotypes"]
    assert "neighbour_similarities" not in cell_config_key("genepheno-go-transfer", "unirep256", "random", 0, {})
