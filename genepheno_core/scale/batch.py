"""Batch prediction and embedding of large FASTA files, block by block, in this process or on Ray Data.

    predict_blocks("proteome.fasta.gz", "out/", model=None, engine="ray")  # Parquet parts
    embed_blocks("proteome.fasta.gz", "unirep256", engine="ray")           # fills the cache

The driver streams the FASTA (plain or gzip) and cuts it into blocks of `block_size` records
(`iter_fasta_blocks`); it never parses sequences, so its memory does not grow with the
file. Each block is parsed, checked, embedded, searched (the cross-species DIAMOND search
and the GO transfer, one search per block) and predicted by `predict_block`, the same
function for both engines: "local" runs it in a loop here, "ray" in a Ray Data actor pool
where each actor loads the model (and its encoder) once. Blocks go to Ray in windows of
`WINDOW_BLOCKS` (or 8 per worker, if more), so the driver and the object store hold one
window's text at a time (64 blocks of 500 proteins: ~15 MB).

Output (`out_dir`): `part-NNNNNN.parquet` per block (one row per protein and kept
phenotype: the tsv format's columns, with the evidence columns), each written atomically
and carrying its block's sha256 in the Parquet metadata, and `_run.json` (model, version,
options; `complete` once every block is there). A rerun over the same directory skips every
block whose part holds the same records, so a killed run resumes where it stopped and a
deleted part is recomputed alone; a run with another model or other options is refused
rather than mixed in. A bad record stops the run with an error naming the file, line and
record; the parts finished before it stay.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import os
import resource
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from genepheno_core.errors import GenePhenoError, InputFormatError, MissingDataError
from genepheno_core.io import atomic_path, atomic_write_text

logger = logging.getLogger(__name__)

RUN_FILE = "_run.json"
RUN_FORMAT = "genepheno-batch-predictions/1"
PART_GLOB = "part-*.parquet"
METADATA_KEY = b"genepheno.block"
DEFAULT_BLOCK_SIZE = 500  # proteins per block: ~1-2 minutes of one 1-CPU worker at ~400 residues each
WINDOW_BLOCKS = 64  # blocks handed to Ray Data at a time, at least (the driver holds one window's text)
ENGINES = ("local", "ray")


# ---------------------------------------------------------------------------------------
# reading a FASTA in blocks


@dataclass(frozen=True)
class FastaBlock:
    """`n_records` consecutive FASTA records: `text` from the header of the first, which is
    line `first_line` (1-based) of the file."""

    index: int
    first_line: int
    text: str
    n_records: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def line_of(self, record: str) -> int | None:
        """The file line of record `record`'s header in this block (None if not found)."""
        from genepheno_core.embeddings.sequences import record_id

        for k, line in enumerate(self.text.splitlines()):
            if line.startswith(">") and record_id(line[1:].strip()) == record:
                return self.first_line + k
        return None


def _open_text(path: Path):
    if not path.is_file():
        raise MissingDataError(f"{path}: no such file")
    with open(path, "rb") as handle:
        magic = handle.read(2)
    raw = gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8", newline=None)


def _min_block_size() -> int:
    # from datasets.alignment, not models: the Ray engine's driver never imports torch
    from genepheno_core.datasets.alignment import QUERY_INDEXED_MAX

    return QUERY_INDEXED_MAX + 1


def check_block_size(block_size: int) -> int:
    """Refuse blocks small enough for DIAMOND's query-indexed mode; returns the smallest allowed."""
    smallest = _min_block_size()
    if block_size < smallest:
        raise GenePhenoError(f"block size must be >= {smallest} proteins, got {block_size} (smaller searches run in "
                             "DIAMOND's query-indexed mode, whose hits differ slightly from a whole file's)")
    return smallest


