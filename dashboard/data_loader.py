"""Loading the model, its dataset and the case studies once per process, via the core's API.

Everything heavy (torch, the checkpoint, the dataset matrices) goes through
`st.cache_resource`, so it is loaded once per `streamlit run` process and shared by all
sessions and pages. `genepheno_core` itself is imported lazily (its public names are lazy
too), so the first page renders before torch is imported. Only the public names of
`genepheno_core` are used here.
"""

from __future__ import annotations

import json
import logging
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.safe_text import md_escape, message_text, scrub_paths

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
# Input limits of the Predict page (stated on the page).
MAX_SEQUENCES = 20
MAX_RESIDUES = 5000
# Most bytes of text (pasted, uploaded, or an upload after gunzip) the page reads. A nucleotide
# CDS takes 3 bytes per residue, so 4 per residue leaves room for line breaks, and 64 KiB for
# the headers; anything longer breaks the limits above anyway. Reading first and checking
# after is how a 194 KB gzip upload once took 1.1 GB of memory.
MAX_INPUT_BYTES = 4 * MAX_SEQUENCES * MAX_RESIDUES + 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"
GO_ID = re.compile(r"^GO:[0-9]{7}$")  # [0-9], not \d: \d also matches other scripts' digits
MODEL_ORDER = ("hpo", "mpo")  # hpo is the default when present


def models_dir() -> Path:
    """Where model directories live: $GENEPHENO_MODELS_DIR, else assets/models of the repo."""
    env = os.environ.get("GENEPHENO_MODELS_DIR")
    return Path(env) if env else REPO_ROOT / "assets" / "models"


def available_models() -> dict[str, Path]:
    """Model directories under models_dir() that hold files, hpo first, then mpo, then others."""
    root = models_dir()
    if not root.is_dir():
        return {}
    found = {p.name: p for p in sorted(root.iterdir())
             if p.is_dir() and not p.name.startswith(".") and any(p.iterdir())}
    order = [n for n in MODEL_ORDER if n in found] + [n for n in found if n not in MODEL_ORDER]
    return {n: found[n] for n in order}


def default_model_name() -> str | None:
    """hpo when present, else the first model directory."""
    return next(iter(available_models()), None)


def sidebar_model_picker() -> str | None:
    """The model selectbox in the sidebar (shared by all pages); returns the chosen name."""
    models = available_models()
    if not models:
        return None
    names = list(models)
    if state.get(state.MODEL_NAME) not in names:
        state.put(state.MODEL_NAME, names[0])
    key = f"w_{state.MODEL_NAME}"
    # Each page draws its own picker, and Streamlit resets a page's widgets when the page
    # changes (the picker fell back to the first model): so the widget is set from the kept
    # choice on every run, and a new choice is kept by the callback, which runs first.
    st.session_state[key] = state.get(state.MODEL_NAME)
    return st.sidebar.selectbox(
        "Model", names, key=key,
        format_func=lambda n: {"hpo": "hpo (human, HPO)", "mpo": "mpo (mouse, MP)"}.get(n, n),
        help="Model directories found in the models folder (assets/models/ of the repository, or "
             "$GENEPHENO_MODELS_DIR). Add one there to switch models.",
        on_change=lambda: state.put(state.MODEL_NAME, st.session_state[key]),
    )


def no_model_message() -> None:
    # the folder is named, not its server path (pages never show where files live)
    st.error(
        "No trained model found in the models folder (assets/models/ of the repository, or "
        "$GENEPHENO_MODELS_DIR). Build the default one with `make default-model` (see the README), "
        "or point GENEPHENO_MODELS_DIR at a directory of models."
    )


def error_text(exc: BaseException | str) -> str:
    """An error message ready for st.error/st.warning: one line, Markdown-escaped, and without
    server paths (paths in the models folder or the repository shown relative to it, any other
    absolute path, e.g. a temp file, as its file name)."""
    return message_text(exc, roots=(models_dir(), REPO_ROOT))


def _model_load_error(name: str, exc: Exception):
    """A GenePhenoError for a model directory that cannot be loaded (kept as it is when it is one)."""
    errors = gp_errors()
    if isinstance(exc, errors.GenePhenoError):
        return exc
    # a damaged model directory (truncated weights, broken JSON, ...) is data, not a bug of the
    # page: it becomes a one-line message naming the directory; the log keeps the traceback
    logger.warning("model %s cannot be loaded", name, exc_info=exc)
    return errors.InputFormatError(name, f"{type(exc).__name__}: {exc}")


