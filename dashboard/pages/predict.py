"""Predict page: paste or upload protein sequences, get the most specific knockout phenotypes
first, each with its prior and what the protein adds to it, and what the model already knows
about the protein."""

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
from dashboard import export, figures, inputs, models, query, views, widgets  # noqa: E402
from dashboard.safe_text import md_escape  # noqa: E402

EXAMPLE = models.REPO_ROOT / "assets" / "examples" / "TP53_HUMAN.fasta"

st.caption(
    "Paste one or more protein sequences (raw or FASTA) or upload a FASTA file. GenePheno ranks the "
    "phenotypes a loss of the gene is likely to cause, from GO concepts and the phenotypes of the "
    "protein's homologs in the other species (mouse knockouts for human proteins); the Explain page "
    "shows what each prediction is made of."
)
st.caption(":material/info: **Limits.** " + md_escape(inputs.limits_text()))

model_name = widgets.sidebar_model_picker()
if model_name is None:
    widgets.no_model_message()
    st.stop()


def _load_example() -> None:
    st.session_state[f"w_{state.SEQUENCE_TEXT}"] = EXAMPLE.read_text(encoding="utf-8")
    state.put(state.SEQUENCE_TEXT, st.session_state[f"w_{state.SEQUENCE_TEXT}"])


text = st.text_area(
    "Protein sequence(s)", key=state.widget_key(state.SEQUENCE_TEXT), height=160,
    placeholder=">sp|P04637|P53_HUMAN Cellular tumor antigen p53 OS=Homo sapiens OX=9606 GN=TP53\n"
                "MEEPQSDPSVEPPLSQETFSDLWKLLPENNVLSPLPSQAMDDLMLSPDDIEQWFTEDPGP...",
)
state.keep(state.SEQUENCE_TEXT, text)
if EXAMPLE.is_file():
    st.button("Example: human TP53 (p53)", key="example_button", on_click=_load_example,
              icon=":material/science:", help="Fill in the Swiss-Prot sequence of human TP53 (P04637, 393 aa)")
upload = st.file_uploader("…or upload a FASTA file (.fasta, .fa, .gz)", type=["fasta", "fa", "faa", "txt", "gz"],
                          key="fasta_upload")
use_upload = upload is not None
if upload is not None and text.strip():
    choice = st.radio("Both pasted text and a file were given: which should be used?",
                      ["the pasted text", f"the uploaded file ({upload.name})"], index=None, key="input_choice",
                      horizontal=True)
    use_upload = choice is not None and choice.startswith("the uploaded")
with st.expander("Options: GO annotations, threshold"):
    go_text = st.text_input(
        "Known GO terms (optional, applied to every sequence)", key=state.widget_key(state.GO_TEXT),
        placeholder="GO:0003677 GO:0006915",
        help="Leave empty: each protein gets the GO of its sequence homologs among annotated human and mouse "
             "proteins (shown on the Explain page), and is scored by the model trained on that input when it is "
             "shipped (NAME-go-transfer).")
    state.keep(state.GO_TEXT, go_text)
    # the threshold of the model that will score this input (models.scorer)
    facts = models.threshold_facts(models.scorer(model_name, bool(go_text.strip())))
    use_model = st.checkbox("Use the model's validation-optimal threshold",
                            key=state.widget_key(state.USE_MODEL_THRESHOLD))
    state.keep(state.USE_MODEL_THRESHOLD, use_model)
    if use_model:
        # the slider shows the threshold in use, not a stale custom value
        st.session_state[f"w_{state.THRESHOLD}"] = round(facts["threshold"], 2)
    threshold = st.slider("Threshold", 0.0, 1.0, step=0.01, key=state.widget_key(state.THRESHOLD),
                          disabled=use_model)
    if not use_model:
        state.keep(state.THRESHOLD, threshold)

pressed = st.button("Predict", type="primary", icon=":material/play_arrow:", key="predict_button")
if pressed or query.pending():
    try:
        if pressed and upload is not None and text.strip() and st.session_state.get("input_choice") is None:
            raise gp.InputFormatError("input", "both pasted text and an uploaded file were given: choose which "
                                      "to use above")
        with st.spinner(f"Predicting with the {md_escape(model_name)} model…"):
            query.run(model_name, text, inputs.read_upload(upload) if (use_upload and pressed) else None,
                      getattr(upload, "name", "uploaded file"), go_text)
    except gp.GenePhenoError as exc:
        st.error(f"Could not predict: {models.error_text(exc)}", icon=":material/error:")
        query.clear()