def iter_fasta_blocks(path: str | os.PathLike, block_size: int = DEFAULT_BLOCK_SIZE) -> Iterator[FastaBlock]:
    """Stream `path` (FASTA, gzip ok) as blocks of `block_size` records; a short last block
    joins the one before it. Every block of a file with more than QUERY_INDEXED_MAX (50)
    records has more than that many, so each block's GO-transfer search runs in the same
    DIAMOND mode as a search of the whole file, and the blocks' predictions equal the whole
    file's in one process (go_transfer: the query-indexed mode of small searches gives
    slightly different hits). Raises InputFormatError naming the line for text before the
    first header, a file that is not UTF-8 text, a corrupt gzip stream or an id used twice
    (ids must be unique across the file: every output row names one input record)."""
    from genepheno_core.embeddings.sequences import record_id

    smallest = check_block_size(block_size)
    path = Path(path)
    seen: dict[str, int] = {}
    lines: list[str] = []
    first_line, n_records, index, number = 0, 0, 0, 0
    pending: FastaBlock | None = None  # a full block, held until we know the next is not short
    with _open_text(path) as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if line.startswith(">"):
                    if n_records == block_size:
                        pending = FastaBlock(index, first_line, "".join(lines), n_records)
                        index, lines, n_records = index + 1, [], 0
                    if n_records == 0:
                        first_line = number
                    elif n_records == smallest - 1 and pending is not None:
                        yield pending  # the block after it will not be short
                        pending = None
                    rid = record_id(line[1:].strip())
                    if rid in seen:
                        raise InputFormatError(path, f"duplicate id (also on line {seen[rid]}); batch prediction "
                                               "needs unique ids", line=number, record=rid)
                    seen[rid] = number
                    n_records += 1
                elif n_records == 0:
                    if line.strip():
                        raise InputFormatError(path, "text before the first FASTA header ('>'); batch prediction "
                                               "reads FASTA", line=number)
                    continue
                lines.append(line)
        except UnicodeDecodeError as exc:
            raise InputFormatError(path, f"not a text file (byte {exc.start} of a line is not UTF-8)",
                                   line=number + 1) from None
        except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
            raise InputFormatError(path, f"corrupt gzip file ({exc})", line=number + 1) from None
    last = FastaBlock(index, first_line, "".join(lines), n_records) if n_records else None
    if pending is not None and last is not None and last.n_records < smallest:
        yield FastaBlock(pending.index, pending.first_line, pending.text + last.text,
                         pending.n_records + last.n_records)
        return
    if pending is not None:
        yield pending
    if last is not None:
        yield last
    elif pending is None:
        raise InputFormatError(path, "no sequences (empty input)")


def count_records(path: str | os.PathLike) -> int:
    """Number of FASTA headers in `path` (for the progress bar; a fast pass over bytes)."""
    path = Path(path)
    with open(path, "rb") as handle:
        gz = handle.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    count, previous = 0, b"\n"
    try:
        with opener(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 22), b""):
                count += chunk.count(b"\n>") + (previous == b"\n" and chunk[:1] == b">")
                previous = chunk[-1:]
    except (OSError, EOFError):
        return 0  # iter_fasta_blocks reports the corrupt stream with its line
    return count


def parse_block(block: FastaBlock, source: object, translate: bool = True,
                min_length: int | None = None, max_nonstandard: float | None = None) -> list[tuple[str, str]]:
    """The block's [(id, sequence)], checked as `predict` checks its input; an error names
    the file, the record and its line in the file."""
    from genepheno_core.embeddings import parse_sequences
    from genepheno_core.embeddings.sequences import MAX_NONSTANDARD_FRACTION

    try:
        return parse_sequences(block.text, translate=translate, text=True, source=str(source),
                               min_length=min_length,
                               max_nonstandard=MAX_NONSTANDARD_FRACTION if max_nonstandard is None else max_nonstandard)
    except InputFormatError as exc:
        line = block.line_of(exc.record) if exc.record else None
        if line is None and exc.line is not None:
            line = block.first_line + exc.line - 1
        raise InputFormatError(source, exc.problem, line=line, record=exc.record) from None


# ---------------------------------------------------------------------------------------
# predicting one block


@dataclass(frozen=True)
class BatchOptions:
    """What each protein's rows hold (the `predict` options of the tsv format)."""

    top: int | None = 10  # phenotypes per protein; None: every term
    threshold: float | None = None  # None: the model's validation-optimal threshold
    concepts: int = 3  # evidence items per row (0: no evidence columns)
    view: str = "all"
    go_transfer: bool = True
    min_length: int | None = None  # None: the core's default (20 residues)
    cache: bool = True  # read and fill the embedding cache

    def __post_init__(self):
        if self.top is not None and self.top < 1:
            raise GenePhenoError(f"top must be >= 1 or None (all), got {self.top}")
        if self.threshold is not None and not 0 <= self.threshold <= 1:
            raise GenePhenoError(f"threshold must be within [0, 1], got {self.threshold}")
        if self.view not in ("all", "specific"):
            raise GenePhenoError(f"view must be 'all' or 'specific', got {self.view!r}")
        if self.concepts < 0:
            raise GenePhenoError(f"concepts must be >= 0, got {self.concepts}")


