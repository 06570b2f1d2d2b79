"""Exact contributions: why the model predicts a phenotype for one gene.

The phenotype logit is linear in three kinds of readable evidence:

    s_k = b_k + sum_j W_p[k, j] a_j            a = sigmoid(c): GO concept activations
              + sum_t W_g[k, t] g_t             g: the gene's GO input terms (multi-hot / sqrt(n))
              + sum_x W_o[k, x] o_x             o: phenotypes x of its homologs in the other species

so each term of each sum is one contribution, and bias + all contributions = s_k exactly
(up to float32 rounding of the forward pass). The GO term and ortholog sums are absent for
models without those paths. W_p, W_g, W_o and b are the model's effective weights
(TrainedModel.W_p / .W_g / .W_o / .bias, training temperature divided out), so s_k is the
logit of the reported probability sigmoid(s_k).
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from genepheno_core.errors import GenePhenoError, InputFormatError, ModelMismatchError, UnknownGeneError
from genepheno_core.interpret.inference import parse_records, prepare_inputs, read_go_annotations, term_index
from genepheno_core.interpret.model_store import choose_model, model_extras, model_label, resolve_model
from genepheno_core.models.go_neighbours import BASIS, similarity_text
from genepheno_core.models.trained import batched_outputs, temperature

logger = logging.getLogger(__name__)


@dataclass
class Explanation:
    """Concept-level explanation of one gene's predictions.

    activations: DataFrame[concept_id, concept_name, namespace, activation,
        baseline_activation, annotated] (one row per bottleneck concept; activation =
        sigmoid(c_j); baseline_activation = the average protein's; annotated = the concept
        is among the GO annotations given for the gene, propagated; False without GO).
    contributions: DataFrame (index concept_id, one column per explained term_id) of
        W_p[k, j] * activation_j.
    go_term_contributions: DataFrame (index go_id of the gene's GO input terms, one column
        per explained term_id) of W_g[k, t] * g_t; no rows without GO or without the path.
    ortholog_contributions: DataFrame (index term id of the other species' ontology, one
        column per explained term_id) of W_o[k, x] * o_x; no rows without homologs there.
    bias, logit, score: {term_id: b_k}, {term_id: s_k}, {term_id: sigmoid(s_k)} (unpropagated).
    terms: DataFrame[term_id, term_name, logit, bias, score, propagated_score, rank].
    go_annotations: the GO ids behind the prediction: those used, propagated, with the
        concepts they imply. go_given: the GO ids given for the gene (as given);
        go_unknown: those of them the model does not know (ignored); the others were used.
    """

    gene: str
    sequence: str
    activations: pd.DataFrame
    contributions: pd.DataFrame
    bias: dict
    logit: dict
    score: dict
    terms: pd.DataFrame
    go_annotations: list[str] = field(default_factory=list)
    threshold: float = 0.5
    go_term_contributions: pd.DataFrame = field(default_factory=pd.DataFrame)
    ortholog_contributions: pd.DataFrame = field(default_factory=pd.DataFrame)
    evidence_names: dict = field(default_factory=dict)  # GO / other-species term id -> name
    ortholog_dataset: str = ""  # the other species' dataset (mpo, hpo) of the ortholog evidence
    go_given: list[str] = field(default_factory=list)
    go_unknown: list[str] = field(default_factory=list)
    # where the GO input came from: "given", "transferred" (from sequence homologs: models
    # trained on transferred GO, for a gene given none), "no homolog" or "none"
    go_origin: str = "none"
    # the homologs transferred GO came from: DataFrame[target, species, identity, bitscore,
    # weight, go_ids] best first; go_sources: GO input id -> the homologs carrying it, as text
    go_transfer: pd.DataFrame = field(default_factory=pd.DataFrame)
    go_sources: dict = field(default_factory=dict)
    # the gene's GO input terms and homolog phenotypes grouped by its most specific terms
    # (evaluation.evidence.group_evidence): {specific term id: [it, then the broader input
    # terms it implies]}; empty when the model stores no ontology structure for that input
    go_term_groups: dict = field(default_factory=dict)
    ortholog_groups: dict = field(default_factory=dict)
    # {(explained term id, other-species term id)} backed by a curated / lexical MP <-> HP
    # mapping (the term or a descendant mapped to the other term, an ancestor or a
    # descendant); None when the model stores no mapping relation
    mapping_backed: set | None = None
    # functional neighbours (models whose validation chose them, models.go_neighbours): each
    # neighbour gene's share of logit(p) - z, index neighbour gene id, one column per explained
    # term; `neighbours` DataFrame[gene_id, symbol, accession, similarity, share];
    # `neighbour_has` bool (gene id x term): it has the phenotype; `neighbour_alpha` the
    # vote's weight (0: the model has none)
    neighbour_contributions: pd.DataFrame = field(default_factory=pd.DataFrame)
    neighbours: pd.DataFrame = field(default_factory=pd.DataFrame)
    neighbour_has: pd.DataFrame = field(default_factory=pd.DataFrame)
    neighbour_alpha: float = 0.0
    # what made them neighbours (models.go_neighbours.SIMILARITIES; "" without neighbours)
    neighbour_similarity: str = ""
    # the model that made the explanation (a shipped model's name, else its directory): a
    # protein without GO is explained by "<name>-go-transfer" when shipped (choose_model)
    model: str = ""

    @property
    def neighbour_basis(self) -> str:
        """What the functional neighbours share with the protein, in words ("similar GO", ...)."""
        return BASIS.get(self.neighbour_similarity, "")

    @property
    def go_used(self) -> list[str]:
        """The given GO ids the model knows (the ones that went into the prediction)."""
        unknown = set(self.go_unknown)
        return [g for g in self.go_given if g not in unknown]

    def evidence_table(self, term: str | None = None, top: int | None = None, grouped: bool = True) -> pd.DataFrame:
        """Long table [term_id, source, id, name, contribution, detail, implies] of every
        contribution to the logit (source: "concept", "GO term", "ortholog phenotype" or
        "functional neighbour": a training gene with similar GO and / or homolog phenotypes),
        sorted by |contribution| within each term (optionally top n per term). Summed with
        the bias it gives the logit exactly.

        grouped: GO terms and homolog phenotypes are the gene's most specific terms, each
        carrying its share of the broader terms it implies (`go_term_groups`,
        `ortholog_groups`; implies: their ids); grouped=False: one row per input term of the
        ontology closure. detail: for a GO term transferred from homologs, the homologs
        that carry it (accession, species, identity, weight); for a homolog phenotype,
        whether a curated MP-HP mapping relates it to the phenotype (models that store the
        relation, `mapping_backed`); then how many broader terms it carries; else ""."""
        cols = [term] if term is not None else list(self.contributions.columns)
        names = dict(zip(self.activations["concept_id"], self.activations["concept_name"]))
        parts = []
        for t in cols:
            if t not in self.contributions:
                raise KeyError(f"{t} was not explained (explained: {', '.join(self.contributions.columns)})")
            frames = []
            for source, frame, lookup, groups in (
                    ("concept", self.contributions, names, {}),
                    ("GO term", self.go_term_contributions, self.evidence_names, self.go_term_groups),
                    ("ortholog phenotype", self.ortholog_contributions, self.evidence_names, self.ortholog_groups),
                    ("functional neighbour", self.neighbour_contributions, self._neighbour_names(), {})):
                if frame is None or frame.empty or t not in frame:
                    continue
                values = frame[t]
                implies = {i: [] for i in values.index}
                if grouped and groups:
                    values, implies = _grouped_values(values, groups)
                frames.append(pd.DataFrame({"term_id": t, "source": source, "id": values.index.astype(str),
                                            "name": [lookup.get(i, "") for i in values.index],
                                            "contribution": values.to_numpy(dtype=np.float64),
                                            "detail": [_join(self._detail(source, t, i), _implied_text(implies[i]))
                                                       for i in values.index],
                                            "implies": [list(implies[i]) for i in values.index]}))
            both = pd.concat(frames, ignore_index=True)
            both = both.iloc[np.argsort(-np.abs(both["contribution"].to_numpy()), kind="stable")]
            parts.append(both.head(top) if top else both)
        return pd.concat(parts, ignore_index=True)

    def _neighbour_names(self) -> dict:
        if self.neighbours is None or self.neighbours.empty:
            return {}
        symbols = self.neighbours["symbol"].fillna("") if "symbol" in self.neighbours else ""
        symbols = pd.Series(symbols, index=self.neighbours.index).astype(str)
        return dict(zip(self.neighbours["gene_id"].astype(str), symbols))

    def _detail(self, source: str, term: str, item: str) -> str:
        if source == "functional neighbour":
            row = self.neighbours.set_index(self.neighbours["gene_id"].astype(str)).loc[item]
            has = bool(self.neighbour_has.at[item, term]) if term in self.neighbour_has else False
            return (f"{similarity_text(row)}, {row['share']:.0%} of the vote; "
                    + ("has this phenotype" if has else "does not have this phenotype"))
        if source == "GO term":
            return self.go_sources.get(item, "")
        if source == "ortholog phenotype" and self.mapping_backed is not None:
            return ("a curated MP-HP mapping relates it to this phenotype" if (term, item) in self.mapping_backed
                    else "no curated MP-HP mapping relates it to this phenotype")
        return ""

    def source_totals(self, term: str) -> dict:
        """{source: summed contribution} for one term (concept, GO term, ortholog phenotype,
        functional neighbour); with the bias they sum to the logit."""
        out = {"concept": float(self.contributions[term].sum())}
        for source, frame in (("GO term", self.go_term_contributions), ("ortholog phenotype", self.ortholog_contributions),
                              ("functional neighbour", self.neighbour_contributions)):
            out[source] = float(frame[term].sum()) if frame is not None and not frame.empty and term in frame else 0.0
        return out

    def contribution_table(self, term: str | None = None, top: int | None = None) -> pd.DataFrame:
        """Long table [term_id, concept_id, concept_name, namespace, weight, activation,
        contribution, relative_contribution] sorted by |contribution| within each term
        (optionally top n per term). relative_contribution = W_p[k, j] (a_j - a0_j) with a0
        the activations of the average protein (training-mean embedding, no GO): what this
        gene's concept activation adds compared with a typical protein."""
        act = self.activations.set_index("concept_id")
        cols = [term] if term is not None else list(self.contributions.columns)
        parts = []
        for t in cols:
            if t not in self.contributions:
                raise KeyError(f"{t} was not explained (explained: {', '.join(self.contributions.columns)})")
            contrib = self.contributions[t]
            a = act.loc[contrib.index, "activation"].to_numpy()
            frame = pd.DataFrame({
                "term_id": t,
                "concept_id": contrib.index,
                "concept_name": act.loc[contrib.index, "concept_name"].to_numpy(),
                "namespace": act.loc[contrib.index, "namespace"].to_numpy(),
                "weight": np.divide(contrib.to_numpy(), a, out=np.zeros_like(a), where=a != 0),
                "activation": a,
                "contribution": contrib.to_numpy(),
            })
            # vs the average protein (training-mean embedding, no GO): W_p[k, j] (a_j - a0_j)
            base = act.loc[contrib.index, "baseline_activation"].to_numpy()
            frame["relative_contribution"] = frame["weight"].to_numpy() * (a - base)
            frame = frame.iloc[np.argsort(-np.abs(frame["contribution"].to_numpy()), kind="stable")]
            parts.append(frame.head(top) if top else frame)
        return pd.concat(parts, ignore_index=True)

    def to_dict(self) -> dict:
        return {"gene": self.gene, "activations": self.activations.to_dict("records"),
                "contributions": self.contribution_table().to_dict("records"),
                "evidence": self.evidence_table().to_dict("records"), "bias": self.bias,
                "logit": self.logit, "score": self.score, "terms": self.terms.to_dict("records"),
                "model": self.model, "go_annotations": self.go_annotations, "go_given": self.go_given, "go_used": self.go_used,
                "go_unknown": self.go_unknown, "threshold": self.threshold, "go_origin": self.go_origin,
                "neighbours": self.neighbours.to_dict("records"), "neighbour_alpha": self.neighbour_alpha,
                "neighbour_similarity": self.neighbour_similarity,
                "go_transfer": self.go_transfer.assign(
                    go_ids=[list(g) for g in self.go_transfer.get("go_ids", [])]).to_dict("records")}


