"""Exports: figures as PNG/SVG (plotly + kaleido) and standalone HTML, tables as CSV/JSON.

Kaleido 1.x renders in a headless Chrome. We point it at Debian's Chromium through the
BROWSER_PATH variable that kaleido/choreographer read (unless the user set it), and keep one
kaleido server per process: the first image takes about 3 s (browser start), the next ones
a fraction of a second. The converters are plain functions; `figure_downloads` and
`table_download` put them behind Streamlit download buttons, generating images only when a
button is clicked (callable `data`), so pages do not pay for exports nobody asked for.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import warnings
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

logger = logging.getLogger(__name__)

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
IMAGE_FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
EXPORT_WIDTH, EXPORT_HEIGHT_DEFAULT, EXPORT_SCALE = 1000, 500, 2

_lock = threading.Lock()
_server_started = False


def browser_path() -> str | None:
    """The Chrome kaleido will use: $BROWSER_PATH, else Debian's chromium, else one on PATH."""
    env = os.environ.get("BROWSER_PATH")
    if env:
        return env
    if DEBIAN_CHROMIUM.exists():
        return str(DEBIAN_CHROMIUM)
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _ensure_kaleido() -> None:
    """Point kaleido at a local Chrome and start its persistent server once per process."""
    global _server_started
    if _server_started:
        return
    path = browser_path()
    if path and not os.environ.get("BROWSER_PATH"):
        os.environ["BROWSER_PATH"] = path
    import kaleido  # imported lazily: it starts nothing until used

    kaleido.start_sync_server(silence_warnings=True)
    _server_started = True


def slug(name: str) -> str:
    """A safe file stem: 'Top phenotypes: P04637' -> 'top_phenotypes_p04637'."""
    stem = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()
    return stem[:80] or "figure"


EXPORT_MARGIN = 32  # px around an exported figure (on the page, figures sit tight in their column)


def for_export(fig: go.Figure) -> go.Figure:
    """A copy of `fig` with margins a stand-alone image needs: the page's 8 px margins (and a
    title at x=0) make an exported title touch the image's edge."""
    out = go.Figure(fig)
    margin = out.layout.margin
    out.update_layout(margin={side: max(EXPORT_MARGIN, int(getattr(margin, side) or 0)) for side in ("l", "r", "b")}
                      | {"t": max(EXPORT_MARGIN + 40, int(margin.t or 0))})
    return out


def figure_to_image(fig: go.Figure, fmt: str = "png", width: int = EXPORT_WIDTH,
                    height: int | None = None, scale: float = EXPORT_SCALE) -> bytes:
    """Render a figure to PNG or SVG bytes with kaleido (Debian chromium), with export margins."""
    fmt = fmt.lower()
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"unsupported image format {fmt!r}; use one of {sorted(IMAGE_FORMATS)}")
    height = (height or int(fig.layout.height or EXPORT_HEIGHT_DEFAULT)) + 2 * EXPORT_MARGIN
    fig = for_export(fig)
    with _lock:  # one kaleido server, requests from several Streamlit threads
        _ensure_kaleido()
        with warnings.catch_warnings():
            # plotly warns that its kaleido options are unused with a server; they are not needed
            warnings.filterwarnings("ignore", message="The kopts argument is ignored")
            return pio.to_image(fig, format=fmt, width=width, height=height,
                                scale=scale if fmt == "png" else 1)


def figure_to_html(fig: go.Figure) -> str:
    """A standalone HTML page (plotly.js inlined: opens offline, stays interactive)."""
    return pio.to_html(for_export(fig), include_plotlyjs=True, full_html=True,
                       config={"displaylogo": False, "responsive": True})


def table_to_csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode("utf-8")


def table_to_json(df: pd.DataFrame) -> bytes:
    """Records as a JSON list (NaN -> null), UTF-8."""
    records = json.loads(df.to_json(orient="records", double_precision=6))
    return json.dumps(records, indent=1, ensure_ascii=False).encode("utf-8")


# --- Streamlit helpers (streamlit imported lazily so the converters test without it) ----

def show_figure(fig: go.Figure, name: str, key: str, on_select: str = "ignore", **kwargs):
    """st.plotly_chart plus PNG / SVG / HTML download buttons under it; returns the chart state."""
    import streamlit as st

    event = st.plotly_chart(fig, key=f"chart_{key}", on_select=on_select,
                            config={"displaylogo": False}, **kwargs)
    figure_downloads(fig, name, key)
    return event


def figure_downloads(fig: go.Figure, name: str, key: str) -> None:
    """Three small download buttons; images are rendered only when clicked."""
    import streamlit as st

    stem = slug(name)
    row = st.container(horizontal=True, gap="small")
    for fmt in ("png", "svg"):
        row.download_button(
            f"{fmt.upper()}", data=lambda fmt=fmt: figure_to_image(fig, fmt), file_name=f"{stem}.{fmt}",
            mime=IMAGE_FORMATS[fmt], key=f"dl_{fmt}_{key}", on_click="ignore", icon=":material/download:",
            help=f"Download this figure as {fmt.upper()}",
        )
    row.download_button(
        "HTML", data=lambda: figure_to_html(fig), file_name=f"{stem}.html", mime="text/html",
        key=f"dl_html_{key}", on_click="ignore", icon=":material/download:",
        help="Download this figure as a standalone interactive HTML page",
    )


def table_download(df: pd.DataFrame, name: str, key: str, label: str = "CSV") -> None:
    """CSV and JSON download buttons of the whole table (every row and column)."""
    import streamlit as st

    row = st.container(horizontal=True, gap="small")
    row.download_button(
        label, data=table_to_csv(df), file_name=f"{slug(name)}.csv", mime="text/csv",
        key=f"dl_csv_{key}", on_click="ignore", icon=":material/download:",
        help="Download this table as CSV",
    )
    row.download_button(
        "JSON", data=table_to_json(df), file_name=f"{slug(name)}.json", mime="application/json",
        key=f"dl_json_{key}", on_click="ignore", icon=":material/download:",
        help="Download this table as JSON (one record per row)",
    )
