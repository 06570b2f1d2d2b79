"""Explain page: which GO concepts (and which residues) drive a predicted phenotype."""

import pandas as pd
import streamlit as st

import genepheno_core as gp
from dashboard import export, figures, gene_records, models, query, state, views, widgets
from dashboard.safe_text import md_escape

state.init_state()
st.title("Explain a prediction")
st.caption(
    "Every phenotype logit is a sum of readable contributions: s_k = b_k + Σ_j W_p[k, j]·σ(c_j) "
    "over GO concepts, + Σ_t W_g[k, t]·g_t over the gene's GO terms (when GO annotations are given) "
    "+ Σ_x W_o[k, x]·o_x over the phenotypes of its homologs in the other species' data. "
    "Pick a protein and one of its predicted phenotypes to see what is behind it, and the "
    "residues that move it (captum Integrated Gradients through the sequence encoder)."
)

model_name = widgets.sidebar_model_picker()
if model_name is None:
    widgets.no_model_message()
    st.stop()
models.require_model(model_name)
genes = gene_records.pasted_genes() + gene_records.case_study_genes(model_name)
if not genes:
    st.info("Paste a sequence on the Predict page first (or ship case studies in assets/).")
    st.page_link("dashboard/pages/predict.py", label="Go to Predict", icon=":material/biotech:")
    st.stop()
keys = [g.key for g in genes]
by_key = {g.key: g for g in genes}
if state.get(state.SELECTED_GENE) not in keys:
    # a gene picked on another page may be a bare accession: match it to a record key
    wanted = state.get(state.SELECTED_GENE)
    match = next((g.key for g in genes if wanted in (g.accession, g.symbol)), None)
    if match is None and wanted:
        st.warning(f"The protein “{md_escape(wanted)}” of the link or the last page is not available here "
                   f"(paste it on the Predict page): showing {md_escape(by_key[keys[0]].label)}.",
                   icon=":material/link_off:")
    state.put(state.SELECTED_GENE, match or keys[0])
    st.session_state.pop(f"w_{state.SELECTED_GENE}", None)
gkey = st.selectbox("Protein", keys, key=state.widget_key(state.SELECTED_GENE),
                    format_func=lambda k: by_key[k].label)
state.keep(state.SELECTED_GENE, gkey)
gene = by_key[gkey]

try:
    with st.spinner("Predicting…"):
        # the phenotypes offered: the protein's 20 most specific predictions (as on Predict)
        predictions = gene_records.gene_predictions(model_name, gene, top=20, view="specific")
except gp.GenePhenoError as exc:
    st.error(f"Could not predict for {md_escape(gene.label)}: {models.error_text(exc)}")
    st.stop()
term_options = list(predictions["term_id"])
names = dict(zip(predictions["term_id"], predictions["term_name"]))
scorer = predictions.attrs.get("model", model_name)  # NAME-go-transfer for a protein given no GO
wanted_term = state.get(state.SELECTED_PHENOTYPE)
if wanted_term and wanted_term not in term_options and wanted_term in models.term_names(scorer):
    # a phenotype outside the top 20 (from a link, or picked on another page) is explained too
    extra = gene_records.gene_predictions(model_name, gene, top=None)
    extra = extra[extra["term_id"] == wanted_term]
    predictions = pd.concat([predictions, extra], ignore_index=True)
    term_options.append(wanted_term)
    names[wanted_term] = models.term_names(scorer)[wanted_term]
elif wanted_term and wanted_term not in term_options:
    st.warning(f"The phenotype “{md_escape(wanted_term)}” of the link is not one of this model's: showing the "
               "protein's top prediction.", icon=":material/link_off:")
if state.get(state.SELECTED_PHENOTYPE) not in term_options:
    state.put(state.SELECTED_PHENOTYPE, term_options[0])
    st.session_state.pop(f"w_{state.SELECTED_PHENOTYPE}", None)
term = st.selectbox(
    "Phenotype (the protein's 20 most specific predictions)", term_options, key=state.widget_key(state.SELECTED_PHENOTYPE),
    format_func=lambda t: f"{names[t]} ({t}) — {float(predictions.set_index('term_id').at[t, 'score']):.2f}",
)
state.keep(state.SELECTED_PHENOTYPE, term)

try:
    with st.spinner("Computing concept contributions…"):
        top_terms = tuple(term_options[:10]) if term in term_options[:10] else tuple(term_options[:9]) + (term,)
        expl = gene_records.explain_gene(model_name, gene, top_terms)
except gp.GenePhenoError as exc:
    st.error(f"Could not explain {md_escape(gene.label)}: {models.error_text(exc)}")
    st.stop()

contrib = views.contribution_frame(expl, term)
st.subheader(f"Why {md_escape(names[term])}?")
widgets.scorer_note(model_name, expl.model)
try:
    carriers = views.homolog_carriers(model_name, gene.accession, gene.sequence)
except gp.GenePhenoError as exc:
    carriers = {}
    st.caption(f"Homolog names unavailable: {models.error_text(exc)}")
