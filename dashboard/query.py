"""The user's query across pages and reloads: the pasted text, model, GO terms, chosen protein
and phenotype live in the session and in the URL (`st.query_params`), so a reload or a shared
link restores the same view.

Short input (<= MAX_URL_TEXT characters, a protein of ~1,500 residues) goes into the URL as it
is (`q`); longer input as a hash (`qh`) of a copy kept in this server process's memory (a
URL of tens of KB is refused by browsers and proxies): a link with a hash the server no longer
has (it restarted) cannot be restored, and the page says so. The prediction itself is not kept
in the URL: it is recomputed from the query (st.cache_data makes that instant in one process).
"""

from __future__ import annotations

import hashlib
import logging

import streamlit as st

import genepheno_core as gp
from dashboard import inputs, models, state

logger = logging.getLogger(__name__)

MAX_URL_TEXT = 2000  # characters of pasted text kept in the URL itself
# URL parameter names (short: they are part of every shared link)
P_TEXT, P_HASH, P_MODEL, P_GO, P_GENE, P_TERM = "q", "qh", "model", "go", "gene", "term"
RESTORED = "_url_restored"  # session flag: the URL was read once in this session
PENDING = "_url_pending_predict"  # the URL held a query: predict it without a button press


@st.cache_resource(show_spinner=False)
def _long_queries() -> dict[str, str]:
    """{hash: text} of queries too long for the URL, shared by the sessions of this process."""
    return {}


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def restore_from_url() -> list[str]:
    """Once per session (a fresh page load or reload): the kept values from the URL. Returns
    the problems to show (a link whose query cannot be restored, an unknown model)."""
    ss = st.session_state
    if ss.get(RESTORED):
        return []
    ss[RESTORED] = True
    params = st.query_params
    problems = []
    model = params.get(P_MODEL)
    if model:
        base = models.base_of(model)
        if model in models.picker_models():
            state.put(state.MODEL_NAME, model)
        elif base is not None:  # a sibling for proteins without GO: the pages use it by themselves
            state.put(state.MODEL_NAME, base)
        else:
            problems.append(f"The link names a model “{model}” that this server does not have; "
                            "showing the default model.")
    text = params.get(P_TEXT)
    digest = params.get(P_HASH)
    if digest and not text:
        text = _long_queries().get(digest)
        if text is None:
            problems.append("The link's sequence input was too long for the URL and this server no longer "
                            "holds it (it was restarted): paste the sequence again.")
    if text:
        state.put(state.SEQUENCE_TEXT, text)
        st.session_state.pop(f"w_{state.SEQUENCE_TEXT}", None)
        try:  # the proteins, for the pages that list them (Explain); Predict predicts them
            parsed = inputs.parse_user_input(text=text)
        except gp.GenePhenoError as exc:
            problems.append(f"The link's sequence input cannot be read: {models.error_text(exc)}")
        else:
            state.put(state.QUERIES, parsed.records)
            state.put(state.INPUT_NOTES, parsed.notes)
            state.put(state.PREDICTED_TEXT, text)
            ss[PENDING] = True
    if params.get(P_GO):
        state.put(state.GO_TEXT, params.get(P_GO))
        st.session_state.pop(f"w_{state.GO_TEXT}", None)
    if params.get(P_GENE):
        state.put(state.SELECTED_GENE, params.get(P_GENE))
    if params.get(P_TERM):
        state.put(state.SELECTED_PHENOTYPE, params.get(P_TERM))
    return problems


def write_url() -> None:
    """The kept values of this session into the URL (the query of the last prediction, not
    what is being typed): called by every page after it drew its widgets."""
    wanted: dict[str, str] = {}
    model = state.get(state.MODEL_NAME)
    if model:
        wanted[P_MODEL] = model
    text = state.get(state.PREDICTED_TEXT)
    if (state.get(state.PREDICTIONS) is not None or pending()) and text:
        if len(text) <= MAX_URL_TEXT:
            wanted[P_TEXT] = text
        else:
            digest = text_hash(text)
            _long_queries()[digest] = text
            wanted[P_HASH] = digest
        if state.get(state.PREDICTED_GO):
            wanted[P_GO] = state.get(state.PREDICTED_GO)
    for key, name in ((P_GENE, state.SELECTED_GENE), (P_TERM, state.SELECTED_PHENOTYPE)):
        if state.get(name):
            wanted[key] = str(state.get(name))
    params = st.query_params
    if {k: params.get(k) for k in params} != wanted:
        params.from_dict(wanted)


def pending() -> bool:
    """The URL held a query this session has not predicted yet."""
    return bool(st.session_state.get(PENDING))


def run(model_name: str, text: str, upload: bytes | None, upload_name: str, go_text: str):
    """Parse the input, predict every term (the "all" view; the pages derive the specific
    view from it) and keep the result in the session (and so the query in the URL). Returns
    the prediction frame; raises GenePhenoError with a one-line reason."""
    st.session_state[PENDING] = False
    parsed = inputs.parse_user_input(text=None if upload is not None else text, upload=upload,
                                     upload_name=upload_name)
    go_ids = inputs.parse_go_text(go_text)
    frame = models.predict(model_name, parsed.records, go_ids, top=None)
    state.put(state.PREDICTIONS, frame)
    state.put(state.PREDICTIONS_MODEL, model_name)
    state.put(state.PREDICTIONS_SCORER, frame.attrs.get("model", model_name))
    state.put(state.QUERIES, parsed.records)
    state.put(state.INPUT_NOTES, parsed.notes)
    # an upload cannot go into a URL: only pasted text is kept there
    state.put(state.PREDICTED_TEXT, text if upload is None else "")
    state.put(state.PREDICTED_GO, go_text.strip())
    if state.get(state.SELECTED_GENE) not in {r[0] for r in parsed.records}:
        state.put(state.SELECTED_GENE, parsed.records[0][0])
    return frame


def clear() -> None:
    state.put(state.PREDICTIONS, None)
    state.put(state.PREDICTED_TEXT, "")
    st.session_state[PENDING] = False