def predict_records(model, records: list[tuple[str, str]], options: BatchOptions,
                    timings: dict | None = None) -> pd.DataFrame:
    """The rows of `records` (PREDICTION_COLUMNS, plus top_concepts and top_evidence when
    options.concepts > 0, and go_origin): what `predict --format tsv` computes for them.
    `timings` (a dict) receives the seconds of each stage: embed (the encoder), go_transfer
    (the GO-transfer DIAMOND search), model (the cross-species DIAMOND search and the forward
    pass), evidence. The stages run one after the other (a block's worker has one CPU;
    `predict` overlaps the searches with encoding for a few pasted proteins instead)."""
    from genepheno_core.interpret.contributions import top_concepts, top_evidence
    from genepheno_core.interpret.inference import (
        embed_for_model,
        logit_matrix,
        prepare_inputs,
        ranked_frame,
        score_matrix,
    )

    clock = time.perf_counter()
    embeddings = embed_for_model(model, [s for _, s in records], cache=options.cache)  # (n, D) or None
    t_embed = time.perf_counter()
    inputs = prepare_inputs(model, records, None, embeddings=embeddings, cache=options.cache,
                            transfer_go=options.go_transfer)
    t_inputs = time.perf_counter()
    logits = logit_matrix(model, inputs)  # (n, K)
    scores = score_matrix(model, inputs, logits=logits)  # (n, K), propagated to ancestors
    frame = ranked_frame(model, inputs.ids, scores, options.top, options.threshold, logits=logits, view=options.view)
    t_model = time.perf_counter()
    if options.concepts > 0:
        frame["top_concepts"] = top_concepts(model, inputs, frame, options.concepts)
        # always present (empty for a model without GO-term / homolog weights): every part
        # of one output has the same schema
        frame["top_evidence"] = top_evidence(model, inputs, frame, options.concepts)
    frame["go_origin"] = frame["gene"].map({g: inputs.go_origin(i) for i, g in enumerate(inputs.ids)})
    if timings is not None:
        timings.update(embed=t_embed - clock, go_transfer=t_inputs - t_embed, model=t_model - t_inputs,
                       evidence=time.perf_counter() - t_model)
    return frame.reset_index(drop=True)


def part_path(out_dir: Path, index: int) -> Path:
    return out_dir / f"part-{index:06d}.parquet"


def write_part(frame: pd.DataFrame, path: Path, block: FastaBlock) -> None:
    """One block's rows as Parquet, atomically, with the block's identity in the metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = {"index": block.index, "sha256": block.sha256, "first_line": block.first_line,
            "proteins": block.n_records}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), METADATA_KEY: json.dumps(meta).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def part_block(path: Path) -> dict | None:
    """The block identity stored in a part (None: unreadable or not ours)."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
        return json.loads(meta[METADATA_KEY])
    except Exception:  # noqa: BLE001 - a damaged part is recomputed
        return None


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _summarised(block: FastaBlock, work) -> dict:
    """Run `work()` (returning the block's counts) and give the block's summary row. A
    GenePhenoError (a bad record) is returned in the row, not raised, so that the driver
    stops the run cleanly and keeps the parts already written."""
    start = time.perf_counter()
    summary = {"index": block.index, "proteins": 0, "residues": 0, "rows": 0, "seconds": 0.0,
               "peak_rss_mb": 0.0, "error": "", "error_fields": "", "timings": "{}"}
    try:
        summary.update(work())
    except GenePhenoError as exc:
        summary["error"] = str(exc)
        if isinstance(exc, InputFormatError):
            summary["error_fields"] = json.dumps({"path": str(exc.path), "problem": exc.problem, "line": exc.line,
                                                  "record": exc.record})
    summary["seconds"] = time.perf_counter() - start
    summary["peak_rss_mb"] = _peak_rss_mb()
    return summary