def _grouped_values(values: pd.Series, groups: dict) -> tuple[pd.Series, dict]:
    """Contributions per input term -> per most specific term: each term's value split
    equally among the groups that hold it (evaluation.evidence.annotation_groups; the sum is
    unchanged). Returns (values indexed by the specific terms, {specific term: the broader
    terms it implies})."""
    held: dict = {}
    for leaf, members in groups.items():
        for m in members:
            held[m] = held.get(m, 0) + 1
    out = {leaf: sum(float(values.get(m, 0.0)) / held[m] for m in members) for leaf, members in groups.items()}
    # a term no group holds (cannot happen for groups made from the same input) stays itself
    for i in values.index:
        if i not in held:
            out[i], groups = float(values[i]), {**groups, i: [i]}
    return pd.Series(out, dtype=np.float64), {leaf: list(groups[leaf][1:]) for leaf in out}


def _implied_text(implied: list) -> str:
    return f"with {len(implied)} broader term{'s' if len(implied) != 1 else ''} it implies" if implied else ""


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def input_groups(model, ids: list[str], kind: str) -> dict:
    """{most specific id: [it, then the broader ones it implies]} over one gene's input terms
    `ids` (GO input ids for kind "GO term", other-species term ids for "homolog phenotype"),
    from the model's stored ontology structure (model_store.input_ancestors); {} without it."""
    from genepheno_core.evaluation.evidence import annotation_groups
    from genepheno_core.interpret.model_store import input_ancestors

    table = input_ancestors(model).get(kind)
    if table is None or not ids:
        return {}
    vocab = model.go_inputs if kind == "GO term" else model.cross_species.terms["term_id"].astype(str).tolist()
    index = model.caches.get(f"input_index:{kind}")
    if index is None:  # built once per model (the other species' vocabulary has ~10,000 terms)
        index = model.caches[f"input_index:{kind}"] = {t: i for i, t in enumerate(vocab)}
    cols = np.array([index[i] for i in ids])
    leaves, share = annotation_groups(cols, table)
    share = share.tocsc()
    out = {}
    for j, leaf in enumerate(leaves):
        members = [ids[m] for m in share[:, j].indices if m != leaf]
        out[ids[leaf]] = [ids[leaf]] + members
    return out