@st.cache_resource(show_spinner=False, max_entries=4)
def get_model(name: str):
    """The TrainedModel in models_dir()/name (loaded once per process); a directory that
    cannot be loaded raises a GenePhenoError (failures are not cached: fixing the files and
    rerunning the page loads it)."""
    import genepheno_core as gp

    path = available_models().get(name)
    if path is None:
        raise gp_errors().MissingDataError(f"no model named {name!r} in the models folder")
    logger.info("loading model %s from %s", name, path)
    try:
        return gp.load_model(path)
    except Exception as exc:  # noqa: BLE001 (see _model_load_error)
        raise _model_load_error(name, exc) from exc


def require_model(name: str):
    """The loaded model; when it cannot be loaded, a one-line error on the page and st.stop()
    (the sidebar still offers the other models)."""
    try:
        with st.spinner("Loading the model…"):
            return get_model(name)
    except gp_errors().GenePhenoError as exc:
        show_model_error(name, exc)
        st.stop()


def show_model_error(name: str, exc: BaseException) -> None:
    st.error(f"The model {md_escape(name)} cannot be loaded: {error_text(exc)}", icon=":material/error:")


WARM_UP_PEPTIDE = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"  # any short protein: loads every lazy part


@st.cache_resource(show_spinner=False, max_entries=4)
def warm_up(name: str) -> bool:
    """Load the model and run one tiny prediction (loads the explain data and the encoder
    weights), so that the user's first prediction only pays for its own sequence."""
    import genepheno_core as gp

    model = get_model(name)
    try:
        gp.predict(model, [("warm-up", WARM_UP_PEPTIDE)], top=1, cache=False)
    except Exception as exc:  # noqa: BLE001 (the model's lazy parts: its explain data, encoder weights)
        raise _model_load_error(name, exc) from exc
    return True


def gp_errors():
    """The core's public API, for its user-facing exception classes (gp.InputFormatError, ...)."""
    import genepheno_core as gp

    return gp


@st.cache_resource(show_spinner=False, max_entries=4)
def get_dataset(name: str):
    """The dataset the model was trained on, or None when it is not built on this machine."""
    import genepheno_core as gp

    model = get_model(name)
    dataset = dataset_name(model)
    try:
        return gp.load_dataset(dataset)
    except gp_errors().GenePhenoError as exc:
        logger.warning("dataset %s of model %s not available: %s", dataset, name, exc)
        return None


def dataset_name(model) -> str:
    """Name (or directory) of the dataset the model was trained on."""
    config = getattr(model, "config", None)
    if getattr(config, "dataset", None):
        return str(config.dataset)
    manifest = getattr(model, "manifest", {}) or {}
    for key in ("dataset", "dataset_name"):
        if manifest.get(key):
            value = manifest[key]
            return value.get("name") if isinstance(value, dict) else str(value)
    config = manifest.get("config") or manifest.get("train_config") or {}
    return str(config.get("dataset", "hpo"))


@st.cache_resource(show_spinner=False)
def get_case_studies():
    """The case-study genes shipped in assets/ (core's load_case_studies())."""
    import genepheno_core as gp

    return gp.load_case_studies()


# --- user input --------------------------------------------------------------------------

def parse_user_sequences(text: str | None = None, upload: bytes | None = None,
                         upload_name: str = "uploaded file") -> list[tuple[str, str]]:
    """Parse pasted text or an uploaded FASTA (gzip ok) and apply the page's limits.

    Everything is read in memory (no file on the server), gzip with a cap on the decompressed
    size. Raises a GenePhenoError (InputFormatError) whose message names the pasted text or
    the uploaded file's name, the record and the problem.
    """
    errors = gp_errors()
    if upload is not None:
        source = upload_name.replace("\\", "/").rsplit("/", 1)[-1] or "uploaded file"
        _check_size(len(upload), source)
        data = _gunzip(upload, source) if upload[:2] == GZIP_MAGIC else upload
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise errors.InputFormatError(
                source, f"not a text FASTA file (byte {exc.start} is not UTF-8)") from None
    else:
        source = "pasted text"
        text = text or ""
        _check_size(len(text.encode("utf-8", "surrogatepass")), source)
    records = _parse_text(text, source)
    if len(records) > MAX_SEQUENCES:
        raise errors.InputFormatError(
            source, f"{len(records)} sequences: the dashboard takes at most {MAX_SEQUENCES} at once "
            "(use python -m genepheno_core predict for more)")
    for seq_id, seq in records:
        if len(seq) > MAX_RESIDUES:
            raise errors.InputFormatError(
                source, f"sequence is {len(seq):,} residues long; the limit is {MAX_RESIDUES:,}", record=seq_id)
    return records


