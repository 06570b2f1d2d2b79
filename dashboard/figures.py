"""Plotly figure builders for the dashboard: pure functions, data frames in, Figures out.

Nothing here imports streamlit or the model core, so every builder is unit-tested on small
hand-built frames (tests/test_dashboard_figures.py). Labels are readable term names; ids
go into the hover text. Layouts are compact (small margins, horizontal legends) so that
the figures still read in a narrow (about 420 px) browser window.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.safe_text import plot_escape

logger = logging.getLogger(__name__)

# Colours: colour-blind safe (Okabe-Ito), one meaning each across the whole dashboard.
ABOVE = "#0072B2"  # above threshold / hit / positive contribution
BELOW = "#9DB8CF"  # below threshold
MISS = "#E69F00"  # a true phenotype the model missed
FALSE_ALARM = "#D55E00"  # predicted above threshold, not annotated
NEGATIVE = "#D55E00"  # negative contribution
FOCUS = "#CC79A7"  # the chosen node in a graph
NODE = "#56B4E9"
STATUS_COLOURS = {"hit": ABOVE, "miss": MISS, "false alarm": FALSE_ALARM, "below threshold": BELOW}

_TRAILING_ID = re.compile(r" \([A-Za-z]+:\d+\)$")
MAX_LABEL = 38  # characters of a term name shown on an axis; the full name is in the hover


def wrap_label(text: object, width: int = 24, lines: int = 2) -> str:
    """A long name on up to `lines` lines of about `width` characters (<br>), the last one cut
    with "…" only when it still does not fit (the hover keeps the full name)."""
    words, out, line = str(text).split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    out.append(line)
    if len(out) > lines:
        out = out[:lines - 1] + [short_label(" ".join(out[lines - 1:]), width)]
    return "<br>".join(out)


def short_label(text: object, width: int = MAX_LABEL) -> str:
    """Truncate a long term name for an axis label (full name stays in the hover)."""
    text = str(text)
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def term_label(term_id: object, name: object) -> str:
    """'name (ID)' when a name is known, else the id."""
    if name is None or (isinstance(name, float) and math.isnan(name)) or str(name) == "":
        return str(term_id)
    return f"{name} ({term_id})"


def _unique_labels(labels: Iterable[str], ids: Iterable[str]) -> list[str]:
    """Axis categories must be unique: two terms can share a truncated name."""
    seen: dict[str, int] = {}
    out = []
    for label, term_id in zip(labels, ids):
        if label in seen:
            label = f"{label} [{term_id}]"
        seen[label] = 1
        out.append(label)
    return out


def _base_layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        # titles name user-supplied genes; plotly reads <a href>, <span style> in them
        title={"text": plot_escape(title), "x": 0, "xanchor": "left", "font": {"size": 15}},
        height=height,
        margin={"l": 8, "r": 8, "t": 48, "b": 8},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "xanchor": "left"},
        template="plotly_white",
        font={"size": 12},
    )
    return fig


def _bar_height(n: int) -> int:
    return max(240, 70 + 24 * n)


def prediction_bar(
    predictions: pd.DataFrame, gene: str | None = None, threshold: float | None = None, top: int = 20,
    title: str | None = None,
) -> go.Figure:
    """Horizontal bars of predicted phenotype scores for one gene, best at the top.

    predictions: the core's predict() frame [gene, term_id, term_name, score, above_threshold,
    rank (, prior)]. gene: which gene to show (default: the first). Bars above the threshold
    are dark; with a prior column, each term's prior (training frequency) is a marker on its bar.
    """
    df = predictions
    if gene is None and len(df):
        gene = df["gene"].iloc[0]
    if gene is not None:
        df = df[df["gene"] == gene]
    df = df.sort_values("score", ascending=False).head(top).iloc[::-1]
    labels = _unique_labels([short_label(n) for n in df["term_name"]], df["term_id"])
    colours = [ABOVE if a else BELOW for a in df["above_threshold"]]
    fig = go.Figure(
        go.Bar(
            x=df["score"],
            y=labels,
            orientation="h",
            marker_color=colours,
            customdata=np.stack([df["term_id"], df["term_name"]], axis=-1) if len(df) else None,
            hovertemplate="%{customdata[1]}<br>%{customdata[0]}<br>score %{x:.3f}<extra></extra>",
            name="score",
        )
    )
    if "prior" in df and len(df):
        fig.add_trace(go.Scatter(
            x=df["prior"], y=labels, mode="markers", name="prior (term frequency)",
            marker=dict(symbol="line-ns-open", size=14, color="#222", line=dict(width=2)),
            hovertemplate="prior %{x:.3f}<extra></extra>",
        ))
        fig.update_layout(showlegend=True, legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0))
    if threshold is not None:
        # the label at the bottom: the legend sits above the plot
        fig.add_vline(x=threshold, line_dash="dash", line_color="#444",
                      annotation_text=f"threshold {threshold:.2f}", annotation_position="bottom right")
    # zoom on the scores (often far below 1) but keep the threshold line in view
    top_value = max([float(df["score"].max()) if len(df) else 0.0, threshold or 0.0])
    fig.update_xaxes(title="predicted probability", range=[0, min(1.0, max(0.05, top_value * 1.1))])
    fig.update_yaxes(automargin=True)
    title = title or (f"Top {len(df)} predicted phenotypes" + (f" for {gene}" if gene else ""))
    return _base_layout(fig, title, _bar_height(len(df)))


def concept_bar(activations: pd.DataFrame, top: int = 20, title: str = "GO concept activations") -> go.Figure:
    """Bars of the gene's GO concept activations sigmoid(c_j), strongest first.

    activations: [concept_id, concept_name, activation] (activation in 0..1).
    """
    df = activations.sort_values("activation", ascending=False).head(top).iloc[::-1]
    labels = _unique_labels([short_label(n) for n in df["concept_name"]], df["concept_id"])
    fig = go.Figure(
        go.Bar(
            x=df["activation"],
            y=labels,
            orientation="h",
            marker_color=ABOVE,
            customdata=np.stack([df["concept_id"], df["concept_name"]], axis=-1) if len(df) else None,
            hovertemplate="%{customdata[1]}<br>%{customdata[0]}<br>activation %{x:.3f}<extra></extra>",
        )
    )
    fig.update_xaxes(title="sigmoid(concept logit)", range=[0, 1])
    fig.update_yaxes(automargin=True)
    return _base_layout(fig, title, _bar_height(len(df)))


# one name per input kind, everywhere on the pages (the core's evidence_table "source" values)
SOURCE_LABELS = {"concept": "GO concept", "GO term": "GO term", "ortholog phenotype": "homolog phenotype",
                 "functional neighbour": "functional neighbour"}
OTHER = "#BBBBBB"  # the remainder of the contributions


def source_label(source: object) -> str:
    return SOURCE_LABELS.get(str(source), str(source))


def contribution_bars(
    contributions: pd.DataFrame, bias: float, logit: float, phenotype: str, top: int = 6
) -> go.Figure:
    """The largest contributions to one phenotype's logit as bars from zero, each in the
    direction of its sign: the `top` largest positive ones (largest first), then the `top`
    most negative ones, then the rest summed into one small grey "N other contributions" bar
    (its drawn length is capped at the longest shown bar so that it never dominates; its
    label and hover give the true sum). Bias + every bar's value = logit (in the title).

    contributions: [id, name, contribution] and optionally source (the core's evidence_table:
    "concept" W_p[k, j]·σ(c_j), "GO term" W_g[k, t]·g_t, "ortholog phenotype" W_o[k, x]·o_x,
    "functional neighbour" a training gene with similar GO, its share of what the vote adds).
    """
    df = contributions.copy()
    if "source" not in df:
        df["source"] = "concept"
    pos = df[df["contribution"] > 0].sort_values("contribution", ascending=False).head(top)
    neg = df[df["contribution"] < 0].sort_values("contribution").head(top)
    shown = pd.concat([pos, neg])
    rest = df.drop(index=shown.index)
    labels = [f"{source_label(src)} · {short_label(n or i, 34)}" for src, n, i in
              zip(shown["source"], shown["name"], shown["id"])]
    labels = _unique_labels(labels, shown["id"])
    values = [float(v) for v in shown["contribution"]]
    hover = [f"{source_label(src)}: {term_label(i, n)}" for src, i, n in zip(shown["source"], shown["id"], shown["name"])]
    colours = [ABOVE if v > 0 else NEGATIVE for v in values]
    drawn = list(values)
    if len(rest):
        total = float(rest["contribution"].sum())
        longest = max((abs(v) for v in values), default=abs(total))
        labels.append(f"{len(rest)} other contribution{'' if len(rest) == 1 else 's'}")
        values.append(total)
        drawn.append(math.copysign(min(abs(total), longest), total) if total else 0.0)
        hover.append(f"sum of the {len(rest)} remaining contributions")
        colours.append(OTHER)
    fig = go.Figure(go.Bar(
        x=drawn, y=labels, orientation="h", marker_color=colours,
        text=[f"{v:+.2f}" for v in values], textposition="outside", cliponaxis=False,
        customdata=np.stack([hover, [f"{v:+.3f}" for v in values]], axis=-1) if labels else None,
        hovertemplate="%{customdata[0]}<br>%{customdata[1]}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed", automargin=True)
    extent = max((abs(v) for v in drawn), default=1.0) or 1.0
    fig.update_xaxes(title="contribution to the logit (right: raises it, left: lowers it)",
                     zeroline=True, zerolinecolor="#444", zerolinewidth=1.5, range=[-1.35 * extent, 1.35 * extent])
    title = (f"Why: {short_label(phenotype, 50)} (bias {bias:+.2f} + contributions "
             f"{logit - bias:+.2f} = logit {logit:+.2f})")
    return _base_layout(fig, title, _bar_height(len(labels)))


def heatmap(
    matrix: pd.DataFrame, title: str, colorbar_title: str = "", zmid: float | None = 0.0,
    height: int | None = None,
) -> go.Figure:
    """Heatmap of a labelled matrix (rows x columns), e.g. concepts x phenotypes.

    A diverging scale centred on `zmid` (0: positive blue, negative red) unless zmid is None.
    """
    # axis ticks: names without the trailing " (HP:0001250)" id (the hover keeps it)
    # rows: names on up to two lines (rows are tall enough for them); columns: one rotated line
    # (rotated multi-line labels overlap their neighbours); the hover has every full name
    rows = [wrap_label(plot_escape(_TRAILING_ID.sub("", str(r))), 36, 2) for r in matrix.index]
    cols = [plot_escape(short_label(_TRAILING_ID.sub("", str(c)), 32)) for c in matrix.columns]
    rows = _unique_labels(rows, [_short_id(r) for r in matrix.index])
    cols = _unique_labels(cols, [_short_id(c) for c in matrix.columns])
    z = matrix.to_numpy(dtype=float)
    hover = np.array([[f"{r}<br>{c}" for c in matrix.columns] for r in matrix.index], dtype=object)
    # a symmetric range around zmid: the colour of 0 is white whatever the spread of the values
    extent = float(np.nanmax(np.abs(z - (zmid or 0.0)))) if z.size and np.isfinite(z).any() else 1.0
    kwargs: dict = ({"colorscale": "RdBu", "zmid": zmid, "zmin": zmid - extent, "zmax": zmid + extent}
                    if zmid is not None else {"colorscale": "Blues"})
    fig = go.Figure(
        go.Heatmap(
            z=z, x=cols, y=rows, customdata=hover,
            hovertemplate="%{customdata}<br>%{z:.3f}<extra></extra>",
            colorbar={"title": {"text": colorbar_title}, "thickness": 12},
            **kwargs,
        )
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(tickangle=-35, automargin=True)
    per_row = 34 if any("<br>" in r for r in rows) else 22
    return _base_layout(fig, title, height or max(300, 200 + per_row * len(rows)))


def _short_id(label) -> str:
    """The id inside a 'name (ID)' label (or the label itself): tells apart equal short names."""
    match = _TRAILING_ID.search(str(label))
    return match.group(0).strip(" ()") if match else str(label)


def attribution_unit(values) -> tuple[float, str]:
    """(factor, unit) that puts per-residue attributions (logit units, often ~1e-4) in a
    readable range: values * factor mostly between 0.1 and 1000, unit "10⁻³ logit" etc."""
    values = np.asarray(values, dtype=float)
    top = float(np.nanmax(np.abs(values))) if values.size and np.isfinite(values).any() else 0.0
    if top == 0.0 or top >= 0.1:
        return 1.0, "logit"
    # the largest multiple of 3 that keeps the largest value >= 0.1 (5e-4 -> 10^3: 0.5)
    exponent = max(3, 3 * math.floor((-math.log10(top) + 2) / 3))
    superscript = str(exponent).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return 10.0 ** exponent, f"10⁻{superscript} logit"


def residue_track(attributions: pd.DataFrame, title: str = "Residue attributions",
                  window: tuple[int, int] | None = None) -> go.Figure:
    """Attribution per residue along the sequence (Integrated Gradients through the encoder).

    attributions: [position (1-based), residue, attribution (logit units)]. Positive bars push
    the logit up, negative down; a rolling mean over 15 residues shows the regions. Values
    are drawn in a readable unit (attribution_unit: 10⁻³ logit, ...), named on the axis.
    window (first, last position): only that stretch, with each residue's letter on the axis
    (the zoomed sequence view).
    """
    df = attributions.sort_values("position")
    factor, unit = attribution_unit(df["attribution"])
    values = df["attribution"].to_numpy(dtype=float) * factor
    smooth = pd.Series(values).rolling(min(15, max(1, len(df))), center=True, min_periods=1).mean().to_numpy()
    n_window = min(15, max(1, len(df)))
    if window is not None:
        keep = ((df["position"] >= window[0]) & (df["position"] <= window[1])).to_numpy()
        df, values, smooth = df[keep], values[keep], smooth[keep]
    colours = np.where(values >= 0, ABOVE, NEGATIVE)
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=df["position"], y=values, marker_color=colours, marker_line_width=0, name="residue",
        customdata=df["residue"], hovertemplate="%{customdata}%{x}: %{y:+.3f} " + unit + "<extra></extra>",
    ))
    fig.add_trace(go.Scatter(
        x=df["position"], y=smooth, mode="lines", line={"color": "#333", "width": 1.5},
        name=f"mean over {n_window} residues", hoverinfo="skip",
    ))
    fig.update_layout(bargap=0 if window is None else 0.15)
    if window is not None:
        fig.update_xaxes(title="residue", tickmode="array", tickvals=df["position"].tolist(),
                         ticktext=[f"{r}<br>{p}" if p % 10 == 0 else r for r, p in zip(df["residue"], df["position"])],
                         tickangle=0, tickfont={"family": "monospace", "size": 11})
    else:
        fig.update_xaxes(title="residue position", rangeslider={"visible": len(df) > 120, "thickness": 0.08})
    fig.update_yaxes(title=f"attribution ({unit})", zeroline=True, zerolinecolor="#888", tickformat=".2~f")
    return _base_layout(fig, title, 330)


def compare_phenotypes(
    true_terms: Iterable[str], predictions: pd.DataFrame, term_names: dict[str, str] | None = None
) -> pd.DataFrame:
    """True versus predicted phenotypes of one gene, each row marked hit/miss/false alarm.

    predictions: [term_id, term_name, score, above_threshold] for this gene (all terms or the
    top ones). A true term with a score above threshold is a hit, a true term below threshold
    (or absent from `predictions`) a miss, a predicted-above-threshold term not in the truth a
    false alarm. Returns [term_id, term_name, score, status, true, predicted], hits first.
    """
    truth = set(true_terms)
    names = dict(term_names or {})
    names.update(dict(zip(predictions["term_id"], predictions["term_name"])))
    scored = predictions.set_index("term_id")
    rows = []
    for term in sorted(truth | set(predictions.loc[predictions["above_threshold"].astype(bool), "term_id"])):
        score = float(scored.at[term, "score"]) if term in scored.index else float("nan")
        predicted = bool(scored.at[term, "above_threshold"]) if term in scored.index else False
        is_true = term in truth
        status = "hit" if is_true and predicted else "miss" if is_true else "false alarm"
        rows.append((term, names.get(term, term), score, status, is_true, predicted))
    df = pd.DataFrame(rows, columns=["term_id", "term_name", "score", "status", "true", "predicted"])
    order = {"hit": 0, "miss": 1, "false alarm": 2}
    return (df.assign(_o=df["status"].map(order)).sort_values(["_o", "score"], ascending=[True, False])
            .drop(columns="_o").reset_index(drop=True))


def comparison_bar(comparison: pd.DataFrame, top: int = 30, title: str = "True vs predicted") -> go.Figure:
    """Scores of a gene's hits, misses and false alarms (compare_phenotypes output), coloured by status."""
    df = comparison.copy()
    df["score"] = df["score"].fillna(0.0)
    # a share of each status (strongest first), so that a gene with hundreds of true
    # phenotypes still shows its near misses and false alarms; the rest filled by score
    quota = max(1, top // 3)
    parts = [df[df["status"] == s].sort_values("score", ascending=False) for s in ("hit", "miss", "false alarm")]
    chosen = pd.concat([p.head(quota) for p in parts])
    rest = df.drop(index=chosen.index).sort_values("score", ascending=False).head(max(0, top - len(chosen)))
    df = pd.concat([chosen, rest]).sort_values("score", ascending=False).iloc[::-1]
    df["label"] = _unique_labels([short_label(n) for n in df["term_name"]], df["term_id"])
    fig = go.Figure()
    for status in ("hit", "miss", "false alarm"):
        part = df[df["status"] == status]
        if not len(part):
            continue
        fig.add_trace(go.Bar(
            x=part["score"], y=part["label"], orientation="h", name=status, marker_color=STATUS_COLOURS[status],
            customdata=np.stack([part["term_id"], part["term_name"]], axis=-1),
            hovertemplate="%{customdata[1]}<br>%{customdata[0]}<br>score %{x:.3f}<extra>" + status + "</extra>",
        ))
    fig.update_yaxes(categoryorder="array", categoryarray=list(df["label"]), automargin=True)
    top_value = float(df["score"].max()) if len(df) else 0.0
    fig.update_xaxes(title="predicted probability", range=[0, min(1.0, max(0.05, top_value * 1.1))])
    return _base_layout(fig, title, _bar_height(len(df)))


def network_figure(
    graph: nx.Graph,
    focus: str | None = None,
    title: str = "Phenotype graph",
    seed: int = 0,
    weight: str = "weight",
    edge_colour: str = "#999",
    dashed: bool = False,
    height: int = 520,
) -> go.Figure:
    """An interactive network: nodes laid out by networkx.spring_layout (fixed seed).

    Node attributes used when present: `name` (label), `n_genes` (size), `score` (colour).
    The focus node is pink and larger. Each node's id is in customdata, so a click selection
    (st.plotly_chart(on_select="rerun")) tells which term was chosen. Edge width follows
    |weight|; dashed edges are used for the exclusion graph.
    """
    fig = go.Figure()
    if graph.number_of_nodes() == 0:
        fig.add_annotation(text="no edges around this phenotype", showarrow=False, x=0.5, y=0.5,
                           xref="paper", yref="paper")
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return _base_layout(fig, title, 260)
    # spring_layout needs non-negative weights; |w| keeps strong anti-correlations close too
    layout_graph = nx.Graph()
    layout_graph.add_nodes_from(graph.nodes)
    for u, v, data in graph.edges(data=True):
        layout_graph.add_edge(u, v, w=abs(float(data.get(weight, 1.0) or 0.0)) + 1e-3)
    pos = nx.spring_layout(layout_graph, seed=seed, weight="w")
    weights = [abs(float(d.get(weight, 1.0) or 0.0)) for _, _, d in graph.edges(data=True)]
    wmax = max(weights) if weights and max(weights) > 0 else 1.0
    # one trace per (width class, touches the focus) keeps the figure small (plotly lines cannot
    # vary width within a trace); edges of the focus node are drawn darker, the others fade
    classes: dict[tuple[int, bool], tuple[list, list]] = {}
    mid_x, mid_y, mid_text = [], [], []
    for (u, v, data), w in zip(graph.edges(data=True), weights):
        cls = 1 + int(round(3 * w / wmax))
        xs, ys = classes.setdefault((cls, focus in (u, v)), ([], []))
        xs += [pos[u][0], pos[v][0], None]
        ys += [pos[u][1], pos[v][1], None]
        mid_x.append((pos[u][0] + pos[v][0]) / 2)
        mid_y.append((pos[u][1] + pos[v][1]) / 2)
        extra = "".join(f"<br>{k}: {_fmt(val)}" for k, val in data.items()
                        if k != weight and not str(k).startswith("name_"))
        mid_text.append(f"{_node_name(graph, u)} — {_node_name(graph, v)}<br>{weight}: {_fmt(data.get(weight))}{extra}")
    for (cls, focal), (xs, ys) in sorted(classes.items()):
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
            line={"width": cls, "color": edge_colour, "dash": "dash" if dashed else "solid"},
            opacity=0.9 if focal or focus is None else 0.15 + 0.08 * cls,
        ))
    fig.add_trace(go.Scatter(  # invisible edge midpoints carry the edge hover text
        x=mid_x, y=mid_y, mode="markers", marker={"size": 6, "opacity": 0}, showlegend=False,
        hovertext=mid_text, hoverinfo="text",
    ))
    nodes = list(graph.nodes)
    n_genes = np.array([float(graph.nodes[n].get("n_genes", 0) or 0) for n in nodes])
    sizes = 12 + 14 * np.sqrt(n_genes / n_genes.max()) if n_genes.max() > 0 else np.full(len(nodes), 16.0)
    colours = [FOCUS if n == focus else NODE for n in nodes]
    sizes = [s * 1.5 if n == focus else s for s, n in zip(sizes, nodes)]
    names = [_node_name(graph, n) for n in nodes]
    hover = [f"{name}<br>{n}" + (f"<br>{int(g)} genes" if g else "") for name, n, g in zip(names, nodes, n_genes)]
    fig.add_trace(go.Scatter(
        x=[pos[n][0] for n in nodes], y=[pos[n][1] for n in nodes], mode="markers+text",
        marker={"size": sizes, "color": colours, "line": {"width": 1, "color": "#333"}},
        # two lines of up to ~24 characters at 13 px; the full name is in the hover
        text=[wrap_label(plot_escape(name), 24, 2) for name in names], textposition="top center",
        textfont={"size": 13, "color": "#222"}, customdata=nodes, hovertext=hover, hoverinfo="text", showlegend=False,
        name="phenotypes",
    ))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(clickmode="event+select", dragmode="pan")
    return _base_layout(fig, title, height)