def run_block(model, block: FastaBlock, options: BatchOptions, out_dir: Path, source: str) -> dict:
    """Parse, predict and write one block; returns its summary row (`_summarised`)."""

    def work() -> dict:
        records = parse_block(block, source, min_length=options.min_length)
        timings: dict[str, float] = {}
        frame = predict_records(model, records, options, timings)
        clock = time.perf_counter()
        write_part(frame, part_path(out_dir, block.index), block)
        timings["write"] = time.perf_counter() - clock
        return dict(proteins=len(records), residues=sum(len(s) for _, s in records), rows=len(frame),
                    timings=json.dumps(timings))

    return _summarised(block, work)


def _raise_block_error(summary: dict, out_dir: Path, kept: int) -> None:
    note = f" ({kept} finished block(s) are kept in {out_dir}; fix the input and rerun to resume)"
    if summary.get("error_fields"):
        f = json.loads(summary["error_fields"])
        raise InputFormatError(f["path"], f["problem"] + note, line=f["line"], record=f["record"])
    raise GenePhenoError(summary["error"] + note)


# ---------------------------------------------------------------------------------------
# the run: output directory, resume, engines


@dataclass
class BatchSummary:
    """What a batch run did."""

    out_dir: Path
    blocks: int = 0
    computed: int = 0  # blocks computed by this run
    reused: int = 0  # blocks whose part was already there
    proteins: int = 0  # proteins computed by this run
    residues: int = 0
    rows: int = 0
    seconds: float = 0.0
    peak_rss_mb: float = 0.0  # the largest worker (or this process, local engine)
    engine: str = "local"
    workers: int = 1
    block_seconds: list[float] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)  # summed over blocks (predict_records)


def model_identity(model) -> dict:
    """{name, version, path} of a model (a TrainedModel, a checkpoint directory, a shipped
    model's name, or None: the default), without loading one from disk: the Ray engine's
    driver only names the model its workers load. `version` is model_info's (the first 16
    hex digits of the weights' SHA-256)."""
    from genepheno_core.errors import ModelLoadError
    from genepheno_core.interpret.model_store import default_model_path, models_dir
    from genepheno_core.io import sha256_file

    if model is not None and not isinstance(model, (str, os.PathLike)):
        path = Path(model.path)  # a loaded model
    elif model is None:
        path = default_model_path()
    else:
        path = Path(model).expanduser()
        if not path.exists() and (models_dir() / str(model) / "config.json").exists():
            path = models_dir() / str(model)  # a shipped model's name: "hpo", "mpo"
    for name in ("config.json", "model.safetensors"):
        if not (path / name).is_file():
            raise ModelLoadError(path / name, "missing (not a GenePheno model directory)")
    path = path.resolve()
    return {"name": path.name, "version": sha256_file(path / "model.safetensors")[:16], "path": str(path)}


def _run_record(identity: dict, options: BatchOptions, block_size: int, source: Path) -> dict:
    return {"format": RUN_FORMAT, "model": identity, "options": asdict(options), "block_size": int(block_size),
            "input": str(source), "complete": False}