def sequence_limits() -> tuple[int, float]:
    """The core's checks on a query (the same in the CLI): (fewest residues, largest share of
    unknown or non-standard residues X B Z J U O)."""
    import genepheno_core as gp

    return gp.MIN_QUERY_LENGTH, gp.MAX_NONSTANDARD_FRACTION


def sequence_limits_text() -> str:
    """The query checks as a sentence for the page."""
    min_length, max_nonstandard = sequence_limits()
    return (f"sequences shorter than {min_length} residues, or with more than {max_nonstandard:.0%} "
            "unknown or non-standard residues (X, B, Z, J, U, O), are refused.")


def _check_size(n_bytes: int, source: str) -> None:
    if n_bytes > MAX_INPUT_BYTES:
        raise gp_errors().InputFormatError(source, _too_large(f"{n_bytes / 1024:,.0f} KiB"))


def _too_large(size: str) -> str:
    return (f"{size} of text, more than the dashboard reads ({MAX_INPUT_BYTES // 1024:,} KiB: up to "
            f"{MAX_SEQUENCES} sequences of at most {MAX_RESIDUES:,} residues); use "
            "python -m genepheno_core predict for larger inputs")


def _gunzip(data: bytes, source: str) -> bytes:
    """Decompress gzip `data` (all members) in chunks, refusing it as soon as the output
    passes MAX_INPUT_BYTES: a small gzip can expand a thousandfold."""
    errors = gp_errors()
    out = bytearray()
    while data:
        unzip = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # 16+: gzip header and trailer
        try:
            # max_length = room left + 1 (never 0, which means "no limit"): going over is detected
            out += unzip.decompress(data, MAX_INPUT_BYTES + 1 - len(out))
            while unzip.unconsumed_tail and len(out) <= MAX_INPUT_BYTES:
                out += unzip.decompress(unzip.unconsumed_tail, MAX_INPUT_BYTES + 1 - len(out))
        except zlib.error as exc:
            raise errors.InputFormatError(source, f"corrupt gzip file ({exc})") from None
        if len(out) > MAX_INPUT_BYTES:
            raise errors.InputFormatError(source, _too_large(f"more than {MAX_INPUT_BYTES // 1024:,} KiB "
                                                             "after decompression"))
        if not unzip.eof:
            raise errors.InputFormatError(source, "truncated gzip file (it ends before its last block)")
        # another gzip member may follow (like gzip.decompress, trailing zero bytes are padding)
        data = unzip.unused_data.lstrip(b"\x00")
        if data and data[:2] != GZIP_MAGIC:
            raise errors.InputFormatError(source, "corrupt gzip file (data after the end of the gzip stream)")
    return bytes(out)


def _parse_text(text: str, source: str) -> list[tuple[str, str]]:
    """The core's parse_sequences on user text, its errors naming `source`."""
    import genepheno_core as gp

    errors = gp_errors()
    stripped = text.strip()
    if not stripped:
        raise errors.InputFormatError(source, "no sequence: paste a protein sequence or FASTA")
    # text=True: user text is never taken for a file name on the server
    records = gp.parse_sequences(stripped + "\n", text=True, source=source)
    min_length, max_nonstandard = sequence_limits()
    return gp.check_query_sequences(records, source, min_length, max_nonstandard, hint="")


def parse_go_text(text: str | None) -> list[str]:
    """GO ids typed by the user (separated by spaces, commas or new lines)."""
    ids = [t for t in re.split(r"[\s,;]+", (text or "").strip()) if t]
    bad = [t for t in ids if not GO_ID.match(t.upper())]
    if bad:
        raise gp_errors().InputFormatError(
            "GO terms", f"not a GO id: {', '.join(bad[:3])} (expected GO:0005515-style ids)")
    return sorted({t.upper() for t in ids})


