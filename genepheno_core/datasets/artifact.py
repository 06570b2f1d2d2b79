"""The `Dataset` object and its on-disk artifact (a directory), written atomically.

Layout of `<dir>/` (row i of every gene matrix is row i of genes.tsv):

    genes.tsv                 gene_id, symbol, accession, sequence
    terms.tsv                 term_id, name, n_genes, depth         (columns of labels)
    go_terms.tsv              go_id, name, namespace, depth, n_genes (columns of go)
    splits.tsv                one column per split kind (random, homology, temporal)
    labels.indptr.npy  labels.indices.npy              CSR (n_genes, n_terms)
    term_ancestors.indptr.npy  term_ancestors.indices.npy  CSR (n_terms, n_terms)
    go.indptr.npy  go.indices.npy                      CSR (n_genes, n_go)
    manifest.json             releases, input sha256, config, drop counts, shapes

Sparse matrices are binary, so only indptr/indices are stored (data is all ones). `.npy`
files are a fixed header plus the raw array, so the same matrix always gives the same
bytes; no zip containers (np.savez stores timestamps). TSV files are written by hand with
fixed formatting for the same reason.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from genepheno_core.errors import GenePhenoError, InputFormatError, MissingDataError
from genepheno_core.io import atomic_path, genepheno_home, json_safe

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
SPLIT_PARTS = ("train", "valid", "test")
GENE_COLUMNS = ["gene_id", "symbol", "accession", "sequence"]
TERM_COLUMNS = ["term_id", "name", "n_genes", "depth"]
GO_TERM_COLUMNS = ["go_id", "name", "namespace", "depth", "n_genes"]
_MATRICES = ("labels", "term_ancestors", "go")


@dataclass
class Dataset:
    """A benchmark dataset: genes x phenotype terms, with GO inputs and splits.

    name: dataset name ("mpo", "hpo", "gwas", "hpo-temporal" or a custom one).
    genes: DataFrame[gene_id, symbol, accession, sequence]; row i = row i of every matrix.
    labels: csr_matrix (n_genes, n_terms) uint8, propagated labels (roots excluded, terms
        with >= min_genes genes only).
    terms: DataFrame[term_id, name, n_genes, depth], row j = column j of `labels`.
    term_ancestors: csr_matrix (n_terms, n_terms) uint8, [i, j] = 1 when term j is a proper
        ancestor of term i within the vocabulary.
    go: csr_matrix (n_genes, n_go) uint8, evidence-filtered GO annotations propagated to
        ancestors; an all-zero row means the gene has no (kept) GO annotation.
    go_terms: DataFrame[go_id, name, namespace, depth, n_genes], row j = column j of `go`.
    splits: DataFrame with columns random, homology (and temporal), values train/valid/test.
    manifest: JSON-ready dict (releases, input sha256, config, drop counts, label ontology).
    """

    name: str
    genes: pd.DataFrame
    labels: sp.csr_matrix
    terms: pd.DataFrame
    term_ancestors: sp.csr_matrix
    go: sp.csr_matrix
    go_terms: pd.DataFrame
    splits: pd.DataFrame
    manifest: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ convenience
    @property
    def n_genes(self) -> int:
        return len(self.genes)

    @property
    def n_terms(self) -> int:
        return len(self.terms)

    @property
    def n_go(self) -> int:
        return len(self.go_terms)

    @property
    def path(self) -> Path | None:
        """Directory the dataset was loaded from (None for an in-memory dataset)."""
        value = self.manifest.get("_path")
        return Path(value) if value else None

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, {self.n_genes} genes, {self.n_terms} terms, "
            f"{int(self.labels.nnz)} labels, {self.n_go} GO terms, splits={list(self.splits.columns)})"
        )

    def split_indices(self, part: str, column: str = "random") -> np.ndarray:
        """Row indices (sorted, int64) of the genes in `part` (train/valid/test) of `column`."""
        if column not in self.splits.columns:
            raise GenePhenoError(
                f"dataset {self.name!r} has no {column!r} split; available: {', '.join(self.splits.columns)}"
            )
        if part not in SPLIT_PARTS:
            raise GenePhenoError(f"split part must be one of {SPLIT_PARTS}, got {part!r}")
        return np.flatnonzero(self.splits[column].to_numpy() == part).astype(np.int64)

    def subset(self, rows) -> Dataset:
        """A new Dataset with only `rows` (indices or boolean mask) of the genes; the term and
        GO vocabularies are unchanged (n_genes columns are not recomputed)."""
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        return Dataset(
            name=self.name,
            genes=self.genes.iloc[rows].reset_index(drop=True),
            labels=self.labels[rows].tocsr(),
            terms=self.terms,
            term_ancestors=self.term_ancestors,
            go=self.go[rows].tocsr(),
            go_terms=self.go_terms,
            splits=self.splits.iloc[rows].reset_index(drop=True),
            manifest=dict(self.manifest),
        )

    @property
    def min_genes(self) -> int:
        """The vocabulary rule's minimum gene count (build config; 11 by default)."""
        return int((self.manifest.get("config") or {}).get("min_genes", 11))

    def split_vocabulary(self, column: str) -> np.ndarray:
        """(n_terms,) bool: the terms with >= min_genes genes among the TRAINING genes of
        split `column`. The dataset keeps every term with >= min_genes genes overall (a
        superset of every split's vocabulary); a term that reaches the count only with
        valid/test genes is chosen by the genes it is scored on, so it is neither trained
        nor scored."""
        train = self.split_indices("train", column)
        counts = np.asarray(self.labels[train].sum(axis=0)).ravel()  # (K,) training genes per term
        return counts >= self.min_genes

    def restrict_terms(self, keep) -> Dataset:
        """A new Dataset with only the term columns `keep` (bool mask or indices); genes,
        GO and splits unchanged (a gene may be left without labels)."""
        keep = np.asarray(keep)
        cols = np.flatnonzero(keep) if keep.dtype == bool else keep.astype(np.int64)
        anc = sp.csr_matrix(self.term_ancestors)
        return Dataset(
            name=self.name,
            genes=self.genes,
            labels=self.labels[:, cols].tocsr(),
            terms=self.terms.iloc[cols].reset_index(drop=True),
            # the ancestor closure restricted to kept terms is still a closure
            term_ancestors=anc[cols][:, cols].tocsr(),
            go=self.go,
            go_terms=self.go_terms,
            splits=self.splits,
            manifest=dict(self.manifest),
        )

    def for_split(self, column: str) -> Dataset:
        """This dataset with the label vocabulary of split `column` (`split_vocabulary`):
        what is trained and scored on that split. Returns self when nothing is dropped."""
        keep = self.split_vocabulary(column)
        if keep.all():
            return self
        out = self.restrict_terms(keep)
        out.manifest["vocabulary"] = {"split": column, "terms": int(keep.sum()),
                                      "terms_not_in_train": int((~keep).sum())}
        logger.info("%s, %s split: %d of %d terms have >= %d training genes; %d only reach it with "
                    "valid/test genes and are not trained or scored", self.name, column, int(keep.sum()),
                    keep.size, self.min_genes, int((~keep).sum()))
        return out

    def with_terms_of(self, term_ids, split: str = "random") -> Dataset:
        """This dataset in the label vocabulary `term_ids` (a model's terms): self when they
        are already the dataset's, else the `split` vocabulary (`for_split`) when that is
        it (models trained since the training-genes vocabulary rule), else self (so that
        the caller's compatibility check names the mismatch)."""
        term_ids = [str(t) for t in term_ids]
        if term_ids == self.terms["term_id"].astype(str).tolist() or split not in self.splits.columns:
            return self
        restricted = self.for_split(split)
        return restricted if term_ids == restricted.terms["term_id"].astype(str).tolist() else self

    def term_index(self) -> dict[str, int]:
        """{term_id: column of labels}."""
        return {t: i for i, t in enumerate(self.terms["term_id"])}

    def label_ontology(self):
        """Reload the ontology the label ids come from (registry resource in the manifest)."""
        return load_manifest_ontology(self.manifest.get("label_ontology"), "label ontology")

    def go_ontology(self):
        """Reload the Gene Ontology used for the GO matrix."""
        return load_manifest_ontology(self.manifest.get("go_ontology"), "GO ontology")

    def stats(self) -> dict:
        from genepheno_core.datasets.stats import dataset_stats

        return dataset_stats(self)

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Raise GenePhenoError when the parts do not fit together."""
        n, k, g = len(self.genes), len(self.terms), len(self.go_terms)
        problems = []
        if list(self.genes.columns[:4]) != GENE_COLUMNS:
            problems.append(f"genes columns {list(self.genes.columns)} != {GENE_COLUMNS}")
        if self.labels.shape != (n, k):
            problems.append(f"labels shape {self.labels.shape} != ({n}, {k})")
        if self.term_ancestors.shape != (k, k):
            problems.append(f"term_ancestors shape {self.term_ancestors.shape} != ({k}, {k})")
        if self.go.shape != (n, g):
            problems.append(f"go shape {self.go.shape} != ({n}, {g})")
        if len(self.splits) != n:
            problems.append(f"splits has {len(self.splits)} rows for {n} genes")
        for column in self.splits.columns:
            bad = set(self.splits[column].unique()) - set(SPLIT_PARTS)
            if bad:
                problems.append(f"split {column!r} has values {sorted(map(str, bad))}")
        if problems:
            raise GenePhenoError(f"inconsistent dataset {self.name!r}: " + "; ".join(problems))


def load_manifest_ontology(entry: dict | None, what: str = "ontology"):
    """Load the ontology a dataset manifest records (its "label_ontology" or "go_ontology"
    entry: registry source, filename, release, relations) from the mirror or cache."""
    if not entry:
        raise MissingDataError(f"the dataset manifest records no {what}")
    from genepheno_core.ontology import load_ontology
    from genepheno_core.sources.registry import resource_path

    path = resource_path(entry["source"], entry["filename"], entry.get("release"))
    return load_ontology(path, relations=tuple(entry.get("relations", ("is_a",))))


# ---------------------------------------------------------------------------- writing


def _check_cell(value: str, where: str) -> str:
    if "\t" in value or "\n" in value or "\r" in value:
        raise GenePhenoError(f"{where}: value {value!r} contains a tab or newline; cannot write TSV")
    return value


def _tsv_bytes(frame: pd.DataFrame, columns: list[str]) -> bytes:
    """Deterministic TSV: header, then one line per row, every cell str()."""
    lines = ["\t".join(columns)]
    data = {c: frame[c].tolist() for c in columns}
    for i in range(len(frame)):
        cells = []
        for c in columns:
            v = data[c][i]
            cells.append(_check_cell("" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v), c))
        lines.append("\t".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.save(handle, np.ascontiguousarray(array), allow_pickle=False)


def _save_binary_csr(directory: Path, name: str, matrix: sp.csr_matrix) -> dict:
    matrix = sp.csr_matrix(matrix)
    matrix.sum_duplicates()
    matrix.sort_indices()
    matrix.eliminate_zeros()
    if matrix.nnz and matrix.data.max() != 1:
        raise GenePhenoError(f"{name}: expected a binary matrix, found values {np.unique(matrix.data)[:5]}")
    _save_npy(directory / f"{name}.indptr.npy", matrix.indptr.astype(np.int64))
    _save_npy(directory / f"{name}.indices.npy", matrix.indices.astype(np.int32))
    return {"shape": [int(s) for s in matrix.shape], "nnz": int(matrix.nnz)}


def write_dataset_dir(ds: Dataset, directory: Path) -> None:
    """Write every file of the artifact into an existing empty `directory` (not atomic)."""
    ds.validate()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "genes.tsv").write_bytes(_tsv_bytes(ds.genes, GENE_COLUMNS))
    (directory / "terms.tsv").write_bytes(_tsv_bytes(ds.terms, TERM_COLUMNS))
    (directory / "go_terms.tsv").write_bytes(_tsv_bytes(ds.go_terms, GO_TERM_COLUMNS))
    (directory / "splits.tsv").write_bytes(_tsv_bytes(ds.splits, list(ds.splits.columns)))
    shapes = {}
    for name in _MATRICES:
        shapes[name] = _save_binary_csr(directory, name, getattr(ds, name))
    manifest = {k: v for k, v in ds.manifest.items() if not k.startswith("_")}
    manifest["name"] = ds.name
    manifest["format_version"] = FORMAT_VERSION
    manifest["matrices"] = shapes
    text = json.dumps(json_safe(manifest), indent=2, sort_keys=True) + "\n"
    (directory / "manifest.json").write_text(text, encoding="utf-8")


def save_dataset(ds: Dataset, path=None) -> Path:
    """Write `ds` as a directory at `path` (default genepheno_home()/datasets/<name>/).

    The directory is written to a temporary sibling and renamed into place only when
    complete: an interrupted save leaves the previous artifact (or nothing) behind.
    """
    target = Path(path) if path is not None else dataset_dir(ds.name)
    with atomic_path(target) as tmp:
        write_dataset_dir(ds, tmp)
    logger.info("saved dataset %s to %s", ds.name, target)
    ds.manifest["_path"] = str(target)
    return target


# ---------------------------------------------------------------------------- reading


def dataset_dir(name: str) -> Path:
    """genepheno_home()/datasets/<name>."""
    return genepheno_home() / "datasets" / name


def resolve_dataset_path(name_or_path) -> Path:
    """A directory holding manifest.json, or a dataset name under genepheno_home()/datasets."""
    candidate = Path(name_or_path)
    if (candidate / "manifest.json").is_file():
        return candidate
    named = dataset_dir(str(name_or_path))
    if "/" not in str(name_or_path) and (named / "manifest.json").is_file():
        return named
    raise MissingDataError(
        f"no dataset artifact at {name_or_path!r} (looked for {candidate / 'manifest.json'}"
        + ("" if "/" in str(name_or_path) else f" and {named / 'manifest.json'}")
        + f"); build it with `genepheno data build {candidate.name}`"
    )


def _read_tsv(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            path, sep="\t", dtype=str, keep_default_na=False, na_filter=False,
            quoting=csv.QUOTE_NONE, encoding="utf-8",
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputFormatError(path, f"cannot read TSV: {exc}") from exc
    if columns is not None and list(frame.columns) != columns:
        raise InputFormatError(path, f"expected columns {columns}, found {list(frame.columns)}", line=1)
    return frame


def _load_binary_csr(directory: Path, name: str, shape) -> sp.csr_matrix:
    indptr = np.load(directory / f"{name}.indptr.npy", allow_pickle=False)
    indices = np.load(directory / f"{name}.indices.npy", allow_pickle=False)
    data = np.ones(len(indices), dtype=np.uint8)
    try:
        return sp.csr_matrix((data, indices, indptr), shape=tuple(shape))
    except ValueError as exc:
        raise InputFormatError(directory / f"{name}.indptr.npy", f"corrupt sparse matrix: {exc}") from exc


def load_dataset(name_or_path) -> Dataset:
    """Load a dataset artifact by name (genepheno_home()/datasets/<name>) or directory path."""
    directory = resolve_dataset_path(name_or_path)
    manifest_path = directory / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputFormatError(manifest_path, f"not valid JSON: {exc}") from exc
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise GenePhenoError(
            f"{directory}: artifact format {version} is not {FORMAT_VERSION}; rebuild with "
            f"`genepheno data build {manifest.get('name', directory.name)} --force`"
        )
    shapes = manifest["matrices"]
    genes = _read_tsv(directory / "genes.tsv", GENE_COLUMNS)
    terms = _read_tsv(directory / "terms.tsv", TERM_COLUMNS)
    terms["n_genes"] = terms["n_genes"].astype(np.int64)
    terms["depth"] = terms["depth"].astype(np.int64)
    go_terms = _read_tsv(directory / "go_terms.tsv", GO_TERM_COLUMNS)
    go_terms["n_genes"] = go_terms["n_genes"].astype(np.int64)
    go_terms["depth"] = go_terms["depth"].astype(np.int64)
    splits = _read_tsv(directory / "splits.tsv")
    matrices = {name: _load_binary_csr(directory, name, shapes[name]["shape"]) for name in _MATRICES}
    manifest["_path"] = str(directory)
    return Dataset(
        name=manifest.get("name", directory.name),
        genes=genes,
        terms=terms,
        go_terms=go_terms,
        splits=splits,
        manifest=manifest,
        **matrices,
    )
