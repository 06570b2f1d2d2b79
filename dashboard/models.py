"""Model access for the pages: which models there are, loading them once per process, the
core's calls on a model (cached), and model errors as one-line messages.

Everything heavy (torch, the checkpoint, the dataset matrices) goes through
`st.cache_resource` / `st.cache_data`, so it is loaded or computed once per `streamlit run`
process and shared by all sessions and pages. The core is used through its public API only
(`import genepheno_core as gp`, whose names are imported lazily: the first page renders
before torch is imported). The functions here return the core's own objects (TrainedModel,
`gp.predict` frames, `gp.explain`'s Explanation, ...); dashboard/views.py turns them into
the pages' tables.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

import genepheno_core as gp
from dashboard.safe_text import md_escape, message_text

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
# hpo (the core's default model) first when present, then mpo, then the models for proteins without GO
MODEL_ORDER = ("hpo", "mpo", "hpo-go-transfer", "mpo-go-transfer")
WARM_UP_PEPTIDE = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"  # any short protein: loads every lazy part

MAX_ATTRIBUTION_RESIDUES = 2000  # Integrated Gradients cost grows with length; CLI for longer
# IG on UniRep's per-residue states: one UniRep pass per sequence plus cheap head gradients
# (0.3 s for 500 residues, benchmarks/bench_predict.py), so the track is drawn by default up
# to this length and behind a toggle above it.
AUTO_ATTRIBUTION_RESIDUES = 1000
DASHBOARD_IG_STEPS = 128  # most gradient evaluations the residue IG may use (it needs ~32)


# --- which models there are ---------------------------------------------------------------

def models_dir() -> Path | None:
    """The core's folder of model directories (gp.models_dir: $GENEPHENO_MODELS_DIR, else the
    assets' models/), or None when the core finds no assets at all."""
    try:
        return gp.models_dir()
    except gp.GenePhenoError as exc:
        logger.warning("no models folder: %s", exc)
        return None


def available_models() -> dict[str, Path]:
    """Model directories under models_dir() that hold files, hpo first, then mpo, then others.

    A directory that is damaged (or not a model at all) is listed too: choosing it shows the
    core's reason as a one-line message, and the other models stay available."""
    root = models_dir()
    if root is None or not root.is_dir():
        return {}
    found = {p.name: p for p in sorted(root.iterdir())
             if p.is_dir() and not p.name.startswith(".") and any(p.iterdir())}
    order = [n for n in MODEL_ORDER if n in found] + [n for n in found if n not in MODEL_ORDER]
    return {n: found[n] for n in order}


def picker_models() -> list[str]:
    """The models the sidebar offers: available_models() without the siblings that score
    another listed model's proteins given no GO (`scorer`, the core's choose_model)."""
    names = list(available_models())
    siblings = {no_go_sibling(n) for n in names}
    return [n for n in names if n not in siblings]


def base_of(sibling: str) -> str | None:
    """The picker model whose proteins given no GO `sibling` scores, or None."""
    return next((n for n in picker_models() if no_go_sibling(n) == sibling), None)


def scorer(model_name: str, go_given: bool) -> str:
    """The model that scores proteins for the picked `model_name`: for proteins given no GO
    (whose GO is transferred from their sequence homologs) its shipped sibling
    "<name>-go-transfer", trained on that input and chosen on validation for it
    (gp.choose_model); else `model_name` itself."""
    if go_given:
        return model_name
    try:
        chosen = gp.choose_model(model_name, go_given=False)
    except gp.GenePhenoError:
        return model_name
    return chosen if isinstance(chosen, str) and chosen in available_models() else model_name


def no_go_sibling(model_name: str) -> str | None:
    """The sibling that scores `model_name`'s proteins given no GO, or None."""
    other = scorer(model_name, go_given=False)
    return other if other != model_name else None


def default_model_name() -> str | None:
    """hpo when present, else the first model directory."""
    return next(iter(available_models()), None)


# --- loading, and failures as messages -----------------------------------------------------

def error_text(exc: BaseException | str) -> str:
    """An error message ready for st.error/st.warning: one line, Markdown-escaped, and without
    server paths (paths in the models folder or the repository shown relative to it, any other
    absolute path, e.g. a temp file, as its file name)."""
    return message_text(exc, roots=tuple(r for r in (models_dir(), REPO_ROOT) if r is not None))


