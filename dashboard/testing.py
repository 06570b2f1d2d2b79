"""Helpers for the dashboard's AppTest tests (tests/test_dashboard_*.py); not used by the app."""

from __future__ import annotations

import json
import os
import re
import tempfile

from dashboard.models import REPO_ROOT, available_models, models_dir
from dashboard.safe_text import md_unescape

APP = REPO_ROOT / "streamlit_app.py"
FIXTURE_FASTA = REPO_ROOT / "tests" / "data" / "dashboard" / "human_proteins.fasta"
IMAGE = "![t](http://example.com/x.png)"  # a Markdown injection: renders as an image
TMP = tempfile.gettempdir()
PAGES = {
    "predict": "dashboard/pages/predict.py",
    "explain": "dashboard/pages/explain.py",
    "case_studies": "dashboard/pages/case_studies.py",
    "graphs": "dashboard/pages/graphs.py",
    "model": "dashboard/pages/model.py",
}


def app(timeout: float = 180):
    """A fresh AppTest of the whole app (pages reached with switch_page)."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(APP), default_timeout=timeout)


def fasta_record(accession: str) -> str:
    """One record of the fixture FASTA (real Swiss-Prot sequences), header included."""
    records = FIXTURE_FASTA.read_text().split(">")[1:]
    return ">" + next(r for r in records if f"|{accession}|" in r.split("\n", 1)[0])


def sequence(accession: str) -> str:
    return "".join(fasta_record(accession).split("\n", 1)[1].split())


def model_missing_reason() -> str | None:
    if not available_models():
        return "no model under assets/models (make default-model); required under CI"
    return None


def pasted_model():
    """The model that scores a protein pasted without GO with the default pick: the default
    model's "-go-transfer" sibling when shipped (models.scorer), else the default model."""
    from dashboard import models

    return models.get_model(models.scorer(models.default_model_name(), False))


def plotly_specs(at) -> list[dict]:
    """The figure JSON of every st.plotly_chart on the current page (typed arrays decoded)."""
    return [_decode(json.loads(el.proto.spec)) for el in at.get("plotly_chart")]


def _decode(obj):
    """plotly serialises numeric arrays as {"dtype", "bdata" (base64), "shape"}: back to lists."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            import base64

            import numpy as np

            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=obj["dtype"])
            if "shape" in obj:
                shape = obj["shape"]
                arr = arr.reshape([int(x) for x in str(shape).split(",")] if isinstance(shape, str) else shape)
            return arr.tolist()
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def download_labels(at) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def messages(at) -> dict[str, list[str]]:
    """Error and warning boxes as the reader sees them (Markdown escapes removed), exceptions."""
    return {"error": [md_unescape(e.value) for e in at.error], "warning": [md_unescape(w.value) for w in at.warning],
            "exception": [str(e.value) for e in at.exception]}


MARKDOWN_ELEMENTS = ("markdown", "title", "header", "subheader", "caption", "error", "warning", "info",
                     "success", "exception", "expander", "tab")


def markdown_texts(at) -> list[str]:
    """The raw Markdown of every element Streamlit renders as Markdown (incl. expander and tab
    labels), as sent to the browser: what an injection test must not find unescaped."""
    out = []
    for kind in MARKDOWN_ELEMENTS:
        for el in at.get(kind):
            for attr in ("value", "label"):
                value = getattr(el, attr, None)
                if isinstance(value, str):
                    out.append(value)
    return out


def predict(at, text: str):
    """Paste `text` on the Predict page and press Predict."""
    at.text_area(key="w_sequence_text").input(text)
    at.button(key="predict_button").click().run()
    return at


def assert_clean(at) -> None:
    """No exception (traceback) and no error box on the page."""
    found = messages(at)
    assert not found["exception"], found["exception"]
    assert not found["error"], found["error"]



def table(at, *columns: str):
    """The value of the first st.dataframe on the page that has all `columns` (None if none)."""
    for df in at.dataframe:
        value = df.value
        if all(c in value.columns for c in columns):
            return value
    return None


def server_paths() -> list[str]:
    """Directories whose paths must never appear on a page."""
    paths = [str(REPO_ROOT), str(models_dir() or REPO_ROOT), TMP]
    paths += [os.environ[v] for v in ("GENEPHENO_HOME", "GENEPHENO_MIRROR") if os.environ.get(v)]
    return [p for p in paths if len(p) > 1]


def assert_safe_page(at) -> None:
    """No traceback, no unescaped injected Markdown/HTML (IMAGE, <b>, <img>), no server path
    on the page."""
    assert not at.exception, [e.value for e in at.exception]
    for text in markdown_texts(at):
        assert "![t](" not in text and not re.search(r"(?<!\\)<(b|img)\b", text), text
        for path in server_paths():
            assert path not in text, (path, text)
