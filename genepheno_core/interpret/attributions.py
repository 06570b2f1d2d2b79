"""captum attributions: concepts (bottleneck), model inputs (GO terms, embedding dims) and
residues (Integrated Gradients through the UniRep encoder).

The GenePheno forward pass is run with the "GO given" indicator passed explicitly
(`forward_parts`, GenePheno.logit_parts' presence overrides): the module computes it as
`go_bag.sum() > 0`, a step function with no gradient, so an IG path from "no GO" to the
gene's GO bag would jump at alpha = 0 and break completeness. Fixing the indicator at the
gene's value keeps the path smooth; its own effect is reported separately (go_presence).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from genepheno_core.errors import GenePhenoError, InputFormatError, ModelMismatchError
from genepheno_core.interpret.contributions import resolve_gene
from genepheno_core.interpret.inference import prepare_inputs, score_matrix, term_index
from genepheno_core.interpret.model_store import model_extras, resolve_model
from genepheno_core.models.trained import temperature

logger = logging.getLogger(__name__)

UNKNOWN_RESIDUE_TOKEN = 23  # UniRep's "X": the residue-level IG baseline
# Longest protein residue_attributions accepts by default (max_residues= / --max-residues
# override it; the longest training protein of the hpo model, titin, has 34,350). Before
# the limit and the IG batch sizing below, a 40,000-residue protein took 4.8 GB and 102 s
# (~105 MB per 1,000 residues). Measured peak RSS, shipped hpo model (UniRep-256), method
# "hidden", this process included: 0.64 GB at 1,000 residues, 0.88 GB at 10,000 (277 s on
# a busy 2-core machine): time, not memory, is what the limit protects now.
MAX_ATTRIBUTION_RESIDUES = 10_000
# Bytes of one IG batch's per-residue tensors (interpolated inputs, their gradients and,
# for method="input", the mLSTM's saved activations): batches are cut to fit, so long
# proteins run in smaller batches instead of growing memory with batch x length.
IG_BATCH_BYTES = 256 * 2**20


def ig_batch_size(length: int, width: int, method: str, limit: int | None = 32) -> int:
    """Internal IG batch size for a (length + 1, width) per-residue tensor per sample:
    at most `limit`, and small enough that a batch stays within IG_BATCH_BYTES."""
    # float32 values kept per residue and sample: hidden = input, gradient, product and the
    # mean's backward (~4 x width); input = the mLSTM's saved gates and states (~24 x width)
    per_sample = (length + 1) * width * 4 * (4 if method == "hidden" else 24)
    fit = max(1, IG_BATCH_BYTES // per_sample)
    return int(min(limit or fit, fit))


def forward_parts(module, seq_emb=None, go_bag=None, go_present=None, homology=None, homology_present=None,
                  ortholog=None):
    """(concept_logits (B, J), phenotype_logits (B, K)) of a GenePheno module with the GO /
    homology presence indicators (B, 1) given instead of computed (GenePheno.logit_parts)."""
    parts = module.logit_parts(seq_emb, go_bag, homology, ortholog, go_present=go_present,
                               homology_present=homology_present)
    return parts.concept_logits, parts.phenotype_logits


def unirep_mean_hidden(unirep, emb: torch.Tensor, per_position: bool = False) -> torch.Tensor:
    """(B, L, E) residue embeddings (start token included) -> (B, D) mean of the last
    layer's h over all L positions: UniRepModel.forward with every position unmasked.
    With per_position, the last layer's h at every position instead: (B, L, D).

    Same equations as embeddings/unirep.py, written for a cheap backward pass: the
    per-step inputs come from `unbind` (whose backward is one stack) instead of slicing
    `xm[:, t]` (whose backward allocates a full (B, L, D) zero tensor per step, O(L^2):
    40 s instead of ~1 s for 500 residues)."""
    x = emb
    n_layers = len(unirep.layers)
    for k, layer in enumerate(unirep.layers):
        d = layer.hidden_dim
        xm = (x @ layer.wmx).unbind(1)  # L x (B, D)
        xz = (x @ layer.wx + layer.b).unbind(1)  # L x (B, 4D)
        h = x.new_zeros(x.shape[0], d)
        c = x.new_zeros(x.shape[0], d)
        outputs, total = [], None
        for t in range(len(xm)):
            m = xm[t] * (h @ layer.wmh)
            z = xz[t] + m @ layer.wh
            i, f, o = torch.sigmoid(z[:, : 3 * d]).split(d, dim=1)
            c = f * c + i * torch.tanh(z[:, 3 * d:])
            h = o * torch.tanh(c)
            if k + 1 < n_layers or per_position:
                outputs.append(h)
            else:
                total = h if total is None else total + h
        if k + 1 < n_layers:
            x = torch.stack(outputs, dim=1)
    if per_position:
        return torch.stack(outputs, dim=1)  # (B, L, D)
    return total / emb.shape[1]


@dataclass
class _Target:
    kind: str  # "phenotype" or "concept"
    index: int
    id: str
    name: str


def _target(model, phenotype, concept, default_scores: np.ndarray | None) -> _Target:
    if phenotype is not None and concept is not None:
        raise ValueError("give a phenotype or a concept, not both")
    if concept is not None:
        ids = model.concepts["go_id"].astype(str).tolist()
        if concept not in ids:
            raise GenePhenoError(f"unknown concept {concept}: not one of the model's {len(ids)} GO concepts")
        j = ids.index(concept)
        return _Target("concept", j, concept, str(model.concepts["name"].iloc[j]))
    if phenotype is None:
        k = int(np.argmax(default_scores))
    else:
        if not isinstance(phenotype, str):
            raise ValueError("one phenotype term per attribution")
        k = term_index(model, phenotype)[0]
    return _Target("phenotype", k, str(model.terms["term_id"].iloc[k]), str(model.terms["name"].iloc[k]))


def _gene_tensors(model, gene, go_annotations, min_length: int | None = None, max_residues: int | None = None):
    from genepheno_core.models import GenePheno

    model = resolve_model(model)
    if not isinstance(model.module, GenePheno):
        raise ModelMismatchError(f"{model.path} ({model.kind}) has no GO concept layer")
    gid, seq, known_go = resolve_gene(model, gene, min_length=min_length)
    if max_residues is not None and len(seq) > max_residues:
        raise InputFormatError(
            "<sequence>", f"{len(seq):,} residues: residue attributions are limited to {max_residues:,} "
            "(time and memory grow with length: ~0.9 GB and minutes at 10,000); raise the limit with "
            "max_residues= (CLI: --max-residues)", record=gid)
    if go_annotations is None:
        go_annotations = known_go
    if go_annotations is not None and not isinstance(go_annotations, dict):
        go_annotations = {gid: list(go_annotations)}
    inputs = prepare_inputs(model, [(gid, seq)], go_annotations or None)
    t = model.inputs(inputs.embeddings, inputs.go_sets if model.uses_go else None,
                      inputs.sequences if model.needs_sequences else None)
    present = {k: (v.sum(dim=1, keepdim=True) > 0).float() for k, v in t.items() if k in ("go_bag", "homology")}
    return model, gid, seq, inputs, t, present


@dataclass
class ConceptAttributions:
    """captum attributions for one gene and one target (phenotype or concept logit).

    bottleneck: DataFrame[concept_id, concept_name, activation, contribution, ig, layer_ig,
        layer_ig_exact] (phenotype targets only): `ig` = IntegratedGradients on the concept
        activations with baseline 0, equal to the exact contributions W_p[k, j] a_j; `layer_ig`
        = LayerIntegratedGradients on the bottleneck from the input baseline (mean embedding,
        no GO), equal to W_p[k, j] (a_j - a_j(baseline)) = `layer_ig_exact`.
    go_inputs: DataFrame[go_id, name, attribution]: IG of the target over the gene's GO input
        terms (baseline: no term, GO indicator kept at the gene's value).
    embedding_dims: DataFrame[dim, value, baseline, attribution]: IG over the sequence
        embedding (baseline: the training mean), sorted by |attribution|.
    go_presence: exact effect of the "GO given" indicator alone (0 without GO).
    delta: completeness gap of the input IG (captum's convergence delta):
        sum(attributions) - (f(x) - f(baseline)).
    """

    gene: str
    target: str
    target_kind: str
    target_name: str
    logit: float
    baseline_logit: float
    bottleneck: pd.DataFrame | None
    go_inputs: pd.DataFrame
    embedding_dims: pd.DataFrame
    homology: float = 0.0
    ortholog: float = 0.0  # summed IG of the ortholog input (exact: its path is linear)
    go_presence: float = 0.0
    delta: float = 0.0
    bottleneck_delta: float = 0.0
    info: dict = field(default_factory=dict)


def concept_attributions(model, gene, phenotype: str | None = None, concept: str | None = None,
                         go_annotations=None, n_steps: int = 64, min_length: int | None = None) -> ConceptAttributions:
    """captum attributions of a phenotype logit (to concepts and inputs) or of a concept logit
    (to inputs) for one gene; see ConceptAttributions. phenotype/concept None: the gene's
    best-scoring phenotype."""
    from captum.attr import IntegratedGradients, LayerIntegratedGradients

    model, gid, seq, inputs, t, present = _gene_tensors(model, gene, go_annotations, min_length)
    module = model.module
    module.eval()
    T = temperature(module)
    target = _target(model, phenotype, concept, score_matrix(model, inputs)[0])

    names = ("seq_emb", "go_bag", "homology", "ortholog")
    keys = [n for n in names if n in t]
    x = tuple(t[k] for k in keys)
    base = []
    for k, v in zip(keys, x):
        if k == "seq_emb":
            base.append(module.inputs.seq_mean.expand_as(v).clone())  # standardised input 0
        else:
            base.append(torch.zeros_like(v))
    base = tuple(base)

    def f(*args):
        kw = dict(zip(keys, args))
        c, s = forward_parts(module, kw.get("seq_emb"), kw.get("go_bag"),
                             present.get("go_bag", torch.zeros(1, 1)).expand(args[0].shape[0], 1),
                             kw.get("homology"),
                             present.get("homology", torch.zeros(1, 1)).expand(args[0].shape[0], 1),
                             kw.get("ortholog"))
        return c[:, target.index] if target.kind == "concept" else s[:, target.index] / T

    with torch.no_grad():
        fx = float(f(*x))
        fb = float(f(*base))
    ig = IntegratedGradients(f)
    attrs, delta = ig.attribute(x, baselines=base, n_steps=n_steps, method="gausslegendre",
                                return_convergence_delta=True)
    attrs = dict(zip(keys, attrs))

    go_frame = pd.DataFrame(columns=["go_id", "name", "attribution"])
    go_presence = 0.0
    if "go_bag" in attrs:
        a = attrs["go_bag"][0].detach().numpy()
        on = np.flatnonzero(t["go_bag"][0].numpy() > 0)
        extras = model_extras(model)
        name_of = {}
        if extras.go_terms is not None:
            name_of = dict(zip(extras.go_terms["go_id"], extras.go_terms["name"]))
        go_frame = pd.DataFrame({"go_id": [model.go_inputs[i] for i in on],
                                 "name": [name_of.get(model.go_inputs[i], "") for i in on],
                                 "attribution": a[on].astype(np.float64)})
        go_frame = go_frame.iloc[np.argsort(-np.abs(go_frame["attribution"].to_numpy()), kind="stable")]
        go_frame = go_frame.reset_index(drop=True)
        if float(present["go_bag"][0, 0]) > 0:
            # exact effect of the indicator: baseline bag with indicator on minus off
            kw = dict(zip(keys, base))
            with torch.no_grad():
                on_c, on_s = forward_parts(module, kw.get("seq_emb"), kw["go_bag"], torch.ones(1, 1),
                                           kw.get("homology"), present.get("homology", torch.zeros(1, 1)))
                off_c, off_s = forward_parts(module, kw.get("seq_emb"), kw["go_bag"], torch.zeros(1, 1),
                                             kw.get("homology"), present.get("homology", torch.zeros(1, 1)))
            pick = (lambda c, s: float(c[0, target.index])) if target.kind == "concept" else \
                (lambda c, s: float(s[0, target.index]) / T)
            go_presence = pick(on_c, on_s) - pick(off_c, off_s)
    emb_frame = pd.DataFrame(columns=["dim", "value", "baseline", "attribution"])
    if "seq_emb" in attrs:
        a = attrs["seq_emb"][0].detach().numpy().astype(np.float64)
        emb_frame = pd.DataFrame({"dim": np.arange(a.size), "value": x[keys.index("seq_emb")][0].numpy(),
                                  "baseline": base[keys.index("seq_emb")][0].numpy(), "attribution": a})
        emb_frame = emb_frame.iloc[np.argsort(-np.abs(a), kind="stable")].reset_index(drop=True)
    hom = float(attrs["homology"].sum()) if "homology" in attrs else 0.0
    orth = float(attrs["ortholog"].sum()) if "ortholog" in attrs else 0.0

    bottleneck, bdelta = None, 0.0
    if target.kind == "phenotype":
        with torch.no_grad():
            c, _ = forward_parts(module, *(x[keys.index(k)] if k in keys else None for k in ("seq_emb", "go_bag")),
                                 present.get("go_bag", torch.zeros(1, 1)),
                                 x[keys.index("homology")] if "homology" in keys else None,
                                 present.get("homology", torch.zeros(1, 1)))
            cb, _ = forward_parts(module, *(base[keys.index(k)] if k in keys else None for k in ("seq_emb", "go_bag")),
                                  present.get("go_bag", torch.zeros(1, 1)),
                                  base[keys.index("homology")] if "homology" in keys else None,
                                  present.get("homology", torch.zeros(1, 1)))
        act = torch.sigmoid(c)  # (1, J)
        act_b = torch.sigmoid(cb)
        head = lambda a: module.phenotype_head(a)[:, target.index] / T  # noqa: E731
        ig_b, bdelta = IntegratedGradients(head).attribute(act, baselines=torch.zeros_like(act), n_steps=n_steps,
                                                           return_convergence_delta=True)
        lig = LayerIntegratedGradients(f, module.phenotype_head)
        lig_attr = lig.attribute(x, baselines=base, n_steps=n_steps, method="gausslegendre",
                                 attribute_to_layer_input=True)
        if isinstance(lig_attr, (tuple, list)):
            lig_attr = lig_attr[0]
        W = np.asarray(model.W_p, dtype=np.float64)[target.index]
        a_np = act[0].double().numpy()
        bottleneck = pd.DataFrame({
            "concept_id": model.concepts["go_id"].astype(str).to_numpy(),
            "concept_name": model.concepts["name"].astype(str).to_numpy(),
            "activation": a_np,
            "contribution": W * a_np,
            "ig": ig_b[0].detach().double().numpy(),
            "layer_ig": lig_attr[0].detach().double().numpy(),
            "layer_ig_exact": W * (a_np - act_b[0].double().numpy()),
        })
        bottleneck = bottleneck.iloc[np.argsort(-np.abs(bottleneck["contribution"].to_numpy()), kind="stable")]
        bottleneck = bottleneck.reset_index(drop=True)
        bdelta = float(bdelta)
    return ConceptAttributions(
        gene=gid, target=target.id, target_kind=target.kind, target_name=target.name, logit=fx,
        baseline_logit=fb, bottleneck=bottleneck, go_inputs=go_frame, embedding_dims=emb_frame, homology=hom,
        ortholog=orth,
        go_presence=go_presence, delta=float(delta), bottleneck_delta=bdelta,
        info={"n_steps": n_steps, "method": "gausslegendre", "baseline": "training-mean embedding, no GO terms"})


def residue_attributions(model, sequence, phenotype: str | None = None, concept: str | None = None,
                         go_annotations=None, method: str = "hidden", n_steps: int | None = None,
                         tolerance: float = 0.05, max_steps: int = 256,
                         internal_batch_size: int | None = 32, max_residues: int | None = MAX_ATTRIBUTION_RESIDUES,
                         min_length: int | None = None) -> pd.DataFrame:
    """Integrated Gradients from a phenotype (or concept) logit back to each residue, through
    the UniRep encoder (captum IntegratedGradients), one score per residue.

    Baseline: every residue replaced by UniRep's unknown-residue token X (start token kept),
    so an attribution says how much the real residue at that position moves the logit
    compared with an uninformative one. GO inputs (if given) are held fixed.

    method="hidden" (default, fast): IG on UniRep's per-residue output states h_t (the
    model reads their mean). Both sequences are run through UniRep once; the path goes from
    the baseline's states to the real ones, through the mean and the GenePheno network, a
    smooth function, so `n_steps` (default 32) Gauss-Legendre points give completeness to
    ~1e-4 and a 500-residue protein takes about a second. Each residue's score is its own
    state's share, which includes what its context did to that state.

    method="input": IG on the residue embeddings UniRep reads, so the path goes through
    the mLSTM itself. Along it the logit wiggles sharply (measured on a 500-residue protein:
    it travels 3.3 for a net change of 1.0, most of it between 70 and 87 % of the way), so
    a fixed Gauss-Legendre rule oscillates around the answer (gap -0.97, -0.66, -0.43,
    +0.12 at 16, 32, 64, 128 steps). IG is additive over pieces of the path, so the path is
    cut into segments (two halves to start), each integrated with `n_steps` (default 16)
    points, and the segment with the largest completeness gap is halved. Slow (tens of
    seconds at 500 residues) and, for long proteins, often short of the tolerance.

    Completeness: captum's convergence delta (sum of attributions minus the logit change,
    exact because both ends are evaluated) must be <= tolerance * |logit change| + 1e-3;
    "hidden" doubles its steps and "input" splits segments until it is or `max_steps`
    gradient evaluations are spent; attrs["converged"] says whether the tolerance was met.

    Length: proteins longer than `max_residues` (default MAX_ATTRIBUTION_RESIDUES, None:
    no limit) raise InputFormatError; IG batches are cut to IG_BATCH_BYTES
    (`internal_batch_size` is an upper bound), so memory stays under 1 GB at the limit.
    `min_length` as in `explain`.

    Returns DataFrame[position (1-based), residue, attribution]; df.attrs holds target,
    target_kind, method, logit, baseline_logit, delta (sum of attributions - (logit -
    baseline_logit)), relative_delta, n_steps (gradient evaluations), n_segments and
    seconds. Models whose encoder is not UniRep raise ModelMismatchError (there is no
    residue-level path through their features).
    """
    from captum.attr import IntegratedGradients

    from genepheno_core.embeddings.unirep import encode_tokens, load_unirep

    start = time.perf_counter()
    model = resolve_model(model)
    encoder = str(model.encoder or "")
    if not encoder.startswith("unirep"):
        raise ModelMismatchError(
            f"residue attributions need a UniRep encoder (differentiable down to residues); "
            f"{model.path} uses {encoder or 'no sequence encoder'}")
    if method not in ("hidden", "input"):
        raise ValueError(f"method must be 'hidden' or 'input', got {method!r}")
    n_steps = int(n_steps or (32 if method == "hidden" else 16))
    if n_steps < 2 or max_steps < 2 * n_steps:
        raise ValueError(f"need 2 <= n_steps <= max_steps / 2, got n_steps={n_steps}, max_steps={max_steps}")
    model, gid, seq, inputs, t, present = _gene_tensors(model, sequence, go_annotations, min_length, max_residues)
    unirep = load_unirep(int(encoder[len("unirep"):]))
    internal_batch_size = ig_batch_size(len(seq), unirep.layers[-1].hidden_dim, method, internal_batch_size)
    module = model.module
    module.eval()
    T = temperature(module)
    target = _target(model, phenotype, concept, score_matrix(model, inputs)[0])

    tokens = encode_tokens(seq)[None, :]  # (1, L + 1): start token + residues
    baseline = tokens.clone()
    baseline[0, 1:] = UNKNOWN_RESIDUE_TOKEN
    with torch.no_grad():
        emb_x = unirep.embedding(tokens)  # (1, L + 1, E)
        emb_b = unirep.embedding(baseline)  # (1, L + 1, E); position 0 equal to emb_x
    go_bag = t.get("go_bag")
    hom = t.get("homology")
    orth = t.get("ortholog")  # from a DIAMOND search: fixed along the path (it only shifts the logit)

    def head(pooled):  # (B, D) mean UniRep state -> (B,) target logit
        batch = pooled.shape[0]
        c, s = forward_parts(
            module, pooled, None if go_bag is None else go_bag.expand(batch, -1),
            present.get("go_bag", torch.zeros(1, 1)).expand(batch, 1),
            None if hom is None else hom.expand(batch, -1),
            present.get("homology", torch.zeros(1, 1)).expand(batch, 1),
            None if orth is None else orth.expand(batch, -1))
        return c[:, target.index] if target.kind == "concept" else s[:, target.index] / T

    def f(emb):  # (B, L + 1, E) residue embeddings -> (B,) target logit
        return head(unirep_mean_hidden(unirep, emb))

    info = {"gene": gid, "target": target.id, "target_kind": target.kind, "target_name": target.name,
            "tolerance": tolerance, "baseline": "X (unknown residue) at every position"}
    if method == "hidden":
        with torch.no_grad():
            states = unirep_mean_hidden(unirep, torch.cat([emb_x, emb_b]), per_position=True)  # (2, L + 1, D)
        h_x, h_b = states[:1], states[1:]

        def g(h):  # (B, L + 1, D) per-residue states -> (B,) target logit; the mean is what the model reads
            return head(h.mean(dim=1))

        with torch.no_grad():
            fx, fb = (float(v) for v in g(states))
        diff = fx - fb
        allowed = tolerance * abs(diff) + 1e-3
        ig, steps = IntegratedGradients(g), n_steps
        while True:
            with torch.enable_grad():
                attr, gap = ig.attribute(h_x, baselines=h_b, n_steps=steps, method="gausslegendre",
                                         internal_batch_size=internal_batch_size, return_convergence_delta=True)
            if abs(float(gap)) <= allowed or steps * 2 > max_steps:
                break
            steps *= 2
        per_residue = attr[0].sum(dim=-1).detach().double().numpy()  # (L + 1,), [0] = start token (0)
        delta = float(per_residue.sum() - diff)
        frame = pd.DataFrame({"position": np.arange(1, len(seq) + 1), "residue": list(seq),
                              "attribution": per_residue[1:]})
        frame.attrs.update(info)
        frame.attrs.update({
            "method": "hidden", "logit": fx, "baseline_logit": fb, "delta": delta,
            "relative_delta": float(abs(delta) / max(abs(diff), 1e-8)), "n_steps": steps, "n_segments": 1,
            "converged": bool(abs(delta) <= allowed), "seconds": time.perf_counter() - start})
        return frame

    def point(alpha: float) -> torch.Tensor:
        return emb_b + alpha * (emb_x - emb_b)

    ig = IntegratedGradients(f)

    def segment(a: float, b: float) -> tuple[torch.Tensor, float]:
        with torch.enable_grad():
            attr, gap = ig.attribute(point(b), baselines=point(a), n_steps=n_steps, method="gausslegendre",
                                     internal_batch_size=internal_batch_size, return_convergence_delta=True)
        return attr[0].sum(dim=-1).detach().double(), float(gap)  # (L + 1,), scalar

    with torch.no_grad():
        fx, fb = (float(v) for v in f(torch.cat([emb_x, emb_b])))
    diff = fx - fb
    allowed = tolerance * abs(diff) + 1e-3
    segments = {(0.0, 0.5): segment(0.0, 0.5), (0.5, 1.0): segment(0.5, 1.0)}
    evaluations = 2 * n_steps
    while sum(abs(g) for _, g in segments.values()) > allowed and evaluations + 2 * n_steps <= max_steps:
        a, b = max(segments, key=lambda k: abs(segments[k][1]))
        del segments[(a, b)]
        mid = (a + b) / 2
        segments[(a, mid)], segments[(mid, b)] = segment(a, mid), segment(mid, b)
        evaluations += 2 * n_steps
        logger.debug("residue IG: %d segments, gap %.4f", len(segments), sum(g for _, g in segments.values()))
    per_residue = sum(attr for attr, _ in segments.values()).numpy()  # (L + 1,), [0] = start token (0)
    total_gap = sum(abs(g) for _, g in segments.values())
    delta = float(per_residue.sum() - diff)
    frame = pd.DataFrame({"position": np.arange(1, len(seq) + 1), "residue": list(seq),
                          "attribution": per_residue[1:]})
    frame.attrs.update(info)
    frame.attrs.update({
        "method": "input", "logit": fx, "baseline_logit": fb, "delta": delta,
        "relative_delta": float(abs(delta) / max(abs(diff), 1e-8)), "n_steps": evaluations,
        "n_segments": len(segments), "converged": bool(total_gap <= allowed), "seconds": time.perf_counter() - start,
    })
    return frame
