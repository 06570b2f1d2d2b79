"""Showing user-supplied text safely: Markdown/HTML escaping and server paths out of messages.

Streamlit renders the text of st.markdown, st.subheader, st.caption, st.error/warning/info,
widget, expander and tab labels and spinners as Markdown (with GitHub extensions, math and
Streamlit's `:colour[...]` directives), so a FASTA header such as `![t](http://host/x.png)`
would become an image. Everything a user (or an uploaded file) supplies goes through
`md_escape` before it is interpolated into such a call; plotly titles, which read a subset
of HTML, through `plot_escape`. Error messages go through `scrub_paths` so that they never
show where the server keeps its files.
"""

from __future__ import annotations

import html
import logging
import os
import re

logger = logging.getLogger(__name__)

# CommonMark lets every ASCII punctuation character be backslash-escaped and then renders it
# literally; escaping all of them (not a hand-picked few) also covers HTML tags and entities,
# links, images, emphasis, code, tables, math ($) and Streamlit's directives and shortcodes.
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
_MD_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")

# An absolute POSIX path not preceded by a word character, '.', '~', ':' or '/' (so that
# "and/or", relative paths and URLs such as https://host/x are left alone); it ends at
# white space, quotes or punctuation that does not occur in the paths we write.
_ABS_PATH = re.compile(r"(?<![\w.~:/])/[^\s'\"`:;,()\[\]<>|]+")

MAX_MESSAGE = 500  # characters of an error message shown on a page (the log has all of it)


def md_escape(value: object) -> str:
    """`value` as text that Streamlit's Markdown renders literally (on one line)."""
    text = " ".join(str(value).splitlines())
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_unescape(text: str) -> str:
    """The text md_escape was given (what the reader sees); used by the tests."""
    return _MD_ESCAPED.sub(r"\1", text)


def plot_escape(value: object) -> str:
    """`value` for a plotly title or label: its `<...>` tags (links, styles) shown as text."""
    return html.escape(str(value), quote=False)


def scrub_paths(text: str, roots: tuple[os.PathLike | str, ...] = ()) -> str:
    """`text` without server paths: paths under one of `roots` become relative to it (a model
    directory's name and file), any other absolute path becomes its last component."""
    for root in sorted((str(r).rstrip("/") for r in roots if str(r).strip("/")), key=len, reverse=True):
        text = text.replace(root + "/", "")
    return _ABS_PATH.sub(lambda m: m.group(0).rstrip("/").rsplit("/", 1)[-1] or "…", text)


def message_text(exc: BaseException | str, roots: tuple[os.PathLike | str, ...] = ()) -> str:
    """An error message for a page: one line, no server paths, at most MAX_MESSAGE characters,
    Markdown-escaped."""
    text = " ".join(scrub_paths(str(exc), roots).split())
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    return md_escape(text)