def read_upload(upload) -> bytes | None:
    """Bytes of a st.file_uploader value (None when nothing was uploaded)."""
    if upload is None:
        return None
    return upload.getvalue()  # gzip is detected by parse_user_sequences


def results_table(name: str) -> pd.DataFrame | str | None:
    """results/<name>.csv as a frame, else results/<name>.md as Markdown text, else None."""
    base = REPO_ROOT / "results"
    csv = base / f"{name}.csv"
    if csv.is_file():
        return pd.read_csv(csv)
    md = base / f"{name}.md"
    if md.is_file():
        return md.read_text(encoding="utf-8")
    return None


# --- genes shown on the pages -------------------------------------------------------------

MAX_ATTRIBUTION_RESIDUES = 2000  # Integrated Gradients cost grows with length; CLI for longer
# IG on UniRep's per-residue states: one UniRep pass per sequence plus cheap head gradients
# (0.3 s for 500 residues, benchmarks/bench_predict.py), so the track is drawn by default up
# to this length and behind a toggle above it.
AUTO_ATTRIBUTION_RESIDUES = 1000
DASHBOARD_IG_STEPS = 128  # most gradient evaluations the residue IG may use (it needs ~32)


@dataclass(frozen=True)
class GeneRecord:
    """A protein the pages can predict and explain (pasted, case study or dataset gene)."""

    key: str  # unique across sources, e.g. "pasted:seq1", "case:P04637", "dataset:P04637"
    accession: str
    symbol: str
    sequence: str
    go: tuple[str, ...] | None = None  # known (propagated) GO annotations
    phenotypes: tuple[str, ...] | None = None  # true phenotypes in the model's vocabulary
    source: str = "pasted"
    note: str = ""

    @property
    def short(self) -> str:
        return self.symbol or self.accession

    @property
    def label(self) -> str:
        name = f"{self.symbol} · {self.accession}" if self.symbol and self.symbol != self.accession else self.accession
        return f"{name} ({self.source}, {len(self.sequence)} aa)"


def pasted_genes() -> list[GeneRecord]:
    """The sequences of the last prediction on the Predict page."""
    records = state.get(state.QUERIES) or []
    return [GeneRecord(f"pasted:{rid}", rid, "", seq, source="pasted") for rid, seq in records]


def _as_tuple(value) -> tuple[str, ...] | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        return tuple(t for t in re.split(r"[\s,;|]+", value) if t)
    return tuple(str(v) for v in value)


def case_study_genes(model_name: str | None = None) -> list[GeneRecord]:
    """The case-study genes of assets/ (empty when the core ships none); with a model, only
    those of the model's dataset (an mpo gene's MP phenotypes mean nothing to an hpo model)."""
    try:
        raw = get_case_studies()
    except gp_errors().GenePhenoError as exc:
        logger.warning("no case studies: %s", exc)
        return []
    rows = raw.to_dict("records") if isinstance(raw, pd.DataFrame) else list(raw or [])
    wanted = None
    if model_name is not None:
        try:
            wanted = dataset_name(get_model(model_name))
        except gp_errors().GenePhenoError:
            wanted = None
    out = []
    for row in rows:
        row = row if isinstance(row, dict) else vars(row)
        if wanted and row.get("dataset") and str(row["dataset"]) != wanted:
            continue
        acc = str(row.get("accession") or row.get("gene_id") or row.get("symbol"))
        out.append(GeneRecord(
            key=f"case:{acc}", accession=acc, symbol=str(row.get("symbol") or ""),
            sequence=str(row.get("sequence") or ""),
            go=_as_tuple(row.get("go") if row.get("go") is not None else row.get("go_annotations")),
            phenotypes=_as_tuple(row.get("phenotypes") if row.get("phenotypes") is not None
                                 else row.get("true_phenotypes")),
            source="case study", note=str(row.get("why") or row.get("reason") or row.get("note") or ""),
        ))
    return out