def _model_load_error(name: str, exc: Exception) -> gp.GenePhenoError:
    """A GenePhenoError for a model directory that cannot be loaded (kept as it is when it is one)."""
    if isinstance(exc, gp.GenePhenoError):
        return exc
    # a damaged model directory (truncated weights, broken JSON, ...) is data, not a bug of the
    # page: it becomes a one-line message naming the directory; the log keeps the traceback
    logger.warning("model %s cannot be loaded", name, exc_info=exc)
    return gp.ModelLoadError(name, f"{type(exc).__name__}: {exc}")


@st.cache_resource(show_spinner=False, max_entries=4)
def get_model(name: str):
    """The core's TrainedModel in models_dir()/name (gp.load_model, once per process); a
    directory that cannot be loaded raises a GenePhenoError (failures are not cached: fixing
    the files and rerunning the page loads it)."""
    path = available_models().get(name)
    if path is None:
        raise gp.MissingDataError(f"no model named {name!r} in the models folder")
    logger.info("loading model %s from %s", name, path)
    try:
        model = gp.load_model(path)
    except Exception as exc:  # noqa: BLE001 (see _model_load_error)
        raise _model_load_error(name, exc) from exc
    if model.uses_go:
        # the GO reference a pasted protein's GO is transferred from: loaded with the model,
        # so the first prediction does not wait for it (~2 s from its on-disk cache)
        try:
            model.go_reference()
        except gp.GenePhenoError as exc:
            logger.warning("GO transfer unavailable for model %s: %s", name, exc)
    return model


def require_model(name: str):
    """The loaded model; when it cannot be loaded, a one-line error on the page and st.stop()
    (the sidebar still offers the other models)."""
    try:
        with st.spinner("Loading the model…"):
            return get_model(name)
    except gp.GenePhenoError as exc:
        show_model_error(name, exc)
        st.stop()


def show_model_error(name: str, exc: BaseException) -> None:
    st.error(f"The model {md_escape(name)} cannot be loaded: {error_text(exc)}", icon=":material/error:")


@st.cache_resource(show_spinner=False, max_entries=4)
def warm_up(name: str) -> bool:
    """Load the model and run one tiny prediction (loads the explain data and the encoder
    weights), so that the user's first prediction only pays for its own sequence."""
    model = get_model(name)
    try:
        gp.predict(model, [("warm-up", WARM_UP_PEPTIDE)], top=1, cache=False)
    except Exception as exc:  # noqa: BLE001 (the model's lazy parts: its explain data, encoder weights)
        raise _model_load_error(name, exc) from exc
    return True


def dataset_name(model) -> str:
    """Name (or directory) of the dataset the model was trained on (its TrainConfig's)."""
    return str(model.config.dataset)


@st.cache_resource(show_spinner=False, max_entries=4)
def get_dataset(name: str):
    """The core's Dataset the model was trained on, or None when it is not built on this machine."""
    dataset = dataset_name(get_model(name))
    try:
        return gp.load_dataset(dataset)
    except gp.GenePhenoError as exc:
        logger.warning("dataset %s of model %s not available: %s", dataset, name, exc)
        return None


@st.cache_resource(show_spinner=False)
def get_case_studies():
    """The case-study genes shipped with the core (gp.load_case_studies())."""
    return gp.load_case_studies()


def term_names(model_name: str) -> dict[str, str]:
    """{term_id: name} of the model's phenotypes."""
    terms = get_model(model_name).terms
    return dict(zip(terms["term_id"].astype(str), terms["name"].astype(str)))


def ortholog_source(model_name: str) -> str | None:
    """The other species' dataset name (mpo, hpo) of the model's cross-species input, or None."""
    model = get_model(model_name)
    return model.cross_species.dataset if model.uses_ortholog else None


# --- the core's calls on a model (cached per process) --------------------------------------

def predict(model_name: str, records, go_ids=(), top: int | None = 20, threshold: float | None = None,
            view: str = "all"):
    """gp.predict() on parsed (id, sequence) records, the same GO ids for every record, by
    the model `scorer` picks for that input (named in df.attrs["model"]); the threshold used
    is kept in df.attrs["threshold"]."""
    name = scorer(model_name, bool(go_ids))
    df = _predict_cached(name, tuple(records), tuple(go_ids), top, threshold, view)
    df = df.copy()
    df.attrs["threshold"] = threshold if threshold is not None else float(get_model(name).threshold)
    df.attrs["model"] = name
    return df


