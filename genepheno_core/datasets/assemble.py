"""Pure building blocks of a dataset build: label propagation and filtering, protein
mapping, GO matrices. No file reading here (see builders.py); everything takes data frames,
dicts and Ontology objects so it can be tested on tiny hand-made inputs.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------- labels


def propagate_labels(
    annotations: Mapping[str, Iterable[str]],
    ontology,
    subtree: str | None = None,
    exclude: Iterable[str] = (),
) -> tuple[dict[str, set[str]], dict]:
    """Remap (alt_id / replaced_by) and propagate each gene's terms to all ancestors.

    subtree: keep only proper descendants of this term (e.g. HP:0000118 Phenotypic
        abnormality; the term itself is a root of the label space and excluded).
    exclude: terms never used as labels (ontology roots).
    Returns ({gene: set of label terms}, report). Genes left without any term are kept with
    an empty set; the caller counts and drops them. The report holds the RemapReport
    summary and how many (gene, term) annotations fell outside the subtree.
    """
    propagated, remap = ontology.propagate(annotations)
    excluded = set(exclude)
    allowed = ontology.descendants(subtree) if subtree else None
    outside = 0
    if allowed is not None:
        excluded.add(subtree)
        for gene, terms in annotations.items():
            for term in set(terms):
                current = ontology.remap(term)
                if current is not None and current not in allowed:
                    outside += 1
    out: dict[str, set[str]] = {}
    for gene, terms in propagated.items():
        kept = terms if allowed is None else terms & allowed
        out[gene] = kept - excluded
    report = {"remap": remap.as_dict(), "annotations_outside_subtree": outside}
    return out, report


def select_terms(gene_terms: Mapping[str, Iterable[str]], min_genes: int) -> tuple[list[str], Counter]:
    """Terms annotated to >= min_genes genes (sorted ids), and the count of every term."""
    counts: Counter = Counter()
    for terms in gene_terms.values():
        counts.update(set(terms))
    return sorted(t for t, n in counts.items() if n >= min_genes), counts


def binary_matrix(rows: Sequence[Iterable[str]], vocabulary: Sequence[str]) -> sp.csr_matrix:
    """csr_matrix (len(rows), len(vocabulary)) uint8 with 1 where row i holds term j;
    terms not in the vocabulary are ignored. Column indices sorted in every row."""
    index = {t: j for j, t in enumerate(vocabulary)}
    indptr = [0]
    indices: list[int] = []
    for terms in rows:
        cols = sorted({index[t] for t in terms if t in index})
        indices.extend(cols)
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.uint8)
    return sp.csr_matrix(
        (data, np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
        shape=(len(rows), len(vocabulary)),
    )


def ancestor_matrix(vocabulary: Sequence[str], ontology=None) -> sp.csr_matrix:
    """(n_terms, n_terms) uint8: [i, j] = 1 when vocabulary[j] is a proper ancestor of
    vocabulary[i] in `ontology` (all zero without an ontology: flat labels)."""
    if ontology is None:
        return sp.csr_matrix((len(vocabulary), len(vocabulary)), dtype=np.uint8)
    return binary_matrix([ontology.ancestors(t) for t in vocabulary], vocabulary)


def term_table(vocabulary: Sequence[str], counts: Mapping[str, int], ontology=None, names=None) -> pd.DataFrame:
    """DataFrame[term_id, name, n_genes, depth] for the vocabulary (depth -1 if unknown)."""
    names = names or {}
    rows = []
    for term in vocabulary:
        name = names.get(term)
        depth = -1
        if ontology is not None and term in ontology:
            name = name or ontology.name(term)
            depth = ontology.depth(term)
        rows.append((term, name or "", int(counts.get(term, 0)), int(depth)))
    frame = pd.DataFrame(rows, columns=["term_id", "name", "n_genes", "depth"])
    return frame.astype({"n_genes": np.int64, "depth": np.int64})


# ---------------------------------------------------------------------------- proteins


def symbol_index(gaf: pd.DataFrame, accessions_with_sequence: set[str]) -> dict[str, str]:
    """{GAF symbol: accession} over accessions that have a sequence.

    A symbol with several accessions keeps the one with the most GAF lines (ties: the
    smallest accession), so the choice is deterministic.
    """
    frame = gaf.loc[gaf["accession"].isin(accessions_with_sequence), ["symbol", "accession"]]
    counts = frame.groupby(["symbol", "accession"], sort=True).size().reset_index(name="n")
    counts = counts.sort_values(["symbol", "n", "accession"], ascending=[True, False, True], kind="stable")
    best = counts.drop_duplicates("symbol", keep="first")
    return dict(zip(best["symbol"].astype(str), best["accession"].astype(str)))


def synonym_index(gaf: pd.DataFrame, accessions_with_sequence: set[str]) -> dict[str, str]:
    """{synonym: accession} from GAF column 11 (pipe-separated), only unambiguous synonyms."""
    frame = gaf.loc[gaf["accession"].isin(accessions_with_sequence), ["synonyms", "accession"]].drop_duplicates()
    seen: dict[str, set[str]] = {}
    for synonyms, accession in zip(frame["synonyms"].astype(str), frame["accession"].astype(str)):
        for syn in synonyms.split("|"):
            syn = syn.strip()
            if syn:
                seen.setdefault(syn, set()).add(accession)
    return {s: next(iter(a)) for s, a in seen.items() if len(a) == 1}


def map_genes_to_proteins(
    genes: pd.DataFrame,
    lookups: Sequence[tuple[str, str, Mapping[str, str]]],
    sequences: Mapping[str, str],
) -> tuple[pd.DataFrame, dict]:
    """Give each gene an accession with a sequence, trying `lookups` in order.

    genes: DataFrame with gene_id, symbol and whatever key columns the lookups use.
    lookups: (method name, gene column, {key: accession}); the first hit wins.
    sequences: {accession: sequence}.
    Returns (DataFrame[gene_id, symbol, accession, sequence, method] of mapped genes, sorted
    by gene_id, one gene per accession) and counts {"by_method": ..., "unmapped": n,
    "duplicate_accession": n, "duplicates": {dropped gene_id: gene_id that kept the
    accession}}. When two genes reach the same accession the one found by the earlier
    lookup (then the smaller gene_id) keeps it.
    """
    accession = pd.Series([""] * len(genes), index=genes.index, dtype=object)
    method = pd.Series([""] * len(genes), index=genes.index, dtype=object)
    rank = pd.Series([len(lookups)] * len(genes), index=genes.index)
    for r, (name, column, table) in enumerate(lookups):
        todo = accession == ""
        if not todo.any():
            break
        keys = genes.loc[todo, column].astype(str)
        hits = keys.map(lambda k: table.get(k, "") if k else "")
        hits = hits[hits.map(lambda a: a in sequences)]
        accession.loc[hits.index] = hits
        method.loc[hits.index] = name
        rank.loc[hits.index] = r
    mapped = genes.assign(accession=accession, method=method, _rank=rank)
    unmapped = int((mapped["accession"] == "").sum())
    mapped = mapped[mapped["accession"] != ""]
    mapped = mapped.sort_values(["_rank", "gene_id"], kind="stable")
    first = mapped.drop_duplicates("accession", keep="first")
    keeper = dict(zip(first["accession"], first["gene_id"]))
    dup_rows = mapped[~mapped.index.isin(first.index)]
    duplicates = {g: keeper[a] for g, a in zip(dup_rows["gene_id"], dup_rows["accession"])}
    duplicate = len(duplicates)
    mapped = first
    mapped = mapped.sort_values("gene_id", kind="stable").reset_index(drop=True)
    mapped["sequence"] = mapped["accession"].map(sequences)
    counts = {
        "by_method": {k: int(v) for k, v in sorted(Counter(mapped["method"]).items())},
        "unmapped": unmapped,
        "duplicate_accession": int(duplicate),
        "duplicates": duplicates,
    }
    return mapped[["gene_id", "symbol", "accession", "sequence", "method"]], counts


# ---------------------------------------------------------------------------- GO


def go_annotations(gaf: pd.DataFrame, evidence_codes: Iterable[str]) -> tuple[dict[str, set[str]], dict]:
    """{accession: set of GO ids} after the evidence filter; NOT-qualified lines excluded."""
    codes = set(evidence_codes)
    negated = gaf["negated"].astype(bool)
    in_codes = gaf["evidence"].isin(codes)
    kept = gaf.loc[in_codes & ~negated, ["accession", "go_id"]]
    out: dict[str, set[str]] = {}
    for accession, go_id in zip(kept["accession"].astype(str), kept["go_id"].astype(str)):
        out.setdefault(accession, set()).add(go_id)
    report = {
        "lines": int(len(gaf)),
        "kept": int(len(kept)),
        "not_qualified": int(negated.sum()),
        "other_evidence": int((~in_codes & ~negated).sum()),
    }
    return out, report


def go_matrix(
    accessions: Sequence[str],
    annotations: Mapping[str, Iterable[str]],
    go_ontology,
) -> tuple[sp.csr_matrix, pd.DataFrame, dict]:
    """(csr (n_genes, n_go) uint8, DataFrame[go_id, name, namespace, depth, n_genes], report).

    Each gene's GO terms are remapped and propagated over the ontology's relations; the
    columns are every GO term reached by at least one gene (sorted ids).
    """
    subset = {a: annotations.get(a, ()) for a in accessions}
    propagated, remap = go_ontology.propagate(subset)
    rows = [propagated[a] for a in accessions]
    vocabulary, counts = select_terms(dict(zip(accessions, rows)), 1)
    matrix = binary_matrix(rows, vocabulary)
    table = pd.DataFrame(
        {
            "go_id": vocabulary,
            "name": [go_ontology.name(t) for t in vocabulary],
            "namespace": [go_ontology.namespace(t) or "" for t in vocabulary],
            "depth": np.array([go_ontology.depth(t) for t in vocabulary], dtype=np.int64),
            "n_genes": np.array([counts[t] for t in vocabulary], dtype=np.int64),
        }
    )
    n_with = int((np.diff(matrix.indptr) > 0).sum())
    return matrix, table, {"remap": remap.as_dict(), "genes_with_go": n_with, "genes_without_go": len(rows) - n_with}
