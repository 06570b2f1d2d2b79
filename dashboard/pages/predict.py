"""Predict page: paste or upload protein sequences, get ranked knockout phenotypes."""

import streamlit as st

from dashboard import state

state.init_state()


def _hit_columns(phenotypes_label: str, extra: dict) -> dict:
    """Column formats of a DIAMOND hit table (nearest proteins, homologs in the other species)."""
    return {
        "identity": st.column_config.NumberColumn("Identity %", format="%.1f"),
        "bitscore": st.column_config.NumberColumn("Bit score", format="%.0f"),
        **extra,
        "phenotypes": st.column_config.TextColumn(phenotypes_label, width="large"),
        "n_phenotypes": st.column_config.NumberColumn("# phenotypes", width="small"),
    }


# The first page of a fresh `streamlit run`: show the title before importing pandas/plotly
st.title("Predict knockout phenotypes")

import genepheno_core as gp  # noqa: E402  (heavy imports after the title)
from dashboard import export, figures, inputs, models, views, widgets  # noqa: E402
from dashboard.safe_text import md_escape  # noqa: E402

st.caption(
    "Paste one or more protein sequences (raw, one per line, or FASTA) or upload a FASTA file. "
    f"Up to {inputs.MAX_SEQUENCES} sequences of at most {inputs.MAX_RESIDUES:,} residues each "
    f"({inputs.MAX_INPUT_BYTES // 1024:,} KiB of text, also after unzipping); "
    f"{inputs.sequence_limits_text()} "
    "GenePheno ranks the phenotypes a loss of the gene is likely to cause, from GO concepts and "
    "the phenotypes of the protein's homologs in the other species (mouse knockouts for human "
    "proteins); the Explain page shows what each prediction is made of."
)

model_name = widgets.sidebar_model_picker()
if model_name is None:
    widgets.no_model_message()
    st.stop()

text = st.text_area(
    "Protein sequence(s)", key=state.widget_key(state.SEQUENCE_TEXT), height=160,
    placeholder=">sp|P04637|P53_HUMAN\nMEEPQSDPSVEPPLSQETFSDLWKLLPENNVLSPLPSQAMDDLMLSPDDIEQWFTEDPGP...",
)
state.keep(state.SEQUENCE_TEXT, text)
upload = st.file_uploader("…or upload a FASTA file (.fasta, .fa, .gz)", type=["fasta", "fa", "faa", "txt", "gz"],
                          key="fasta_upload")
with st.expander("Options: GO annotations, threshold, number of phenotypes"):
    go_text = st.text_input(
        "Known GO terms (optional, applied to every sequence)", key=state.widget_key(state.GO_TEXT),
        placeholder="GO:0003677 GO:0006915",
        help="Leave empty: each protein gets the GO of its sequence homologs among annotated human and mouse "
             "proteins (shown on the Explain page).")
    state.keep(state.GO_TEXT, go_text)
    use_model = st.checkbox("Use the model's validation-optimal threshold",
                            key=state.widget_key(state.USE_MODEL_THRESHOLD))
    state.keep(state.USE_MODEL_THRESHOLD, use_model)
    threshold = st.slider("Threshold", 0.0, 1.0, step=0.01, key=state.widget_key(state.THRESHOLD),
                          disabled=use_model)
    state.keep(state.THRESHOLD, threshold)
    top_n = st.number_input("Phenotypes per gene", 1, 200, step=5, key=state.widget_key(state.TOP_N))
    state.keep(state.TOP_N, int(top_n))

if st.button("Predict", type="primary", icon=":material/play_arrow:", key="predict_button"):
    try:
        records = inputs.parse_user_sequences(
            text=text, upload=inputs.read_upload(upload),
            upload_name=getattr(upload, "name", "uploaded file"))
        go_ids = inputs.parse_go_text(go_text)
        with st.spinner(f"Predicting {len(records)} protein(s) with the {md_escape(model_name)} model…"):
            result = models.predict(
                model_name, records, go_ids, top=int(top_n), threshold=None if use_model else threshold)
    except gp.GenePhenoError as exc:
        st.error(f"Could not predict: {models.error_text(exc)}", icon=":material/error:")
        state.put(state.PREDICTIONS, None)
    else:
        state.put(state.PREDICTIONS, result)
        state.put(state.PREDICTIONS_MODEL, model_name)
        state.put(state.QUERIES, records)
        state.put(state.SELECTED_GENE, records[0][0])

predictions = state.predictions_for(model_name)
if state.get(state.PREDICTIONS) is not None and predictions is None:
    st.info(f"The last predictions were made with the {md_escape(state.get(state.PREDICTIONS_MODEL))} model: "
            "press Predict to run the same input through this one.")
