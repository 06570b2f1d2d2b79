"""dashboard/models.py: which models there are, loading them (failures as one-line messages)."""

from __future__ import annotations

import os
import shutil

import pytest

import genepheno_core as gp
from dashboard import models
from dashboard import testing as t
from dashboard.safe_text import md_unescape
from genepheno_core.errors import GenePhenoError

needs_model = pytest.mark.skipif(t.model_missing_reason() is not None and not os.environ.get("CI"),
                                 reason=str(t.model_missing_reason()))


def test_available_models_hpo_first_then_mpo_then_others(tmp_path, monkeypatch):
    for name in ("aaa", "mpo-go-transfer", "mpo", "hpo-go-transfer", "hpo", "zzz", ".hidden", "empty"):
        (tmp_path / name).mkdir()
        if name != "empty":
            (tmp_path / name / "config.json").write_text("{}")
    (tmp_path / "file.txt").write_text("not a model")
    monkeypatch.setenv("GENEPHENO_MODELS_DIR", str(tmp_path))
    # the models for proteins without GO after the two defaults, before any other folder
    assert list(models.available_models()) == ["hpo", "mpo", "hpo-go-transfer", "mpo-go-transfer", "aaa", "zzz"]
    assert models.default_model_name() == "hpo"
    monkeypatch.setenv("GENEPHENO_MODELS_DIR", str(tmp_path / "absent"))
    assert models.available_models() == {} and models.default_model_name() is None



def test_the_models_folder_is_the_cores(tmp_path, monkeypatch):
    # no GENEPHENO_MODELS_DIR: the models/ of the core's assets (GENEPHENO_ASSETS here)
    monkeypatch.delenv("GENEPHENO_MODELS_DIR", raising=False)
    (tmp_path / "models" / "mpo").mkdir(parents=True)
    (tmp_path / "models" / "mpo" / "config.json").write_text("{}")
    monkeypatch.setenv("GENEPHENO_ASSETS", str(tmp_path))
    assert models.models_dir() == gp.models_dir() == tmp_path / "models"
    assert list(models.available_models()) == ["mpo"]
    # assets the core cannot find: no model to pick (the pages say so), not a traceback
    monkeypatch.setenv("GENEPHENO_ASSETS", str(tmp_path / "absent"))
    assert models.models_dir() is None and models.available_models() == {}
    assert md_unescape(models.error_text(f"{tmp_path}/x/model.safetensors: bad")) == "model.safetensors: bad"

@needs_model
def test_the_loaded_model_is_the_cores(monkeypatch):
    model = models.get_model("hpo")
    assert isinstance(model, gp.TrainedModel)
    assert models.get_model("hpo") is model  # loaded once per process
    assert models.dataset_name(model) == model.config.dataset == "hpo"
    assert models.ortholog_source("hpo") == model.cross_species.dataset == "mpo"
    names = models.term_names("hpo")
    assert list(names) == list(model.terms["term_id"]) and all(names.values())


@needs_model
def test_cached_calls_return_the_cores_objects():
    """Without GO the calls go to the model `scorer` picks (hpo-go-transfer when shipped), with
    GO to hpo itself; each equals the core's call on that model."""
    seq = t.sequence("P04637")
    no_go = models.scorer("hpo", False)
    assert no_go == ("hpo-go-transfer" if "hpo-go-transfer" in models.available_models() else "hpo")
    preds = models.predict("hpo", [("P04637", seq)], top=5)
    core = gp.predict(models.get_model(no_go), [("P04637", seq)], top=5)
    assert list(preds["term_id"]) == list(core["term_id"]) and preds.attrs["model"] == no_go
    assert preds.attrs["threshold"] == pytest.approx(models.get_model(no_go).threshold)
    go = ("GO:0003677", "GO:0006915")
    given = models.predict("hpo", [("P04637", seq)], go, top=5)
    core = gp.predict(models.get_model("hpo"), [("P04637", seq)], {"P04637": list(go)}, top=5)
    assert list(given["term_id"]) == list(core["term_id"]) and given.attrs["model"] == "hpo"
    term = preds["term_id"].iloc[0]
    expl = models.explain("hpo", "P04637", seq, (), (term,))
    assert type(expl).__name__ == "Explanation" and type(expl).__module__.startswith("genepheno_core")
    assert expl.model == no_go and expl.logit[term] == pytest.approx(
        gp.explain(models.get_model(no_go), ("P04637", seq), phenotype=[term], go_annotations=[]).logit[term])


