"""Phenotype graphs page: correlation and exclusion networks around a phenotype or a gene."""

import streamlit as st

import genepheno_core as gp
from dashboard import export, figures, models, state, views, widgets
from dashboard.safe_text import md_escape

state.init_state()
st.title("Phenotype graphs")
st.caption(
    "Correlation graph: phenotypes co-annotated in the training genes (and with similar W_p rows). "
    "Exclusion graph: mutually exclusive pairs (the rule that found each, and how often the model "
    "predicts both). Click a node, or pick it below, to see the term, its ancestors and its top concepts."
)

model_name = widgets.sidebar_model_picker()
if model_name is None:
    widgets.no_model_message()
    st.stop()
models.require_model(model_name)
names = models.term_names(model_name)

predictions = state.predictions_for(model_name)
modes = ["Around a phenotype"] + (["Around a gene's predictions"] if predictions is not None and len(predictions) else [])
mode = st.radio("Centre", modes, horizontal=True, key="graph_mode")

# the graphs read the model that made what they show: around a gene's predictions, the model
# that scored them (NAME-go-transfer for proteins given no GO: models.scorer)
graph_model = model_name if mode == "Around a phenotype" else (state.get(state.PREDICTIONS_SCORER) or model_name)
if mode == "Around a phenotype":
    options = list(names)
    if state.get(state.GRAPH_TERM) not in names:
        state.put(state.GRAPH_TERM, state.get(state.SELECTED_PHENOTYPE) if state.get(state.SELECTED_PHENOTYPE) in names
                  else views.default_graph_term(model_name))
        st.session_state.pop(f"w_{state.GRAPH_TERM}", None)
    centre = st.selectbox("Phenotype (type to search)", options, key=state.widget_key(state.GRAPH_TERM),
                          format_func=lambda t: f"{names[t]} ({t})")
    state.keep(state.GRAPH_TERM, centre)
    seeds = (centre,)
    focus = centre
else:
    genes = list(dict.fromkeys(predictions["gene"]))
    gene = st.selectbox("Protein", genes, key="graph_gene")
    # the protein's most specific predictions (as on Predict), those above threshold
    shown = models.specific_view(graph_model, predictions[predictions["gene"] == gene], 15)
    shown = shown[shown["folded_under"] == ""]
    above = shown[shown["above_threshold"]]
    seeds = tuple((above if len(above) else shown.head(5))["term_id"])
    focus = seeds[0]
    st.caption(f"Graph around the {len(seeds)} most specific phenotypes predicted for {md_escape(gene)}"
               + (" above threshold." if len(above) else " (none above threshold: top 5)."))
    widgets.scorer_note(model_name, graph_model)

with st.expander("Graph options"):
    max_nodes = st.slider("Phenotypes in the correlation graph", 5, 40, 15, key="graph_max_nodes")
    min_corr = st.slider("Minimum co-annotation correlation (phi)", 0.05, 0.9, 0.3, step=0.05, key="graph_min_corr")

tabs = st.tabs(["Correlation graph", "Exclusion graph"])
selected = None
for tab, kind in zip(tabs, ("correlation", "exclusion")):
    with tab:
        try:
            with st.spinner(f"Building the {kind} graph…"):
                graph, nodes, edges = models.phenotype_graph(graph_model, kind, seeds, max_nodes, min_corr)
        except gp.GenePhenoError as exc:
            st.warning(f"The {kind} graph is unavailable: {models.error_text(exc)}")
            continue
        if graph.number_of_edges() == 0:
            label = names.get(focus, focus) if len(seeds) == 1 else "these phenotypes"
            if kind == "exclusion":
                try:
                    partners = views.exclusion_partners(graph_model)
                except gp.GenePhenoError:
                    partners = None
                st.info(f"No exclusive partner is known for {md_escape(label)}: exclusive pairs come from antonym "
                        "siblings in the ontology (e.g. increased / decreased) that are rarely co-annotated, "
                        + (f"and only {len(partners):,} phenotypes of this model have one. Pick one of them:"
                           if partners is not None else "and this model stores none for it."),
                        icon=":material/info:")
                if partners is not None and len(partners):
                    st.dataframe(partners, hide_index=True, width="stretch", height=240, key="exclusion_partners",
                                 column_config={"name": st.column_config.TextColumn("Phenotype", width="large"),
                                                "n_partners": st.column_config.NumberColumn("Partners")})
                    export.table_download(partners, "phenotypes with exclusive partners", key="exclusion_partners")
            else:
                st.info(f"No phenotype is co-annotated with {md_escape(label)} at a correlation of at least "
                        f"{min_corr:.2f}: lower the minimum in Graph options.", icon=":material/info:")
            st.session_state[f"graph_nodes_{kind}"] = list(graph.nodes)
            continue
        fig = figures.network_figure(
            graph, focus=focus, title=f"{kind.capitalize()} graph ({graph.number_of_nodes()} phenotypes, "
            f"{graph.number_of_edges()} edges)", edge_colour="#999" if kind == "correlation" else figures.NEGATIVE,
            dashed=kind == "exclusion")
        event = export.show_figure(fig, f"{kind} graph {focus}", key=f"graph_{kind}", on_select="rerun",
                                   selection_mode="points")
        points = (event.selection.points if event and getattr(event, "selection", None) else []) or []
        for p in points:
            cd = p.get("customdata")
            if isinstance(cd, list):
                cd = cd[0] if cd else None
            if cd in graph.nodes:
                selected = cd
        with st.expander(f"{kind.capitalize()} edges ({len(edges)})"):
            st.dataframe(edges, hide_index=True, width="stretch", key=f"edges_{kind}")
            export.table_download(edges, f"{kind} edges {focus}", key=f"edges_{kind}")
        st.session_state[f"graph_nodes_{kind}"] = list(graph.nodes)