predictions = state.predictions_for(model_name)
scorer = state.get(state.PREDICTIONS_SCORER) or model_name  # NAME-go-transfer for proteins given no GO
if state.get(state.PREDICTIONS) is not None and predictions is None:
    st.info(f"The last predictions were made with the {md_escape(state.get(state.PREDICTIONS_MODEL))} model: "
            "press Predict to run the same input through this one.")
if predictions is not None and len(predictions):
    for note in state.get(state.INPUT_NOTES) or []:
        st.info(md_escape(note), icon=":material/swap_horiz:")
    genes = list(dict.fromkeys(predictions["gene"]))
    if state.get(state.SELECTED_GENE) not in genes:
        state.put(state.SELECTED_GENE, genes[0])
        st.session_state.pop(f"w_{state.SELECTED_GENE}", None)
    gene = genes[0]
    if len(genes) > 1:
        gene = st.selectbox("Protein", genes, key=state.widget_key(state.SELECTED_GENE))
        state.keep(state.SELECTED_GENE, gene)
    queries = [r for r in (state.get(state.QUERIES) or []) if r[0] == gene]
    facts = models.threshold_facts(scorer)
    used = float(facts["threshold"]) if use_model else float(threshold)

    names = models.term_names(scorer)
    st.subheader(f"Predicted phenotypes for {md_escape(gene)}")
    widgets.scorer_note(model_name, scorer)
    # what the model already knows about this protein: a DIAMOND search (seconds), so the flag
    # is filled in after the table is drawn
    flag = st.container()

    controls = st.columns([1.3, 1.3, 2, 0.9])
    view = controls[0].radio("View", views.VIEWS, key=state.widget_key(state.VIEW), horizontal=True,
                             help="Most specific: of the phenotypes above the threshold, each one implied by a "
                                  "more specific predicted one is folded under it; the rest by score (then terms "
                                  "below the threshold if fewer pass it). All terms: every phenotype by score.")
    state.keep(state.VIEW, view)
    sort = controls[1].selectbox("Sort by", list(views.SORTS), key=state.widget_key(state.SORT),
                                 help="score: the predicted probability. gain over the prior: the log-odds this "
                                      "protein adds to the phenotype's training frequency. specificity: the "
                                      "phenotype's information content (rare, specific terms first).")
    state.keep(state.SORT, sort)
    text_filter = controls[2].text_input("Filter phenotypes (searches all terms)", key="predict_filter",
                                         placeholder="e.g. glioma, HP:0009733")
    top_n = controls[3].number_input("Rows", 1, 500, value=int(state.get(state.TOP_N) or 20), step=5, key="predict_rows")
    state.put(state.TOP_N, int(top_n))
    specific = view == views.VIEWS[0] and not text_filter.strip()
    toggles = st.container(horizontal=True)
    show_folded = specific and toggles.toggle("Show the general terms folded under each row", key="predict_show_folded")
    show_ids = toggles.toggle("Show term ids and specificity (bits)", key="predict_show_ids",
                              help="Both are always in the downloads")
    source = (models.specific_view(scorer, predictions[predictions["gene"] == gene], int(top_n), used)
              if specific else predictions)
    everything = predictions[predictions["gene"] == gene]
    n_above = int((everything["score"] >= used).sum())
    st.markdown(f"**{n_above}** of the model's {len(everything):,} phenotypes pass the threshold. "
                + md_escape(views.threshold_text(facts, used, custom=not use_model)))
    # pixel widths: every column of the default view fits an 800-px-wide main column
    config = {
        "rank": st.column_config.NumberColumn("#", width=44),
        "term_name": st.column_config.TextColumn("Phenotype", width=300),
        "score": st.column_config.ProgressColumn("Score", min_value=0.0, max_value=1.0, format="%.2f", width=84),
        "prior": st.column_config.NumberColumn("Prior", format="%.3f", width=62,
                                               help="The phenotype's frequency among the training genes"),
        "gain": st.column_config.NumberColumn("Gain", format="%+.2f", width=62,
                                              help="What this protein adds beyond the prior: the model's logit "
                                                   "minus its bias (log-odds)"),
        "ic": st.column_config.NumberColumn("Bits", format="%.1f", width="small",
                                            help="Information content, -log2(prior): higher is rarer, more specific"),
        "n_folded": st.column_config.NumberColumn("Folded", width=62,
                                                  help="More general phenotypes implied by this one, folded under it"),
        "above_threshold": st.column_config.CheckboxColumn("≥ thr.", width=58),
        "known": st.column_config.CheckboxColumn("Known", width=60,
                                                 help="A known phenotype of the training protein this query matches"),
        "term_id": st.column_config.TextColumn("Term", width="small"),
        "folded_under": st.column_config.TextColumn("Folded under", width="medium"),
    }
    slot = st.empty()

    def draw_table(known_terms: list[str]):
        table = views.prediction_table(source, gene, sort=sort, text_filter=text_filter, threshold=used,
                                       top=int(top_n), show_folded=show_folded, known=known_terms)
        if text_filter.strip() and not len(table):
            slot.info(f"No phenotype of this model matches “{md_escape(text_filter.strip())}”.")
            return table
        hide = [c for c, cond in (("known", not known_terms), ("folded_under", not show_folded),
                                   ("n_folded", not specific), ("ic", not show_ids), ("term_id", not show_ids))
                if cond]
        slot.dataframe(table.drop(columns=hide), hide_index=True, width="stretch",
                       height=min(38 + 35 * max(len(table), 1), 740), column_config=config)
        return table

    table = draw_table([])
    known_terms = []
    try:
        with flag, st.spinner("Checking what the model knows about this protein…"):
            knowledge = models.model_knowledge(scorer, tuple(queries)).iloc[0]
    except gp.GenePhenoError as exc:
        flag.warning(f"Could not check the training proteins: {models.error_text(exc)}")
    else:
        kind, sentence = views.knowledge_text(knowledge, names, models.ortholog_source(scorer) or "")
        if kind == "trained":
            known_terms = list(knowledge["training_phenotypes"])
            flag.warning(sentence, icon=":material/school:")
            table = draw_table(known_terms)  # again, with the Known column
        elif kind == "novel":
            flag.info(sentence, icon=":material/explore:")
        else:
            flag.caption(sentence)
    row = st.container(horizontal=True, gap="small")
    row.download_button("Shown rows CSV", export.table_to_csv(table), "genepheno_shown.csv", "text/csv",
                        key="dl_shown_csv", on_click="ignore", icon=":material/download:")
    full = views.full_predictions(predictions, used)
    row.download_button("All terms CSV", export.table_to_csv(full), "genepheno_predictions.csv",
                        "text/csv", key="dl_pred_csv", on_click="ignore", icon=":material/download:",
                        help="Every phenotype of every protein of this prediction")
    row.download_button("All terms JSON", export.table_to_json(full), "genepheno_predictions.json",
                        "application/json", key="dl_pred_json", on_click="ignore", icon=":material/download:",
                        help="Every phenotype of every protein of this prediction")
    chart_rows = table[~table["term_name"].str.startswith(views.FOLD_MARK)].head(25)
    fig = figures.prediction_bar(chart_rows.assign(gene=gene), gene=gene, threshold=used, top=len(chart_rows),
                                 title=f"{len(chart_rows)} {'most specific' if view == views.VIEWS[0] else 'top'} "
                                       f"predicted phenotypes for {gene} (bar: score; mark: prior)")
    export.show_figure(fig, f"predictions {gene}", key="predict_bar")

    if known_terms:
        with st.expander(f"Known phenotypes of the training protein ({len(known_terms):,}, most specific first)"):
            known = views.known_table(known_terms, names, everything)
            st.dataframe(known, hide_index=True, width="stretch", key="known_table")
            export.table_download(known, f"known phenotypes {gene}", key="known")

    st.subheader("Nearest training proteins")
    st.caption("DIAMOND hits of the query among the model's training proteins, with their known phenotypes: "
               "the evidence to check first.")
    try:
        with st.spinner("Searching the training proteins with DIAMOND…"):
            hits = views.nearest_table(scorer, tuple(queries))
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
            export.table_download(views.nearest_table(scorer, tuple(queries), full=True).drop(columns="query"),
                                  f"nearest proteins {gene}", key="nearest")
    other = models.ortholog_source(scorer)
    if other:
        st.subheader("Homologs in the other species")
        st.caption(f"DIAMOND hits of the query among the genes with {views.SPECIES_DATA.get(other, other)}: "
                   "the model reads their phenotypes, weighted by each hit's share of the bit scores "
                   "(see Explain).")
        try:
            with st.spinner("Searching the other species with DIAMOND…"):
                orth = views.ortholog_table(scorer, tuple(queries))
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
                                                                  format="%.2f", width=84)}),
                )
                export.table_download(views.ortholog_table(scorer, tuple(queries), full=True).drop(columns="query"),
                                      f"homologs {gene}", key="orthologs")
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
            if models.no_go_sibling(model_name):  # what a pasted protein without GO is scored by
                models.warm_up(models.no_go_sibling(model_name))
        except gp.GenePhenoError as exc:
            models.show_model_error(model_name, exc)