def baseline_activations(model) -> np.ndarray:
    """(J,) concept activations of the "average protein": the training-mean sequence
    embedding, no GO annotations (the baseline of the captum attributions). Cached."""
    cached = model.caches.get("baseline_activations")
    if cached is not None:
        return cached
    module = model.module
    kwargs = {}
    if model.uses_sequence:
        kwargs["seq_emb"] = module.inputs.seq_mean[None, :].clone()  # standardised input 0
    if model.uses_go:
        kwargs["go_bag"] = torch.zeros(1, len(model.go_inputs))
    if model.uses_homology:
        kwargs["homology"] = torch.zeros(1, len(model.terms))
    module.eval()
    with torch.no_grad():
        out = module(**kwargs)
    act = torch.sigmoid(out.concept_logits[0]).double().numpy()
    model.caches["baseline_activations"] = act
    return act


def find_gene(model, query: str) -> tuple[str, str, list[str] | None] | None:
    """(id, sequence, GO ids or None) of a gene symbol / accession / gene id among the case
    studies and the model's training genes; None when not found."""
    q = query.strip().upper()
    try:
        from genepheno_core.interpret.case_studies import load_case_studies

        cases = load_case_studies()
        for _, row in cases.iterrows():
            if q in (str(row["symbol"]).upper(), str(row["accession"]).upper(), str(row.get("gene_id", "")).upper()):
                return str(row["accession"]), str(row["sequence"]), list(row["go"] or [])
    except Exception as exc:  # no case studies shipped: fall through to the training genes
        logger.debug("case studies unavailable: %s", exc)
    extras = model_extras(model)
    if extras.train_genes is not None:
        genes = extras.train_genes
        for col in ("symbol", "accession", "gene_id"):
            hit = np.flatnonzero(genes[col].astype(str).str.upper().to_numpy() == q)
            if hit.size:
                i = int(hit[0])
                return str(genes["accession"].iloc[i] or genes["gene_id"].iloc[i]), extras.train_sequences[i], None
    return None


