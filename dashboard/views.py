"""The pages' tables and texts, built from the core's own objects: the Explanation of
`gp.explain`, the frames of `gp.nearest_proteins` / `gp.ortholog_evidence`, the TrainedModel's
terms, concepts, weights and metrics. Plotly figures are built from these in
dashboard/figures.py; the pages only lay them out.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd
import streamlit as st

import genepheno_core as gp
from dashboard import models
from dashboard.safe_text import md_escape, scrub_paths

logger = logging.getLogger(__name__)

# the Explanation's evidence sources (Explanation.evidence_table's "source"), as the page names
# them: one name per input kind (figures.SOURCE_LABELS, plural here)
SOURCE_NAMES = {"concept": "GO concepts", "GO term": "GO terms", "ortholog phenotype": "homolog phenotypes",
                "functional neighbour": "functional neighbours"}
# what the other species' dataset of a model's cross-species input is, for captions
SPECIES_DATA = {"mpo": "mouse knockout phenotypes (MGI)", "hpo": "human disease phenotypes (HPO)"}
PREFERRED_GRAPH_TERMS = ("HP:0001250", "HP:0001263", "MP:0001265", "MP:0002169")  # seizure, DD, ...


# --- the Predict page's table (gp.predict's "specific" frame of all terms) ---------------

VIEWS = ("Most specific", "All terms")
SORTS = {"score": "score", "gain over the prior": "gain", "specificity": "ic"}
TABLE_COLUMNS = ["rank", "term_name", "score", "prior", "gain", "ic", "known", "above_threshold", "n_folded",
                 "term_id", "folded_under"]
FOLD_MARK = "↳ "  # prefix of a folded (more general) term shown under its descendant


def prediction_table(frame: pd.DataFrame, gene: str, sort: str = "score", text_filter: str = "",
                     threshold: float | None = None, top: int | None = 20, show_folded: bool = False,
                     known: Iterable[str] = ()) -> pd.DataFrame:
    """The rows the Predict page shows for one protein, from a gp.predict frame.

    A "specific" frame (gp.predict(view="specific", top=N)): its N shown rows sorted by `sort`
    (a SORTS key), each followed by the more general terms folded under it when show_folded
    (names prefixed FOLD_MARK); n_folded counts them. An "all" frame (every term): sorted by
    `sort` (rank stays the score rank), the first `top`; text_filter (case-insensitive, in the
    name or id) keeps the matching rows first. above_threshold is recomputed at `threshold`
    (default: the frame's); known: term ids marked in the `known` column (a training
    protein's labels). Returns TABLE_COLUMNS; folded_under holds the shown term's name."""
    df = frame[frame["gene"] == gene].copy()
    cut = float(frame.attrs.get("threshold", 0.5) if threshold is None else threshold)
    df["above_threshold"] = df["score"] >= cut
    df["known"] = df["term_id"].isin(set(known))
    names = dict(zip(df["term_id"], df["term_name"]))
    key = SORTS.get(sort, "score")
    if frame.attrs.get("view") == "specific":
        counts = df.loc[df["folded_under"] != "", "folded_under"].value_counts()
        df["n_folded"] = df["term_id"].map(counts).fillna(0).astype(int)
        shown = df[df["folded_under"] == ""].sort_values([key, "score"], ascending=False, kind="stable")
        if show_folded:
            groups = {k: g for k, g in df[df["folded_under"] != ""].groupby("folded_under", sort=False)}
            parts = []
            for t in shown["term_id"]:
                parts.append(shown[shown["term_id"] == t])
                if t in groups:
                    parts.append(groups[t].assign(term_name=FOLD_MARK + groups[t]["term_name"], n_folded=0))
            df = pd.concat(parts) if parts else shown
        else:
            df = shown
    else:
        df["n_folded"] = 0
        needle = text_filter.strip().lower()
        if needle:
            df = df[df["term_name"].str.lower().str.contains(needle, regex=False)
                    | df["term_id"].str.lower().str.contains(needle, regex=False)]
        df = df.sort_values([key, "score"], ascending=False, kind="stable")
        if top is not None:
            df = df.head(int(top))
    df["folded_under"] = [names.get(t, t) if t else "" for t in df["folded_under"]]
    return df[TABLE_COLUMNS].reset_index(drop=True)


def full_predictions(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Every term of every protein for the downloads: gp.predict's columns, above_threshold at
    the threshold in use, folded_under as the shown term's id (empty for shown rows)."""
    out = frame.copy()
    out["above_threshold"] = out["score"] >= float(threshold)
    return out.reset_index(drop=True)


def known_table(known: list[str], names: dict[str, str], predictions: pd.DataFrame) -> pd.DataFrame:
    """A training protein's known phenotypes (most specific first) with the score the model
    gives the query for each, and its rank among all terms."""
    scores = predictions.set_index("term_id")["score"]
    order = scores.rank(ascending=False, method="min")
    return pd.DataFrame({"term_name": [names.get(t, t) for t in known], "term_id": known,
                         "score": [float(scores.get(t, np.nan)) for t in known],
                         "rank_among_all": [int(order[t]) if t in order.index else None for t in known]})


def threshold_text(facts: dict, used: float, custom: bool) -> str:
    """What the threshold in use means, in words."""
    if custom:
        return (f"Custom threshold {used:.2f}. The model's own is {facts['threshold']:.2f}, the value that "
                "maximised F on the validation genes.")
    text = f"Threshold {used:.2f}: the value that maximised F on the model's validation genes"
    if _number(facts.get("precision")) and _number(facts.get("recall")):
        text += (f" (Fmax {facts['fmax']:.2f}; there, {100 * facts['precision']:.0f} % of the phenotypes above it "
                 f"were true and {100 * facts['recall']:.0f} % of the true ones were above it)")
    return text + "."


def knowledge_text(row, names: dict[str, str], other_species: str = "") -> tuple[str, str]:
    """(kind, sentence) of gp.model_knowledge's row for one query: kind "trained",
    "homologs" or "novel"."""
    other = SPECIES_NAME.get(other_species, "the other species")
    if row["regime"] == "training protein":
        symbol = row["training_symbol"] or row["training_accession"]
        n = len(row["training_phenotypes"])
        return "trained", (
            f"This protein is a **training protein**: {row['training_identity']:.0f} % identical over "
            f"{row['training_coverage']:.0f} % of its length to **{md_escape(symbol)}** "
            f"({md_escape(row['training_accession'])}), whose {n:,} known phenotypes were in the training labels. "
            "The predictions mostly repeat what the model was taught (the **Known** column marks them); they "
            "are not an independent prediction.")
    if row["regime"] == "no homolog":
        return "novel", (
            "**No homolog** among the training proteins or in "
            f"{other} data: the model sees only the sequence itself, the regime where its predictions are "
            "closest to the term-frequency prior. Read the **gain** column: it is what this protein adds "
            "beyond the prior.")
    return "homologs", (
        f"Homologs known: {int(row['n_training_hits'])} among the training proteins, "
        f"{int(row['n_other_species_hits'])} in {other} data (below). The predictions lean on them.")


# --- one gene's explanation (the core's Explanation) ---------------------------------------

def contribution_frame(expl, term: str) -> pd.DataFrame:
    """[source, id, name, contribution, detail] of every contribution to `term` (concepts, GO
    terms, homolog phenotypes: with the bias they sum to the logit), largest |contribution|
    first; detail names the homologs a transferred GO term came from."""
    rows = expl.evidence_table(term)
    return rows[["source", "id", "name", "contribution", "detail"]].sort_values(
        "contribution", key=lambda s: -s.abs()).reset_index(drop=True)


def homolog_carriers(model_name: str, gene_id: str, sequence: str) -> dict[str, list[str]]:
    """{other-species phenotype id: symbols of the protein's homologs annotated with it, best
    hit first} (gp.ortholog_evidence; empty without the cross-species input)."""
    if not models.ortholog_source(model_name):
        return {}
    hits = models.ortholog_evidence(model_name, ((gene_id, sequence),))
    out: dict[str, list[str]] = {}
    for symbol, accession, terms in zip(hits["symbol"], hits["accession"], hits["phenotypes"]):
        for term in terms or []:
            out.setdefault(term, []).append(str(symbol or accession))
    return out


def evidence_words(contrib: pd.DataFrame, carriers: dict[str, list[str]], other_species: str = "",
                   activations: pd.DataFrame | None = None, n_for: int = 4, n_against: int = 2,
                   neighbour_basis: str = "similar GO") -> list[str]:
    """The largest contributions to one phenotype as Markdown sentences a biologist reads:
    "**For:** mouse *Trp53* knockouts: increased sarcoma incidence (+0.31; a curated MP-HP
    mapping relates it)", then the largest ones against. contrib: contribution_frame;
    carriers: homolog_carriers; activations: the Explanation's concept activations;
    neighbour_basis: what its functional neighbours share with it (Explanation.neighbour_basis)."""
    species = SPECIES_NAME.get(other_species, "other-species")
    acts = dict(zip(activations["concept_id"], activations["activation"])) if activations is not None else {}

    def sentence(row) -> str:
        name = md_escape(row["name"] or row["id"])
        value = f"{row['contribution']:+.2f}"
        if row["source"] == "ortholog phenotype":
            who = carriers.get(row["id"], [])
            genes = ", ".join(f"*{md_escape(g)}*" for g in who[:3]) + (f" and {len(who) - 3} more" if len(who) > 3 else "")
            mapped = ("; a curated mouse-human mapping relates it" if str(row.get("detail", "")).startswith("a curated")
                      else "")
            lead = f"{species} {genes} knockouts" if genes else f"{species} homolog knockouts"
            return f"{lead}: {name} ({value}{mapped})"
        if row["source"] == "GO term":
            detail = str(row.get("detail") or "")
            return f"GO term “{name}” ({value}" + (f"; {md_escape(detail)}" if detail else "") + ")"
        if row["source"] == "functional neighbour":
            detail = str(row.get("detail") or "")
            basis = neighbour_basis or "similar GO"
            return (f"functional neighbour *{name}*, a training gene with {basis} ({value}"
                    + (f"; {md_escape(detail)}" if detail else "") + ")")
        activation = acts.get(row["id"])
        return (f"GO concept “{name}” ({value}"
                + (f"; activation {activation:.2f}" if activation is not None else "") + ")")

    pos = contrib[contrib["contribution"] > 0].sort_values("contribution", ascending=False).head(n_for)
    neg = contrib[contrib["contribution"] < 0].sort_values("contribution").head(n_against)
    out = [f"**For:** {sentence(r)}" for _, r in pos.iterrows()]
    out += [f"**Against:** {sentence(r)}" for _, r in neg.iterrows()]
    return out


def go_origin_text(expl) -> str:
    """One sentence on where the explanation's GO input came from."""
    if expl.go_origin == "given":
        return f"GO input: the {len(expl.go_used)} GO annotation(s) given."
    if expl.go_origin == "transferred":
        hits = expl.go_transfer
        return (f"No GO given: the GO input is transferred from {len(hits)} sequence homolog(s) among annotated "
                "human and mouse proteins (weight = share of bit score): "
                + ", ".join(f"{r.target} ({r.species}, {r.identity:.0%} identity, weight {r.weight:.2f})"
                            for r in hits.itertuples(index=False)) + ".")
    if expl.go_origin == "no homolog":
        return "No GO given and no annotated sequence homolog found: no GO input."
    return "No GO input."


def neighbours_text(expl, term: str, n: int = 5) -> str:
    """One sentence on the functional neighbours behind `term` (models with them), else ""."""
    table = getattr(expl, "neighbours", None)
    if table is None or table.empty or not getattr(expl, "neighbour_alpha", 0.0):
        return ""
    has = expl.neighbour_has[term] if term in expl.neighbour_has else pd.Series(dtype=bool)
    symbols = table["symbol"] if "symbol" in table else table["gene_id"]
    carriers = [str(g) if pd.isna(s) or not str(s) else str(s) for g, s in zip(table["gene_id"], symbols)
                if bool(has.get(str(g), False))]
    shown = ", ".join(carriers[:n]) + (f" and {len(carriers) - n} more" if len(carriers) > n else "")
    # the core's own words for what the neighbours share (Explanation.neighbour_basis)
    basis = getattr(expl, "neighbour_basis", "") or "similar GO"
    return (f"Functional neighbours: the {len(table)} training genes most like this protein "
            f"({basis}) vote with their known phenotypes; where more (fewer) of them have a "
            f"phenotype than its frequency among all training genes, the score moves up (down) in "
            f"proportion, with a weight of {expl.neighbour_alpha:.0%} chosen on validation; "
            f"{len(carriers)} of them have this phenotype" + (f" ({shown})." if carriers else "."))


def source_totals(expl, term: str) -> dict[str, float]:
    """{source: summed contribution to `term`} of the sources that contribute to it."""
    rows = expl.evidence_table(term)
    return {k: float(v) for k, v in rows.groupby("source")["contribution"].sum().items()}


def heatmap_frame(expl, n_concepts: int = 15) -> pd.DataFrame:
    """Concept contributions W_p·σ(c) to the explained phenotypes: rows the `n_concepts`
    concepts with the largest |contribution| to any of them, labelled with names."""
    c = expl.contributions
    keep = c.abs().max(axis=1).sort_values(ascending=False).index[:n_concepts]
    names = dict(zip(expl.activations["concept_id"], expl.activations["concept_name"]))
    term_names = dict(zip(expl.terms["term_id"], expl.terms["term_name"]))
    out = c.loc[keep]
    out.index = [names.get(i, i) for i in keep]
    out.columns = [term_names.get(t, t) for t in c.columns]
    return out


def go_table(model_name: str, go_ids) -> pd.DataFrame:
    """GO ids with names and aspects: from the dataset's GO vocabulary (with depth, deepest
    first) when the dataset is built here, else from the model's concepts."""
    ids = list(go_ids)
    dataset = models.get_dataset(model_name)
    concepts = models.get_model(model_name).concepts
    if dataset is not None:
        ref = dataset.go_terms.set_index("go_id")  # go_id, name, namespace, depth, n_genes
    elif concepts is not None:
        ref = concepts.set_index("go_id")  # go_id, name, namespace
    else:
        ref = pd.DataFrame(columns=["name", "namespace"])
    rows = [(g, ref.at[g, "name"] if g in ref.index else "", ref.at[g, "namespace"] if g in ref.index else "")
            for g in ids]
    df = pd.DataFrame(rows, columns=["go_id", "name", "namespace"])
    if dataset is not None:
        df["depth"] = [ref.at[g, "depth"] if g in ref.index else None for g in ids]
        df = df.sort_values(["depth", "name"], ascending=[False, True])
    return df.reset_index(drop=True)


# --- DIAMOND hits -----------------------------------------------------------------------

def nearest_table(model_name: str, queries: tuple, full: bool = False) -> pd.DataFrame:
    """gp.nearest_proteins with each hit's phenotype list as readable names and a count
    (the first few names on the page; full=True: every one, for the downloads)."""
    hits = models.nearest_proteins(model_name, queries)
    names = models.term_names(model_name)
    return hits.assign(n_phenotypes=[len(v) for v in hits["phenotypes"]],
                       phenotypes=[_name_list(v, names, None if full else 6) for v in hits["phenotypes"]]
                       ).reset_index(drop=True)


def ortholog_table(model_name: str, queries: tuple, full: bool = False) -> pd.DataFrame:
    """gp.ortholog_evidence: the other species' proteins behind the cross-species input,
    their share of it, and their phenotypes as names (all of them with full=True)."""
    hits = models.ortholog_evidence(model_name, queries)
    names = _cross_species_names(models.get_model(model_name))
    return hits.assign(n_phenotypes=[len(v) for v in hits["phenotypes"]],
                       phenotypes=[_name_list(v, names, None if full else 6) for v in hits["phenotypes"]]
                       ).reset_index(drop=True)


def _cross_species_names(model) -> dict[str, str]:
    """{term_id: name} of the other species' phenotypes (ids when the model stores no names)."""
    terms = model.cross_species.terms  # term_id (, name, depth)
    ids = terms["term_id"].astype(str)
    return dict(zip(ids, terms["name"].astype(str) if "name" in terms else ids))


def _name_list(terms, names: dict, limit: int | None = 6) -> str:
    """The first `limit` (most specific) phenotype names, then how many more (None: all)."""
    terms = list(terms or [])
    if limit is None:
        return "; ".join(names.get(t, t) for t in terms)
    text = "; ".join(names.get(t, t) for t in terms[:limit])
    return text + (f"; … (+{len(terms) - limit} more)" if len(terms) > limit else "")


# --- phenotype graphs and model-level views ----------------------------------------------

@st.cache_data(show_spinner=False, max_entries=8)
def exclusion_partners(model_name: str) -> pd.DataFrame:
    """[term_id, name, n_partners] of the phenotypes that have exclusive partners stored with
    the model (every pair, gp.exclusion_graph), most partners first: what the exclusion
    graph's empty state offers instead."""
    _, _, edges = gp.exclusion_graph(models.get_model(model_name), max_edges=100_000)
    names = models.term_names(model_name)
    ends = pd.concat([edges["term_a"], edges["term_b"]]) if len(edges) else pd.Series(dtype=str)
    counts = ends.value_counts()
    return pd.DataFrame({"term_id": counts.index, "name": [names.get(t, t) for t in counts.index],
                         "n_partners": counts.to_numpy()}).reset_index(drop=True)


def default_graph_term(model_name: str) -> str:
    names = models.term_names(model_name)
    return next((t for t in PREFERRED_GRAPH_TERMS if t in names), next(iter(names)))


def _concept_names(model) -> list[str]:
    c = model.concepts
    return [f"{n} ({i})" if n else i for i, n in zip(c["go_id"], c["name"])]


def top_concepts(model_name: str, term: str, n: int = 10) -> pd.DataFrame:
    """The n concepts with the largest positive W_p weight for `term` (plus the most negative)."""
    model = models.get_model(model_name)
    k = model.terms.index[model.terms["term_id"] == term]
    if not len(k) or model.concepts is None:
        return pd.DataFrame(columns=["concept_id", "concept_name", "weight"])
    row = model.W_p[int(k[0])]  # (J,)
    df = pd.DataFrame({"concept_id": model.concepts["go_id"], "concept_name": model.concepts["name"], "weight": row})
    pos = df.sort_values("weight", ascending=False).head(n)
    neg = df.sort_values("weight").head(max(1, n // 3))
    return pd.concat([pos, neg]).drop_duplicates("concept_id").reset_index(drop=True)


@st.cache_data(show_spinner=False, max_entries=64)
def top_homolog_phenotypes(model_name: str, term: str, n: int = 10) -> pd.DataFrame:
    """The other species' phenotypes with the largest positive W_o weight for `term`
    (a homolog annotated with one raises `term` by that weight times its share): the
    cross-species associations the model learned. Empty without the ortholog path."""
    model = models.get_model(model_name)
    k = model.terms.index[model.terms["term_id"] == term]
    W = model.W_o([int(k[0])]) if len(k) else None  # None: the model has no W_o
    if W is None:
        return pd.DataFrame(columns=["term_id", "name", "weight"])
    names = _cross_species_names(model)
    ids = model.cross_species.terms["term_id"].astype(str)
    df = pd.DataFrame({"term_id": ids, "name": [names[t] for t in ids], "weight": W[0]})
    return df.sort_values("weight", ascending=False).head(n).reset_index(drop=True)


@st.cache_data(show_spinner=False, max_entries=16)
def wp_matrix(model_name: str, n_terms: int = 25, n_concepts: int = 25) -> pd.DataFrame:
    """W_p transposed for display: the most variable concepts (rows) x the most frequent
    specific phenotypes (columns: the core's default correlation-graph nodes, depth >= 3)."""
    model = models.get_model(model_name)
    if model.concepts is None:
        raise gp.ModelMismatchError(f"model {model_name} has no GO concept layer")
    W = np.asarray(model.W_p)  # (K, J)
    _, nodes, _ = gp.correlation_graph(model, max_nodes=n_terms)
    index = {t: i for i, t in enumerate(model.terms["term_id"].astype(str))}
    picked = [index[t] for t in nodes["term_id"] if t in index][:n_terms]
    sub = W[picked]  # (n_terms, J)
    concepts = np.argsort(-sub.std(axis=0), kind="stable")[:n_concepts]
    names = _concept_names(model)
    terms = model.terms
    return pd.DataFrame(sub[:, concepts].T, index=[names[j] for j in concepts],
                        columns=[f"{terms['name'].iloc[i]} ({terms['term_id'].iloc[i]})" for i in picked])


def flat_metrics(metrics: dict, prefix: str = "") -> list[tuple[str, object]]:
    """Nested metrics dict -> [("test.seq_only.fmax", 0.41), ...] (lists kept as text)."""
    out = []
    for key, value in (metrics or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(flat_metrics(value, name + "."))
        elif isinstance(value, (list, tuple)):
            out.append((name, json.dumps(value, default=str)[:200]))
        else:
            out.append((name, value))
    return out


HEADLINE = (("fmax", "Fmax"), ("auc", "macro AUC"), ("aupr", "micro AUPR"), ("smin", "Smin"))
# the metric sections in words (headline labels and the plain-language summary)
SECTION_WORDS = {"test.go_from_homologs": "held-out genes, as a pasted protein",
                 "test.seq_only": "held-out genes, sequence only", "test.with_go": "held-out genes, with their GO",
                 "valid": "validation genes"}
# The sections of a model's metrics (TrainedModel.metrics, its metrics.json) that hold the
# evaluation metrics (gp.evaluate_scores' keys: fmax, auc, aupr, smin, auc_bins {bin: AUC},
# auc_bin_terms {bin: n}), in the order the Model page prefers them: training writes "valid";
# the shipped default models add "test" with GO transferred from sequence homologs (what a
# pasted protein gets), sequence-only and with-GO inputs (scripts/build_default_model.py);
# the top-level "interpretability" holds gp.interpretability_check's summary.
METRIC_SECTIONS = (("test", "go_from_homologs"), ("test", "seq_only"), ("test", "with_go"), ("valid",))


def _metric_sections(metrics: dict) -> list[tuple[str, dict]]:
    """[(dotted name, metrics dict)] of METRIC_SECTIONS present in `metrics`, in order."""
    out = []
    for path in METRIC_SECTIONS:
        value = metrics
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, dict):
            out.append((".".join(path), value))
    return out


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def model_summary(model_name: str) -> dict:
    """What the Model page shows: description, headline metrics, AUC bins, interpretability check."""
    model = models.get_model(model_name)
    metrics = model.metrics or {}
    sections = _metric_sections(metrics)
    headline = []
    for key, label in HEADLINE:
        # test-split numbers of a pasted protein first (see METRIC_SECTIONS)
        found = next(((name, m[key]) for name, m in sections if _number(m.get(key))), None)
        if found:
            headline.append((f"{label} ({SECTION_WORDS.get(found[0], found[0])})", f"{found[1]:.3f}"))
    headline.append(("threshold", f"{model.threshold:.2f}"))
    n_concepts = 0 if model.concepts is None else len(model.concepts)
    headline.append(("phenotypes × concepts", f"{len(model.terms)} × {n_concepts}"))
    bins = None
    name, section = next(((n, m) for n, m in sections if isinstance(m.get("auc_bins"), dict) and m["auc_bins"]),
                         (None, None))
    if section is not None:
        counts = section.get("auc_bin_terms") or {}
        rows = [{"bin": b, "auc": float(auc), "n_terms": counts.get(b)}
                for b, auc in section["auc_bins"].items() if _number(auc)]
        if rows:
            bins = pd.DataFrame(rows)
            bins.attrs["source"] = f"{name}.auc_bins"
    check = metrics.get("interpretability")
    interp = dict(flat_metrics(check)) if isinstance(check, dict) and check else None
    # names read from the model's files are escaped like user text (a model folder can come
    # from anywhere), and the folder is named, never its path on the server
    e = md_escape
    dataset = scrub_paths(models.dataset_name(model))  # a dataset given as a directory: its name
    description = (f"The **{e(model_name)}** model predicts {len(model.terms):,} "
                   + ("human (HPO)" if dataset == "hpo" else "mouse (MP)" if dataset == "mpo" else e(dataset))
                   + f" phenotypes (the **{e(dataset)}** dataset) of a gene's loss from its protein sequence (read "
                   f"by the {e(model.encoder)} "
                   f"protein language model), {n_concepts} gene-function concepts (GO terms), "
                   f"{len(model.go_inputs):,} GO input terms"
                   + (f", and the phenotypes of each protein's homologs among {len(model.cross_species.genes):,} "
                      f"genes of **{e(model.cross_species.dataset)}** "
                      f"({SPECIES_DATA.get(model.cross_species.dataset, '')})"
                      if model.uses_ortholog else "")
                   + ".")
    return {"description": description, "metrics": metrics, "headline": headline, "auc_bins": bins,
            "interpretability": interp,
            "evidence": evidence_sentences(check, model.cross_species.dataset if model.uses_ortholog else "")}


SPECIES_NAME = {"mpo": "mouse", "hpo": "human"}


def metric_sentences(model_name: str) -> list[str]:
    """The model's headline numbers in plain words for a user: what Fmax and AUC mean, and how
    the threshold was chosen (with its validation precision and recall)."""
    model = models.get_model(model_name)
    sections = _metric_sections(model.metrics or {})
    out = []
    fmax = next(((n, m) for n, m in sections if _number(m.get("fmax"))), None)
    if fmax:
        name, m = fmax
        extra = ""
        if _number(m.get("precision")) and _number(m.get("recall")):
            extra = (f": at that threshold {100 * m['precision']:.0f} % of the predicted phenotypes were true and "
                     f"{100 * m['recall']:.0f} % of the true ones were predicted")
        out.append(f"**Fmax {m['fmax']:.2f}** ({SECTION_WORDS.get(name, name)}). Over a gene's whole list of "
                   f"predicted phenotypes, the best balance of precision and recall at one threshold{extra}. "
                   "Predicting every gene's most frequent phenotypes already reaches a fair share of it (see the "
                   "benchmark's naive row): compare with the prior and the gain on the Predict page.")
    auc = next(((n, m) for n, m in sections if _number(m.get("auc"))), None)
    if auc:
        name, m = auc
        out.append(f"**AUC {m['auc']:.2f}** ({SECTION_WORDS.get(name, name)}). For one phenotype, a gene that has "
                   f"it scores higher than a gene that does not {100 * m['auc']:.0f} % of the time (50 % is chance), "
                   "averaged over phenotypes: how well the model ranks genes for a phenotype, whatever the threshold.")
    facts = models.threshold_facts(model_name)
    text = (f"**Threshold {facts['threshold']:.2f}**: the score above which a phenotype counts as predicted, "
            "chosen as the value that maximised F on the validation genes (not the test genes)")
    if _number(facts.get("precision")) and _number(facts.get("recall")):
        text += (f"; there, {100 * facts['precision']:.0f} % of the phenotypes above it were true and "
                 f"{100 * facts['recall']:.0f} % of the true ones were above it")
    out.append(text + ".")
    return out


def evidence_sentences(check: dict | None, other_species: str = "") -> list[str]:
    """The interpretability check's measures (gp.interpretability_check's summary, kept in
    the model's metrics.json) in plain words, one sentence per measure it holds."""
    if not isinstance(check, dict):
        return []
    other = SPECIES_NAME.get(other_species, "other-species")
    out = []
    plaus = check.get("plausibility")
    if isinstance(plaus, dict) and _number(plaus.get("share")):
        out.append(f"**Homolog evidence.** For each phenotype, of the {plaus.get('top', 5)} {other} knockout "
                   f"phenotypes the model weighs most, {100 * plaus['share']:.1f} % are related to it by a curated "
                   f"or lexical mouse-human phenotype mapping (random {other} phenotypes: "
                   f"{100 * plaus.get('random_share', float('nan')):.1f} %). Each homolog phenotype in an "
                   "explanation says whether such a mapping backs it.")
    conc, grouped = check.get("concentration"), check.get("concentration_grouped")
    if isinstance(grouped, dict) and _number(grouped.get("share")):
        text = (f"**Concentration.** On the test genes, the {grouped.get('top_items', 10)} largest evidence items "
                f"carry {100 * grouped['share']:.0f} % of what each of the top-20 predictions adds to its prior, "
                "counting each of the gene's most specific GO terms and homolog phenotypes as one item with the "
                "broader terms it implies, as the explanations show them")
        if isinstance(conc, dict) and _number(conc.get("share")):
            text += f" ({100 * conc['share']:.0f} % when every broader ontology term is an item of its own)"
        out.append(text + ".")
    elif isinstance(conc, dict) and _number(conc.get("share")):
        out.append(f"**Concentration.** On the test genes, the {conc.get('top_items', 10)} largest evidence items "
                   f"carry {100 * conc['share']:.0f} % of what each of the top-20 predictions adds to its prior "
                   "(the rest is spread over many small items).")
    if _number(check.get("median_spearman")):
        out.append(f"**Concepts.** A phenotype's concept weights follow how enriched each GO concept is among its "
                   f"training genes with a median Spearman correlation of {check['median_spearman']:.2f} "
                   f"(over {check.get('n_terms', 0):,} phenotypes; 0 would mean decorative concepts, 1 a perfect "
                   "match).")
    dele = check.get("deletion")
    if isinstance(dele, dict) and _number(dele.get("pass_rate")):
        out.append(f"**Faithfulness.** Removing a prediction's {dele.get('k', 5)} largest evidence items from the "
                   f"input lowers its score more than removing {dele.get('k', 5)} random items for "
                   f"{100 * dele['pass_rate']:.0f} % of the test genes' top-20 predictions (on average by "
                   f"{dele.get('mean_drop_top', float('nan')):.2f} vs {dele.get('mean_drop_random', float('nan')):.3f} "
                   "in logit).")
    return out


# the benchmark table's columns in words, for the Model page (the CSV keeps its own names)
BENCHMARK_COLUMNS = {
    "dataset": "Dataset", "split": "Split", "method": "Method", "seed": "Seed", "fmax": "Fmax",
    "auc": "Macro AUC", "wfmax": "Weighted Fmax", "smin": "Smin", "aupr": "Micro AUPR",
    "top10_ic": "Top-10 specificity (bits)", "top10_precision": "Top-10 precision",
    "novel_fmax": "Fmax, genes without homologs", "novel_auc": "AUC, genes without homologs",
    "excl_rate_pred": "Both of an exclusive pair predicted", "excl_rate_true": "Both of an exclusive pair true",
}


def benchmark_display(bench: pd.DataFrame) -> pd.DataFrame:
    """The benchmark cells with the columns a user reads, named in words (mean over seeds)."""
    keep = [c for c in BENCHMARK_COLUMNS if c in bench.columns and c != "seed"]
    metrics = [c for c in keep if c not in ("dataset", "split", "method")]
    out = bench[keep].groupby(["dataset", "split", "method"], sort=False)[metrics].mean().reset_index()
    return out.rename(columns=BENCHMARK_COLUMNS)


def results_table(name: str) -> pd.DataFrame | str | None:
    """results/<name>.csv of the repository as a frame, else results/<name>.md as Markdown
    text, else None."""
    base = models.REPO_ROOT / "results"
    csv = base / f"{name}.csv"
    if csv.is_file():
        return pd.read_csv(csv)
    md = base / f"{name}.md"
    if md.is_file():
        return md.read_text(encoding="utf-8")
    return None
