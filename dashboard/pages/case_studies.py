"""Case studies page: known genes, true versus predicted phenotypes, concepts versus GO."""

import streamlit as st

import genepheno_core as gp
from dashboard import export, figures, gene_records, models, state, views, widgets
from dashboard.safe_text import md_escape

state.init_state()
st.title("Case studies")
st.caption(
    "Well-known genes shipped with the model, and any gene of the model's dataset (search by symbol "
    "or UniProt accession). Each says whether the model was trained on it: held-out (test-split) genes "
    "show what it predicts for a gene it has not seen. Unless the gene's own GO annotations are used (toggle), its GO input is "
    "transferred from its sequence homologs (never its own entry), so the predictions show what the "
    "model would say about the same protein unannotated."
)

model_name = widgets.sidebar_model_picker()
if model_name is None:
    widgets.no_model_message()
    st.stop()
models.require_model(model_name)

cases = gene_records.case_study_genes(model_name)
query = st.text_input("Search a gene of the dataset by symbol or accession", key="case_query",
                      placeholder="e.g. TP53, P04637, FBN1")
found = []
if query.strip():
    try:
        with st.spinner("Searching the dataset…"):
            found = gene_records.find_dataset_genes(model_name, query.strip())
    except gp.GenePhenoError as exc:
        st.warning(f"Dataset search unavailable: {models.error_text(exc)}")
    if not found:
        st.warning(f"No gene matching “{md_escape(query.strip())}” in the {md_escape(model_name)} dataset or "
                   "the case studies.")
genes = found + [g for g in cases if g.key not in {f.key for f in found}]
if not genes:
    st.info("No case studies found in assets/ and no dataset on this machine.")
    st.stop()
by_key = {g.key: g for g in genes}
keys = list(by_key)
if state.get(state.CASE_GENE) not in keys or found:
    state.put(state.CASE_GENE, keys[0])
    st.session_state.pop(f"w_{state.CASE_GENE}", None)
gkey = st.selectbox(f"Gene ({len(cases)} case studies" + (f", {len(found)} search hits)" if found else ")"),
                    keys, key=state.widget_key(state.CASE_GENE), format_func=lambda k: by_key[k].label)
state.keep(state.CASE_GENE, gkey)
gene = by_key[gkey]
if gene.note:
    st.info(gene.note, icon=":material/lightbulb:")
if gene.training_text:
    (st.success if gene.split == "test" else st.warning)(gene.training_text,
                                                          icon=":material/school:" if gene.split != "test" else
                                                          ":material/verified:")
use_go = st.toggle("Use the gene's known GO annotations as input", value=False, key="case_use_go",
                   disabled=not gene.go)

try:
    with st.spinner("Predicting…"):
        preds = gene_records.gene_predictions(model_name, gene, top=None, use_go=use_go)
except gp.GenePhenoError as exc:
    st.error(f"Could not predict for {md_escape(gene.label)}: {models.error_text(exc)}")
    st.stop()

names = models.term_names(preds.attrs.get("model", model_name))  # the scoring model's vocabulary
if gene.phenotypes is None:
    st.info("This gene has no known phenotypes in the model's vocabulary: showing predictions only.")
    comparison = figures.compare_phenotypes([], preds, names)
else:
    comparison = figures.compare_phenotypes(gene.phenotypes, preds, names)
counts = comparison["status"].value_counts()
c1, c2, c3 = st.columns(3)
c1.metric("Hits", int(counts.get("hit", 0)), help="true phenotypes predicted above threshold")
c2.metric("Misses", int(counts.get("miss", 0)), help="true phenotypes below threshold")
c3.metric("False alarms", int(counts.get("false alarm", 0)), help="predicted above threshold, not annotated")
st.caption(f"Threshold {preds.attrs['threshold']:.2f} (the model's validation-optimal value).")
widgets.scorer_note(model_name, preds.attrs.get("model"))

fig = figures.comparison_bar(comparison, top=30, title=f"True vs predicted phenotypes of {gene.short}")
export.show_figure(fig, f"true vs predicted {gene.short}", key="case_bar")
table = comparison[["status", "term_name", "term_id", "score"]]
styled = table.style.map(lambda v: f"color: {figures.STATUS_COLOURS.get(v, '#333')}; font-weight: 600",
                         subset=["status"])
st.dataframe(styled, hide_index=True, width="stretch", key="case_table", column_config={
    "status": st.column_config.TextColumn("Status"),
    "term_name": st.column_config.TextColumn("Phenotype", width="large"),
    "score": st.column_config.ProgressColumn("Score", min_value=0.0, max_value=1.0, format="%.3f"),
})
export.table_download(comparison, f"true vs predicted {gene.short}", key="case_table")

st.subheader("Concepts next to the known GO annotations")
try:
    with st.spinner("Computing concept activations…"):
        expl = gene_records.explain_gene(model_name, gene, tuple(preds["term_id"].head(1)), use_go=use_go)
except gp.GenePhenoError as exc:
    st.warning(f"Concepts unavailable: {models.error_text(exc)}")
else:
    left, right = st.columns(2)
    acts = expl.activations.sort_values("activation", ascending=False).head(20)
    known = set(gene.go or ())
    implied = known
    if known:  # the core marks the concepts implied by the GO annotations (through the GO graph)
        with_go = expl if use_go else gene_records.explain_gene(
            model_name, gene, tuple(preds["term_id"].head(1)), use_go=True)
        implied = set(with_go.activations.loc[with_go.activations["annotated"], "concept_id"])
    acts = acts.assign(annotated=[c in implied for c in acts["concept_id"]])
    with left:
        st.markdown("**Top GO concepts (model)**")
        st.dataframe(acts[["concept_name", "concept_id", "activation", "annotated"]], hide_index=True,
                     width="stretch", key="case_concepts", column_config={
                         "concept_name": st.column_config.TextColumn("Concept", width="medium"),
                         "activation": st.column_config.ProgressColumn("σ(c)", min_value=0.0, max_value=1.0,
                                                                       format="%.2f"),
                         "annotated": st.column_config.CheckboxColumn("In GO annotations"),
                     })
        export.table_download(acts, f"concepts {gene.short}", key="case_concepts")
    with right:
        st.markdown(f"**Known GO annotations ({len(known)})**")
        go_table = views.go_table(model_name, gene.go or ())
        if len(go_table):
            st.dataframe(go_table, hide_index=True, width="stretch", key="case_go")
            export.table_download(go_table, f"go annotations {gene.short}", key="case_go")
        else:
            st.caption("No GO annotation known for this gene.")
    if known:
        st.caption(f"{acts['annotated'].mean():.0%} of the 20 most active concepts are implied by the gene's "
                   "known GO annotations.")
