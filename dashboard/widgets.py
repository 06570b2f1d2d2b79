"""Streamlit widgets shared by the pages: the sidebar's model picker and what a page shows
when there is no model to pick."""

from __future__ import annotations

import logging

import streamlit as st

from dashboard import models, state

logger = logging.getLogger(__name__)

MODEL_LABELS = {"hpo": "hpo (human, HPO)", "mpo": "mpo (mouse, MP)",
                # listed only when their hpo / mpo model is not (models.picker_models): the
                # pages score proteins given no GO with them (models.scorer)
                # trained on GO transferred from sequence homologs: the benchmark's validation
                # choice for proteins given without GO (README, "Default models")
                "hpo-go-transfer": "hpo-go-transfer (human, for proteins without GO)",
                "mpo-go-transfer": "mpo-go-transfer (mouse, for proteins without GO)"}


def sidebar_model_picker() -> str | None:
    """The model selectbox in the sidebar (shared by all pages); returns the chosen name, or
    None when the models folder holds no model. A model's "-go-transfer" sibling is not
    offered: it scores that model's proteins given no GO by itself (models.scorer)."""
    names = models.picker_models()
    if not names:
        return None
    if state.get(state.MODEL_NAME) not in names:
        state.put(state.MODEL_NAME, names[0])
    key = f"w_{state.MODEL_NAME}"
    # Each page draws its own picker, and Streamlit resets a page's widgets when the page
    # changes (the picker fell back to the first model): so the widget is set from the kept
    # choice on every run, and a new choice is kept by the callback, which runs first.
    st.session_state[key] = state.get(state.MODEL_NAME)
    return st.sidebar.selectbox(
        "Model", names, key=key,
        format_func=lambda n: MODEL_LABELS.get(n, n),
        help="Model directories found in the models folder (assets/models/ of the repository, or "
             "$GENEPHENO_MODELS_DIR). Add one there to switch models. Proteins given no GO are scored by the "
             "model's sibling trained on GO transferred from homologs (NAME-go-transfer) when it is there.",
        on_change=lambda: state.put(state.MODEL_NAME, st.session_state[key]),
    )


def scorer_note(model_name: str, used: str | None) -> None:
    """A caption saying that the `used` model, not the picked one, scored the protein(s)
    (nothing when they are the same)."""
    if not used or used == model_name:
        return
    st.caption(f":material/alt_route: Scored by **{used}**: no GO was given, so the {model_name} model's sibling "
               "trained on GO transferred from sequence homologs scores this input. The benchmark chose it on "
               "validation for proteins without GO (README, *Default models*). Give GO terms to use "
               f"{model_name}.")


def no_model_message() -> None:
    # the folder is named, not its server path (pages never show where files live)
    st.error(
        "No trained model found in the models folder (assets/models/ of the repository, or "
        "$GENEPHENO_MODELS_DIR). Build the default one with `make default-model` (see the README), "
        "or point GENEPHENO_MODELS_DIR at a directory of models."
    )