def _check_run_dir(out_dir: Path, record: dict) -> None:
    """Refuse a directory that is not ours, or holds a run with another model or options."""
    if out_dir.exists() and not out_dir.is_dir():
        raise GenePhenoError(f"{out_dir}: exists and is not a directory (batch output is a directory of Parquet parts)")
    run = out_dir / RUN_FILE
    if out_dir.is_dir() and any(out_dir.iterdir()) and not run.is_file():
        raise GenePhenoError(f"{out_dir}: not empty and not a GenePheno batch output (no {RUN_FILE}); "
                             "choose a new or empty directory")
    if run.is_file():
        try:
            old = json.loads(run.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise GenePhenoError(f"{run}: unreadable ({exc}); delete the directory to start over") from None
        for key, label in (("model", "model"), ("options", "options"), ("block_size", "block size")):
            a = old.get(key)
            b = record[key]
            if key == "model":
                a, b = (a or {}).get("version"), b["version"]
            if a != b:
                raise GenePhenoError(f"{out_dir} holds predictions made with another {label} ({a!r}, now {b!r}); "
                                     "use a new directory, or delete this one to start over")


def _finished_parts(out_dir: Path) -> dict[int, str]:
    """{block index: sha256} of the readable parts in out_dir."""
    out = {}
    for path in sorted(out_dir.glob(PART_GLOB)):
        meta = part_block(path)
        if meta is not None:
            out[int(meta["index"])] = meta["sha256"]
    return out


def _progress(total: int, enabled: bool, unit: str = "protein"):
    from tqdm.auto import tqdm

    return tqdm(total=total or None, unit=unit, disable=not enabled, smoothing=0.1)


def predict_blocks(fasta: str | os.PathLike, out_dir: str | os.PathLike, model=None,
                   options: BatchOptions | None = None, *, engine: str = "local", address: str | None = None,
                   workers: int | None = None, cpus: int | None = None, block_size: int = DEFAULT_BLOCK_SIZE,
                   progress: bool = False) -> BatchSummary:
    """Predict every protein of `fasta` into Parquet parts under `out_dir` (module docstring),
    with the in-process engine or on Ray ("ray": `address` joins a cluster, else a local
    instance of `cpus` CPUs, default all; `workers` actors of one CPU each, default one per
    CPU). Returns what was done; read the result with `read_predictions(out_dir)`."""
    from genepheno_core.interpret.model_store import resolve_model

    if engine not in ENGINES:
        raise GenePhenoError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "local" and (address or workers not in (None, 1) or cpus):
        raise GenePhenoError("address, workers and cpus need engine 'ray'")
    options = options or BatchOptions()
    check_block_size(block_size)
    fasta = Path(fasta)
    out_dir = Path(out_dir)
    if not fasta.is_file():
        raise MissingDataError(f"{fasta}: no such file")
    identity = model_identity(model)
    if engine == "local":
        model = resolve_model(model)
    record = _run_record(identity, options, block_size, fasta)
    _check_run_dir(out_dir, record)
    for parent in out_dir.parents:  # a file in the way of the directory: refused before any work
        if parent.exists() and not parent.is_dir():
            raise GenePhenoError(f"{out_dir}: {parent} is not a directory")
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / RUN_FILE, json.dumps(record, indent=1) + "\n")
    done = _finished_parts(out_dir)
    summary = BatchSummary(out_dir=out_dir, engine=engine)
    start = time.perf_counter()
    bar = _progress(count_records(fasta), progress)

    def todo_blocks() -> Iterator[FastaBlock]:
        for block in iter_fasta_blocks(fasta, block_size):
            summary.blocks += 1
            if done.get(block.index) == block.sha256:
                summary.reused += 1
                bar.update(block.n_records)
                continue
            yield block

    def record_summary(row: dict) -> None:
        if row["error"]:
            bar.close()
            kept = len(_finished_parts(out_dir))
            _raise_block_error(row, out_dir, kept)
        summary.computed += 1
        summary.proteins += int(row["proteins"])
        summary.residues += int(row["residues"])
        summary.rows += int(row["rows"])
        summary.peak_rss_mb = max(summary.peak_rss_mb, float(row["peak_rss_mb"]))
        summary.block_seconds.append(float(row["seconds"]))
        for stage, seconds in json.loads(row.get("timings") or "{}").items():
            summary.stage_seconds[stage] = summary.stage_seconds.get(stage, 0.0) + float(seconds)
        bar.update(int(row["proteins"]))
        logger.info("block %d: %d proteins in %.1f s (%d blocks computed, %d reused so far)", row["index"],
                    row["proteins"], row["seconds"], summary.computed, summary.reused)

    try:
        if engine == "local":
            for block in todo_blocks():
                record_summary(run_block(model, block, options, out_dir, str(fasta)))
        else:
            summary.workers = _run_on_ray(todo_blocks(), record_summary, _PredictActor,
                                          dict(model_path=identity["path"], options=asdict(options),
                                               out_dir=str(out_dir.resolve()), source=str(fasta)),
                                          address=address, workers=workers, cpus=cpus)
    finally:
        bar.close()
    # parts of blocks past the end of a (now shorter) input belong to an earlier run
    for index in sorted(set(_finished_parts(out_dir)) - set(range(summary.blocks))):
        logger.warning("%s: removing %s (block %d is past the end of %s)", out_dir, part_path(out_dir, index).name,
                       index, fasta)
        part_path(out_dir, index).unlink(missing_ok=True)
    summary.seconds = time.perf_counter() - start
    atomic_write_text(out_dir / RUN_FILE, json.dumps(
        {**record, "complete": True, "blocks": summary.blocks,
         "proteins": sum(int((part_block(p) or {}).get("proteins", 0)) for p in out_dir.glob(PART_GLOB))},
        indent=1) + "\n")
    logger.info("%s: %d blocks (%d computed, %d reused), %d proteins in %.1f s", out_dir, summary.blocks,
                summary.computed, summary.reused, summary.proteins, summary.seconds)
    return summary


