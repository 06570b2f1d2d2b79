"""What the user types or uploads on the Predict page.

The parsing and the limits are the core's (`gp.parse_user_input`, `gp.parse_go_text`,
`gp.input_limits_text`; the REST API reads its requests with the same functions), so the
page and the API accept and refuse the same input with the same words. What is left here
is Streamlit's part: reading an upload widget's bytes.
"""

from __future__ import annotations

import genepheno_core as gp

MAX_SEQUENCES = gp.MAX_USER_SEQUENCES
MAX_RESIDUES = gp.MAX_USER_RESIDUES
MAX_INPUT_BYTES = gp.MAX_USER_INPUT_BYTES
parse_user_input = gp.parse_user_input
parse_go_text = gp.parse_go_text
limits_text = gp.input_limits_text


def parse_user_sequences(text: str | None = None, upload: bytes | None = None,
                         upload_name: str = "uploaded file") -> list[tuple[str, str]]:
    """The records of gp.parse_user_input (names, proteins)."""
    return gp.parse_user_input(text, upload, upload_name).records


def read_upload(upload) -> bytes | None:
    """Bytes of a st.file_uploader value (None when nothing was uploaded)."""
    if upload is None:
        return None
    return upload.getvalue()  # gzip is detected by gp.parse_user_input
