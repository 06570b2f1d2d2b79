"""Evidence quality of a GenePheno model: does what the explanations show read as biology,
is it concentrated on a few items, and does the model actually depend on it?

Every GenePheno logit is bias + named evidence items (`interpret.contributions`): one per
GO concept (W_p[k, j] a_j), per GO input term of the gene (W_g[k, t] g_t) and per phenotype
of its homologs in the other species (W_o[k, x] o_x). Four measures:

1. **Homolog-phenotype plausibility** (`homolog_plausibility`): for each phenotype k, the
   five other-species terms x with the largest W_o[k, x]; the share of them that a curated
   or lexical MP <-> HP mapping relates to k (`related_matrix`: a mapping (m, h) with h = k
   or a descendant of k, and m = x, an ancestor or a descendant of x), next to the share of
   all other-species terms that are related (what random picks score).
2. **Concentration** (`prediction_evidence` -> `concentration`): for each gene's top-20
   predictions, the share of |logit - bias| carried by the ten items with the largest
   |contribution| (their sum in the direction of logit - bias over |logit - bias|, clipped
   to [0, 1]); also their share of the total absolute evidence. Measured twice: with every
   term of the GO and homolog-phenotype ontology closures an item of its own, and with the
   items an explanation shows (`group_evidence`: each of the gene's most specific GO terms
   and homolog phenotypes, carrying an equal share of each broader term it implies).
3. **Concept correlation** (`concept_correlation`): per phenotype with >= 20 GO-annotated
   training genes, the Spearman correlation between its W_p row and the log-odds
   enrichment of each GO concept among training genes with that phenotype.
4. **Deletion check** (`deletion_check`): removing the k items with the largest
   contributions from the model's input (a GO term out of the bag, a homolog phenotype set
   to 0, a concept's activation set to 0; a grouped item takes out its most specific term
   and the broader terms no remaining item implies) and rerunning the model lowers the logit more
   than removing k items drawn at random from the same prediction's items (mean of
   `n_random` draws): faithfulness, not only exactness (removing a GO term also moves the
   concepts and the other GO terms' weights, 1/sqrt(n), through the network).

All functions compute and return data; `interpret.case_studies.interpretability_check`
and the benchmark cells (training.trainer.train_and_predict) call them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from scipy.stats import spearmanr

logger = logging.getLogger(__name__)

TOP_PREDICTIONS = 20  # each gene's top predictions examined (what a user reads first)
TOP_ITEMS = 10  # concentration: the share carried by this many items
DELETION_K = 5  # deletion check: items removed
DELETION_RANDOM = 8  # random draws the top items are compared with
PLAUSIBILITY_TOP = 5  # other-species terms examined per phenotype


# ----------------------------------------------------------------------------- 1. plausibility
def related_matrix(mappings: pd.DataFrame, target_terms, target_ontology, source_terms,
                   source_ontology) -> sp.csr_matrix:
    """(K, K') bool: target phenotype k is related to other-species term x by a mapping.

    mappings: DataFrame[mp_id, hp_id] (sources.sssom.mp_hp_mappings); the side whose prefix
    matches target_terms' is the target side. k and x are related when some mapping (m, h)
    has h in {k} + descendants(k) and m in {x} + ancestors(x) + descendants(x). Mapped terms
    missing from an ontology are matched as themselves only."""
    target_terms = [str(t) for t in target_terms]
    source_terms = [str(t) for t in source_terms]
    t_index = {t: i for i, t in enumerate(target_terms)}
    s_index = {t: i for i, t in enumerate(source_terms)}
    target_prefix = target_terms[0].split(":", 1)[0] if target_terms else "HP"
    if target_prefix == "HP":
        pairs = mappings[["hp_id", "mp_id"]].to_numpy(dtype=str)
    else:
        pairs = mappings[["mp_id", "hp_id"]].to_numpy(dtype=str)
    rows_t, cols_t, rows_s, cols_s = [], [], [], []
    for r, (h, m) in enumerate(pairs):
        # the target terms k with h in {k} + descendants(k): k in {h} + ancestors(h)
        ts = {h} | (target_ontology.ancestors(h) if h in target_ontology else set())
        ss = {m}
        if m in source_ontology:
            ss |= source_ontology.ancestors(m) | source_ontology.descendants(m)
        for t in ts:
            if t in t_index:
                rows_t.append(r)
                cols_t.append(t_index[t])
        for s in ss:
            if s in s_index:
                rows_s.append(r)
                cols_s.append(s_index[s])
    n = len(pairs)
    T = sp.csr_matrix((np.ones(len(rows_t), np.float32), (rows_t, cols_t)), shape=(n, len(target_terms)))
    S = sp.csr_matrix((np.ones(len(rows_s), np.float32), (rows_s, cols_s)), shape=(n, len(source_terms)))
    related = (T.T @ S).tocsr()  # (K, K') counts of mappings relating k and x
    related.data[:] = 1
    return related.astype(bool)


def mapping_relation(target_terms, target_ontology, source_terms, source_ontology,
                     release: str | None = None) -> sp.csr_matrix | None:
    """`related_matrix` from the registry's MP <-> HP mapping sets (sources.sssom); None when
    the two vocabularies are not one HP and one MP (no curated mappings exist) or when the
    mapping files cannot be had (logged)."""
    from genepheno_core.errors import GenePhenoError
    from genepheno_core.sources.sssom import mp_hp_mappings

    prefixes = {str(next(iter(target_terms), "")).split(":", 1)[0], str(next(iter(source_terms), "")).split(":", 1)[0]}
    if prefixes != {"HP", "MP"}:
        return None
    try:
        mappings = mp_hp_mappings(release)
    except (GenePhenoError, OSError) as exc:
        logger.warning("no MP <-> HP mappings (%s): homolog-phenotype plausibility not measured", exc)
        return None
    return related_matrix(mappings, target_terms, target_ontology, source_terms, source_ontology)


def homolog_plausibility(W_o: np.ndarray, related: sp.spmatrix, top: int = PLAUSIBILITY_TOP) -> dict:
    """Share of each phenotype's `top` largest W_o weights whose other-species term is
    related to it (`related_matrix`), over all phenotypes: {"share", "random_share" (the
    share of all (k, x) pairs that are related: what random picks score), "share_mapped"
    (the same over phenotypes with any related term), "n_terms", "n_terms_mapped", "top"}."""
    W = np.asarray(W_o, dtype=np.float64)  # (K, K')
    R = sp.csr_matrix(related, dtype=bool)
    if W.shape != R.shape:
        raise ValueError(f"W_o has shape {W.shape}, the relation {R.shape}")
    top = min(top, W.shape[1])
    best = np.argpartition(-W, top - 1, axis=1)[:, :top]  # (K, top) the largest weights, any order
    hits = np.asarray(R[np.arange(W.shape[0])[:, None], best].todense(), dtype=bool)  # (K, top)
    mapped = np.asarray(R.sum(axis=1)).ravel() > 0
    per_term = hits.mean(axis=1)
    return {
        "share": float(per_term.mean()) if per_term.size else float("nan"),
        "random_share": float(R.nnz / max(1, R.shape[0] * R.shape[1])),
        "share_mapped": float(per_term[mapped].mean()) if mapped.any() else float("nan"),
        "n_terms": int(W.shape[0]), "n_terms_mapped": int(mapped.sum()), "top": int(top),
    }


# ----------------------------------------------------------------------------- 3. concepts
def concept_enrichment(labels: sp.spmatrix, concepts: sp.spmatrix, min_genes: int = 20,
                       pseudo: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds enrichment (K, J) of each GO concept among genes with each phenotype:
    log[(a + p) / (b + p)] - log[(c + p) / (d + p)] with a = genes with term and concept,
    b = term without concept, c = concept without term, d = neither (p = pseudo-count).
    Returns (enrichment, mask of terms with >= min_genes genes)."""
    Y = sp.csc_matrix(labels, dtype=np.float64)
    C = sp.csc_matrix(concepts, dtype=np.float64)
    n = Y.shape[0]
    a = np.asarray((Y.T @ C).todense())  # (K, J)
    n_term = np.asarray(Y.sum(axis=0)).ravel()[:, None]  # (K, 1)
    n_conc = np.asarray(C.sum(axis=0)).ravel()[None, :]  # (1, J)
    b = n_term - a
    c = n_conc - a
    d = n - a - b - c
    enrich = np.log((a + pseudo) / (b + pseudo)) - np.log((c + pseudo) / (d + pseudo))
    return enrich, n_term.ravel() >= min_genes


def concept_correlation(W_p: np.ndarray, labels: sp.spmatrix, concepts: sp.spmatrix,
                        min_genes: int = 20) -> tuple[dict, pd.DataFrame]:
    """Spearman correlation between each W_p row (K, J) and the concept enrichment of that
    phenotype among the given (GO-annotated training) genes, for phenotypes with >=
    min_genes of them. Returns (summary {median_spearman, mean_spearman, fraction_positive,
    n_terms, min_genes, n_genes}, DataFrame[term, n_genes, spearman] with term = row index)."""
    W = np.asarray(W_p, dtype=np.float64)
    enrich, keep = concept_enrichment(labels, concepts, min_genes)
    counts = np.asarray(sp.csr_matrix(labels).sum(axis=0)).ravel()
    rows = []
    for k in np.flatnonzero(keep):
        if np.ptp(W[k]) == 0 or np.ptp(enrich[k]) == 0:
            continue
        rows.append((int(k), int(counts[k]), float(spearmanr(W[k], enrich[k]).statistic)))
    table = pd.DataFrame(rows, columns=["term", "n_genes", "spearman"])
    values = table["spearman"].to_numpy()
    summary = {
        "median_spearman": float(np.median(values)) if values.size else float("nan"),
        "mean_spearman": float(np.mean(values)) if values.size else float("nan"),
        "fraction_positive": float(np.mean(values > 0)) if values.size else float("nan"),
        "n_terms": int(values.size), "min_genes": int(min_genes), "n_genes": int(labels.shape[0]),
    }
    return summary, table


# ----------------------------------------------------------------------------- 2. and 4.
@dataclass
class GeneEvidence:
    """The evidence behind one gene's top predictions.

    terms (T,) phenotype columns, best first; logit, bias (T,) effective (temperature
    divided out); items (T, M) contribution of each item to each logit, with bias +
    items.sum(1) = logit; kinds (M,) "concept" / "GO term" / "homolog phenotype"; index (M,)
    the concept, GO input or other-species column of each item."""

    terms: np.ndarray
    logit: np.ndarray
    bias: np.ndarray
    items: np.ndarray
    kinds: np.ndarray
    index: np.ndarray
    # after group_evidence: (M,) the input columns (of its kind) each item stands for, the
    # item's own column first; None: every item is its own column
    covers: list[np.ndarray] | None = None


# The GO input and the homolog-phenotype input are ontology closures: a gene annotated with
# "increased tumor incidence" also carries every broader term up to "abnormal phenotype",
# and each of them is an input column with its own small contribution. Read that way, one
# curated annotation is spread over dozens of items (the "1389 other contributions" of an
# explanation). Grouped by annotation, an item is one of the gene's most specific terms
# (a term of the input no other input term lies below), and each broader term's
# contribution is split equally among the specific terms it is implied by: the Shapley
# value of each specific term when the input is the closure of the specific terms given
# (a coverage game: an implied term is present while any specific term below it is, so its
# value is shared equally by them). Sums are unchanged: bias + items still equal the logit.
GROUPED_KINDS = ("GO term", "homolog phenotype")


def annotation_groups(columns: np.ndarray, ancestors: sp.spmatrix) -> tuple[np.ndarray, sp.csr_matrix]:
    """Group a gene's input columns by its most specific terms.

    columns (M,): the input columns present for the gene; ancestors (C, C): [i, j] != 0 when
    column j is a proper ancestor of column i. Returns (leaves (L,) positions into `columns`
    of the terms no other present term lies below, share (M, L) float: the fraction of
    column m's contribution that goes to leaf l; each row sums to 1)."""
    columns = np.asarray(columns, dtype=np.int64)
    m = columns.size
    if m == 0:
        return np.zeros(0, dtype=np.int64), sp.csr_matrix((0, 0))
    # (M, M) [i, j] = 1 when present column j is a proper ancestor of present column i
    below = sp.csr_matrix(ancestors)[columns][:, columns]
    below = (below != 0).astype(np.float64).tocsr()
    below.setdiag(0)
    below.eliminate_zeros()
    is_ancestor = np.asarray(below.sum(axis=0)).ravel() > 0
    leaves = np.flatnonzero(~is_ancestor)
    # cover (M, L): column m is the leaf itself or one of its ancestors
    cover = below[leaves].T.tolil()
    for j, leaf in enumerate(leaves):
        cover[leaf, j] = 1.0
    cover = cover.tocsr()
    n = np.asarray(cover.sum(axis=1)).ravel()
    # every present column lies above some leaf (a finite DAG); guard for a cyclic ancestor table
    n[n == 0] = 1.0
    return leaves, sp.diags(1.0 / n) @ cover


def group_evidence(ev: GeneEvidence, ancestors: dict[str, sp.spmatrix | None]) -> GeneEvidence:
    """`ev` with the items of each kind in `ancestors` ("GO term" -> (G, G), "homolog
    phenotype" -> (K', K') proper-ancestor tables over that input's columns) grouped by the
    gene's most specific terms (see GROUPED_KINDS); other kinds unchanged. bias + items
    still sum to the logit."""
    blocks, kinds, index, covers = [], [], [], []
    done = np.zeros(ev.items.shape[1], dtype=bool)
    for kind in dict.fromkeys(ev.kinds.tolist()):
        pos = np.flatnonzero(ev.kinds == kind)
        done[pos] = True
        table = ancestors.get(kind) if kind in GROUPED_KINDS else None
        if table is None:
            blocks.append(ev.items[:, pos])
            kinds += [kind] * pos.size
            index += ev.index[pos].tolist()
            covers += [np.array([c]) for c in ev.index[pos]] if ev.covers is None else [ev.covers[p] for p in pos]
            continue
        cols = ev.index[pos]
        leaves, share = annotation_groups(cols, table)
        blocks.append(np.asarray(ev.items[:, pos] @ share.toarray()))  # (T, L)
        kinds += [kind] * leaves.size
        index += cols[leaves].tolist()
        share_csc = share.tocsc()
        for j, leaf in enumerate(leaves):
            members = cols[share_csc[:, j].indices]
            covers.append(np.concatenate([[cols[leaf]], members[members != cols[leaf]]]))
    return GeneEvidence(ev.terms, ev.logit, ev.bias, np.concatenate(blocks, axis=1) if blocks else ev.items,
                        np.asarray(kinds), np.asarray(index, dtype=np.int64), covers)


def _temperature(module) -> float:
    return float(getattr(module.config, "temperature", 1.0) or 1.0)


def _ortholog_block(module):
    """rows, cols -> raw W_o[rows][:, cols] (float64), the low-rank part from its factors and
    the mapped pairs from a sparse copy (forming them once: a gene's block is then cheap);
    None without the path."""
    factors = _factors(module.ortholog_head)
    mapped = None
    if getattr(module, "mapped_weight", None) is not None:
        rows, cols = module.mapped_index.numpy()
        mapped = sp.csr_matrix((module.mapped_weight.detach().double().numpy(), (rows, cols)),
                               shape=(module.config.n_terms, module.config.ortholog_dim))
    if factors is None and mapped is None:
        return None

    def block(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        out = np.zeros((len(rows), len(cols)))
        if factors is not None:
            out += factors[0][rows] @ factors[1][:, cols]
        if mapped is not None:
            out += mapped[rows][:, cols].toarray()
        return out

    return block


def _factors(head) -> tuple[np.ndarray, np.ndarray] | None:
    """(U (K, r), V (r, n)) of a low-rank path head as float64 arrays (W = U V), or None."""
    if head is None:
        return None
    return head[2].weight.detach().double().numpy(), head[0].weight.detach().double().numpy()


def prediction_evidence(module, tensors: dict[str, torch.Tensor], top: int = TOP_PREDICTIONS,
                        batch_size: int = 256) -> list[GeneEvidence]:
    """For each gene of `tensors` (the module's inputs, one row per gene): its `top`
    predictions and every evidence item's contribution to their logits."""
    from genepheno_core.models.genepheno import normalise_go_bag

    t = _temperature(module)
    W_p = module.phenotype_head.weight.detach().double().numpy() / t  # (K, J)
    b = module.phenotype_head.bias.detach().double().numpy() / t  # (K,)
    n = next(iter(tensors.values())).shape[0]
    go_uv, orth_block = _factors(module.go_term_head), _ortholog_block(module)
    out: list[GeneEvidence] = []
    module.eval()
    for start in range(0, n, batch_size):
        batch = {k: v[start:start + batch_size] for k, v in tensors.items()}
        with torch.no_grad():
            parts = module.logit_parts(**batch)
        logits = parts.phenotype_logits.double().numpy() / t  # (B, K)
        act = torch.sigmoid(parts.concept_logits).double().numpy()  # (B, J)
        go = batch.get("go_bag")
        go_norm = normalise_go_bag(go).double().numpy() if go is not None and module.go_term_head is not None else None
        orth = batch.get("ortholog")
        orth = orth.double().numpy() if orth is not None and orth_block is not None else None
        for i in range(logits.shape[0]):
            terms = np.argsort(-logits[i], kind="stable")[:top]
            blocks, kinds, index = [W_p[terms] * act[i]], ["concept"] * act.shape[1], list(range(act.shape[1]))
            if go_norm is not None:
                cols = np.flatnonzero(go_norm[i])
                if cols.size:
                    blocks.append(go_uv[0][terms] @ go_uv[1][:, cols] / t * go_norm[i, cols])
                    kinds += ["GO term"] * cols.size
                    index += cols.tolist()
            if orth is not None:
                cols = np.flatnonzero(orth[i])
                if cols.size:
                    blocks.append(orth_block(terms, cols) / t * orth[i, cols])
                    kinds += ["homolog phenotype"] * cols.size
                    index += cols.tolist()
            out.append(GeneEvidence(terms, logits[i, terms], b[terms], np.concatenate(blocks, axis=1),
                                    np.asarray(kinds), np.asarray(index, dtype=np.int64)))
    return out


def concentration(evidence: list[GeneEvidence], top_items: int = TOP_ITEMS) -> dict:
    """Share of |logit - bias| carried by the `top_items` items with the largest
    |contribution|, over every (gene, top prediction): {"share" (mean; the items' sum in the
    direction of logit - bias over |logit - bias|, clipped to [0, 1]), "abs_share" (their
    share of sum |contribution|), "share_median", "n_predictions", "top_items",
    "max_residual" (the largest |bias + sum(items) - logit|: exactness)}."""
    shares, abs_shares, residual = [], [], 0.0
    for ev in evidence:
        net = ev.items.sum(axis=1)  # (T,) = logit - bias
        residual = max(residual, float(np.max(np.abs(ev.bias + net - ev.logit))) if net.size else 0.0)
        mag = np.abs(ev.items)
        k = min(top_items, ev.items.shape[1])
        largest = np.argpartition(-mag, k - 1, axis=1)[:, :k]  # (T, k)
        top_sum = np.take_along_axis(ev.items, largest, axis=1).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(np.abs(net) > 0, np.sign(net) * top_sum / np.abs(net), 1.0)
            abs_share = np.take_along_axis(mag, largest, axis=1).sum(axis=1) / np.maximum(mag.sum(axis=1), 1e-300)
        shares.append(np.clip(share, 0.0, 1.0))
        abs_shares.append(abs_share)
    s = np.concatenate(shares) if shares else np.zeros(0)
    a = np.concatenate(abs_shares) if abs_shares else np.zeros(0)
    return {"share": float(s.mean()) if s.size else float("nan"),
            "share_median": float(np.median(s)) if s.size else float("nan"),
            "abs_share": float(a.mean()) if a.size else float("nan"),
            "n_predictions": int(s.size), "top_items": int(top_items), "max_residual": residual}


def deletion_check(module, tensors: dict[str, torch.Tensor], evidence: list[GeneEvidence],
                   k: int = DELETION_K, n_random: int = DELETION_RANDOM, seed: int = 0) -> dict:
    """Remove each prediction's k largest-contribution items (see the module docstring),
    rerun the model, and compare the logit's drop with removing k random items of the same
    prediction (mean of n_random draws). `evidence` from prediction_evidence on the same
    tensors (gene i = row i). Returns {"pass_rate" (share of predictions whose top-k drop
    exceeds the random drop), "mean_drop_top", "mean_drop_random", "n_predictions", "k",
    "n_random"}."""
    rng = np.random.default_rng(seed)
    t = _temperature(module)
    n_concepts = module.phenotype_head.weight.shape[1]
    passed, drops_top, drops_random = [], [], []
    module.eval()
    for i, ev in enumerate(evidence):
        T, M = ev.items.shape
        kk = min(k, M)
        # (T, 1 + n_random, kk) item sets: the top-k of each prediction, then random draws
        top_sets = np.argsort(-ev.items, axis=1, kind="stable")[:, :kk]
        random_sets = np.stack([np.stack([rng.choice(M, size=kk, replace=False) for _ in range(n_random)])
                                for _ in range(T)])
        sets = np.concatenate([top_sets[:, None, :], random_sets], axis=1)
        rows = T * (1 + n_random)
        flat = sets.reshape(rows, kk)
        target = np.repeat(ev.terms, 1 + n_random)  # (rows,) the phenotype of each row
        # concepts and homolog phenotypes enter the logit linearly: removing them lowers it
        # by exactly their contributions; removing a GO term moves the network (the concepts,
        # the other GO terms' 1/sqrt(n) weights), so those rows are rerun through the model
        term_row = np.repeat(np.arange(T), 1 + n_random)
        after = ev.logit[term_row] - ev.items[term_row[:, None], flat].sum(axis=1)
        # grouped evidence (group_evidence): removing a specific term removes it and the
        # broader terms no remaining specific term implies, which is not the item's share of
        # them: those rows are rerun as well
        rerun_kinds = ["GO term"] + (["homolog phenotype"] if ev.covers is not None else [])
        rerun = np.flatnonzero(np.isin(ev.kinds[flat], rerun_kinds).any(axis=1))
        if rerun.size:
            batch = {name: value[i:i + 1].expand(rerun.size, *value.shape[1:]).clone()
                     for name, value in tensors.items()}
            mask = torch.ones(rerun.size, n_concepts, dtype=module.phenotype_head.weight.dtype)  # (R, J)
            for r, row in enumerate(rerun):
                for kind, cols in _removed_columns(ev, flat[row]):
                    if kind == "concept":
                        mask[r, cols] = 0.0
                    elif kind == "GO term":
                        batch["go_bag"][r, cols] = 0.0
                    else:
                        batch["ortholog"][r, cols] = 0.0
            with torch.no_grad():
                rerun_logits = module.selected_logits(torch.as_tensor(target[rerun]), **batch, concept_mask=mask)
            after[rerun] = rerun_logits.double().numpy() / t
        after = after.reshape(T, 1 + n_random)
        drop = ev.logit[:, None] - after  # (T, 1 + n_random)
        drops_top.append(drop[:, 0])
        drops_random.append(drop[:, 1:].mean(axis=1))
        passed.append(drop[:, 0] > drop[:, 1:].mean(axis=1))
    p = np.concatenate(passed) if passed else np.zeros(0, bool)
    return {"pass_rate": float(p.mean()) if p.size else float("nan"),
            "mean_drop_top": float(np.concatenate(drops_top).mean()) if drops_top else float("nan"),
            "mean_drop_random": float(np.concatenate(drops_random).mean()) if drops_random else float("nan"),
            "n_predictions": int(p.size), "k": int(k), "n_random": int(n_random)}


def _removed_columns(ev: GeneEvidence, items: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """[(kind, input columns)] that removing `items` of `ev` takes out of the input: each
    item's own column, and with grouped evidence the broader columns it covers that no item
    left in place covers."""
    out = []
    for kind in dict.fromkeys(ev.kinds[items].tolist()):
        chosen = items[ev.kinds[items] == kind]
        if ev.covers is None:
            out.append((kind, ev.index[chosen].astype(np.int64)))
            continue
        removed = np.unique(np.concatenate([ev.covers[j] for j in chosen]))
        kept = [ev.covers[j] for j in np.setdiff1d(np.flatnonzero(ev.kinds == kind), chosen)]
        if kept:
            removed = np.setdiff1d(removed, np.concatenate(kept))
        out.append((kind, removed.astype(np.int64)))
    return out


def evidence_quality(module, tensors: dict[str, torch.Tensor], *, related: sp.spmatrix | None = None,
                     train_labels: sp.spmatrix | None = None, train_concepts: sp.spmatrix | None = None,
                     ancestors: dict[str, sp.spmatrix | None] | None = None,
                     min_genes: int = 20, max_deletion_genes: int | None = 200, seed: int = 0) -> dict:
    """The four measures for a GenePheno module on the genes of `tensors` (e.g. the test
    genes): {"plausibility" (None without W_o or `related`), "concentration" (items = input
    columns, every ontology term of the GO and homolog-phenotype closures its own item),
    "concentration_grouped" (with `ancestors`, see group_evidence: items = the gene's most
    specific GO terms and homolog phenotypes, what an explanation shows; else None),
    "concepts" (None without training labels and concepts), "deletion" (on the items of
    "concentration_grouped" when given, with "grouped" saying so; on the first
    `max_deletion_genes` genes of a fixed shuffle: it reruns the model 180 times a gene)}."""
    evidence = prediction_evidence(module, tensors)
    out: dict = {"concentration": concentration(evidence), "concentration_grouped": None,
                 "plausibility": None, "concepts": None}
    if ancestors and any(ancestors.get(kind) is not None for kind in GROUPED_KINDS):
        evidence = [group_evidence(ev, ancestors) for ev in evidence]
        out["concentration_grouped"] = concentration(evidence)
    if related is not None and module.ortholog_weight() is not None:
        W_o = module.ortholog_weight().numpy() / _temperature(module)  # (K, K')
        out["plausibility"] = homolog_plausibility(W_o, related)
    if train_labels is not None and train_concepts is not None:
        W_p = module.phenotype_head.weight.detach().double().numpy() / _temperature(module)
        out["concepts"], _ = concept_correlation(W_p, train_labels, train_concepts, min_genes)
    rows = np.arange(len(evidence))
    if max_deletion_genes is not None and rows.size > max_deletion_genes:
        rows = np.sort(np.random.default_rng(seed).permutation(rows.size)[:max_deletion_genes])
    idx = torch.as_tensor(rows)
    out["deletion"] = deletion_check(module, {k: v[idx] for k, v in tensors.items()},
                                     [evidence[r] for r in rows], seed=seed)
    out["deletion"]["grouped"] = out["concentration_grouped"] is not None
    return out