def read_predictions(out_dir: str | os.PathLike) -> pd.DataFrame:
    """Every row of a batch output, in input order (parts by block index). Warns when the run
    is not complete."""
    out_dir = Path(out_dir)
    run = out_dir / RUN_FILE
    if not run.is_file():
        raise MissingDataError(f"{out_dir}: no {RUN_FILE} (not a GenePheno batch output)")
    if not json.loads(run.read_text()).get("complete"):
        logger.warning("%s: the run did not finish; rows of the missing blocks are absent", out_dir)
    parts = sorted(out_dir.glob(PART_GLOB))
    if not parts:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


# ---------------------------------------------------------------------------------------
# Ray Data


class _PredictActor:
    """A Ray Data actor: loads the model once, then predicts and writes one block per call."""

    def __init__(self, model_path: str, options: dict, out_dir: str, source: str):
        from genepheno_core.interpret.model_store import resolve_model

        self.model = resolve_model(model_path)
        self.options = BatchOptions(**options)
        self.out_dir = Path(out_dir)
        self.source = source

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        rows = [run_block(self.model, _block_of(row), self.options, self.out_dir, self.source)
                for row in batch.to_dict("records")]
        return pd.DataFrame(rows)


class _EmbedActor:
    """A Ray Data actor: loads the encoder once, then embeds one block per call into the cache."""

    def __init__(self, encoder: str, source: str, translate: bool = True):
        from genepheno_core.embeddings import get_encoder

        self.encoder = get_encoder(encoder, **({} if translate else {"translate": False}))
        self.source = source

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        rows = [embed_block(self.encoder, _block_of(row), self.source) for row in batch.to_dict("records")]
        return pd.DataFrame(rows)


def _block_of(row: dict) -> FastaBlock:
    return FastaBlock(int(row["index"]), int(row["first_line"]), str(row["text"]), int(row["n_records"]))


def _windows(blocks: Iterator[FastaBlock], size: int) -> Iterator[list[FastaBlock]]:
    window: list[FastaBlock] = []
    for block in blocks:
        window.append(block)
        if len(window) == size:
            yield window
            window = []
    if window:
        yield window


def _run_on_ray(blocks: Iterator[FastaBlock], on_result, actor_cls, actor_kwargs: dict, *, address: str | None,
                workers: int | None, cpus: int | None) -> int:
    """Run `actor_cls` over `blocks` in a Ray Data actor pool of `workers` one-CPU actors,
    window by window, calling `on_result(summary row)` as blocks finish (which may raise to
    stop the run). Returns the number of workers."""
    import ray
    import ray.data

    from genepheno_core.scale.runtime import connect, disconnect, unwrap_error

    clock = time.perf_counter()
    connection = connect(address, num_cpus=cpus)
    logger.info("Ray: connected in %.1f s (%g CPUs)", time.perf_counter() - clock, connection.cpus)
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # ours counts proteins, across windows
        context.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        n = workers or max(1, int(connection.cpus))
        if workers is not None and workers < 1:
            raise GenePhenoError(f"workers must be >= 1, got {workers}")
        # a window ends with its slowest block while other workers wait: at least 8 blocks a worker
        for window in _windows(blocks, max(WINDOW_BLOCKS, 8 * n)):
            items = [{"index": b.index, "first_line": b.first_line, "text": b.text, "n_records": b.n_records}
                     for b in window]
            # one Ray Data block per FASTA block, one FASTA block per call, and one call in
            # flight per actor: Ray Data would otherwise queue several blocks on the first
            # actor that is ready while the others still load the model (measured: 2 blocks
            # on 2 workers ran one after the other)
            dataset = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
                actor_cls, fn_constructor_kwargs=actor_kwargs, batch_size=1, batch_format="pandas",
                compute=ray.data.ActorPoolStrategy(size=min(n, len(items)), max_tasks_in_flight_per_actor=1),
                num_cpus=1)
            try:
                for k, row in enumerate(dataset.iter_rows()):
                    if k == 0:
                        logger.info("Ray: first block of the window back %.1f s after connecting (%.1f s of it "
                                    "computing)", time.perf_counter() - clock, row["seconds"])
                    on_result(dict(row))
            except GenePhenoError:
                raise
            except Exception as exc:  # noqa: BLE001 - a worker's user-facing error, unwrapped
                inner = unwrap_error(exc)
                if inner is exc:
                    raise
                raise inner from None
        return n
    finally:
        if connection.started_here:
            disconnect(connection)