def known_gene_names(model) -> list[str]:
    """Symbols, then accessions and gene ids, of the case studies and the model's training
    genes (what `find_gene` looks up), without duplicates."""
    names: list[str] = []
    try:
        from genepheno_core.interpret.case_studies import load_case_studies

        cases = load_case_studies()
        names += [str(v) for col in ("symbol", "accession", "gene_id") for v in cases[col]]
    except Exception as exc:  # no case studies shipped: the training genes only
        logger.debug("case studies unavailable: %s", exc)
    genes = model_extras(model).train_genes
    if genes is not None:
        names += [str(v) for col in ("symbol", "accession", "gene_id") if col in genes for v in genes[col]]
    return list(dict.fromkeys(n for n in names if n))


def _looks_like_path(text: str) -> bool:
    return os.sep in text or bool(re.search(r"\.(fa|fasta|faa|fna|txt|gz)$", text, re.IGNORECASE))


def _exists(name: str) -> bool:
    """Path(name).exists(), False for a name the OS refuses (a pasted sequence is longer
    than a file name may be: OSError ENAMETOOLONG)."""
    try:
        return Path(name).expanduser().exists()
    except (OSError, ValueError):
        return False


def resolve_gene(model, gene, min_length: int | None = None) -> tuple[str, str, list[str] | None]:
    """One protein from (id, sequence), a known gene symbol/accession, FASTA text or a path
    holding exactly one record.

    A one-line string is a gene name (or a file name): one that is neither known (case
    studies, training genes) nor an existing file raises UnknownGeneError with close
    matches. A raw sequence is never guessed from a bare word ("CFRT" would otherwise be
    a 4-residue protein): pass (id, sequence) or FASTA text."""
    if isinstance(gene, tuple) and len(gene) == 2:
        rid, seq = parse_records([gene], min_length=min_length)[0]
        return rid, seq, None
    if isinstance(gene, str) and gene.strip() and "\n" not in gene.strip() and not gene.startswith(">"):
        name = gene.strip()
        found = find_gene(model, name)
        if found is not None:
            return found
        if not _looks_like_path(name) and not _exists(name):
            known = known_gene_names(model)
            by_upper = {}
            for n in known:
                by_upper.setdefault(n.upper(), n)
            query = name.upper()
            close = difflib.get_close_matches(query, list(by_upper), n=10)
            # among equally close names, swapped letters (CFRT -> CFTR) are the likeliest typo
            close.sort(key=lambda m: sorted(m) != sorted(query))
            close = [by_upper[m] for m in close[:3]]
            shown = name if len(name) <= 40 else f"{name[:30]}... ({len(name)} letters)"
            raise UnknownGeneError(shown, close, hint=f"not a case-study or training gene of {model.path}; "
                                   "for a raw sequence pass (id, sequence) or FASTA text, or --sequence in the CLI")
    records = parse_records(gene, min_length=min_length)
    if len(records) != 1:
        raise InputFormatError("<gene>", f"explain takes one protein, got {len(records)} records")
    return records[0][0], records[0][1], None


