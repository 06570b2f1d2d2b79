"""`python -m genepheno_core train` in-process on the tiny fixture dataset."""

from genepheno_core.cli import main
from genepheno_core.evaluation.cafa_io import read_predictions
from genepheno_core.training import load_model


def test_train_genepheno_writes_checkpoint_and_predictions(tiny_by_name, tmp_path, capsys):
    out, preds = tmp_path / "ck", tmp_path / "test.tsv"
    code = main(["-q", "train", "--dataset", "tiny", "--model", "genepheno", "--encoder", "composition",
                 "--seed", "1", "--max-epochs", "2", "--hidden", "16",
                 "--concept-min-genes", "5", "--go-min-genes", "2", "--out", str(out),
                 "--predictions-out", str(preds), "--no-progress", "--ablation", "no-excl"])
    assert code == 0
    text = capsys.readouterr().out
    assert "validation: Fmax" in text and "concept AUC" in text
    model = load_model(out, dataset=tiny_by_name, encoder="composition")
    assert model.config.ablations == ("no-excl",) and model.config.seed == 1
    rows = read_predictions(preds)
    gene, term, score = rows.columns[:3]
    test_genes = set(tiny_by_name.genes["gene_id"][tiny_by_name.splits["random"] == "test"])
    assert set(rows[gene]) <= test_genes and len(set(rows[gene])) == len(test_genes)
    assert set(rows[term]) <= set(tiny_by_name.terms["term_id"])
    assert rows[score].astype(float).between(0, 1).all()


def test_train_baseline(tiny_by_name, tmp_path, capsys):
    assert main(["train", "--dataset", "tiny", "--model", "naive", "--out", str(tmp_path / "n"), "--no-progress"]) == 0
    assert "validation: Fmax" in capsys.readouterr().out


def test_errors_without_traceback(tiny_by_name, tmp_path, capsys):
    assert main(["train", "--dataset", "nope", "--model", "naive"]) == 1
    assert "error: no dataset 'nope'" in capsys.readouterr().err
    assert main(["train", "--dataset", "tiny", "--model", "naive", "--split", "temporal"]) == 1
    assert "no 'temporal' split" in capsys.readouterr().err
    assert main(["train", "--dataset", "tiny", "--model", "naive", "--ablation", "bce"]) == 1
    assert "ablations apply to --model genepheno only" in capsys.readouterr().err


def test_ortholog_options_reach_the_config(capsys):
    from genepheno_core.cli import get_parser
    from genepheno_core.cli.training import _config

    parse = get_parser().parse_args
    config = _config(parse(["train", "--dataset", "hpo", "--ortholog-mapped", "--ortholog-rank", "32"]))
    assert config.ortholog_mapped is True and config.ortholog_rank == 32
    default = _config(parse(["train", "--dataset", "hpo"]))
    assert default.ortholog_mapped is False and default.ortholog_rank == 256  # hpo's defaults
    mpo = _config(parse(["train", "--dataset", "mpo"]))
    assert mpo.ortholog_mapped is True and mpo.ortholog_rank == 32  # mpo's (DATASET_DEFAULTS)
    off = _config(parse(["train", "--dataset", "mpo", "--no-ortholog-mapped", "--ortholog-rank", "256"]))
    assert off.ortholog_mapped is False and off.ortholog_rank == 256
    scaled = _config(parse(["train", "--dataset", "hpo", "--ortholog-mapped", "--mapped-lr-scale", "10"]))
    assert scaled.mapped_lr_scale == 10.0 and default.mapped_lr_scale == 1.0
    assert main(["train", "--dataset", "tiny", "--model", "genepheno", "--mapped-lr-scale", "0"]) == 1
    assert "mapped_lr_scale must be > 0" in capsys.readouterr().err
    primed = _config(parse(["train", "--dataset", "hpo", "--concept-init", "0.1", "--concept-init-min-genes", "5"]))
    assert primed.concept_init == 0.1 and default.concept_init == 0.01  # the default (issue 18)
    assert primed.concept_init_min_genes == 5 and default.concept_init_min_genes == 20
    assert main(["train", "--dataset", "tiny", "--model", "genepheno", "--concept-init", "-1"]) == 1
    assert "concept_init must be >= 0" in capsys.readouterr().err
    assert main(["train", "--dataset", "tiny", "--model", "genepheno", "--ortholog-rank", "-1"]) == 1
    assert "ortholog_rank must be >= 0" in capsys.readouterr().err


def test_init_from_names_a_model_directory(capsys, tmp_path):
    from genepheno_core.cli import get_parser
    from genepheno_core.cli.training import _config

    parse = get_parser().parse_args
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "config.json").write_text("{}")
    config = _config(parse(["train", "--dataset", "hpo", "--init-from", str(tmp_path / "src")]))
    assert config.init_from == str(tmp_path / "src")
    assert _config(parse(["train", "--dataset", "hpo"])).init_from is None
    assert main(["train", "--dataset", "tiny", "--init-from", str(tmp_path)]) == 1  # no config.json there
    assert f"--init-from {tmp_path}: not a trained model directory" in capsys.readouterr().err
    assert main(["train", "--dataset", "tiny", "--model", "naive", "--init-from", str(tmp_path / "src")]) == 1
    assert "init_from starts a GenePheno model's shared parts; naive has none" in capsys.readouterr().err


def test_cross_species_rows_option(capsys):
    from genepheno_core.cli import get_parser
    from genepheno_core.cli.training import _config

    parse = get_parser().parse_args
    assert _config(parse(["train", "--dataset", "hpo", "--cross-species-rows", "0.5"])).cross_species_rows == 0.5
    assert _config(parse(["train", "--dataset", "hpo"])).cross_species_rows == 0.0
    assert main(["train", "--dataset", "tiny", "--cross-species-rows", "-1"]) == 1
    assert "cross_species_rows must be >= 0, got -1.0" in capsys.readouterr().err
    assert main(["train", "--dataset", "tiny", "--cross-species-rows", "1"]) == 1
    assert "cross_species_rows needs the other species' dataset: none is known for 'tiny'" in capsys.readouterr().err
