"""The REST API: a FastAPI app over one loaded model (`create_app`).

Endpoints (OpenAPI docs at /docs): POST /v1/predict, POST /v1/explain, GET /v1/models,
GET /v1/phenotypes?q=, GET /healthz. Input is read with the core's user-input layer
(genepheno_core.interpret.user_input, the dashboard's too: the same limits and messages)
and answered with the core's reports (genepheno_core.interpret.report).

Models: the served model, and for a shipped model's name (hpo, mpo) its sibling
"<name>-go-transfer" when shipped: a request whose proteins are given no GO (and get their
homologs' GO) is answered by it, the benchmark's validation choice for that input
(model_store.choose_model); the answer's `model` names the model used.

Concurrency: the models are loaded once per process (`Service`). Requests are handled
concurrently by the event loop, but the core runs in one worker thread: the model's lazy
parts and caches are never touched by two threads at once, and predictions are
micro-batched: the predict requests that arrive while a batch runs are scored together in
the next one (one encoder pass, one DIAMOND search per kind for all their proteins), which
is what keeps latency low under concurrent load (benchmarks/bench_api.py).

Errors: a bad request is a 4xx whose JSON `detail` says what is wrong (422: the input; 413:
the request is larger than MAX_BODY_BYTES, refused before it is read or parsed); anything
unexpected is a 500 with a generic message (the traceback goes to the server's log, never
to the client).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field

from genepheno_core.errors import GenePhenoError, InputFormatError
from genepheno_core.interpret import user_input
from genepheno_core.version import __version__

logger = logging.getLogger(__name__)

# A request body larger than this is refused (413) before it is read: the largest valid
# request (MAX_USER_SEQUENCES x MAX_USER_RESIDUES as FASTA or JSON, with GO ids) is well
# under it.
MAX_BODY_BYTES = user_input.MAX_INPUT_BYTES + 256 * 1024
MAX_BATCH_SEQUENCES = 64  # most proteins scored in one batch (several requests)
BATCH_WINDOW_S = 0.02  # how long a batch waits for more requests after its first
MAX_EVIDENCE_ROWS = 100  # evidence is computed for at most this many phenotypes per protein
MAX_RESIDUE_ATTRIBUTION = 2000  # longest protein for residue attributions (Integrated Gradients)
IG_MAX_STEPS = 128  # as the dashboard: IG on UniRep's per-residue states converges in ~32 steps
GO_ID = user_input.GO_ID


# ----------------------------------------------------------------------------- requests

class SequenceItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(description="the protein's id (unique in the request; echoed in the answer)")
    sequence: str = Field(description="protein sequence, one-letter codes (a coding DNA sequence is translated)")


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "sequences": ">query\nMEEPQSDPSVEPPLSQETFSDLWKLLPENNVLSPLPSQAMDDLMLSPDDIEQWFTEDPGP", "top": 10,
        "view": "specific"}]})
    sequences: str | list[SequenceItem] = Field(
        description="FASTA text (or raw sequences, one per line), or a list of {id, sequence}; "
                    f"at most {user_input.MAX_SEQUENCES} proteins of at most {user_input.MAX_RESIDUES:,} residues")
    go: list[str] | dict[str, list[str]] | None = Field(
        None, description="GO ids for every protein (a list), or per protein id (an object); none: each "
                          "protein gets the GO of its sequence homologs (go_transfer)")
    top: int | None = Field(20, ge=1, description="phenotypes per protein (null: all of the model's)")
    threshold: float | None = Field(None, ge=0, le=1, description="score cut-off (default: the model's)")
    view: Literal["all", "specific"] = Field(
        "all", description="all: every phenotype by score; specific: of the phenotypes above the threshold, "
                           "those implied by another one are folded under it")
    evidence: int = Field(3, ge=0, le=20, description="top contributions listed per phenotype and kind")
    nearest: int = Field(5, ge=0, le=25, description="nearest training proteins listed per protein")
    homologs: int = Field(5, ge=0, le=25, description="the other species' homologs listed per protein")
    go_transfer: bool = Field(True, description="a protein given no GO gets its sequence homologs' GO")


class ExplainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "sequence": "MEEPQSDPSVEPPLSQETFSDLWKLLPENNVLSPLPSQAMDDLMLSPDDIEQWFTEDPGP",
        "phenotype": "HP:0002664"}]})
    sequence: str = Field(description="one protein: a sequence, or FASTA text with one record")
    id: str = Field("query", description="the protein's id (when `sequence` is not FASTA)")
    phenotype: str = Field(description="the phenotype's term id (GET /v1/phenotypes?q= finds it)")
    go: list[str] | None = Field(None, description="the protein's GO ids (none: its homologs' GO)")
    go_transfer: bool = True
    residues: bool = Field(False, description="also per-residue Integrated Gradients attributions "
                                              f"(proteins up to {MAX_RESIDUE_ATTRIBUTION:,} residues)")


# ----------------------------------------------------------------------------- the service

@dataclass
class _Pending:
    records: list[tuple[str, str]]
    go: dict[str, list[str]] | None
    request: PredictRequest
    future: asyncio.Future
    names: dict[str, str] = field(default_factory=dict)


class Service:
    """The model (and its sibling for proteins without GO), loaded once per process, and the
    worker that runs the core: predict requests are queued and scored in batches; every core
    call runs in one thread.

    no_go_model: the model for requests whose proteins are given no GO: "auto" (the shipped
    "<name>-go-transfer" when `model` is a shipped name or None, model_store.choose_model),
    a model directory, or None (the served model answers every request)."""

    def __init__(self, model: str | Path | None = None, warm: bool = True, no_go_model: str | Path | None = "auto"):
        from genepheno_core.interpret.model_store import choose_model, resolve_model
        from genepheno_core.interpret.report import model_info

        self.model = resolve_model(model)
        self.info = model_info(self.model)
        if isinstance(no_go_model, str) and no_go_model == "auto":
            chosen = choose_model(model, go_given=False)
            no_go_model = chosen if chosen is not model else None
        self.no_go_model = resolve_model(no_go_model) if no_go_model is not None else None
        if self.no_go_model is self.model:
            self.no_go_model = None
        self.no_go_info = model_info(self.no_go_model) if self.no_go_model is not None else None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="genepheno-core")
        self._queue: asyncio.Queue | None = None
        self._worker: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_lock = threading.Lock()
        self._terms = self.model.terms.reset_index(drop=True)
        if warm:
            self.warm_up()

    def warm_up(self) -> None:
        """Load every lazy part (encoder weights, explain data, GO reference, DIAMOND
        databases) with one tiny request, so the first user request pays only for itself."""
        from genepheno_core.interpret.report import prediction_report

        for model in (self.model, self.no_go_model):
            if model is not None:
                prediction_report(model, [("warm-up", "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ")], top=1, evidence=1,
                                  nearest=1, homologs=1)

    def model_for(self, go_given: bool, transfer: bool):
        """The model that answers proteins given GO (`go_given`) or not, with or without GO
        transfer: the sibling for proteins without GO that get their homologs' GO."""
        if self.no_go_model is not None and transfer and not go_given:
            return self.no_go_model
        return self.model

    @property
    def models(self) -> list[dict]:
        """model_info of the served models, each with the proteins it answers for."""
        if self.no_go_info is None:
            return [dict(self.info, answers="every request")]
        return [dict(self.info, answers="proteins given GO (or with go_transfer false)"),
                dict(self.no_go_info, answers="requests whose proteins are given no GO (their homologs' GO is used)")]

    # -- the batcher
    async def predict(self, records, go, request: PredictRequest) -> tuple[object, list[dict]]:
        """(the model that answered, the protein reports) of one predict request."""
        loop = asyncio.get_running_loop()
        with self._loop_lock:
            # one queue and worker task per event loop (a test client may run several loops)
            if self._loop is not loop or self._worker is None or self._worker.done():
                self._loop, self._queue = loop, asyncio.Queue()
                self._worker = loop.create_task(self._run(self._queue))
        item = _Pending(records, go, request, loop.create_future())
        await self._queue.put(item)
        return await item.future

    async def _run(self, queue: asyncio.Queue) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            n = len(batch[0].records)
            # requests that arrive within BATCH_WINDOW_S of the first join it: clients that
            # got their answers together send their next requests a few ms apart
            deadline = loop.time() + BATCH_WINDOW_S
            while n < MAX_BATCH_SEQUENCES:
                try:
                    item = queue.get_nowait() if not queue.empty() else await asyncio.wait_for(
                        queue.get(), max(0.0, deadline - loop.time()))
                except asyncio.TimeoutError:
                    break
                batch.append(item)
                n += len(item.records)
            logger.debug("batch of %d request(s), %d protein(s)", len(batch), n)
            # one scoring pass per (GO transfer, model): a request given no GO for any of its
            # proteins goes to the model for proteins without GO (model_for)
            groups: dict[tuple[bool, bool], list[_Pending]] = {}
            for item in batch:
                go_given = bool(item.go) and any(item.go.get(rid) for rid, _ in item.records)
                groups.setdefault((item.request.go_transfer, go_given), []).append(item)
            for (transfer, go_given), items in groups.items():
                model = self.model_for(go_given, transfer)
                try:
                    answers = await loop.run_in_executor(self._executor, self._score, items, transfer, model)
                except Exception as exc:  # noqa: BLE001 (each waiting request gets the failure)
                    for item in items:
                        if not item.future.done():
                            item.future.set_exception(exc)
                    continue
                for item, answer in zip(items, answers):
                    if not item.future.done():
                        item.future.set_result(answer)

    def _score(self, items: list[_Pending], transfer: bool, model) -> list[tuple[object, list[dict]]]:
        """Runs in the core's thread: one scoring pass of `model` for every protein of
        `items`; (the model, the protein reports) per item."""
        from genepheno_core.interpret.neighbours import nearest_proteins, ortholog_evidence
        from genepheno_core.interpret.report import protein_reports, score_records

        records, go, rows = [], {}, []
        for n, item in enumerate(items):
            mine = []
            for rid, seq in item.records:
                key = f"r{n}.{len(records)}"  # unique in the batch; reported under the caller's id
                item.names[key] = rid
                mine.append(len(records))
                records.append((key, seq))
                if item.go and item.go.get(rid):
                    go[key] = item.go[rid]
            rows.append(mine)
        logger.info("scoring %d protein(s) of %d request(s)", len(records), len(items))
        k_near = max(i.request.nearest for i in items)
        k_orth = max(i.request.homologs for i in items) if model.uses_ortholog else 0
        # the two evidence searches (DIAMOND subprocesses, read-only on the loaded model) run
        # while the proteins are encoded: a batch of 8 takes ~1.8 s instead of ~2.5 s
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="genepheno-search") as pool:
            near = pool.submit(nearest_proteins, model, records, k=k_near) if k_near else None
            orth = pool.submit(ortholog_evidence, model, records) if k_orth else None
            scored = score_records(model, records, go or None, transfer_go=transfer)
            near = near.result() if near is not None else None
            orth = orth.result() if orth is not None else None
        out = []
        for item, mine in zip(items, rows):
            r = item.request
            sub_near = near.groupby("query", sort=False).head(r.nearest) if near is not None and r.nearest else None
            sub_orth = orth.groupby("query", sort=False).head(r.homologs) if orth is not None and r.homologs else None
            out.append((model, protein_reports(model, scored, mine, top=r.top, threshold=r.threshold, view=r.view,
                                               evidence=r.evidence, nearest=sub_near, homologs=sub_orth,
                                               names=item.names)))
        return out

    async def call(self, function, *args, **kwargs):
        """Run a core call in the core's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: function(*args, **kwargs))

    # -- explain and the vocabulary (run in the core's thread)
    def explain(self, request: ExplainRequest, record: tuple[str, str], model=None) -> dict:
        """`model`: the model that explains (default: model_for the request's GO)."""
        from genepheno_core.interpret.attributions import residue_attributions
        from genepheno_core.interpret.contributions import explain
        from genepheno_core.interpret.report import explanation_report

        go = request.go if request.go is not None else []
        model = model if model is not None else self.model_for(bool(go), request.go_transfer)
        result = explain(model, record, phenotype=[request.phenotype], go_annotations=go,
                         transfer_go=request.go_transfer)
        residues = None
        if request.residues:
            residues = residue_attributions(model, record, phenotype=request.phenotype,
                                            go_annotations=result.go_annotations or None, max_steps=IG_MAX_STEPS)
        return explanation_report(model, result, request.phenotype, residues)

    def phenotypes(self, q: str, limit: int) -> dict:
        from genepheno_core.interpret.inference import term_priors

        terms = self._terms
        ids = terms["term_id"].astype(str)
        names = terms["name"].astype(str) if "name" in terms else ids
        text = q.strip().lower()
        if text:
            hit = ids.str.lower().eq(text) | ids.str.lower().str.startswith(text) | names.str.lower().str.contains(
                re.escape(text), regex=True)
        else:
            hit = ids.notna()
        idx = hit[hit].index.to_numpy()
        # exact id first, then names that start with the text, then the rest; each by name
        key = [(0 if ids[i].lower() == text else 1 if names[i].lower().startswith(text) else 2, names[i].lower())
               for i in idx]
        idx = [i for _, i in sorted(zip(key, idx))]
        prior = term_priors(self.model)
        return {"query": q, "total": len(idx), "phenotypes": [
            {"id": ids[i], "name": names[i], "prior": float(prior[i])} for i in idx[:limit]]}

    def has_phenotype(self, term: str, model=None) -> bool:
        """`term` is a phenotype of `model` (default the served model; the sibling for
        proteins without GO may have a smaller vocabulary: it was trained on another build)."""
        if model is None or model is self.model:
            return term in set(self._terms["term_id"].astype(str))
        return term in set(model.terms["term_id"].astype(str))


# ----------------------------------------------------------------------------- input

def _records(sequences: str | list[SequenceItem]) -> list[tuple[str, str]]:
    """The request's proteins, checked by the core's user-input layer (as the dashboard)."""
    if isinstance(sequences, str):
        return user_input.parse_user_input(text=sequences, source="sequences", gene_names=False).records
    return user_input.parse_user_records([(s.id, s.sequence) for s in sequences], source="sequences").records


def _go_ids(values: list[str], where: str) -> list[str]:
    return user_input.parse_go_text(" ".join(values)) if values else []


def _go_map(go, records) -> dict[str, list[str]] | None:
    if go is None:
        return None
    if isinstance(go, list):
        ids = _go_ids(go, "go")
        return {rid: ids for rid, _ in records} if ids else None
    known = {rid for rid, _ in records}
    unknown = sorted(set(go) - known)
    if unknown:
        raise InputFormatError("go", f"GO given for {', '.join(map(repr, unknown[:3]))}, which is not a protein "
                               f"of the request (ids: {', '.join(sorted(known)[:5])})")
    return {rid: _go_ids(ids, f"go[{rid}]") for rid, ids in go.items()}


# ----------------------------------------------------------------------------- the app

class BodySizeLimit:
    """ASGI middleware: a request whose body is larger than `max_bytes` gets a 413 before
    anything reads or parses it (by its Content-Length, or while a chunked body streams)."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self, size: str) -> JSONResponse:
        return JSONResponse(status_code=413, content={"detail": (
            f"request body of {size} is larger than the limit of {self.max_bytes:,} bytes "
            f"(at most {user_input.MAX_SEQUENCES} proteins of {user_input.MAX_RESIDUES:,} residues per request)")})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                return await JSONResponse(status_code=400, content={"detail": "invalid Content-Length"})(
                    scope, receive, send)
            if declared > self.max_bytes:
                return await self._too_large(f"{declared:,} bytes")(scope, receive, send)
        # read the body here, up to the limit, and hand it on in one piece: a chunked body
        # (no Content-Length) is refused as soon as it passes the limit, before any parsing
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                return await self._too_large(f"more than {self.max_bytes:,} bytes")(scope, receive, send)
            if not message.get("more_body", False):
                break
        handed = False

        async def replay():
            nonlocal handed
            if not handed:
                handed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def create_app(model: str | Path | None = None, service: Service | None = None,
               no_go_model: str | Path | None = "auto") -> FastAPI:
    """The API over `model` (a model directory, a shipped model's name, or None for the
    default hpo model) and `no_go_model` (see Service), loaded when the app starts (or
    `service`, already loaded)."""
    state = {"model": model, "service": service}

    def get_service() -> Service:
        if state["service"] is None:
            with _SERVICE_LOCK:
                if state["service"] is None:
                    state["service"] = Service(state["model"], no_go_model=no_go_model)
        return state["service"]

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        # the model is loaded (and warmed up) before the first request is accepted
        await asyncio.get_running_loop().run_in_executor(None, get_service)
        yield

    # FastAPIOffline: the /docs and /redoc pages from files shipped with the package, not a
    # CDN (a server without internet access still shows its documentation)
    app = FastAPIOffline(title="GenePheno API", version=__version__, lifespan=lifespan, description=(
        "Knockout phenotype predictions from protein sequence, with their evidence. "
        f"Limits: {user_input.input_limits_text()}"))
    app.state.get_service = get_service

    @app.exception_handler(GenePhenoError)
    async def _our_error(request: Request, exc: GenePhenoError):
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        problems = []
        for err in exc.errors():
            loc = list(err.get("loc", ()))
            if err.get("type") == "json_invalid":  # loc: ("body", character position)
                reason = (err.get("ctx") or {}).get("error", "")
                problems.append(f"body: not valid JSON (at character {loc[-1]}{': ' + str(reason) if reason else ''})")
                continue
            where = ".".join(str(p) for p in loc if p != "body") or "body"
            problems.append(f"{where}: {err.get('msg', 'invalid')}")
        return JSONResponse(status_code=422, content={"detail": "; ".join(dict.fromkeys(problems))})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(status_code=500, content={"detail": "internal error (logged on the server)"})

    @app.get("/healthz", summary="Is the server up, and which model does it serve")
    def healthz():
        service = get_service()
        return {"status": "ok", "model": service.info["name"], "version": service.info["version"]}

    @app.get("/v1/models", summary="The models this server answers with, and for which proteins")
    def models():
        return {"models": get_service().models}

    @app.get("/v1/phenotypes", summary="Search the model's phenotypes by id or name")
    async def phenotypes(q: Annotated[str, Query(max_length=200)] = "",
                         limit: Annotated[int, Query(ge=1, le=500)] = 20):
        service = get_service()
        return service.phenotypes(q, limit)

    @app.post("/v1/predict", summary="Predicted phenotypes of up to 20 proteins, with their evidence")
    async def predict(body: PredictRequest):
        service = get_service()
        records = _records(body.sequences)
        go = _go_map(body.go, records)
        if body.evidence and (body.top is None or body.top > MAX_EVIDENCE_ROWS):
            raise InputFormatError("top", f"evidence is listed for at most {MAX_EVIDENCE_ROWS} phenotypes per "
                                   "protein: lower top or set evidence to 0")
        model, proteins = await service.predict(records, go, body)
        cut = float(model.threshold if body.threshold is None else body.threshold)
        info = service.info if model is service.model else service.no_go_info
        return {"model": info, "threshold": cut, "view": body.view, "proteins": proteins}

    @app.post("/v1/explain", summary="Why one protein gets one phenotype: every contribution to its logit")
    async def explain(body: ExplainRequest):
        service = get_service()
        text = body.sequence if body.sequence.lstrip().startswith(">") else f">{body.id}\n{body.sequence}\n"
        if not body.sequence.lstrip().startswith(">"):
            records = user_input.parse_user_records([(body.id, body.sequence)], source="sequence").records
        else:
            records = user_input.parse_user_input(text=text, source="sequence", gene_names=False).records
        if len(records) != 1:
            raise InputFormatError("sequence", f"{len(records)} proteins: explain takes one")
        model = service.model_for(bool(body.go), body.go_transfer)
        if not service.has_phenotype(body.phenotype, model) and service.has_phenotype(body.phenotype):
            model = service.model  # a phenotype the sibling does not predict (its vocabulary is smaller)
        if not service.has_phenotype(body.phenotype, model):
            raise InputFormatError("phenotype", f"unknown phenotype {body.phenotype!r}: not among the model's "
                                   f"{len(model.terms):,} phenotypes (GET /v1/phenotypes?q= finds them)")
        if body.go:
            body = body.model_copy(update={"go": _go_ids(body.go, "go")})
        if body.residues and len(records[0][1]) > MAX_RESIDUE_ATTRIBUTION:
            raise InputFormatError("residues", f"residue attributions take proteins of up to "
                                   f"{MAX_RESIDUE_ATTRIBUTION:,} residues; this one has {len(records[0][1]):,}")
        return await service.call(service.explain, body, records[0], model)

    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    return app


_SERVICE_LOCK = threading.Lock()