if predictions is not None and len(predictions):
    genes = list(dict.fromkeys(predictions["gene"]))
    gene = genes[0]
    if len(genes) > 1:
        gene = st.selectbox("Protein", genes, key="predict_gene")
    shown = predictions[predictions["gene"] == gene]
    used = shown.attrs.get("threshold")
    st.subheader(f"Predicted phenotypes for {md_escape(gene)}")
    n_above = int(shown["above_threshold"].sum())
    st.markdown(f"**{n_above}** of the top {len(shown)} phenotypes pass the threshold"
                + (f" ({used:.2f})." if used is not None else "."))
    table = shown[["rank", "score", "term_name", "above_threshold", "term_id"]]  # score early: narrow screens
    # table, then the chart: long phenotype names need the full width
    st.dataframe(
        table, hide_index=True, width="stretch", key="predict_table",
        height=min(38 + 35 * len(table), 740),
        column_config={
            "rank": st.column_config.NumberColumn("#", width="small"),
            "term_name": st.column_config.TextColumn("Phenotype", width="large"),
            "term_id": st.column_config.TextColumn("Term", width="small"),
            "score": st.column_config.ProgressColumn("Score", min_value=0.0, max_value=1.0, format="%.3f",
                                                    width="small"),
            "above_threshold": st.column_config.CheckboxColumn("Above thr.", width="small"),
        },
    )
    row = st.container(horizontal=True, gap="small")
    row.download_button("Results CSV", export.table_to_csv(predictions), "genepheno_predictions.csv",
                        "text/csv", key="dl_pred_csv", on_click="ignore", icon=":material/download:",
                        help="All proteins of this prediction")
    row.download_button("Results JSON", export.table_to_json(predictions), "genepheno_predictions.json",
                        "application/json", key="dl_pred_json", on_click="ignore", icon=":material/download:",
                        help="All proteins of this prediction")
    fig = figures.prediction_bar(shown, gene=gene, threshold=used, top=min(25, len(shown)))
    export.show_figure(fig, f"predictions {gene}", key="predict_bar")

    st.subheader("Nearest training proteins")
    st.caption("DIAMOND hits of the query among the model's training proteins, with their known phenotypes: "
               "the evidence to check first.")
    queries = [r for r in (state.get(state.QUERIES) or []) if r[0] == gene]
    try:
        with st.spinner("Searching the training proteins with DIAMOND…"):
            hits = views.nearest_table(model_name, tuple(queries))
            hits = hits.drop(columns="query")  # one protein at a time here
    except gp.GenePhenoError as exc:
        st.warning(f"Nearest proteins unavailable: {models.error_text(exc)}")
    else:
        if not len(hits):
            st.info("No training protein is similar enough to this sequence (no DIAMOND hit).")
        else:
            st.dataframe(
                hits, hide_index=True, width="stretch", key="nearest_table",
                column_config=_hit_columns("Known phenotypes (most specific first)", {
                    "evalue": st.column_config.NumberColumn("E-value", format="%.1e")}),
            )
            export.table_download(hits, f"nearest proteins {gene}", key="nearest")
    other = models.ortholog_source(model_name)
    if other:
        st.subheader("Homologs in the other species")
        st.caption(f"DIAMOND hits of the query among the genes with {views.SPECIES_DATA.get(other, other)}: "
                   "the model reads their phenotypes, weighted by each hit's share of the bit scores, "
                   "through its homolog weights W_o (see Explain).")
        try:
            with st.spinner("Searching the other species with DIAMOND…"):
                orth = views.ortholog_table(model_name, tuple(queries))
                orth = orth.drop(columns="query")
        except gp.GenePhenoError as exc:
            st.warning(f"Homologs unavailable: {models.error_text(exc)}")
        else:
            if not len(orth):
                st.info("No homolog in the other species' data: this input contributes nothing.")
            else:
                st.dataframe(
                    orth, hide_index=True, width="stretch", key="ortholog_table",
                    column_config=_hit_columns("Their phenotypes (most specific first)", {
                        "weight": st.column_config.ProgressColumn("Weight", min_value=0.0, max_value=1.0,
                                                                  format="%.2f", width="small")}),
                )
                export.table_download(orth, f"homologs {gene}", key="orthologs")
    st.page_link("dashboard/pages/explain.py", label="Why these phenotypes? Open Explain",
                 icon=":material/insights:")
elif predictions is not None:
    st.info("The model returned no phenotypes for this input.")
else:
    # warm up while the user pastes (model, its explain data, encoder weights): the first
    # prediction then only pays for encoding its own sequence
    with st.spinner("Loading the model…"):
        try:
            models.warm_up(model_name)
        except gp.GenePhenoError as exc:
            models.show_model_error(model_name, exc)
