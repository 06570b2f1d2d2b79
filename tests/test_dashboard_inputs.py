"""Hostile and malformed input to the dashboard (issue 14): dashboard/inputs.py and the Predict page.

The parsing itself is the core's (tests/test_interpret_user_input.py fuzzes it); here:
the page's layer is the core's (no second copy), and AppTest runs of the Predict page with
hostile input (Markdown/HTML injection in FASTA headers, a gzip bomb, invalid bytes, a
server path), which must show a clear one-line message, no traceback, no server path and no
unescaped injected Markdown. Also the `make run` command line.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, settings

from dashboard import inputs, models
from dashboard import testing as t
from dashboard.safe_text import md_unescape

needs_model = pytest.mark.skipif(t.model_missing_reason() is not None and not os.environ.get("CI"),
                                 reason=str(t.model_missing_reason()))

FUZZ = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

IMAGE = t.IMAGE  # the injection of the issue: renders as an image
HEADER_ID = IMAGE + "<b>B</b>"  # one word: a FASTA header's id (the first word)
INSULIN = t.sequence("P01308") if t.FIXTURE_FASTA.exists() else "M" * 110
TMP = t.TMP


def test_the_page_reads_input_with_the_core_functions():
    import genepheno_core as gp

    assert inputs.parse_user_input is gp.parse_user_input
    assert inputs.parse_go_text is gp.parse_go_text
    assert (inputs.MAX_SEQUENCES, inputs.MAX_RESIDUES) == (gp.MAX_USER_SEQUENCES, gp.MAX_USER_RESIDUES)
    assert inputs.read_upload(None) is None


# --- the pages, with hostile input (AppTest) --------------------------------------------

@pytest.fixture(scope="module")
def predict_page():
    """The Predict page after the model is loaded once (shared: each test sets its own input)."""
    at = t.app()
    at.run()
    return at


def _upload(at, name: str, data: bytes):
    at.get("file_uploader")[0].upload(name, data).run()
    at.button(key="predict_button").click().run()
    return at


@needs_model
def test_injected_fasta_header_is_shown_literally(predict_page):
    at = t.predict(predict_page, f">{HEADER_ID} desc\n{INSULIN}")
    t.assert_clean(at)
    t.assert_safe_page(at)
    # the reader sees the header as it is, as text
    assert md_unescape(at.subheader[0].value) == f"Predicted phenotypes for {HEADER_ID}"
    title = t.plotly_specs(at)[0]["layout"]["title"]["text"]
    assert "<b>" not in title and "&lt;b&gt;B&lt;/b&gt;" in title  # plotly shows it as text


@needs_model
@pytest.mark.parametrize("text, problem", [
    pytest.param(f">{IMAGE}\nMKTAYIAK1QRQISFVKSHFSRQ", "invalid character '1'", id="injection-in-error"),
    pytest.param("M", "minimum is", id="one-residue"),
    pytest.param("X" * 40, "non-standard", id="all-x"),
    pytest.param(">q\n" + "X" * 30 + INSULIN[:20], "non-standard", id="mostly-x"),
    pytest.param(str(t.FIXTURE_FASTA), "invalid character '/'", id="server-path"),
    pytest.param("\x00\x01\ufeff", "invalid character", id="control-bytes"),
])
def test_hostile_paste_gives_one_clear_error(predict_page, text, problem):
    at = t.predict(predict_page, text)
    t.assert_safe_page(at)
    errors = t.messages(at)["error"]
    assert len(errors) == 1 and problem in errors[0], errors
    assert "no such file" not in errors[0]  # the server's files are neither read nor probed
    assert at.session_state["predictions"] is None


@needs_model
@pytest.mark.parametrize("name, data, problem", [
    pytest.param("bomb.fa.gz", gzip.compress(b">a\n" + b"M" * 50_000_000), "after decompression", id="gzip-bomb"),
    pytest.param("my proteins.fa.gz", b"\x1f\x8b" + b"not gzip" * 8, "corrupt gzip", id="corrupt-gzip"),
    pytest.param("cut.fa.gz", gzip.compress(f">a\n{INSULIN}\n".encode())[:-12], "truncated gzip", id="truncated-gzip"),
    pytest.param("![t](x.png)<img src=x>.fa", b">a\n\xff\xfe" + INSULIN.encode(), "not UTF-8", id="invalid-bytes"),
])
def test_hostile_upload_gives_one_clear_error(name, data, problem):
    at = t.app()
    at.run()
    _upload(at, name, data)
    t.assert_safe_page(at)
    errors = t.messages(at)["error"]
    assert len(errors) == 1 and problem in errors[0] and name in errors[0], errors


def test_make_run_listens_on_localhost_unless_told_otherwise():
    if not shutil.which("make"):
        pytest.skip("make is not installed")

    def command(*args):
        out = subprocess.run(["make", "-n", "dashboard", *args], cwd=models.REPO_ROOT,
                             capture_output=True, text=True, check=True).stdout
        return next(line for line in out.splitlines() if "streamlit run" in line)

    assert "--server.address 127.0.0.1" in command()
    assert "--server.address 0.0.0.0" in command("ADDRESS=0.0.0.0")


# --- issue 19: nucleotides, wrapped lines, GN= names, limits ------------------------------