def explain(model, gene, phenotype=None, go_annotations=None, top_terms: int = 5, embeddings=None,
            min_length: int | None = None, transfer_go: bool = True, auto_model: bool = True) -> Explanation:
    """Concept activations and exact per-concept contributions for one gene.

    model: TrainedModel, checkpoint path or None (default model).
    gene: (id, sequence), a gene symbol / accession of a case study or training gene, or
        FASTA text / a path with one record. An unknown name raises UnknownGeneError (with
        close matches); a bare string is never taken for a raw sequence.
    phenotype: a term id (or exact name), a list of them, or None for the `top_terms`
        best-scoring phenotypes. Unknown terms raise GenePhenoError.
    go_annotations: GO ids of the gene (list), or a dict / GAF as in `predict`. A case-study
        gene looked up by name uses its known annotations unless go_annotations=[] is given.
        GO ids the model does not know are ignored with a warning and listed in
        Explanation.go_unknown; malformed ids raise InputFormatError.
    min_length: shortest sequence accepted (default MIN_QUERY_LENGTH); mostly-X sequences
        are refused too.
    transfer_go: a protein given no GO gets the GO of its sequence homologs (as in
        `predict`); Explanation.go_origin, go_transfer and the evidence table's "detail"
        column say which homologs and terms.
    auto_model: as in `predict`: for a shipped model's name (or None), a protein given no GO
        (and no known GO of its own) is explained by the shipped "<name>-go-transfer" model;
        Explanation.model names the model used.
    """
    asked = model
    model = resolve_model(model)
    from genepheno_core.models import GenePheno

    if not isinstance(model.module, GenePheno):
        raise ModelMismatchError(f"{model.path} ({model.kind}) has no GO concept layer to explain")
    gid, seq, known_go = resolve_gene(model, gene, min_length=min_length)
    if go_annotations is None:
        go_annotations = known_go
    if go_annotations is not None and not isinstance(go_annotations, dict) and not _is_path(go_annotations):
        go_annotations = {gid: list(go_annotations)}
    if auto_model:
        given = read_go_annotations(go_annotations, [gid]).get(gid) if go_annotations is not None else None
        chosen = choose_model(asked, go_given=bool(given), transfer_go=transfer_go)
        if chosen is not asked:  # the sibling shares the dataset, the split and so the genes
            sibling = resolve_model(chosen)
            try:
                if phenotype is not None:
                    term_index(sibling, phenotype)
                model = sibling
            except GenePhenoError:
                # a phenotype asked for that the sibling does not predict (its split vocabulary
                # may be smaller): the named model explains it
                logger.warning("%s does not predict %s: explained by %s", model_label(sibling), phenotype,
                               model_label(model))
    inputs = prepare_inputs(model, [(gid, seq)], go_annotations or None, embeddings, transfer_go=transfer_go)
    tensors = model.inputs(inputs.embeddings, inputs.go_sets if model.uses_go else None,
                            inputs.sequences if model.needs_sequences else None)
    out = next(batched_outputs(model.module, [tensors]))
    logits = out.phenotype_logits[0].double().numpy() / temperature(model.module)  # (K,) effective logits
    activation = torch.sigmoid(out.concept_logits[0]).double().numpy()  # (J,)

    from genepheno_core.interpret.inference import score_matrix

    propagated = score_matrix(model, inputs)[0]
    if phenotype is None:
        cols = list(np.argsort(-propagated, kind="stable")[:top_terms])
    else:
        cols = term_index(model, phenotype)
    W = np.asarray(model.W_p, dtype=np.float64)  # (K, J)
    b = np.asarray(model.bias, dtype=np.float64)  # (K,)
    term_ids = model.terms["term_id"].astype(str).to_numpy()
    names = model.terms["name"].astype(str).to_numpy() if "name" in model.terms else term_ids
    concepts = model.concepts
    contrib = W[cols] * activation[None, :]  # (n_terms, J)
    contributions = pd.DataFrame(contrib.T, index=pd.Index(concepts["go_id"].astype(str), name="concept_id"),
                                 columns=[term_ids[k] for k in cols])
    go_frame, orth_frame, evidence_names = _path_contributions(model, tensors, cols, [term_ids[k] for k in cols])
    nb_frame, nb_table, nb_has = pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
    if model.uses_go_neighbours:
        # the neighbours move the logit from z to logit(p): their rows carry exactly that
        bag, profile = model.neighbour_query(tensors)
        nb_frame, nb_table, nb_has = model.go_neighbours.contributions(logits, bag, cols, profile=profile)
        logits = logits.copy()
        logits[cols] = logits[cols] + nb_frame.to_numpy().sum(axis=0)
        nb_frame.columns = nb_has.columns = [term_ids[k] for k in cols]
    origin = inputs.go_origin(0)
    # a transferred GO input is a prediction, not an annotation: concepts are "annotated"
    # only by GO given for the gene
    annotated = set(_flatten_go(go_annotations, gid))
    if origin == "given":
        annotated |= set(inputs.go_sets[0] or ())
    transfer = inputs.transfer_evidence(0)
    if annotated:
        annotated |= _concept_closure(model, annotated)
    activations = pd.DataFrame({
        "concept_id": concepts["go_id"].astype(str).to_numpy(),
        "concept_name": concepts["name"].astype(str).to_numpy() if "name" in concepts else "",
        "namespace": concepts["namespace"].astype(str).to_numpy() if "namespace" in concepts else "",
        "activation": activation,
        "baseline_activation": baseline_activations(model),
        "annotated": concepts["go_id"].astype(str).isin(annotated).to_numpy(),
    })
    ranks = np.empty(len(propagated), dtype=np.int64)
    ranks[np.argsort(-propagated, kind="stable")] = np.arange(1, len(propagated) + 1)
    terms = pd.DataFrame({
        "term_id": [term_ids[k] for k in cols], "term_name": [names[k] for k in cols],
        "logit": logits[cols], "bias": b[cols], "score": 1.0 / (1.0 + np.exp(-logits[cols])),
        "propagated_score": propagated[cols].astype(np.float64), "rank": ranks[cols],
    })
    return Explanation(
        gene=gid, sequence=seq, activations=activations, contributions=contributions,
        bias={term_ids[k]: float(b[k]) for k in cols}, logit={term_ids[k]: float(logits[k]) for k in cols},
        score={term_ids[k]: float(1.0 / (1.0 + np.exp(-logits[k]))) for k in cols}, terms=terms,
        go_annotations=sorted(annotated), threshold=float(model.threshold),
        go_term_contributions=go_frame, ortholog_contributions=orth_frame, evidence_names=evidence_names,
        ortholog_dataset=model.cross_species.dataset if model.uses_ortholog else "",
        go_given=sorted(inputs.go_given[0]), go_unknown=sorted(inputs.go_unknown[0]), go_origin=origin,
        go_transfer=transfer, go_sources=_transfer_sources(model, transfer, go_frame.index),
        mapping_backed=_mapping_backed(model, cols, orth_frame.index), model=model_label(model),
        neighbour_contributions=nb_frame, neighbours=nb_table, neighbour_has=nb_has,
        neighbour_alpha=float(model.go_neighbours.alpha) if model.uses_go_neighbours else 0.0,
        neighbour_similarity=model.go_neighbours.similarity if model.uses_go_neighbours else "",
        go_term_groups=input_groups(model, [str(i) for i in go_frame.index], "GO term"),
        ortholog_groups=input_groups(model, [str(i) for i in orth_frame.index], "homolog phenotype"))


