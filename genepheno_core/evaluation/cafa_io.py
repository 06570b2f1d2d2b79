"""CAFA prediction / ground-truth files and the file-level evaluator.

Formats (whitespace- or tab-separated, optionally gzip-compressed, as read by CAFA-evaluator):
- predictions: `gene term score` per line, score in [0, 1]; the CAFA submission header
  and footer lines `AUTHOR ...`, `MODEL ...`, `KEYWORDS ...`, `ACCURACY ...`, `END` are
  accepted and skipped, as is one column-name line `gene term score` at the top.
- ground truth: `gene term` per line (extra columns are ignored, like cafaeval does); an
  optional first line naming the columns is skipped.
- information accretion: `term ia` per line.

`evaluate_files` builds the (truth genes x terms) matrices over an `Ontology`
(genepheno_core.ontology.load_ontology), follows alt_id / replaced_by, propagates truth
(true-path rule) and predictions (max over descendants), drops the excluded terms and
calls `evaluate_scores`. The ontology is treated as a single namespace (true for HPO and MP).

Excluded terms are decided in one place, `excluded_terms`: the ontology's roots (terms
without parents, cafaeval's `-no_orphans`) by default; plus the terms a benchmark dataset
never uses as labels when a dataset or a model (whose checkpoint holds its dataset's
manifest) is named, so that the file-level numbers are the benchmark's (for hpo: the root,
HP:0000118 Phenotypic abnormality, which every gene carries, and everything outside its
subtree); or the roots plus terms given by hand.

Scores are written with 6 decimals (`SCORE_DECIMALS`): rounding moves a score by at most
5e-7, so no score crosses one of the 0.01-spaced thresholds unless it lies that close to it
(3 decimals moved Fmax by up to 1e-3).
"""

from __future__ import annotations

import gzip
import io
import logging
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from genepheno_core.errors import InputFormatError
from genepheno_core.evaluation.metrics import evaluate_scores
from genepheno_core.io import atomic_path

logger = logging.getLogger(__name__)

CAFA_HEADER_KEYS = ("AUTHOR", "MODEL", "KEYWORDS", "ACCURACY", "END")
SCORE_DECIMALS = 6


def format_score(value: float, decimals: int = SCORE_DECIMALS) -> str:
    """A score as written in CAFA prediction files (fixed-point, `decimals` decimals)."""
    return f"{float(value):.{decimals}f}"