def find_dataset_genes(model_name: str, query: str, limit: int = 25) -> list[GeneRecord]:
    """Genes of the model's dataset whose symbol or accession matches `query` (exact first)."""
    dataset = get_dataset(model_name)
    if dataset is None:
        cases = [g for g in case_study_genes(model_name) if query.upper() in (g.symbol.upper(), g.accession.upper())]
        return cases or [g for g in [training_gene(model_name, query)] if g is not None]
    genes = dataset.genes
    q = query.strip().upper()
    sym = genes["symbol"].astype(str).str.upper()
    acc = genes["accession"].astype(str).str.upper()
    exact = genes.index[(sym == q) | (acc == q)]
    prefix = genes.index[(sym.str.startswith(q) | acc.str.startswith(q)) & ~((sym == q) | (acc == q))]
    rows = list(exact) + list(prefix)
    return [dataset_gene(model_name, int(i)) for i in rows[:limit]]


@st.cache_data(show_spinner=False, max_entries=128)
def training_gene(model_name: str, query: str) -> GeneRecord | None:
    """A training gene of the model found by symbol/accession without the dataset on disk.

    The core's explain() resolves symbols and accessions among the model's training genes;
    the gene's known phenotypes are those of its own (100 % identity) nearest training protein.
    """
    import genepheno_core as gp

    errors = gp_errors()
    model = get_model(model_name)
    try:
        found = gp.explain(model, query, top_terms=1)
    except errors.GenePhenoError:
        return None
    if not found.sequence or (query.upper() not in (found.gene.upper(),) and len(query) < 2):
        return None
    phenotypes = None
    try:
        hits = gp.nearest_proteins(model, [(found.gene, found.sequence)], k=1)
    except errors.GenePhenoError:
        hits = None
    symbol = query.upper() if query.upper() != found.gene.upper() else ""
    if hits is not None and len(hits) and float(hits["identity"].iloc[0]) >= 99.9:
        phenotypes = tuple(hits["phenotypes"].iloc[0])
        symbol = str(hits["symbol"].iloc[0] or symbol)
    return GeneRecord(key=f"dataset:{found.gene}", accession=found.gene, symbol=symbol, sequence=found.sequence,
                      go=tuple(found.go_annotations) or None, phenotypes=phenotypes, source="training gene")


def dataset_gene(model_name: str, row: int) -> GeneRecord:
    """Row `row` of the model's dataset as a GeneRecord with its true phenotypes and GO."""
    dataset = get_dataset(model_name)
    g = dataset.genes.iloc[row]
    labels = dataset.labels[row].indices
    go = dataset.go[row].indices
    return GeneRecord(
        key=f"dataset:{g['accession']}", accession=str(g["accession"]), symbol=str(g["symbol"]),
        sequence=str(g["sequence"]),
        go=tuple(dataset.go_terms["go_id"].iloc[go].astype(str)),
        phenotypes=tuple(dataset.terms["term_id"].iloc[labels].astype(str)),
        source=f"{dataset.name} dataset",
    )


# --- calls into the core (cached per process) ---------------------------------------------

def run_predict(model_name: str, records: list[tuple[str, str]], go_ids: list[str] | tuple = (),
                top: int | None = 20, threshold: float | None = None) -> pd.DataFrame:
    """The core's predict() on parsed records; the threshold used is kept in df.attrs."""
    df = _predict_cached(model_name, tuple(records), tuple(go_ids), top, threshold)
    df = df.copy()
    df.attrs["threshold"] = threshold if threshold is not None else float(get_model(model_name).threshold)
    return df


@st.cache_data(show_spinner=False, max_entries=256)
def _predict_cached(model_name, records, go_ids, top, threshold) -> pd.DataFrame:
    import genepheno_core as gp

    model = get_model(model_name)
    go = {rid: list(go_ids) for rid, _ in records} if go_ids else None
    return gp.predict(model, list(records), go_annotations=go, top=top, threshold=threshold)


def gene_predictions(model_name: str, gene: GeneRecord, top: int | None = 20, use_go: bool = False) -> pd.DataFrame:
    """Predictions for one GeneRecord (all terms when top is None)."""
    go = gene.go if (use_go and gene.go) else ()
    return run_predict(model_name, [(gene.accession, gene.sequence)], go, top=top)


@st.cache_data(show_spinner=False, max_entries=64)
def run_nearest(model_name: str, queries: tuple) -> pd.DataFrame:
    """The core's nearest_proteins() with phenotype lists turned into readable names."""
    import genepheno_core as gp

    hits = gp.nearest_proteins(get_model(model_name), list(queries))
    if "phenotypes" in hits:
        names = term_names(model_name)
        hits = hits.assign(
            n_phenotypes=[len(v) if not isinstance(v, str) else None for v in hits["phenotypes"]],
            phenotypes=[v if isinstance(v, str) else _name_list(v, names) for v in hits["phenotypes"]])
    return hits.reset_index(drop=True)