def _mapping_backed(model, cols: list[int], other_ids) -> set | None:
    """{(term id, other-species term id)} of the explained terms x the gene's homolog
    phenotypes that a curated MP-HP mapping relates (model_extras.mapping_related), or None
    when the model stores no relation."""
    related = model_extras(model).mapping_related
    if related is None:
        return None
    if not len(other_ids):
        return set()
    index = {t: i for i, t in enumerate(model.cross_species.terms["term_id"].astype(str))}
    term_ids = model.terms["term_id"].astype(str).to_numpy()
    other = [str(x) for x in other_ids]
    block = related[cols][:, [index[x] for x in other]].toarray()  # (n_terms, n_other)
    return {(term_ids[k], other[j]) for a, k in enumerate(cols) for j in np.flatnonzero(block[a])}


def _transfer_sources(model, transfer: pd.DataFrame, go_ids) -> dict:
    """{GO input id: "P12345 mouse 62% w0.41; ..."}: the homologs whose transferred GO carries
    the term (a hit carries t when one of its GO ids is t or a descendant of t), best first."""
    if transfer is None or transfer.empty:
        return {}
    closure = model.caches["go_reference"][1]  # filled by model.transfer_go
    carried = []
    for terms in transfer["go_ids"]:
        up = set()
        for term in terms:
            up |= closure.ancestors(term, include_self=True)
        carried.append(up)
    out = {}
    for go_id in go_ids:
        parts = [f"{row.target} {row.species} {row.identity:.0%} w{row.weight:.2f}"
                 for row, up in zip(transfer.itertuples(index=False), carried) if go_id in up]
        out[str(go_id)] = "from " + "; ".join(parts) if parts else ""
    return out


def _path_contributions(model, tensors: dict, cols: list[int], columns: list[str]):
    """(GO term contributions, ortholog contributions, {id: name}) of one gene: W_g[k, t] g_t
    over its GO input terms and W_o[k, x] o_x over its homologs' phenotypes (frames with
    one column per explained term; empty when the model lacks the path or the input)."""
    from genepheno_core.models.genepheno import normalise_go_bag

    names: dict = {}
    go_frame = pd.DataFrame(columns=columns, dtype=np.float64)
    if getattr(model.module, "go_term_head", None) is not None and "go_bag" in tensors:
        g = normalise_go_bag(tensors["go_bag"])[0].double().numpy()  # (G,)
        on = np.flatnonzero(g)
        ids = [model.go_inputs[i] for i in on]
        go_frame = pd.DataFrame((model.W_g(cols, on) * g[on][None, :]).T,
                                index=pd.Index(ids, name="go_id"), columns=columns)
        extras = model_extras(model)
        if extras.go_terms is not None and ids:
            lookup = dict(zip(extras.go_terms["go_id"], extras.go_terms["name"]))
            names.update({i: lookup.get(i, "") for i in ids})
    orth_frame = pd.DataFrame(columns=columns, dtype=np.float64)
    if model.W_o([0], [0]) is not None and "ortholog" in tensors:
        o = tensors["ortholog"][0].double().numpy()  # (K',)
        on = np.flatnonzero(o)
        terms = model.cross_species.terms
        ids = terms["term_id"].astype(str).to_numpy()[on].tolist()
        orth_frame = pd.DataFrame((model.W_o(cols, on) * o[on][None, :]).T,
                                  index=pd.Index(ids, name="ortholog_term_id"), columns=columns)
        if "name" in terms:
            names.update(dict(zip(ids, terms["name"].astype(str).to_numpy()[on])))
    return go_frame, orth_frame, names


def _is_path(value) -> bool:
    import os

    return isinstance(value, (str, os.PathLike))


def _flatten_go(go_annotations, gid: str) -> list[str]:
    if not go_annotations:
        return []
    if isinstance(go_annotations, dict):
        return list(go_annotations.get(gid) or [])
    return []


def _concept_closure(model, go_ids: set[str]) -> set[str]:
    """Concept ids implied by GO ids (a concept is one of them or one of their ancestors)."""
    concepts = model.concepts["go_id"].astype(str).tolist()
    out = {g for g in go_ids if g in set(concepts)}
    extras = model_extras(model)
    if extras.concept_closure is not None:
        index = extras.go_index()
        for g in go_ids:
            row = index.get(g)
            if row is not None:
                out.update(concepts[j] for j in extras.concept_closure[row].indices)
    return out


def top_concepts(model, inputs, predictions: pd.DataFrame, n: int = 3) -> list[str]:
    """For each row (gene, term_id) of a `predict` frame, the `n` concepts with the largest
    positive contribution relative to the average protein (see evidence_items) as
    "name (+0.42); ..." text (same row order)."""
    return ["; ".join(f"{c['name']} ({c['contribution']:+.2f})" for c in row["concepts"])
            for row in evidence_items(model, inputs, predictions, n)]


# how the phenotypes of a gene's homologs in the other species' dataset are labelled
OTHER_SPECIES_LABEL = {"mpo": "mouse KO", "hpo": "human disease"}


