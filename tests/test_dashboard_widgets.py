"""dashboard/widgets.py: the sidebar's model picker, and the pages without any model."""

from __future__ import annotations

import os

import pytest

from dashboard import testing as t

needs_model = pytest.mark.skipif(t.model_missing_reason() is not None and not os.environ.get("CI"),
                                 reason=str(t.model_missing_reason()))


@needs_model
def test_model_page_and_picker_show_no_server_path():
    at = t.app()
    at.run()
    at.switch_page("dashboard/pages/model.py").run()
    t.assert_clean(at)
    t.assert_safe_page(at)
    assert "hpo" in at.caption[0].value
    picker = at.sidebar.selectbox[0]
    for path in t.server_paths():
        assert path not in (picker.help or "")


@needs_model
def test_the_picked_model_is_kept_across_pages(tmp_path, monkeypatch):
    root = tmp_path / "models"
    root.mkdir()
    (root / "hpo").symlink_to(t.REPO_ROOT / "assets" / "models" / "hpo")
    (root / "other").symlink_to(t.REPO_ROOT / "assets" / "models" / "hpo")
    monkeypatch.setenv("GENEPHENO_MODELS_DIR", str(root))
    at = t.app()
    at.run()
    picker = at.sidebar.selectbox[0]
    assert picker.options == ["hpo (human, HPO)", "other"] and picker.value == "hpo"
    picker.set_value("other").run()
    at.switch_page(t.PAGES["model"]).run()
    t.assert_clean(at)
    assert at.sidebar.selectbox[0].value == "other"
    assert "**other**" in at.caption[0].value


@pytest.mark.parametrize("page", list(t.PAGES))
def test_no_model_is_one_message_on_every_page(tmp_path, monkeypatch, page):
    monkeypatch.setenv("GENEPHENO_MODELS_DIR", str(tmp_path))  # an empty models folder
    at = t.app()
    at.run()
    at.switch_page(t.PAGES[page]).run()
    assert not at.exception
    assert not at.sidebar.selectbox
    errors = t.messages(at)["error"]
    assert len(errors) == 1 and errors[0].startswith("No trained model found in the models folder"), errors
    assert str(tmp_path) not in errors[0]
