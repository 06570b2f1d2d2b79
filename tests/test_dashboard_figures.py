"""Figure builders on small hand-built frames shaped like the core's outputs."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import figures


@pytest.fixture
def predictions():
    # two genes, the core's predict() columns
    return pd.DataFrame({
        "gene": ["P04637"] * 4 + ["P01308"] * 2,
        "term_id": ["HP:0002664", "HP:0001909", "HP:0100526", "HP:0000006", "HP:0000819", "HP:0001943"],
        "term_name": ["Neoplasm", "Leukemia", "Neoplasm of the lung", "Autosomal dominant inheritance",
                      "Diabetes mellitus", "Hypoglycemia"],
        "score": [0.91, 0.42, 0.30, 0.75, 0.88, 0.20],
        "above_threshold": [True, False, False, True, True, False],
        "rank": [1, 3, 4, 2, 1, 2],
    })


def test_prediction_bar_one_gene_sorted_with_names(predictions):
    fig = figures.prediction_bar(predictions, gene="P04637", threshold=0.5)
    bar = fig.data[0]
    # plotly draws the first category at the bottom: reversed order puts the best on top
    assert list(bar.x) == [0.30, 0.42, 0.75, 0.91]
    assert list(bar.y)[-1] == "Neoplasm"
    assert "Diabetes mellitus" not in list(bar.y)  # other gene filtered out
    assert list(bar.marker.color) == [figures.BELOW, figures.BELOW, figures.ABOVE, figures.ABOVE]
    assert "P04637" in fig.layout.title.text
    assert any(s.x0 == 0.5 for s in fig.layout.shapes)  # threshold line


def test_prediction_bar_top_and_default_gene(predictions):
    fig = figures.prediction_bar(predictions, top=2)
    assert list(fig.data[0].x) == [0.75, 0.91]  # first gene, two best


def test_short_label_and_unique_labels():
    assert figures.short_label("a" * 50, 10) == "a" * 9 + "…"
    assert figures.short_label("short") == "short"
    assert figures.term_label("HP:1", "Name") == "Name (HP:1)"
    assert figures.term_label("HP:1", float("nan")) == "HP:1"
    long = "x" * 60
    df = pd.DataFrame({"gene": ["g", "g"], "term_id": ["T:1", "T:2"], "term_name": [long + "a", long + "b"],
                       "score": [0.2, 0.1], "above_threshold": [False, False], "rank": [1, 2]})
    labels = list(figures.prediction_bar(df).data[0].y)
    assert len(set(labels)) == 2  # same truncated text made unique with the id


def test_concept_bar():
    acts = pd.DataFrame({"concept_id": ["GO:1", "GO:2", "GO:3"],
                         "concept_name": ["DNA binding", "signaling", "transport"],
                         "activation": [0.2, 0.9, 0.5]})
    fig = figures.concept_bar(acts, top=2)
    assert list(fig.data[0].y) == ["transport", "signaling"]


def test_heatmap_labels_and_scale():
    m = pd.DataFrame([[0.1, -0.2], [0.0, 0.3]], index=["DNA binding", "transport"],
                     columns=["Neoplasm", "Hypoglycemia"])
    fig = figures.heatmap(m, "Contributions", "W_p")
    hm = fig.data[0]
    assert list(hm.y) == ["DNA binding", "transport"]
    assert list(hm.x) == ["Neoplasm", "Hypoglycemia"]
    assert hm.zmid == 0
    np.testing.assert_allclose(np.array(hm.z), m.to_numpy())


def test_residue_track_and_smoothing():
    seq = "MEEPQSDPSV"
    attr = pd.DataFrame({"position": range(1, 11), "residue": list(seq),
                         "attribution": [0.1, -0.2, 0.0, 0.4, 0.1, -0.1, 0.0, 0.2, 0.3, -0.3]})
    fig = figures.residue_track(attr.sample(frac=1, random_state=0))
    bars, smooth = fig.data
    assert list(bars.x) == list(range(1, 11))  # sorted by position
    assert list(bars.customdata) == list(seq)
    assert bars.marker.color[1] == figures.NEGATIVE and bars.marker.color[0] == figures.ABOVE
    # centred rolling mean over min(15, n) = 10 residues, min_periods=1: first value = mean of first 5
    assert smooth.y[0] == pytest.approx(np.mean(attr["attribution"][:5]))


def test_compare_phenotypes_marks_hits_misses_false_alarms(predictions):
    p = predictions[predictions["gene"] == "P04637"]
    truth = ["HP:0002664", "HP:0001909", "HP:0000118x"]
    table = figures.compare_phenotypes(truth, p, term_names={"HP:0000118x": "Unscored term"})
    status = dict(zip(table["term_id"], table["status"]))
    assert status == {"HP:0002664": "hit", "HP:0001909": "miss", "HP:0000118x": "miss",
                      "HP:0000006": "false alarm"}
    assert list(table["status"]) == ["hit", "miss", "miss", "false alarm"]  # hits first
    assert table.loc[table["term_id"] == "HP:0000118x", "term_name"].item() == "Unscored term"
    assert math.isnan(table.loc[table["term_id"] == "HP:0000118x", "score"].item())
    fig = figures.comparison_bar(table)
    assert {t.name for t in fig.data} == {"hit", "miss", "false alarm"}


def test_network_figure_layout_is_seeded_and_selectable():
    g = nx.Graph()
    g.add_node("HP:1", name="Neoplasm", n_genes=300)
    g.add_node("HP:2", name="Leukemia", n_genes=40)
    g.add_node("HP:3", name="Lymphoma", n_genes=20)
    g.add_edge("HP:1", "HP:2", weight=0.6)
    g.add_edge("HP:1", "HP:3", weight=-0.2)
    a = figures.network_figure(g, focus="HP:1", seed=3)
    b = figures.network_figure(g, focus="HP:1", seed=3)
    nodes_a, nodes_b = a.data[-1], b.data[-1]
    assert list(nodes_a.x) == list(nodes_b.x)  # fixed seed, same layout
    assert list(nodes_a.customdata) == ["HP:1", "HP:2", "HP:3"]
    assert list(nodes_a.text) == ["Neoplasm", "Leukemia", "Lymphoma"]
    assert nodes_a.marker.color[0] == figures.FOCUS and nodes_a.marker.color[1] == figures.NODE
    # edges: stronger edge drawn wider; edge hover names both terms
    widths = sorted(t.line.width for t in a.data[:-2])
    assert widths == [2, 4]
    assert any("Neoplasm — Leukemia" in h for h in a.data[-2].hovertext)


def test_network_figure_empty_graph():
    fig = figures.network_figure(nx.Graph(), title="empty")
    assert isinstance(fig, go.Figure) and fig.layout.annotations[0].text.startswith("no edges")


def test_auc_bins_and_metrics():
    bins = pd.DataFrame({"bin": ["11-30", "31-100"], "auc": [0.61, 0.72], "n_terms": [100, 50]})
    fig = figures.auc_bins_bar(bins)
    assert list(fig.data[0].y) == [0.61, 0.72]
    fig = figures.metrics_bar({"fmax": 0.41, "auc": 0.7, "n_terms": 300})
    assert list(fig.data[0].x) == ["fmax", "auc"]  # counts outside 0..1 left out


def test_comparison_bar_keeps_low_scoring_misses():
    # 5 false alarms with high scores and one miss with a low score: top=3 still shows the miss
    comparison = pd.DataFrame({
        "term_id": [f"T:{i}" for i in range(6)], "term_name": [f"term {i}" for i in range(6)],
        "score": [0.9, 0.8, 0.7, 0.6, 0.55, 0.01],
        "status": ["false alarm"] * 5 + ["miss"], "true": [False] * 5 + [True],
        "predicted": [True] * 5 + [False]})
    fig = figures.comparison_bar(comparison, top=3)
    shown = {t.name: list(t.y) for t in fig.data}
    assert shown["miss"] == ["term 5"]
    assert shown["false alarm"] == ["term 1", "term 0"]  # the two strongest, best at the top


def test_heatmap_axis_drops_ids_hover_keeps_them():
    m = pd.DataFrame([[0.1]], index=["DNA binding (GO:0003677)"], columns=["Seizure (HP:0001250)"])
    hm = figures.heatmap(m, "t").data[0]
    assert list(hm.x) == ["Seizure"] and list(hm.y) == ["DNA binding"]
    assert "HP:0001250" in hm.customdata[0][0] and "GO:0003677" in hm.customdata[0][0]


def test_heatmap_same_short_names_made_unique_with_ids():
    long = "Abnormal nervous system morphology of something much longer than three lines of labels"
    m = pd.DataFrame([[0.1, 0.2]], index=["c (GO:0000001)"],
                     columns=[f"{long} A (HP:0000001)", f"{long} B (HP:0000002)"])
    x = list(figures.heatmap(m, "t").data[0].x)
    assert len(set(x)) == 2 and x[1].endswith("[HP:0000002]")


def test_comparison_bar_balances_statuses():
    # 40 hits scoring above every miss and false alarm: top=9 shows 3 of each status
    rows = [(f"H:{i}", 0.9 - i * 0.001, "hit") for i in range(40)]
    rows += [(f"M:{i}", 0.3 - i * 0.01, "miss") for i in range(5)]
    rows += [(f"F:{i}", 0.5 - i * 0.01, "false alarm") for i in range(5)]
    comparison = pd.DataFrame(rows, columns=["term_id", "score", "status"]).assign(term_name=lambda d: d["term_id"])
    fig = figures.comparison_bar(comparison, top=9)
    shown = {t.name: len(t.y) for t in fig.data}
    assert shown == {"hit": 3, "miss": 3, "false alarm": 3}
    miss = next(t for t in fig.data if t.name == "miss")
    assert sorted(miss.x, reverse=True) == pytest.approx([0.3, 0.29, 0.28])  # the nearest misses


def test_contribution_bars_point_the_way_of_their_sign_and_the_rest_stays_small():
    contrib = pd.DataFrame({"source": ["ortholog phenotype", "concept", "GO term", "concept"] + ["concept"] * 40,
                            "id": [f"X:{i}" for i in range(44)],
                            "name": ["increased sarcoma incidence", "DNA binding", "apoptotic process", "transport"]
                            + [f"small {i}" for i in range(40)],
                            "contribution": [0.4, -0.3, 0.2, -0.1] + [0.05] * 40})
    bias, logit = -1.0, -1.0 + contrib["contribution"].sum()
    fig = figures.contribution_bars(contrib, bias, logit, "Sarcoma", top=2)
    bar = fig.data[0]
    labels = list(bar.y)
    # top 2 positive (largest first), then the 2 most negative, then the remainder
    assert labels[:4] == ["homolog phenotype · increased sarcoma incidence", "GO term · apoptotic process",
                          "GO concept · DNA binding", "GO concept · transport"]
    assert labels[4] == "40 other contributions"
    drawn = list(bar.x)
    assert drawn[0] > 0 and drawn[2] < 0 and drawn[3] < 0  # from zero, in the direction of the sign
    # the remainder sums to 2.0 but is drawn no longer than the longest shown bar; its label keeps the sum
    assert drawn[4] == pytest.approx(0.4) and bar.text[4] == "+2.00"
    assert bar.marker.color[4] == figures.OTHER
    values = [float(t) for t in bar.text]
    assert bias + sum(values) == pytest.approx(logit, abs=0.02)  # labels are rounded to 2 decimals
    assert f"logit {logit:+.2f}" in fig.layout.title.text


def test_one_name_per_input_kind():
    assert figures.source_label("ortholog phenotype") == "homolog phenotype"
    assert figures.source_label("concept") == "GO concept"
    from dashboard import views

    for source, plural in views.SOURCE_NAMES.items():
        assert plural == figures.source_label(source) + "s"


def test_attribution_unit_and_zoomed_residue_view():
    assert figures.attribution_unit([5e-4, -1e-4]) == (1000.0, "10⁻³ logit")
    assert figures.attribution_unit([2e-6])[1] == "10⁻⁶ logit"
    assert figures.attribution_unit([0.5]) == (1.0, "logit")
    seq = "MEEPQSDPSVEPPLSQETFS"
    attr = pd.DataFrame({"position": range(1, 21), "residue": list(seq),
                         "attribution": np.linspace(-4e-4, 5e-4, 20)})
    fig = figures.residue_track(attr)
    assert fig.layout.yaxis.title.text == "attribution (10⁻³ logit)"
    assert max(fig.data[0].y) == pytest.approx(0.5)
    zoom = figures.residue_track(attr, window=(5, 12))
    assert list(zoom.data[0].x) == list(range(5, 13))
    assert list(zoom.layout.xaxis.ticktext) == [seq[i - 1] if i % 10 else f"{seq[i - 1]}<br>{i}" for i in range(5, 13)]


def test_wrapped_labels_keep_the_words():
    assert figures.wrap_label("Abnormality of blood and blood-forming tissues", 24, 2) == \
        "Abnormality of blood and<br>blood-forming tissues"
    assert figures.wrap_label("short", 24, 2) == "short"
    three = figures.wrap_label("a " * 40, 10, 2)
    assert three.count("<br>") == 1 and three.endswith("…")


def test_heatmap_scale_is_symmetric_around_zero():
    m = pd.DataFrame([[-0.9, -0.2], [-0.5, 0.3]], index=["a", "b"], columns=["x", "y"])
    hm = figures.heatmap(m, "t").data[0]
    assert hm.zmin == pytest.approx(-0.9) and hm.zmax == pytest.approx(0.9)
