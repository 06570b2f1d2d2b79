"""genepheno_core.benchmark.tables: number formatting and the markdown of no cells."""

import pandas as pd

from genepheno_core.benchmark.tables import pct, render_markdown


def test_pct_and_empty_markdown():
    assert pct(0.31144, 0.0042) == "31.14 ± 0.42"
    assert pct(0.5, float("nan")) == "50.00"
    assert pct(float("nan")) == "-"
    assert "No finished cells" in render_markdown(pd.DataFrame())