def _open_text(path: str | os.PathLike) -> io.TextIOBase:
    path = Path(path)
    if not path.exists():
        from genepheno_core.errors import MissingDataError

        raise MissingDataError(f"{path}: no such file")
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def _records(path: str | os.PathLike) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of every non-empty, non-comment line."""
    with _open_text(path) as handle:
        try:
            for number, line in enumerate(handle, start=1):
                fields = line.split()
                if fields and not fields[0].startswith("#"):
                    yield number, fields
        except UnicodeDecodeError as exc:
            raise InputFormatError(path, f"not UTF-8 text ({exc.reason})") from None


def read_predictions(path: str | os.PathLike) -> pd.DataFrame:
    """CAFA prediction file -> DataFrame[gene, term, score] (file order, duplicates kept)."""
    genes, terms, scores = [], [], []
    first = True
    for number, fields in _records(path):
        if fields[0] in CAFA_HEADER_KEYS:
            continue
        if len(fields) != 3:
            raise InputFormatError(path, f"expected 3 fields (gene, term, score), found {len(fields)}", line=number)
        if first and fields[2].lower() in ("score", "prob", "probability"):
            first = False
            continue
        first = False
        try:
            score = float(fields[2])
        except ValueError:
            raise InputFormatError(path, f"score {fields[2]!r} is not a number", line=number) from None
        if not (0.0 <= score <= 1.0):  # also rejects NaN
            raise InputFormatError(path, f"score {fields[2]} is outside [0, 1]", line=number)
        genes.append(fields[0])
        terms.append(fields[1])
        scores.append(score)
    return pd.DataFrame({"gene": genes, "term": terms, "score": np.asarray(scores, dtype=np.float64)})


def read_truth(path: str | os.PathLike) -> pd.DataFrame:
    """CAFA ground-truth file -> DataFrame[gene, term] (duplicates dropped)."""
    genes, terms = [], []
    first = True
    for number, fields in _records(path):
        if len(fields) < 2:
            raise InputFormatError(path, "expected 2 fields (gene, term), found 1", line=number)
        if first and ":" not in fields[1] and fields[1].lower() in ("term", "term_id", "hpo_id", "mp_id", "go_id"):
            first = False
            continue
        first = False
        genes.append(fields[0])
        terms.append(fields[1])
    return pd.DataFrame({"gene": genes, "term": terms}).drop_duplicates(ignore_index=True)


def read_ia(path: str | os.PathLike) -> dict[str, float]:
    """Information accretion file (`term ia` per line) -> {term: ia}."""
    out: dict[str, float] = {}
    for number, fields in _records(path):
        if len(fields) != 2:
            raise InputFormatError(path, f"expected 2 fields (term, ia), found {len(fields)}", line=number)
        try:
            value = float(fields[1])
        except ValueError:
            raise InputFormatError(path, f"information accretion {fields[1]!r} is not a number", line=number) from None
        if math.isnan(value) or value < 0:
            raise InputFormatError(path, f"information accretion {fields[1]} must be >= 0", line=number)
        out[fields[0]] = value if math.isfinite(value) else 0.0  # inf -> 0 as cafaeval
    return out


def write_predictions(
    path: str | os.PathLike,
    genes: Sequence[str],
    terms: Sequence[str],
    scores,
    *,
    author: str = "GenePheno",
    model: int = 1,
    keywords: Sequence[str] = ("machine learning",),
    min_score: float = 0.005,
    decimals: int = SCORE_DECIMALS,
    header: bool = True,
) -> int:
    """Write a (genes x terms) score matrix as a CAFA prediction file; returns rows written.

    Scores below `min_score` are left out (they cannot reach the lowest CAFA threshold,
    0.01, once rounded to `decimals`). Written atomically; `.gz` paths are compressed.
    """
    scores = scores.toarray() if sp.issparse(scores) else np.asarray(scores)
    if scores.shape != (len(genes), len(terms)):
        raise ValueError(f"scores {scores.shape} do not match {len(genes)} genes x {len(terms)} terms")
    rows, cols = np.nonzero(scores >= min_score)
    genes_arr = np.asarray(genes, dtype=object)
    terms_arr = np.asarray(terms, dtype=object)
    values = np.round(scores[rows, cols].astype(np.float64), decimals)
    lines = []
    if header:
        lines += [f"AUTHOR\t{author}", f"MODEL\t{model}", f"KEYWORDS\t{', '.join(keywords)}."]
    fmt = f"{{}}\t{{}}\t{{:.{decimals}f}}"
    lines += [fmt.format(g, t, v) for g, t, v in zip(genes_arr[rows], terms_arr[cols], values)]
    if header:
        lines.append("END")
    data = ("\n".join(lines) + "\n").encode("utf-8")
    with atomic_path(path) as tmp:
        if str(path).endswith(".gz"):
            with gzip.open(tmp, "wb") as handle:
                handle.write(data)
        else:
            tmp.write_bytes(data)
    return int(rows.size)


def write_truth(path: str | os.PathLike, genes: Sequence[str], terms: Sequence[str], labels) -> int:
    """Write a binary (genes x terms) label matrix as a CAFA ground-truth file."""
    labels = sp.coo_matrix(labels)
    order = np.lexsort((labels.col, labels.row))
    rows, cols = labels.row[order], labels.col[order]
    keep = labels.data[order] != 0
    text = "".join(f"{genes[r]}\t{terms[c]}\n" for r, c in zip(rows[keep], cols[keep]))
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return int(keep.sum())


def _canonical(ontology, term: str) -> str | None:
    try:
        return ontology.remap(term)
    except (KeyError, ValueError):
        return None


def build_matrices(predictions: pd.DataFrame, truth: pd.DataFrame, ontology, *, propagate: bool = True,
                   exclude=None) -> dict:
    """Truth and prediction matrices over the ontology, excluded terms dropped.

    exclude: terms never scored (after propagation); None: the ontology's roots (terms
    without parents).
    Returns {"genes": list (truth genes, file order), "terms": list (columns), "y_true":
    (n, K) bool, "y_score": (n, K) float64, "counts": {...}} where the columns are the
    non-excluded terms reachable from any truth or prediction term (all other terms are 0
    in both matrices and change no metric). counts["roots_excluded"] lists the parentless
    terms met, counts["excluded_terms"] every excluded term met (both sorted).
    """
    remap_cache: dict[str, str | None] = {}

    def canon(t: str) -> str | None:
        if t not in remap_cache:
            remap_cache[t] = _canonical(ontology, t)
        return remap_cache[t]

    counts = {"truth_unknown_terms": 0, "prediction_unknown_terms": 0, "prediction_other_genes": 0}
    t_terms = [canon(t) for t in truth["term"]]
    t_ok = np.array([t is not None for t in t_terms], dtype=bool)
    counts["truth_unknown_terms"] = int((~t_ok).sum())
    genes = list(dict.fromkeys(truth["gene"][t_ok]))
    gene_index = {g: i for i, g in enumerate(genes)}

    in_truth = predictions["gene"].isin(gene_index).to_numpy()
    counts["prediction_other_genes"] = int((~in_truth).sum())
    pred = predictions[in_truth]
    p_terms = [canon(t) for t in pred["term"]]
    p_ok = np.array([t is not None for t in p_terms], dtype=bool)
    counts["prediction_unknown_terms"] = int((~p_ok).sum())
    for key, value in counts.items():
        if value:
            logger.warning("%s: %d lines ignored", key.replace("_", " "), value)

    seen = {t for t, ok in zip(t_terms, t_ok) if ok} | {t for t, ok in zip(p_terms, p_ok) if ok}
    anc_map = ontology.ancestor_map() if hasattr(ontology, "ancestor_map") else None
    get_anc = (lambda t: anc_map.get(t, frozenset())) if anc_map is not None else ontology.ancestors
    ancestors = {t: set(get_anc(t)) for t in seen}
    vocab_all = set(seen).union(*ancestors.values()) if ancestors else set()
    for t in vocab_all - set(ancestors):
        ancestors[t] = set(get_anc(t))
    roots = {t for t in vocab_all if not list(ontology.parents(t))}
    terms = sorted(vocab_all)
    col = {t: j for j, t in enumerate(terms)}
    n, k = len(genes), len(terms)

    y_true = np.zeros((n, k), dtype=bool)
    rows = [gene_index[g] for g, ok in zip(truth["gene"], t_ok) if ok]
    y_true[rows, [col[t] for t in t_terms if t is not None]] = True
    y_score = np.zeros((n, k), dtype=np.float64)
    p_rows = np.array([gene_index[g] for g in pred["gene"][p_ok]], dtype=np.int64)
    p_cols = np.array([col[t] for t in p_terms if t is not None], dtype=np.int64)
    # duplicates (or alt_ids of one term) keep the highest score, as cafaeval
    np.maximum.at(y_score, (p_rows, p_cols), pred["score"].to_numpy()[p_ok])

    if propagate and k:
        a_rows = [col[t] for t in terms for _ in ancestors[t]]
        a_cols = [col[a] for t in terms for a in ancestors[t]]
        anc = sp.csr_matrix((np.ones(len(a_rows), np.uint8), (a_rows, a_cols)), shape=(k, k))
        from genepheno_core.evaluation.metrics import propagate_scores

        y_true = propagate_scores(y_true.astype(np.float32), anc) > 0
        y_score = propagate_scores(y_score, anc)
    excluded = roots if exclude is None else {t for t in terms if t in exclude}
    keep = np.array([t not in excluded for t in terms], dtype=bool)
    terms = [t for t, ok in zip(terms, keep) if ok]
    counts["roots_excluded"] = sorted(roots)
    counts["excluded_terms"] = sorted(excluded)
    return {"genes": genes, "terms": terms, "y_true": y_true[:, keep], "y_score": y_score[:, keep], "counts": counts}


def load_evaluation_ontology(path: str | os.PathLike):
    """The ontology as cafaeval sees it: is_a and part_of edges."""
    from genepheno_core.ontology import load_ontology

    return load_ontology(path, relations=("is_a", "part_of"))


def _read_manifest(path: Path, what: str) -> dict:
    import json

    from genepheno_core.errors import MissingDataError

    if not path.is_file():
        raise MissingDataError(f"{path}: no such file ({what})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputFormatError(path, f"not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise InputFormatError(path, "expected a JSON object")
    return manifest


def dataset_excluded_terms(manifest: dict, ontology) -> tuple[set[str], str]:
    """The terms a benchmark dataset never uses as labels, from its manifest (as built by
    genepheno_core.datasets.builders), over `ontology`: the ontology's roots always; an
    explicit "excluded_terms" list when the manifest records one; the "label_root" (hpo,
    hpo-temporal: HP:0000118) and every term outside its subtree; for mpo, MP:0000001 and
    MP:0002169 "no abnormal phenotype detected". Returns (terms, description)."""
    from genepheno_core.datasets.builders import MP_NO_ABNORMAL, MP_ROOT
    from genepheno_core.errors import GenePhenoError

    name = str(manifest.get("name", "?"))
    out = set(ontology.roots)
    parts = ["terms without parents"]
    listed = manifest.get("excluded_terms")
    if listed:
        out |= {t for t in (ontology.remap(str(x)) for x in listed) if t is not None}
        parts.append(f"the {len(listed)} excluded_terms it lists")
    label_root = manifest.get("label_root")
    if label_root:
        root = ontology.remap(str(label_root))
        if root is None:
            raise GenePhenoError(f"dataset {name}: its label root {label_root} is not a term of the ontology "
                                 f"(evaluate with the dataset's label ontology, {_ontology_label(manifest)})")
        allowed = ontology.descendants(root)
        out |= {t for t in ontology.terms if t not in allowed}
        parts.append(f"its label root {root} ({_term_name(ontology, root)}) and every term outside that subtree")
    if name == "mpo":
        fixed = {t for t in (ontology.remap(x) for x in (MP_ROOT, MP_NO_ABNORMAL)) if t is not None}
        out |= fixed
        parts.append(" and ".join(f"{t} ({_term_name(ontology, t)})" for t in sorted(fixed)))
    return out, f"dataset {name}: " + ", ".join(parts)


def _ontology_label(manifest: dict) -> str:
    entry = manifest.get("label_ontology") or {}
    if isinstance(entry, dict) and entry.get("filename"):
        return f"{entry.get('source', '?')}/{entry.get('release', '?')}/{entry['filename']}"
    return "see its manifest"


def _term_name(ontology, term: str) -> str:
    try:
        return ontology.name(term)
    except KeyError:
        return "?"


def excluded_terms(ontology, *, exclude: Sequence[str] | None = None, dataset: str | os.PathLike | None = None,
                   model: str | os.PathLike | None = None) -> tuple[frozenset[str], str]:
    """The terms an evaluation over `ontology` leaves out, and where that set comes from.

    At most one source: `exclude` (term ids, alt_ids / replaced ones followed), added to the
    ontology's roots; `dataset` (a dataset name under GENEPHENO_HOME or its directory) or
    `model` (a checkpoint directory: its manifest.json is the manifest of the dataset it
    was trained on): the terms that dataset never uses as labels (`dataset_excluded_terms`),
    so the numbers are the benchmark's; none of them: the ontology's roots (terms without
    parents, cafaeval's -no_orphans). Returns (terms, description); unknown terms, datasets
    or models raise GenePhenoError.
    """
    from genepheno_core.errors import GenePhenoError, MissingDataError

    given = [k for k, v in (("--exclude", exclude), ("--dataset", dataset), ("--model", model)) if v]
    if len(given) > 1:
        raise GenePhenoError(f"give one source of excluded terms, not {' and '.join(given)}")
    if exclude:
        out, unknown = set(ontology.roots), []
        for term in exclude:
            current = _canonical(ontology, str(term).strip())
            if current is None:
                unknown.append(str(term))
            else:
                out.add(current)
        if unknown:
            raise GenePhenoError(f"--exclude: {', '.join(unknown[:5])} not a current term of the ontology "
                                 f"({getattr(ontology, 'source', None) or 'given'})")
        return frozenset(out), "--exclude " + " ".join(sorted(out - set(ontology.roots))) + ", and terms without parents"
    if dataset:
        from genepheno_core.datasets.artifact import resolve_dataset_path

        path = resolve_dataset_path(dataset) / "manifest.json"
        terms, why = dataset_excluded_terms(_read_manifest(path, "dataset manifest"), ontology)
        return frozenset(terms), f"{why}; from {path}"
    if model:
        directory = Path(model)
        if not directory.is_dir():
            raise MissingDataError(f"--model {model}: no such checkpoint directory")
        path = directory / "manifest.json"
        manifest = _read_manifest(path, "the checkpoint's dataset manifest")
        if not manifest.get("name"):
            raise GenePhenoError(f"{path} names no dataset: give the excluded terms with --exclude or --dataset")
        terms, why = dataset_excluded_terms(manifest, ontology)
        return frozenset(terms), f"{why}; from the model's {path}"
    return frozenset(ontology.roots), "terms without parents (the default; no --exclude, --dataset or --model given)"


def evaluate_files(
    predictions_path: str | os.PathLike,
    truth_path: str | os.PathLike,
    ontology,
    *,
    ia_path: str | os.PathLike | None = None,
    propagate: bool = True,
    exclude: Sequence[str] | None = None,
    dataset: str | os.PathLike | None = None,
    model: str | os.PathLike | None = None,
) -> dict:
    """Evaluate a CAFA prediction file against a truth file over `ontology` (an Ontology or
    a path to one). Terms left out: see `excluded_terms` (exclude / dataset / model; default
    the ontology's roots). Returns `evaluate_scores`' dict plus n_predicted_genes, `ignored`,
    `warnings` (see `coverage_warnings`), roots_excluded and `excluded` {"source": where the
    excluded set comes from, "terms": the excluded terms the files reach, sorted,
    "names": their names}. An empty prediction file, or one without any truth gene, raises
    InputFormatError (it would score Fmax 0 / AUC 0.5)."""
    if isinstance(ontology, (str, os.PathLike)):
        ontology = load_evaluation_ontology(ontology)
    exclusion, source = excluded_terms(ontology, exclude=exclude, dataset=dataset, model=model)
    truth = read_truth(truth_path)
    if truth.empty:
        raise InputFormatError(truth_path, "no ground-truth annotations")
    predictions = read_predictions(predictions_path)
    if predictions.empty:
        raise InputFormatError(predictions_path, "no predictions (no gene, term, score lines): nothing to evaluate")
    m = build_matrices(predictions, truth, ontology, propagate=propagate, exclude=exclusion)
    if not m["genes"]:
        raise InputFormatError(truth_path, "no ground-truth term is in the ontology")
    if not m["terms"] or not m["y_true"].any():
        from genepheno_core.errors import GenePhenoError

        raise GenePhenoError(f"{truth_path}: no ground-truth term is left to evaluate once the excluded terms "
                             f"({source}) are left out")
    if not predictions["gene"].isin(set(m["genes"])).any():
        raise InputFormatError(
            predictions_path, f"no prediction for any of the {len(m['genes']):,} truth genes (predicted: "
            f"{', '.join(predictions['gene'].drop_duplicates().head(3))}...; truth: {', '.join(m['genes'][:3])}...)")
    ia = None
    if ia_path is not None:
        ia_map = read_ia(ia_path)
        ia = np.array([ia_map.get(t, 0.0) for t in m["terms"]])
    result = evaluate_scores(m["y_true"], m["y_score"], ia=ia)
    result["n_predicted_genes"] = int((m["y_score"] > 0).any(axis=1).sum())
    result["ignored"] = {k: v for k, v in m["counts"].items() if k not in ("roots_excluded", "excluded_terms")}
    result["roots_excluded"] = m["counts"]["roots_excluded"]
    result["excluded"] = {"source": source, "terms": m["counts"]["excluded_terms"],
                          "names": [_term_name(ontology, t) for t in m["counts"]["excluded_terms"]]}
    result["warnings"] = coverage_warnings(truth, m["genes"], m["counts"]["truth_unknown_terms"],
                                           result["n_predicted_genes"])
    for message in result["warnings"]:
        logger.warning(message)
    return result


def coverage_warnings(truth: pd.DataFrame, genes: list, unknown_truth: int, n_predicted: int) -> list[str]:
    """Messages for results that mostly measure something else than the predictions: most
    truth annotations use terms the ontology lacks (a truncated or wrong ontology), or most
    truth genes have no prediction (a partial prediction file or mismatched gene ids)."""
    out = []
    n_truth_genes = truth["gene"].nunique()
    if unknown_truth * 2 > len(truth):
        out.append(f"{unknown_truth:,} of {len(truth):,} truth annotations ({unknown_truth / len(truth):.0%}) use "
                   f"terms missing from the ontology; {n_truth_genes - len(genes):,} of {n_truth_genes:,} truth genes "
                   "are left out (a truncated or wrong ontology release?)")
    if n_predicted * 2 < len(genes):
        out.append(f"only {n_predicted:,} of {len(genes):,} truth genes have predictions: the others count as "
                   "missed (a partial prediction file or different gene ids?)")
    return out