@st.cache_data(show_spinner=False, max_entries=256)
def _predict_cached(model_name, records, go_ids, top, threshold, view="all"):
    model = get_model(model_name)
    go = {rid: list(go_ids) for rid, _ in records} if go_ids else None
    return gp.predict(model, list(records), go_annotations=go, top=top, threshold=threshold, view=view)


def specific_view(model_name: str, predictions, top: int, threshold: float | None = None):
    """gp.specific_view: the most specific `top` predictions (at `threshold`, default the
    model's) of an all-terms predict() frame (no second prediction: the DIAMOND searches are
    not repeated)."""
    return gp.specific_view(get_model(model_name), predictions, top=top, threshold=threshold)


@st.cache_data(show_spinner=False, max_entries=64)
def model_knowledge(model_name: str, queries: tuple):
    """gp.model_knowledge: per query, "training protein" / "homologs known" / "no homolog"."""
    return gp.model_knowledge(get_model(model_name), list(queries))


@st.cache_data(show_spinner=False, max_entries=16)
def threshold_facts(model_name: str) -> dict[str, float]:
    """The model's validation-optimal threshold and what it gave on the validation genes:
    {threshold, fmax, precision, recall} (NaN for what its metrics.json does not hold). Read
    from metrics.json, not the loaded model: the options render before the model is loaded."""
    import json

    nan = float("nan")
    path = available_models().get(model_name)
    try:
        metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError) as exc:
        logger.warning("metrics of model %s unreadable: %s", model_name, exc)
        metrics = {}
    valid = metrics.get("valid") if isinstance(metrics.get("valid"), dict) else {}

    def number(value) -> float:
        try:
            return float(value)
        except (TypeError, ValueError):
            return nan

    return {"threshold": number(metrics.get("threshold", 0.5)), "fmax": number(valid.get("fmax")),
            "precision": number(valid.get("precision")), "recall": number(valid.get("recall"))}


@st.cache_data(show_spinner=False, max_entries=64)
def explain(model_name: str, gene_id: str, sequence: str, go: tuple[str, ...], terms: tuple[str, ...]):
    """The core's Explanation (gp.explain) of `terms` for one protein, by the model `scorer`
    picks for its input (Explanation.model names it). go=() gives it no GO of its own
    (go_annotations=[], not None: a known gene's own GO is not looked up), so its GO input is
    transferred from its sequence homologs."""
    model = get_model(scorer(model_name, bool(go)))
    return gp.explain(model, (gene_id, sequence), phenotype=list(terms), go_annotations=list(go))


@st.cache_data(show_spinner=False, max_entries=32)
def residue_attributions(model_name: str, gene_id: str, sequence: str, term: str):
    """gp.residue_attributions: IG on UniRep's per-residue states (the API default), which
    converges in ~32 steps, ~1 s; by the model that explains the protein without GO of its
    own (`scorer`), as on the Explain page."""
    return gp.residue_attributions(get_model(scorer(model_name, False)), (gene_id, sequence), phenotype=term,
                                   max_steps=DASHBOARD_IG_STEPS)


@st.cache_data(show_spinner=False, max_entries=64)
def nearest_proteins(model_name: str, queries: tuple):
    """gp.nearest_proteins: DIAMOND hits among the model's training proteins."""
    return gp.nearest_proteins(get_model(model_name), list(queries))


@st.cache_data(show_spinner=False, max_entries=64)
def ortholog_evidence(model_name: str, queries: tuple):
    """gp.ortholog_evidence: the other species' proteins behind the cross-species input."""
    return gp.ortholog_evidence(get_model(model_name), list(queries))


@st.cache_resource(show_spinner=False, max_entries=64)
def phenotype_graph(model_name: str, kind: str, seeds: tuple[str, ...], max_nodes: int = 15,
                    min_corr: float = 0.3):
    """(networkx graph, nodes frame, edges frame) of the core's correlation/exclusion graph."""
    model = get_model(model_name)
    if kind == "correlation":
        return gp.correlation_graph(model, terms=list(seeds), max_nodes=max_nodes, min_corr=min_corr)
    return gp.exclusion_graph(model, terms=list(seeds))


@st.cache_data(show_spinner=False, max_entries=256)
def neighbourhood(model_name: str, term: str):
    """The term's ancestors and children (gp.term_neighbourhood)."""
    return gp.term_neighbourhood(get_model(model_name), term)