def _node_name(graph: nx.Graph, node) -> str:
    return str(graph.nodes[node].get("name") or node)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def auc_bins_bar(bins: pd.DataFrame, title: str = "AUC per term-frequency bin") -> go.Figure:
    """Macro AUC per frequency bin: [bin, auc] (+ optional n_terms shown in the hover)."""
    n = bins["n_terms"] if "n_terms" in bins else pd.Series([None] * len(bins))
    fig = go.Figure(go.Bar(
        x=bins["bin"].astype(str), y=bins["auc"], marker_color=ABOVE,
        customdata=n, hovertemplate="%{x}: AUC %{y:.3f}<br>%{customdata} terms<extra></extra>",
        text=[f"{v:.3f}" for v in bins["auc"]], textposition="outside",
    ))
    fig.add_hline(y=0.5, line_dash="dot", line_color="#888", annotation_text="random")
    fig.update_yaxes(title="macro ROC AUC", range=[0, 1.05])
    fig.update_xaxes(title="annotated genes per term")
    return _base_layout(fig, title, 320)


def metrics_bar(metrics: dict[str, float], title: str = "Test metrics") -> go.Figure:
    """A small bar chart of scalar metrics in 0..1 (Fmax, AUC, AUPR ...)."""
    items = [(k, float(v)) for k, v in metrics.items() if isinstance(v, (int, float)) and 0 <= float(v) <= 1]
    fig = go.Figure(go.Bar(
        x=[k for k, _ in items], y=[v for _, v in items], marker_color=ABOVE,
        text=[f"{v:.3f}" for _, v in items], textposition="outside",
    ))
    fig.update_yaxes(range=[0, 1.05])
    return _base_layout(fig, title, 300)