# ---------------------------------------------------------------------------------------
# embedding


def embed_block(encoder, block: FastaBlock, source: str) -> dict:
    """Embed one block into the embedding cache (shards are written atomically under unique
    names: workers writing at once only add files). Returns its summary row."""
    from genepheno_core.embeddings import embed_sequences

    def work() -> dict:
        records = parse_block(block, source, translate=encoder.translate_nucleotides)
        embed_sequences([s for _, s in records], encoder, cache=True)
        return dict(proteins=len(records), residues=sum(len(s) for _, s in records), rows=len(records))

    return _summarised(block, work)


def embed_blocks(fasta: str | os.PathLike, encoder: str, *, engine: str = "local", address: str | None = None,
                 workers: int | None = None, cpus: int | None = None, block_size: int = DEFAULT_BLOCK_SIZE,
                 translate: bool = True, progress: bool = False) -> BatchSummary:
    """Fill the embedding cache with every sequence of `fasta` (the cache is the output: a
    rerun finds every finished block's vectors there and embeds nothing again)."""
    from genepheno_core.embeddings import get_encoder

    if engine not in ENGINES:
        raise GenePhenoError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    check_block_size(block_size)
    fasta = Path(fasta)
    if not fasta.is_file():
        raise MissingDataError(f"{fasta}: no such file")
    summary = BatchSummary(out_dir=Path(), engine=engine)
    start = time.perf_counter()
    bar = _progress(count_records(fasta), progress)

    def blocks() -> Iterator[FastaBlock]:
        for block in iter_fasta_blocks(fasta, block_size):
            summary.blocks += 1
            yield block

    def record_summary(row: dict) -> None:
        if row["error"]:
            bar.close()
            _raise_block_error(row, Path("the embedding cache"), summary.computed)
        summary.computed += 1
        summary.proteins += int(row["proteins"])
        summary.residues += int(row["residues"])
        summary.peak_rss_mb = max(summary.peak_rss_mb, float(row["peak_rss_mb"]))
        summary.block_seconds.append(float(row["seconds"]))
        bar.update(int(row["proteins"]))

    try:
        if engine == "local":
            enc = get_encoder(encoder, **({} if translate else {"translate": False}))
            for block in blocks():
                record_summary(embed_block(enc, block, str(fasta)))
        else:
            summary.workers = _run_on_ray(blocks(), record_summary, _EmbedActor,
                                          dict(encoder=encoder, source=str(fasta), translate=translate),
                                          address=address, workers=workers, cpus=cpus)
    finally:
        bar.close()
    summary.seconds = time.perf_counter() - start
    return summary


def embeddings_of(fasta: str | os.PathLike, encoder: str, translate: bool = True) -> tuple[list[str], np.ndarray]:
    """(ids, (n, D) vectors) of `fasta` from the embedding cache (after `embed_blocks`)."""
    from genepheno_core.embeddings import embed_sequences, get_encoder, parse_sequences

    enc = get_encoder(encoder, **({} if translate else {"translate": False}))
    records = parse_sequences(Path(fasta), translate=enc.translate_nucleotides)
    return [r for r, _ in records], embed_sequences([s for _, s in records], enc, cache=True)


__all__ = ["BatchOptions", "BatchSummary", "FastaBlock", "iter_fasta_blocks", "predict_blocks", "embed_blocks",
           "read_predictions", "predict_records", "embeddings_of"]