# what the other species' dataset of a model's ortholog input is, for captions
SPECIES_DATA = {"mpo": "mouse knockout phenotypes (MGI)", "hpo": "human disease phenotypes (HPO)"}


def ortholog_source(model_name: str) -> str | None:
    """The other species' dataset name (mpo, hpo) of the model's ortholog input, or None."""
    model = get_model(model_name)
    return model.cross_species.dataset if model.uses_ortholog else None


@st.cache_data(show_spinner=False, max_entries=64)
def run_ortholog_evidence(model_name: str, queries: tuple) -> pd.DataFrame:
    """The core's ortholog_evidence(): the other species' proteins behind the ortholog input,
    their share of it and their phenotypes as names."""
    import genepheno_core as gp

    model = get_model(model_name)
    hits = gp.ortholog_evidence(model, list(queries))
    names = dict(zip(model.cross_species.terms["term_id"].astype(str), model.cross_species.terms["name"].astype(str)))
    return hits.assign(n_phenotypes=[len(v) for v in hits["phenotypes"]],
                       phenotypes=[_name_list(v, names) for v in hits["phenotypes"]]).reset_index(drop=True)


def _name_list(terms, names: dict, limit: int = 6) -> str:
    """The first `limit` (most specific) phenotype names, then how many more."""
    terms = list(terms or [])
    text = "; ".join(names.get(t, t) for t in terms[:limit])
    return text + (f"; … (+{len(terms) - limit} more)" if len(terms) > limit else "")


SOURCE_NAMES = {"concept": "concepts", "GO term": "GO terms", "ortholog phenotype": "homolog phenotypes"}


@dataclass
class Explanation:
    """Concept activations and every contribution to a few phenotypes of one gene."""

    activations: pd.DataFrame  # concept_id, concept_name, activation (sigmoid(c_j))
    contributions: pd.DataFrame  # (J concepts) x (phenotypes): W_p[k, j] * sigmoid(c_j)
    bias: dict  # term_id -> b_k
    logit: dict  # term_id -> s_k
    term_names: dict  # term_id -> name
    # long [term_id, source, id, name, contribution]: concepts, GO terms (W_g) and the other
    # species' homolog phenotypes (W_o); with the bias it sums to the logit
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)
    ortholog_dataset: str = ""  # mpo (mouse knockouts) or hpo (human disease) when the model has W_o

    def contribution_frame(self, term: str) -> pd.DataFrame:
        """[source, id, name, contribution] of every contribution to `term`, largest first."""
        rows = self.evidence[self.evidence["term_id"] == term]
        return rows[["source", "id", "name", "contribution"]].sort_values(
            "contribution", key=lambda s: -s.abs()).reset_index(drop=True)

    def source_totals(self, term: str) -> dict:
        """{source: summed contribution to `term`}."""
        rows = self.evidence[self.evidence["term_id"] == term]
        return {k: float(v) for k, v in rows.groupby("source")["contribution"].sum().items()}

    def heatmap_frame(self, n_concepts: int = 15) -> pd.DataFrame:
        """Rows: the concepts with the largest |contribution| to any shown phenotype (names)."""
        c = self.contributions
        keep = c.abs().max(axis=1).sort_values(ascending=False).index[:n_concepts]
        names = dict(zip(self.activations["concept_id"], self.activations["concept_name"]))
        out = c.loc[keep]
        out.index = [names.get(i, i) for i in keep]
        out.columns = [self.term_names.get(t, t) for t in c.columns]
        return out

    def probability(self, term: str) -> float:
        return float(1.0 / (1.0 + np.exp(-self.logit[term])))


def run_explain(model_name: str, gene: GeneRecord, terms: tuple[str, ...], use_go: bool = False) -> Explanation:
    go = tuple(gene.go or ()) if use_go else ()
    return _explain_cached(model_name, gene.accession, gene.sequence, go, tuple(terms))