def top_evidence(model, inputs, predictions: pd.DataFrame, n: int = 3) -> list[str]:
    """For each row (gene, term_id) of a `predict` frame, the `n` largest positive
    contributions of the direct paths (the gene's GO terms and its homologs' phenotypes in
    the other species, and functional neighbours, see evidence_items) as "GO: name (+0.42);
    mouse KO: name (+0.30); neighbour: SYMBOL (+0.12)" text (same row order). Empty strings for a model without those paths."""
    label = (OTHER_SPECIES_LABEL.get(model.cross_species.dataset, model.cross_species.dataset)
             if model.uses_ortholog else "")
    out = []
    for row in evidence_items(model, inputs, predictions, n):
        items = [(g["contribution"], f"GO: {g['name']}") for g in row["go_terms"]]
        items += [(o["contribution"], f"{label}: {o['name']}") for o in row["homolog_phenotypes"]]
        items += [(f["contribution"], f"neighbour: {f['name'] or f['id']}") for f in row["functional_neighbours"]]
        # each kind holds its own n best, so the n best of both are among them
        best = sorted(items, key=lambda it: -it[0])[:n]
        out.append("; ".join(f"{text} ({v:+.2f})" for v, text in best))
    return out


def evidence_items(model, inputs, predictions: pd.DataFrame, n: int = 3) -> list[dict]:
    """For each row (gene, term_id) of a `predict` frame (same order), the `n` largest
    positive contributions to its logit of each kind of input, as data:

    {"concepts": [{"id", "name", "contribution"}], "go_terms": [...], "homolog_phenotypes":
    [...], "functional_neighbours": [...]}, best first. Concepts count relative to the average protein, W_p[k, j] (a_j -
    a0_j): the raw contributions W_p[k, j] a_j of generic concepts (protein binding,
    intracellular) are large for every gene and say nothing about this one. GO terms:
    W_g[k, t] g_t over the gene's (given or transferred) GO bag; homolog phenotypes: W_o[k, x]
    o_x over its homologs' phenotypes in the other species; both grouped by the gene's most
    specific terms when the model stores the ontology structure (Explanation.evidence_table,
    evaluation.evidence.group_evidence). Functional neighbours: the training genes with the
    most similar GO and / or homolog phenotypes (models.go_neighbours; name = symbol), each
    one's share of what the neighbours add to the logit. Kinds a model lacks are empty."""
    from genepheno_core.models import GenePheno

    empty = [{"concepts": [], "go_terms": [], "homolog_phenotypes": [], "functional_neighbours": []}
             for _ in range(len(predictions))]
    if not isinstance(model.module, GenePheno) or n <= 0 or not len(predictions):
        return empty
    names = _evidence_names(model)
    row_of = {gid: i for i, gid in enumerate(inputs.ids)}
    genes = [row_of[gid] for gid in predictions["gene"]]
    terms = [names["col_of"][t] for t in predictions["term_id"]]
    act, g, o = _evidence_inputs(model, inputs)
    neighbour_inputs = _neighbour_inputs(model, inputs)
    W = np.asarray(model.W_p, dtype=np.float64)  # (K, J)
    concept_ids, concept_names = names["concept_ids"], names["concept_names"]
    go_names = names["go_names"] if g is not None else {}
    orth_ids, orth_names = names["orth_ids"], names["orth_names"]

    def best(values: np.ndarray, labels) -> list[dict]:
        top = [j for j in np.argsort(-values, kind="stable")[:n] if values[j] > 0]
        return [{"id": labels(j)[0], "name": labels(j)[1], "contribution": float(values[j])} for j in top]

    from genepheno_core.evaluation.evidence import annotation_groups
    from genepheno_core.interpret.model_store import input_ancestors

    ancestors = input_ancestors(model)
    groups: dict = {}

    def grouped(kind: str, i: int, on: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(columns, contributions) of gene i's most specific terms (each with its share of
        the broader terms it implies, as in explain); the input columns without the table."""
        table = ancestors.get(kind)
        if table is None:
            return on, c
        if (kind, i) not in groups:
            leaves, share = annotation_groups(on, table)
            groups[kind, i] = (on[leaves], share)
        cols, share = groups[kind, i]
        return cols, np.asarray(share.T @ c).ravel()

    out = []
    for i, k in zip(genes, terms):
        row = {"concepts": best(W[k] * act[i], lambda j: (concept_ids[j], concept_names[j])),
               "go_terms": [], "homolog_phenotypes": [], "functional_neighbours": []}
        if neighbour_inputs is not None:
            bag, profile, z, weights = neighbour_inputs
            one = None if profile is None else profile[i:i + 1]  # (1, K') its ortholog input
            # one call per prediction (batch predictions: hot): the cosines are not shown here
            frame, table, _ = model.go_neighbours.contributions(z[i], bag[i:i + 1], [k], weights=weights[i],
                                                                profile=one, cosines=False)
            c = frame.to_numpy()[:, 0]  # (n_nb,) the neighbour genes
            row["functional_neighbours"] = best(c, lambda j: (str(table["gene_id"].iloc[j]),
                                                              str(table["symbol"].iloc[j]) if "symbol" in table else ""))
        if g is not None and g[i].any():
            on = np.flatnonzero(g[i])
            cols, c = grouped("GO term", i, on, model.W_g([k], on)[0] * g[i, on])
            row["go_terms"] = best(c, lambda j: (model.go_inputs[cols[j]],
                                                 go_names.get(model.go_inputs[cols[j]], model.go_inputs[cols[j]])))
        if o is not None and o[i].any():
            on = np.flatnonzero(o[i])
            cols, c = grouped("homolog phenotype", i, on, model.W_o([k], on)[0] * o[i, on])
            row["homolog_phenotypes"] = best(c, lambda j: (orth_ids[cols[j]], orth_names[cols[j]]))
        out.append(row)
    return out


def _evidence_inputs(model, inputs) -> tuple:
    """(concept activations relative to the average protein (n, J), normalised GO bag (n, G)
    or None, other-species homolog phenotypes (n, K') or None) of every gene of `inputs`,
    computed once per Inputs (kept in inputs.cache: a server reports a batch's proteins one
    request at a time)."""
    from genepheno_core.models.genepheno import normalise_go_bag

    cached = inputs.cache.get("evidence")
    if cached is None:
        go_sets = inputs.go_sets if model.uses_go else None
        seqs = inputs.sequences if model.needs_sequences else None
        act = model.concept_activations(inputs.embeddings, go_sets, seqs).astype(np.float64)  # (n, J)
        act = act - baseline_activations(model)[None, :]  # relative to the average protein
        has_g = getattr(model.module, "go_term_head", None) is not None and model.uses_go
        has_o = model.uses_ortholog and model.W_o([0], [0]) is not None
        g = o = None
        if has_g or has_o:
            tensors = model.inputs(inputs.embeddings, go_sets, seqs)
            if has_g and "go_bag" in tensors:
                g = normalise_go_bag(tensors["go_bag"]).double().numpy()  # (n, G)
            if has_o:
                o = tensors["ortholog"].double().numpy()  # (n, K')
        cached = inputs.cache["evidence"] = (act, g, o)
    return cached


def _neighbour_inputs(model, inputs) -> tuple | None:
    """(GO input bag (n, G), ortholog input (n, K') or None, module logits before the
    neighbours (n, K), neighbour weights (n, N)) of every gene of `inputs` for a model with
    functional neighbours (kept in inputs.cache: the neighbour search runs once per protein,
    not once per phenotype), else None."""
    if not model.uses_go_neighbours:
        return None
    cached = inputs.cache.get("neighbours")
    if cached is None:
        from genepheno_core.models.trained import module_logits, row_batches

        go_sets = inputs.go_sets if model.uses_go else None
        seqs = inputs.sequences if model.needs_sequences else None
        tensors = model.inputs(inputs.embeddings, go_sets, seqs)
        z = module_logits(model.module, row_batches(tensors)).astype(np.float64)  # (n, K)
        bag, profile = model.neighbour_query(tensors)
        cached = inputs.cache["neighbours"] = (bag, profile, z, model.go_neighbours.weights(bag, profile))
    return cached


def _evidence_names(model) -> dict:
    """Lookups evidence_items needs on every call (term columns, concept / GO / other-species
    term names), built once per model (model.caches)."""
    names = model.caches.get("evidence_names")
    if names is None:
        go_names: dict = {}
        if model.uses_go:
            extras = model_extras(model)
            if extras.go_terms is not None:
                go_names = dict(zip(extras.go_terms["go_id"], extras.go_terms["name"]))
        orth_ids = orth_names = np.array([], dtype=object)
        if model.uses_ortholog:
            orth_terms = model.cross_species.terms
            orth_ids = orth_terms["term_id"].astype(str).to_numpy()
            orth_names = orth_terms["name"].astype(str).to_numpy() if "name" in orth_terms else orth_ids
        names = model.caches["evidence_names"] = {
            "col_of": {t: k for k, t in enumerate(model.terms["term_id"].astype(str))},
            "concept_ids": model.concepts["go_id"].astype(str).tolist(),  # concepts are GO terms
            "concept_names": model.concepts["name"].astype(str).tolist(),
            "go_names": go_names, "orth_ids": orth_ids, "orth_names": orth_names}
    return names


SOURCES = ("concept", "GO term", "ortholog phenotype", "functional neighbour")


def source_shares(model, embeddings=None, go_sets=None, sequences=None, batch_size: int = 512) -> dict:
    """How much of the model's phenotype logits each path carries, over n proteins and all
    K phenotypes: {source: sum |contribution| / sum over sources}, source in SOURCES
    (concepts: W_p sigmoid(c); GO terms: W_g g; homolog phenotypes: W_o o; functional
    neighbours: logit(p) - z, 0 for a model without them; the bias is not a source). Inputs as `TrainedModel.inputs` (e.g. a Dataset's test genes with or without
    their GO); "n_genes" is added. A model that reads its inputs mostly through one direct
    path shows it here, whatever its concept layer learned."""
    from genepheno_core.models.trained import row_batches

    model._need_concepts()
    W = torch.from_numpy(np.asarray(model.W_p, dtype=np.float32))  # (K, J), temperature divided out
    totals = dict.fromkeys(SOURCES, 0.0)
    n = 0
    for batch in row_batches(model.inputs(embeddings, go_sets, sequences), batch_size):
        parts = model.logit_parts(batch)
        concepts = torch.sigmoid(parts.concept_logits) @ W.T  # (B, K): W_p sigmoid(c), without the bias
        totals["concept"] += float(concepts.abs().sum())
        totals["GO term"] += float(parts.go_terms.abs().sum())
        totals["ortholog phenotype"] += float(parts.ortholog.abs().sum())
        if model.uses_go_neighbours:  # what the neighbours add: logit(p) - z
            z = (parts.concepts_and_bias + parts.go_terms + parts.ortholog).double().numpy()  # (B, K)
            moved = model.go_neighbours.blend_logits(z, *model.neighbour_query(batch)).astype(np.float64) - z
            totals["functional neighbour"] += float(np.abs(moved).sum())
        n += concepts.shape[0]
    whole = sum(totals.values()) or 1.0
    return {**{k: v / whole for k, v in totals.items()}, "n_genes": n}
