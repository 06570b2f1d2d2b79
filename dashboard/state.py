"""Session-state helpers: values that must survive page switches.

Streamlit forgets a widget's value when the page that drew it is not shown. So every value
worth keeping lives under a plain key (listed below) and widgets use a separate key
`w_<key>`: `widget_key(name)` copies the kept value into the widget before it is drawn,
`keep(name, value)` stores the widget's value back after it was drawn.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

# Explicit keys (the values kept across pages) and their defaults.
SEQUENCE_TEXT = "sequence_text"  # the pasted sequence(s), raw or FASTA
GO_TEXT = "go_text"  # optional GO ids typed by the user
MODEL_NAME = "model_name"  # directory name under assets/models ("hpo", "mpo")
THRESHOLD = "threshold"  # None -> the model's own validation-optimal threshold
USE_MODEL_THRESHOLD = "use_model_threshold"
TOP_N = "top_n"
PREDICTIONS = "predictions"  # last predict() frame
QUERIES = "queries"  # [(id, sequence)] of the last prediction
PREDICTIONS_MODEL = "predictions_model"  # the picked model PREDICTIONS were made for
PREDICTIONS_SCORER = "predictions_scorer"  # the model that scored them (its -go-transfer sibling without GO)
SELECTED_GENE = "selected_gene"  # gene chosen on Explain / Graphs
SELECTED_PHENOTYPE = "selected_phenotype"
GRAPH_TERM = "graph_term"
CASE_GENE = "case_gene"
PREDICTED_TEXT = "predicted_text"  # the pasted text of the last prediction (kept in the URL)
PREDICTED_GO = "predicted_go"
INPUT_NOTES = "input_notes"  # what was done to the last input (translated, wrapped lines)
VIEW = "view"  # "specific" or "all"
SORT = "sort"

DEFAULTS: dict[str, Any] = {
    SEQUENCE_TEXT: "",
    GO_TEXT: "",
    MODEL_NAME: None,
    THRESHOLD: 0.5,
    USE_MODEL_THRESHOLD: True,
    TOP_N: 20,
    PREDICTIONS: None,
    QUERIES: None,
    PREDICTIONS_MODEL: None,
    PREDICTIONS_SCORER: None,
    SELECTED_GENE: None,
    SELECTED_PHENOTYPE: None,
    GRAPH_TERM: None,
    CASE_GENE: None,
    PREDICTED_TEXT: "",
    PREDICTED_GO: "",
    INPUT_NOTES: [],
    VIEW: "Most specific",
    SORT: "score",
}


def _state():
    import streamlit as st

    return st.session_state


def init_state() -> None:
    """Fill in the defaults once per session (called by streamlit_app before any page)."""
    state = _state()
    for key, value in DEFAULTS.items():
        if key not in state:
            state[key] = value


def get(key: str, default: Any = None) -> Any:
    return _state().get(key, DEFAULTS.get(key, default))


def put(key: str, value: Any) -> None:
    _state()[key] = value


def predictions_for(model_name: str | None):
    """The last predictions if `model_name` made them, else None (term ids differ per model)."""
    if get(PREDICTIONS_MODEL) != model_name:
        return None
    return get(PREDICTIONS)


def widget_key(key: str) -> str:
    """Key for the widget bound to `key`, pre-filled with the kept value."""
    state = _state()
    wkey = f"w_{key}"
    if wkey not in state and state.get(key, DEFAULTS.get(key)) is not None:
        state[wkey] = state.get(key, DEFAULTS.get(key))
    return wkey


def keep(key: str, value: Any) -> Any:
    """Store a widget's value under its kept key; returns the value."""
    _state()[key] = value
    return value