@st.cache_data(show_spinner=False, max_entries=64)
def _explain_cached(model_name, gene_id, sequence, go, terms) -> Explanation:
    import genepheno_core as gp

    model = get_model(model_name)
    # go_annotations=[] (not None) keeps the prediction sequence-only even for a known gene
    raw = gp.explain(model, (gene_id, sequence), phenotype=list(terms), go_annotations=list(go))
    names = term_names_of(model)
    return Explanation(activations=raw.activations, contributions=raw.contributions,
                       bias={t: float(v) for t, v in raw.bias.items()},
                       logit={t: float(v) for t, v in raw.logit.items()},
                       term_names={t: names.get(t, t) for t in terms},
                       evidence=raw.evidence_table(), ortholog_dataset=raw.ortholog_dataset)


def term_names_of(model) -> dict[str, str]:
    return dict(zip(model.terms["term_id"].astype(str), model.terms["name"].astype(str)))


@st.cache_data(show_spinner=False, max_entries=32)
def _residues_cached(model_name, gene_id, sequence, term) -> pd.DataFrame:
    import genepheno_core as gp

    # IG on UniRep's per-residue states (the API default): converges in ~32 steps, ~1 s
    return gp.residue_attributions(get_model(model_name), (gene_id, sequence), phenotype=term,
                                   max_steps=DASHBOARD_IG_STEPS)


def run_residue_attributions(model_name: str, gene: GeneRecord, term: str) -> pd.DataFrame:
    return _residues_cached(model_name, gene.accession, gene.sequence, term)


def term_names(model_name: str) -> dict[str, str]:
    terms = get_model(model_name).terms
    return dict(zip(terms["term_id"].astype(str), terms["name"].astype(str)))


def go_table(model_name: str, go_ids) -> pd.DataFrame:
    """GO ids with names and aspects (from the dataset's GO vocabulary, else the concepts)."""
    ids = list(go_ids)
    dataset = get_dataset(model_name)
    if dataset is not None and getattr(dataset, "go_terms", None) is not None:
        ref = dataset.go_terms.set_index("go_id")
    else:
        concepts = get_model(model_name).concepts
        ref = concepts.set_index("go_id") if concepts is not None else pd.DataFrame(columns=["name", "namespace"])
    rows = [(g, ref.at[g, "name"] if g in ref.index else "", ref.at[g, "namespace"] if g in ref.index and "namespace" in ref else "")
            for g in ids]
    df = pd.DataFrame(rows, columns=["go_id", "name", "namespace"])
    if "depth" in ref:
        df["depth"] = [ref.at[g, "depth"] if g in ref.index else None for g in ids]
        df = df.sort_values(["depth", "name"], ascending=[False, True])
    return df.reset_index(drop=True)


# --- graphs and model-level views ---------------------------------------------------------

PREFERRED_GRAPH_TERMS = ("HP:0001250", "HP:0001263", "MP:0001265", "MP:0002169")  # seizure, DD, ...


def default_graph_term(model_name: str) -> str:
    names = term_names(model_name)
    return next((t for t in PREFERRED_GRAPH_TERMS if t in names), next(iter(names)))


@st.cache_resource(show_spinner=False, max_entries=64)
def phenotype_graph(model_name: str, kind: str, seeds: tuple[str, ...], max_nodes: int = 15,
                    min_corr: float = 0.3):
    """(networkx graph, nodes frame, edges frame) of the core's correlation/exclusion graph."""
    import genepheno_core as gp

    model = get_model(model_name)
    if kind == "correlation":
        return gp.correlation_graph(model, terms=list(seeds), max_nodes=max_nodes, min_corr=min_corr)
    return gp.exclusion_graph(model, terms=list(seeds))


@st.cache_data(show_spinner=False, max_entries=256)
def neighbourhood(model_name: str, term: str) -> pd.DataFrame:
    """The term's ancestors (core's term_neighbourhood)."""
    import genepheno_core as gp

    return gp.term_neighbourhood(get_model(model_name), term)


def _concept_names(model) -> list[str]:
    c = model.concepts
    return [f"{n} ({i})" if n else i for i, n in zip(c["go_id"], c["name"])]


