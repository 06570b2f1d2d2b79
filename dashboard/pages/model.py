"""Model page: metrics, benchmark table, AUC per frequency bin, W_p heatmap, the interpretability check in plain words."""

import json

import pandas as pd
import streamlit as st

import genepheno_core as gp
from dashboard import export, figures, models, state, views, widgets

state.init_state()
st.title("The model")

model_name = widgets.sidebar_model_picker()
if model_name is None:
    widgets.no_model_message()
    st.stop()
models.require_model(model_name)
sibling = models.no_go_sibling(model_name)
if sibling:  # the pages score proteins given no GO with it (models.scorer): its numbers are here too
    model_name = st.radio(
        "Which model", [model_name, sibling], horizontal=True, key="model_page_which",
        format_func=lambda n: (f"{n}: proteins given no GO (trained on GO transferred from homologs)" if n == sibling
                               else f"{n}: proteins given GO"),
        help="A protein given no GO is scored by the model trained on GO transferred from its sequence homologs: "
             "the benchmark chose it on validation for that input.")
    models.require_model(model_name)

info = views.model_summary(model_name)
st.caption(info["description"])
metrics = info["metrics"]
st.subheader("What the numbers mean")
for sentence in views.metric_sentences(model_name):
    st.markdown(sentence)
cols = st.columns(3)
for col, (label, value) in zip(cols * 3, info["headline"]):
    col.metric(label, value)

bins = info["auc_bins"]
if bins is not None and len(bins):
    split = bins.attrs["source"].split(".")[0]  # test, valid
    fig = figures.auc_bins_bar(bins, title=f"AUC per term-frequency bin ({split} split)")
    export.show_figure(fig, f"auc per bin {model_name}", key="auc_bins")
    export.table_download(bins, f"auc per bin {model_name}", key="auc_bins_table")

st.subheader("How readable are the explanations?")
check = info["interpretability"]
if info["evidence"]:
    for sentence in info["evidence"]:
        st.markdown(sentence)
if check:
    with st.expander("The interpretability check's numbers"):
        st.dataframe(pd.DataFrame(list(check.items()), columns=["measure", "value"]).astype({"value": str}),
                     hide_index=True, width="stretch", key="interp_table")
else:
    st.caption("The model's metrics carry no interpretability check.")

st.subheader("W_p: GO concept × phenotype weights")
n_terms = st.slider("Phenotypes shown (most frequent first)", 5, 60, 25, step=5, key="wp_terms")
try:
    wp = views.wp_matrix(model_name, n_terms=n_terms, n_concepts=25)
except gp.GenePhenoError as exc:
    st.warning(f"No concept layer: {models.error_text(exc)}")
else:
    fig = figures.heatmap(wp, f"W_p for the {n_terms} most frequent phenotypes (25 most variable concepts)",
                          colorbar_title="W_p", height=max(460, 200 + 22 * len(wp)))
    export.show_figure(fig, f"wp heatmap {model_name}", key="wp")
    export.table_download(wp.reset_index(), f"wp {model_name}", key="wp_table")

st.subheader("Benchmark")
bench = views.results_table("benchmark")
if isinstance(bench, pd.DataFrame):
    st.caption("Test-split scores of every method, mean over seeds (results/benchmark.md explains each column; "
               "the download holds every cell and column).")
    st.dataframe(views.benchmark_display(bench), hide_index=True, width="stretch", key="bench_table")
    export.table_download(bench, "benchmark", key="bench")
elif isinstance(bench, str):
    st.markdown(bench)
else:
    st.caption("No results/benchmark.csv or results/benchmark.md yet: run `make benchmark`.")

with st.expander("All metrics (JSON)"):
    st.code(json.dumps(metrics, indent=1, default=str)[:20000], language="json")
    table = pd.DataFrame(views.flat_metrics(metrics), columns=["metric", "value"])
    export.table_download(table, f"metrics {model_name}", key="metrics_table")
