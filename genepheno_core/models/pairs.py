"""Mutually exclusive phenotype pairs for the exclusivity loss.

Three rules, each reported per pair:
- ``antonym``: sibling terms (sharing a parent) whose names or synonyms become identical
  when one antonym pattern is swapped (increased/decreased, hyper/hypo, macro/micro, ...).
- ``co-annotation`` (optional): sibling terms that are both frequent among training genes
  but never annotated to the same training gene, although chance alone would predict
  several shared genes.
- ``user``: pairs listed in a user TSV (two term ids per line; `#` comments allowed).

Labels are gene-level: one gene's patients (or mice) can show both members of an antonym
pair (hypotonia in infancy, hypertonia later: 636 of 899 hpo training genes with hypertonia
also have hypotonia). An exclusivity penalty on such pairs fights the labels, so when
training labels are given, antonym pairs whose training overlap
|both| / min(|a|, |b|) exceeds `max_overlap` are dropped (user pairs are always kept).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from genepheno_core.errors import InputFormatError

logger = logging.getLogger(__name__)

# (pattern a, pattern b): regexes matched at a word start. Prefix patterns (hyper, macro...)
# match inside compound words ("hyperglycemia"); whole-word ones end with \b.
ANTONYMS: tuple[tuple[str, str], ...] = (
    (r"increased\b", r"decreased\b"),
    (r"increased\b", r"reduced\b"),
    (r"elevated\b", r"decreased\b"),
    (r"elevated\b", r"reduced\b"),
    (r"high\b", r"low\b"),
    (r"higher\b", r"lower\b"),
    (r"hyper", r"hypo"),
    (r"macro", r"micro"),
    (r"megalo", r"micro"),
    (r"long\b", r"short\b"),
    (r"tall\b", r"short\b"),
    (r"large\b", r"small\b"),
    (r"enlarged\b", r"small\b"),
    (r"big\b", r"small\b"),
    (r"thick\b", r"thin\b"),
    (r"wide\b", r"narrow\b"),
    (r"broad\b", r"narrow\b"),
    (r"absent\b", r"extra\b"),
    (r"absent\b", r"supernumerary\b"),
    (r"upslanted\b", r"downslanted\b"),
    (r"brachy", r"dolicho"),
    (r"early\b", r"late\b"),
    (r"premature\b", r"delayed\b"),
    (r"advanced\b", r"delayed\b"),
    (r"accelerated\b", r"delayed\b"),
    (r"overgrowth\b", r"undergrowth\b"),
)
# an occurrence followed by one of these is anatomy or microscopy, not a size/direction
# ("small intestine", "microscopic hematuria")
_NOT_ANTONYM_AFTER = (" intestin", " bowel", "scop")
_COMPILED = [(re.compile(r"\b" + a), re.compile(r"\b" + b)) for a, b in ANTONYMS]
_WORD_A = [re.match(r"[a-z]+", a).group(0) for a, _ in ANTONYMS]  # label: the bare word
_WORD_B = [re.match(r"[a-z]+", b).group(0) for _, b in ANTONYMS]

COLUMNS = ["term_a", "name_a", "term_b", "name_b", "rule", "overlap", "index_a", "index_b"]


def _antonym_keys(text: str) -> list[tuple[str, int, int]]:
    """Keys (name with one antonym occurrence replaced by a slot, pattern index, side)."""
    text = " ".join(text.lower().split())
    keys = []
    for k, patterns in enumerate(_COMPILED):
        for side, pattern in enumerate(patterns):
            for match in pattern.finditer(text):
                if text.startswith(_NOT_ANTONYM_AFTER, match.end()):
                    continue
                key = text[: match.start()] + f"\x00{k}\x00" + text[match.end():]
                keys.append((key, k, side))
    return keys


def _name_map(ontology) -> dict[str, str]:
    mapping = getattr(ontology, "names", None) or {}
    return dict(mapping)  # Ontology.names builds a new dict on every access: take it once


def _safe_names(ontology, term: str, mapping: dict[str, str]) -> list[str]:
    names = []
    name = mapping.get(term)
    if name:
        names.append(str(name))
    try:
        names.extend(str(s) for s in (ontology.synonyms(term) or []))
    except (KeyError, AttributeError):
        pass
    return names


def _safe_parents(ontology, term: str) -> set[str]:
    try:
        return set(ontology.parents(term) or [])
    except (KeyError, AttributeError):
        return set()


def antonym_pairs(terms: Sequence[str], ontology) -> dict[tuple[int, int], str]:
    """Sibling pairs whose names/synonyms differ by one antonym pattern -> rule label."""
    index = {t: i for i, t in enumerate(terms)}
    parents = {t: _safe_parents(ontology, t) for t in terms}
    buckets: dict[str, list[tuple[int, int, int]]] = defaultdict(list)  # key -> (term idx, k, side)
    mapping = _name_map(ontology)
    for t in terms:
        for text in _safe_names(ontology, t, mapping):
            for key, k, side in _antonym_keys(text):
                buckets[key].append((index[t], k, side))
    found: dict[tuple[int, int], str] = {}
    for entries in buckets.values():
        sides = {0: set(), 1: set()}
        for i, k, side in entries:
            sides[side].add((i, k))
        for i, k in sides[0]:
            for j, k2 in sides[1]:
                if i == j or k != k2:
                    continue
                if not parents[terms[i]] & parents[terms[j]]:
                    continue  # not siblings
                pair = (min(i, j), max(i, j))
                found.setdefault(pair, f"antonym:{_WORD_A[k]}/{_WORD_B[k]}")
    return found


def co_annotation_pairs(
    terms: Sequence[str],
    ontology,
    train_labels: sp.spmatrix | np.ndarray,
    min_genes: int = 30,
    min_expected: float = 3.0,
) -> dict[tuple[int, int], str]:
    """Sibling pairs, both with >= min_genes training genes, never co-annotated in training,
    whose expected number of shared genes under independence is >= min_expected."""
    Y = sp.csr_matrix(train_labels, dtype=np.float64)
    n_genes = Y.shape[0]
    counts = np.asarray(Y.sum(axis=0)).ravel()
    frequent = np.flatnonzero(counts >= min_genes)
    if n_genes == 0 or frequent.size < 2:
        return {}
    children: dict[str, list[int]] = defaultdict(list)
    for i in frequent:
        for parent in _safe_parents(ontology, terms[i]):
            children[parent].append(int(i))
    co = (Y[:, frequent].T @ Y[:, frequent]).toarray()  # (F, F) shared-gene counts
    pos = {int(i): p for p, i in enumerate(frequent)}
    found = {}
    for siblings in children.values():
        for a_i, a in enumerate(siblings):
            for b in siblings[a_i + 1:]:
                if co[pos[a], pos[b]] > 0:
                    continue
                if counts[a] * counts[b] / n_genes < min_expected:
                    continue
                found[(min(a, b), max(a, b))] = "co-annotation"
    return found


def read_user_pairs(path: str | Path, terms: Sequence[str]) -> dict[tuple[int, int], str]:
    """Pairs from a TSV of two term ids per line; a header line `term_a term_b` is allowed.
    Terms outside the label vocabulary are skipped with a warning."""
    path = Path(path)
    index = {t: i for i, t in enumerate(terms)}
    found, skipped = {}, 0
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputFormatError(path, f"cannot read pairs file: {exc}") from exc
    for line_no, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) < 2:
            raise InputFormatError(path, "expected two term ids separated by a tab", line=line_no)
        a, b = fields[0].strip(), fields[1].strip()
        if line_no == 1 and a.lower() in {"term_a", "term", "a"}:
            continue  # header
        if ":" not in a or ":" not in b:
            raise InputFormatError(path, f"not ontology term ids: {a!r}, {b!r}", line=line_no)
        if a == b:
            raise InputFormatError(path, f"a term cannot exclude itself: {a}", line=line_no)
        if a not in index or b not in index:
            skipped += 1
            continue
        i, j = index[a], index[b]
        found[(min(i, j), max(i, j))] = "user"
    if skipped:
        logger.warning("%s: %d pairs skipped (terms not in the label vocabulary)", path, skipped)
    return found


def find_exclusive_pairs(
    terms: Sequence[str],
    ontology,
    train_labels=None,
    co_annotation: bool = False,
    user_tsv: str | Path | None = None,
    min_genes: int = 30,
    min_expected: float = 3.0,
    max_overlap: float | None = None,
) -> pd.DataFrame:
    """All exclusive pairs over `terms` (the label vocabulary, column order of the labels).

    Returns a DataFrame with COLUMNS; `rule` lists every rule that found the pair
    (comma-separated); `overlap` is |both| / min(|a|, |b|) over `train_labels` (NaN without
    labels); index_a < index_b are column indices into `terms`. With `max_overlap` and
    `train_labels`, pairs found only by automatic rules and overlapping more are dropped.
    """
    terms = list(terms)
    rules: dict[tuple[int, int], list[str]] = defaultdict(list)
    sources: list[dict] = []
    if ontology is not None:
        sources.append(antonym_pairs(terms, ontology))
        if co_annotation:
            if train_labels is None:
                raise ValueError("co_annotation=True needs train_labels")
            sources.append(co_annotation_pairs(terms, ontology, train_labels, min_genes, min_expected))
    if user_tsv is not None:
        sources.append(read_user_pairs(user_tsv, terms))
    for found in sources:
        for pair, rule in found.items():
            rules[pair].append(rule)
    names = _name_map(ontology) if ontology is not None else {}
    overlap = _overlaps(sorted(rules), train_labels)
    rows, dropped = [], 0
    for (i, j), rule_list in sorted(rules.items()):
        ov = overlap.get((i, j), float("nan"))
        if max_overlap is not None and ov > max_overlap and "user" not in rule_list:
            dropped += 1
            continue
        rows.append({
            "term_a": terms[i], "name_a": names.get(terms[i], ""),
            "term_b": terms[j], "name_b": names.get(terms[j], ""),
            "rule": ",".join(rule_list), "overlap": ov, "index_a": i, "index_b": j,
        })
    if dropped:
        logger.info("%d automatic pairs dropped: co-annotated in training (overlap > %s)", dropped, max_overlap)
    return pd.DataFrame(rows, columns=COLUMNS)


def _overlaps(pairs: list[tuple[int, int]], train_labels) -> dict[tuple[int, int], float]:
    """|genes with both| / min(|genes with a|, |genes with b|) over the training labels."""
    if train_labels is None or not pairs:
        return {}
    Y = sp.csc_matrix(train_labels, dtype=np.float64)
    counts = np.asarray(Y.sum(axis=0)).ravel()
    out = {}
    for i, j in pairs:
        both = Y[:, i].multiply(Y[:, j]).sum()
        smaller = min(counts[i], counts[j])
        out[(i, j)] = float(both / smaller) if smaller > 0 else 0.0
    return out


def dataset_pairs(
    dataset,
    split: str = "random",
    co_annotation: bool = False,
    user_tsv: str | Path | None = None,
    ontology=None,
    max_overlap: float | None = 0.1,
) -> pd.DataFrame:
    """Exclusive pairs of a Dataset; the training genes of `split` give the co-annotation
    rule and the overlap filter (see the module docstring)."""
    if ontology is None:
        ontology = dataset.label_ontology()
    mask = (dataset.splits[split] == "train").to_numpy()
    train_labels = dataset.labels[np.flatnonzero(mask)]
    return find_exclusive_pairs(
        dataset.terms["term_id"].tolist(), ontology, train_labels, co_annotation, user_tsv,
        max_overlap=max_overlap,
    )


def pairs_tensor(pairs: pd.DataFrame | Iterable[tuple[int, int]]):
    """(P, 2) long tensor of column indices for `exclusivity_loss`."""
    import torch

    if isinstance(pairs, pd.DataFrame):
        data = pairs[["index_a", "index_b"]].to_numpy(dtype=np.int64)
    else:
        data = np.asarray(list(pairs), dtype=np.int64).reshape(-1, 2)
    return torch.as_tensor(data.copy(), dtype=torch.long)