st.subheader("Node details")
node_options = list(dict.fromkeys(
    st.session_state.get("graph_nodes_correlation", []) + st.session_state.get("graph_nodes_exclusion", [])
    + list(seeds)))
if st.session_state.get("graph_focus") != focus:  # a new centre: show its details first
    st.session_state["graph_focus"] = focus
    st.session_state["graph_node"] = focus
if selected is not None and selected != st.session_state.get("graph_last_click"):
    # a new click in one of the graphs (the chart keeps reporting old clicks on every rerun)
    st.session_state["graph_last_click"] = selected
    st.session_state["graph_node"] = selected
if st.session_state.get("graph_node") not in node_options:
    st.session_state["graph_node"] = focus
node = st.selectbox("Term", node_options, key="graph_node", format_func=lambda t: f"{names.get(t, t)} ({t})")

left, right = st.columns(2)
with left:
    st.markdown(f"**{md_escape(names.get(node, node))}** `{node}`")  # node: a term id of the model
    try:
        ancestors = models.neighbourhood(graph_model, node)
    except gp.GenePhenoError as exc:
        st.warning(f"Ancestors unavailable: {models.error_text(exc)}")
    else:
        st.markdown("Ontology neighbourhood: its ancestors (root first), the term, its children")
        st.dataframe(ancestors, hide_index=True, width="stretch", key="graph_ancestors", column_config={
            "relation": st.column_config.TextColumn("Relation", width="small"),
            "name": st.column_config.TextColumn("Term", width="medium"),
            "term_id": st.column_config.TextColumn("Id", width="small"),
        }, column_order=["relation", "name", "term_id", "depth", "n_genes"])
        export.table_download(ancestors, f"ancestors {node}", key="graph_ancestors")
with right:
    concepts = views.top_concepts(graph_model, node, n=10)
    st.markdown("Top concepts (largest W_p weights)")
    st.dataframe(concepts, hide_index=True, width="stretch", key="graph_concepts", column_config={
        "concept_name": st.column_config.TextColumn("Concept", width="medium"),
        "concept_id": st.column_config.TextColumn("GO id", width="small"),
        "weight": st.column_config.NumberColumn("W_p", format="%+.3f", width="small")},
        column_order=["concept_name", "weight", "concept_id"])
    export.table_download(concepts, f"top concepts {node}", key="graph_concepts")
    homologs = views.top_homolog_phenotypes(graph_model, node, n=10)
    if len(homologs):
        other = models.ortholog_source(graph_model)
        st.markdown(f"Top {views.SPECIES_DATA.get(other, other)} of homologs (largest W_o weights)")
        st.dataframe(homologs, hide_index=True, width="stretch", key="graph_homologs", column_config={
            "name": st.column_config.TextColumn("Homolog phenotype", width="medium"),
            "term_id": st.column_config.TextColumn("Id", width="small"),
            "weight": st.column_config.NumberColumn("W_o", format="%+.3f", width="small")},
            column_order=["name", "weight", "term_id"])
        export.table_download(homologs, f"top homolog phenotypes {node}", key="graph_homologs")