def test_the_picker_offers_a_model_without_its_go_transfer_sibling(tmp_path, monkeypatch):
    for name in ("hpo", "hpo-go-transfer", "mpo", "other-go-transfer"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text("{}")
    monkeypatch.setenv("GENEPHENO_MODELS_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path.parent)
    assert models.picker_models() == ["hpo", "mpo", "hpo-go-transfer", "other-go-transfer"][:2] + ["other-go-transfer"]
    assert models.scorer("hpo", go_given=False) == "hpo-go-transfer" and models.scorer("hpo", go_given=True) == "hpo"
    assert models.scorer("mpo", go_given=False) == "mpo" and models.no_go_sibling("mpo") is None
    assert models.no_go_sibling("hpo") == "hpo-go-transfer"
    assert models.base_of("hpo-go-transfer") == "hpo" and models.base_of("other-go-transfer") is None


def test_unknown_model_name_is_our_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPHENO_MODELS_DIR", str(tmp_path))
    with pytest.raises(gp.MissingDataError, match="no model named 'nope' in the models folder"):
        models.get_model("nope")


def _damaged_models_dir(tmp_path, damage: str):
    """A models folder with the shipped hpo model and a copy of it, `broken`, damaged."""
    root = tmp_path / "models"
    root.mkdir()
    (root / "hpo").symlink_to(models.REPO_ROOT / "assets" / "models" / "hpo")
    broken = root / "broken"
    shutil.copytree(models.REPO_ROOT / "assets" / "models" / "hpo", broken)
    if damage == "truncated-weights":
        weights = broken / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    else:
        (broken / "config.json").write_text('{"format_version": 1, "kind": ')
    return root


@needs_model
@pytest.mark.parametrize("damage", ["truncated-weights", "broken-config"])
def test_damaged_model_is_a_one_line_message(tmp_path, monkeypatch, damage):
    root = _damaged_models_dir(tmp_path, damage)
    monkeypatch.setenv("GENEPHENO_MODELS_DIR", str(root))
    at = t.app()
    at.run()
    t.assert_clean(at)  # hpo, the default, still works
    at.sidebar.selectbox[0].set_value("broken").run()
    for page in ("predict", "graphs", "explain", "case_studies", "model"):
        at.switch_page(t.PAGES[page]).run()
        t.assert_safe_page(at)
        errors = t.messages(at)["error"]
        assert len(errors) == 1, (page, errors)
        assert errors[0].startswith("The model broken cannot be loaded: ") and "\n" not in errors[0], errors
        assert str(tmp_path) not in errors[0]
    at.sidebar.selectbox[0].set_value("hpo").run()  # the other model is still there (Model page)
    t.assert_clean(at)
    assert "hpo" in at.caption[0].value


def test_any_model_loading_failure_becomes_our_error(tmp_path, monkeypatch):
    # whatever a damaged model directory makes a library raise, the pages get a GenePhenoError
    import genepheno_core

    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "config.json").write_text("{}")
    monkeypatch.setenv("GENEPHENO_MODELS_DIR", str(tmp_path))

    def load_model(path):
        raise RuntimeError(f"unexpected EOF in {path}/model.safetensors")

    monkeypatch.setattr(genepheno_core, "load_model", load_model)
    with pytest.raises(GenePhenoError) as info:
        models.get_model("odd")
    shown = md_unescape(models.error_text(info.value))
    assert shown.startswith("odd: RuntimeError: ") and str(tmp_path) not in shown, shown