words = views.evidence_words(contrib, carriers, models.ortholog_source(model_name) or "",
                             expl.activations, neighbour_basis=expl.neighbour_basis)
st.markdown("\n".join(f"- {w}" for w in words) if words else "No contribution to this phenotype.")
ranked = float(predictions.set_index("term_id").at[term, "score"])
totals = views.source_totals(expl, term)
parts = " + ".join(f"{views.SOURCE_NAMES.get(k, k)} {v:+.3f}" for k, v in totals.items())
st.caption(f"Bias {expl.bias[term]:+.3f} (the phenotype's prior, as log-odds) + {parts} "
           f"= logit {expl.logit[term]:+.3f}, probability {expl.score[term]:.3f}"
           + ("." if abs(ranked - expl.score[term]) < 5e-4 else
              f"; the ranked score {ranked:.3f} is higher because a more specific phenotype scores "
              "higher and scores are propagated to ancestors."))

fig = figures.contribution_bars(contrib, expl.bias[term], expl.logit[term], names[term], top=6)
export.show_figure(fig, f"contributions {gene.short} {term}", key="contributions")
fig = figures.concept_bar(expl.activations, top=15, title=f"GO concept activations of {gene.short}")
export.show_figure(fig, f"concepts {gene.short}", key="concepts")

st.caption(md_escape(views.go_origin_text(expl)))
if views.neighbours_text(expl, term):
    st.caption(md_escape(views.neighbours_text(expl, term)))

matrix = views.heatmap_frame(expl, n_concepts=15)
fig = figures.heatmap(matrix, f"GO concept contributions to the top phenotypes of {gene.short} "
                              "(blue raises, red lowers)", colorbar_title="W_p·σ(c)")
export.show_figure(fig, f"contribution heatmap {gene.short}", key="heatmap")
with st.expander("Contribution table (every input, exportable)"):
    table = contrib.assign(source=[figures.source_label(x) for x in contrib["source"]])
    st.dataframe(table, hide_index=True, width="stretch")
    export.table_download(table, f"contributions {gene.short} {term}", key="contrib")

st.subheader("Residue attributions")
n_res = len(gene.sequence)
if n_res > models.MAX_ATTRIBUTION_RESIDUES:
    st.info(f"Residue attributions are computed for sequences up to {models.MAX_ATTRIBUTION_RESIDUES:,} "
            "residues in the dashboard; use the CLI for longer ones.")
elif st.toggle(f"Compute residue attributions ({n_res} residues)", value=n_res <= models.AUTO_ATTRIBUTION_RESIDUES,
               key=f"residues_on_{gkey}", help="Integrated Gradients (captum) from the phenotype's logit to UniRep's per-residue "
               "states, from an all-X sequence: about a second for a 500-residue protein. The "
               "completeness gap is shown below the track."):
    try:
        with st.spinner("Integrated Gradients along the sequence…"):
            attr = gene_records.residue_attributions(model_name, gene, term)
    except gp.GenePhenoError as exc:
        st.warning(f"Residue attributions unavailable: {models.error_text(exc)}")
    else:
        fig = figures.residue_track(attr, title=f"Residues driving “{figures.short_label(names[term], 40)}”")
        export.show_figure(fig, f"residues {gene.short} {term}", key="residues")
        factor, unit = figures.attribution_unit(attr["attribution"])
        top = attr.reindex(attr["attribution"].abs().sort_values(ascending=False).index).head(10)
        top = top.assign(attribution=top["attribution"] * factor).rename(columns={"attribution": f"attribution ({unit})"})
        cols = st.columns([1, 2])
        with cols[0]:
            st.markdown("**Strongest residues**")
            st.dataframe(top[["position", "residue", f"attribution ({unit})"]], hide_index=True, width="stretch",
                         column_config={f"attribution ({unit})": st.column_config.NumberColumn(format="%+.2f")})
        with cols[1]:
            n = len(attr)
            centre = int(top["position"].iloc[0]) if len(top) else 1
            span = min(60, n)
            lo = max(1, min(centre - span // 2, n - span + 1))
            window = st.slider("Sequence view (zoom: pick a stretch of up to 120 residues)", 1, n,
                               (lo, lo + span - 1), key=f"residue_window_{gkey}_{term}")
            if window[1] - window[0] + 1 > 120:
                st.caption("Showing the first 120 residues of the chosen stretch.")
                window = (window[0], window[0] + 119)
            fig = figures.residue_track(attr, title=f"Residues {window[0]}–{window[1]}", window=window)
            export.show_figure(fig, f"residues {gene.short} {term} {window[0]}-{window[1]}", key="residues_zoom")
        if "relative_delta" in attr.attrs:
            st.caption(f"Attributions in {unit}: each residue's share of the change of the logit from an all-X "
                       f"sequence ({attr.attrs.get('baseline_logit', float('nan')):+.3f}) to this protein "
                       f"({attr.attrs.get('logit', float('nan')):+.3f}). Completeness gap "
                       f"{attr.attrs['relative_delta']:.1%} of that change.")
        export.table_download(attr, f"residue attributions {gene.short} {term}", key="residues_csv")