def top_concepts(model_name: str, term: str, n: int = 10) -> pd.DataFrame:
    """The n concepts with the largest positive W_p weight for `term` (plus the most negative)."""
    model = get_model(model_name)
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
    model = get_model(model_name)
    k = model.terms.index[model.terms["term_id"] == term]
    W = model.W_o([int(k[0])]) if len(k) else None
    if W is None:
        return pd.DataFrame(columns=["term_id", "name", "weight"])
    terms = model.cross_species.terms
    df = pd.DataFrame({"term_id": terms["term_id"], "name": terms.get("name", terms["term_id"]), "weight": W[0]})
    return df.sort_values("weight", ascending=False).head(n).reset_index(drop=True)


@st.cache_data(show_spinner=False, max_entries=16)
def wp_matrix(model_name: str, n_terms: int = 25, n_concepts: int = 25) -> pd.DataFrame:
    """W_p transposed for display: the most variable concepts (rows) x the most frequent
    specific phenotypes (columns: the core's default correlation-graph nodes, depth >= 3)."""
    import genepheno_core as gp

    model = get_model(model_name)
    if model.concepts is None:
        raise gp_errors().ModelMismatchError(f"model {model_name} has no GO concept layer")
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
    """Nested metrics dict -> [("test.fmax", 0.41), ...] (lists kept as text)."""
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


def model_summary(model_name: str) -> dict:
    """What the Model page shows: description, headline metrics, AUC bins, interpretability check."""
    model = get_model(model_name)
    metrics = model.metrics or {}
    flat = flat_metrics(metrics)
    headline = []
    for key, label in HEADLINE:
        # prefer test-split, sequence-only numbers; then any metric with that name
        cands = [(n, v) for n, v in flat if n.split(".")[-1].lower() == key and isinstance(v, (int, float))]
        cands.sort(key=lambda nv: (("test" not in nv[0]), ("seq" not in nv[0]), len(nv[0])))
        if cands:
            name, value = cands[0]
            headline.append((f"{label} ({name.rsplit('.', 1)[0]})" if "." in name else label, f"{value:.3f}"))
    headline.append(("threshold", f"{model.threshold:.2f}"))
    n_concepts = 0 if model.concepts is None else len(model.concepts)
    headline.append(("phenotypes × concepts", f"{len(model.terms)} × {n_concepts}"))
    bins = None
    found = [(n, v) for n, v in _walk(metrics) if n.split(".")[-1] == "auc_bins" and isinstance(v, dict) and v]
    found.sort(key=lambda nv: ("test" not in nv[0], "seq" not in nv[0], len(nv[0])))
    if found:
        name, value = found[0]
        counts = dict(_walk(metrics)).get(name[: -len("auc_bins")] + "auc_bin_terms") or {}
        rows = []
        for b, v in value.items():
            auc = v.get("auc", v.get("macro_auc")) if isinstance(v, dict) else v
            n = v.get("n_terms") if isinstance(v, dict) else counts.get(b)
            if isinstance(auc, (int, float)):
                rows.append({"bin": b, "auc": float(auc), "n_terms": n})
        bins = pd.DataFrame(rows) if rows else None
        if bins is not None:
            bins.attrs["source"] = name
    interp = None
    for name, value in _walk(metrics):
        if "interpretab" in name.lower():
            interp = dict(flat_metrics(value)) if isinstance(value, dict) else {name: value}
            break
    # names read from the model's files are escaped like user text (a model folder can come
    # from anywhere), and the folder is named, never its path on the server
    e = md_escape
    dataset = scrub_paths(dataset_name(model))  # a dataset given as a directory: its name
    description = (f"Model folder **{e(model_name)}** ({e(model.kind)}) trained on the **{e(dataset)}** "
                   f"dataset with the **{e(model.encoder)}** encoder: {len(model.terms):,} phenotypes, "
                   f"{n_concepts} GO concepts, {len(model.go_inputs):,} GO input terms"
                   + (f", and the phenotypes of each protein's homologs among {len(model.cross_species.genes):,} "
                      f"genes of **{e(model.cross_species.dataset)}** "
                      f"({SPECIES_DATA.get(model.cross_species.dataset, '')})"
                      if model.uses_ortholog else "")
                   + ".")
    return {"description": description, "metrics": metrics, "headline": headline, "auc_bins": bins,
            "interpretability": interp}


def _walk(d, prefix=""):
    for key, value in (d or {}).items():
        name = f"{prefix}{key}"
        yield name, value
        if isinstance(value, dict):
            yield from _walk(value, name + ".")
