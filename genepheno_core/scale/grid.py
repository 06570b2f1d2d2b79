"""The benchmark grid on Ray: `benchmark --engine ray [--address ADDR]`.

The driver decides which cells to compute exactly as the local runner does
(`benchmark.grid.CellPlan`: current cells skipped, seed-independent methods reused, a
prediction-time variant trained with its method), submits each missing cell as one Ray task
asking for the CPUs that cell computes with (`cell_cpus`), in plan order as CPUs free up
(`CpuWindow`), records failures as
`<out>/failed/<id>.txt` and writes the tables once at the end (`CellPlan.finish`, the same
`collect_cells` + `write_tables` as a local run).

Each task loads its dataset itself (the same loader, subsampled the same way), builds its
split context and calls `benchmark.grid.run_cell`, which writes `<out>/cells/<id>.json`
exactly as locally: the output directory must be on storage every node shares.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from genepheno_core.benchmark.config import BenchmarkConfig
from genepheno_core.benchmark.grid import (
    CellPlan,
    CellWork,
    _reuse_other_seed,
    context_for,
    data_fingerprint,
    load_benchmark_dataset,
    record_failure,
    run_cell,
    trainer_train_and_predict,
)
from genepheno_core.methods import method_spec

logger = logging.getLogger(__name__)

# Non-neural methods whose computation is not torch's: naive is a column mean (one core);
# diamond-score runs DIAMOND with TrainConfig.diamond_threads (None below: read from the
# config). Every other method - the neural ones (registry `neural`) and kmer-lr, whose
# batched L-BFGS runs in torch - computes with torch threads.
_NOT_TORCH = {"naive": 1, "diamond-score": None}


def torch_threads(config: BenchmarkConfig) -> int:
    """The trainer's thread count for `config` (TrainConfig.num_threads, 1 unless set)."""
    from genepheno_core.training import TrainConfig

    return max(1, int(TrainConfig(**config.train_config).num_threads))


def cell_cpus(method: str, config: BenchmarkConfig, cpus_per_cell: int | None = None,
              max_cpus: float | None = None) -> int:
    """CPUs a cell of `method` asks Ray for, = the threads it computes with.

    Torch methods (neural ones and kmer-lr): `cpus_per_cell`, by default the trainer's
    num_threads of `config` (1 unless --train-config sets it): a local run of the same
    config computes with that many threads, and the thread count can change the last bits of
    a result (kmer-lr's L-BFGS differs by ~4e-4 between 1 and 2 threads), so the default
    keeps the cells equal to a local run's. naive: 1. diamond-score: its DIAMOND threads.
    Never more than `max_cpus` (the largest node: a task no node can hold would wait forever).
    """
    model = method_spec(method).name
    if model in _NOT_TORCH:
        want = _NOT_TORCH[model]
        if want is None:
            from genepheno_core.training import TrainConfig

            want = TrainConfig(**config.train_config).diamond_threads
    else:
        want = cpus_per_cell if cpus_per_cell is not None else torch_threads(config)
    want = max(1, int(want))
    if max_cpus is not None and max_cpus >= 1:
        want = min(want, int(max_cpus))
    return want


def _with_threads(train_and_predict: Callable, threads: int, ds, method: str, encoder: str, split: str,
                  seed: int, train_config: dict, **kwargs):
    """`train_and_predict` with the trainer's num_threads (run control: not in the cell key) =
    the task's CPUs."""
    return train_and_predict(ds, method, encoder, split, seed, {**train_config, "num_threads": threads}, **kwargs)


def _run_cell_task(config: BenchmarkConfig, out_dir: str, work: CellWork, cpus: int, fingerprint: str,
                   loader: Callable, train_and_predict: Callable | None) -> dict:
    """One cell in a Ray worker: load, build the split context, `run_cell` (writes the cell)."""
    import torch

    from genepheno_core.errors import GenePhenoError

    # Ray sets OMP_NUM_THREADS for the task's CPUs, but torch may already have its pool from
    # an earlier task of another size in this (reused) worker: set it explicitly
    torch.set_num_threads(cpus)
    plan = CellPlan(config, out_dir, loader)
    ds = plan.load(work.dataset)
    # the driver decided what to run from its own copy of the data: a node that sees other
    # data (another GENEPHENO_HOME, a rebuilt artifact) would write cells keyed to it
    seen = data_fingerprint(ds, work.split)
    if seen != fingerprint:
        raise GenePhenoError(f"cell {work.cell_id}: this node's {work.dataset!r} data (fingerprint {seen}) is "
                             f"not the driver's ({fingerprint}); the nodes must share GENEPHENO_HOME / the mirror")
    trainer = train_and_predict
    if method_spec(work.base).name not in _NOT_TORCH:
        trainer = functools.partial(_with_threads, train_and_predict or trainer_train_and_predict, cpus)
    record = run_cell(ds, work.dataset, work.split, work.base, work.seed, config, Path(out_dir), trainer,
                      context_for(ds, work.dataset, work.split), variants=work.variants)
    return {"cell": work.cell_id, "fmax": record["metrics"].get("fmax"), "host": os.uname().nodename}


def _original_error(exc: BaseException) -> BaseException:
    """The exception the cell raised in the worker (a GenePhenoError, else the cause of
    Ray's wrapper when it could be carried back), else `exc`."""
    from genepheno_core.scale.runtime import unwrap_error

    inner = unwrap_error(exc)
    if inner is exc and isinstance(getattr(exc, "cause", None), BaseException):
        return exc.cause
    return inner


def _largest_node_cpus() -> float:
    import ray

    cpus = [node.get("Resources", {}).get("CPU", 0.0) for node in ray.nodes() if node.get("Alive")]
    return max(cpus, default=0.0)


class CpuWindow:
    """Which cells to hand to Ray next: in plan order, while their CPUs fit the cluster's.

    Ray schedules every submitted task whose resources are free, in no promised order: with
    all cells submitted at once, a 2-CPU cell (diamond-score) on a 2-CPU machine waited
    behind every 1-CPU cell submitted after it, since one of those always took the CPU that
    freed first. So the driver submits a cell only while the CPUs of the cells in flight plus
    its own fit `capacity` (the cluster's CPUs), always in plan order: a wide cell waits at
    the head of the line until enough CPUs are free, and cells finish roughly in plan order
    (an interrupted run has its first datasets complete). A cell wider than the whole
    capacity is started alone.
    """

    def __init__(self, capacity: float, works: list[CellWork], cpus_of: Callable[[CellWork], int]):
        self.capacity = float(capacity)
        self.queue = list(works)
        self.cpus_of = cpus_of
        self.in_flight = 0.0
        self.n_in_flight = 0

    def ready(self) -> list[CellWork]:
        """The cells to submit now (removed from the queue and counted as in flight)."""
        out = []
        while self.queue:
            need = self.cpus_of(self.queue[0])
            if self.n_in_flight and self.in_flight + need > self.capacity:
                break
            work = self.queue.pop(0)
            self.in_flight += need
            self.n_in_flight += 1
            out.append(work)
        return out

    def finished(self, work: CellWork) -> None:
        self.in_flight -= self.cpus_of(work)
        self.n_in_flight -= 1


def run_benchmark_ray(
    config: BenchmarkConfig,
    out_dir: str | os.PathLike,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    cpus_per_cell: int | None = None,
    command: str | None = None,
    train_and_predict: Callable | None = None,
    load_dataset: Callable | None = None,
    keep_going: bool = True,
    progress: bool = False,
) -> pd.DataFrame:
    """`benchmark.grid.run_benchmark` with each missing cell computed as a Ray task.

    Connects with `scale.runtime.connect` (`address`: join that cluster; else a local
    instance of `num_cpus` CPUs, default all of this machine's) and disconnects only from an
    instance it started. The cells to compute are decided as locally (`CellPlan`); a cell
    asks for `cell_cpus` CPUs and its torch threads are set to them (`cpus_per_cell`: the
    CPUs of a torch cell, default the trainer's num_threads of `config`, which keeps results
    bit-identical to a local run of the same config). Returns `collect_cells`' DataFrame;
    the tables are written once, after the last task.

    `out_dir` must be on storage every node shares (the tasks write the cells; the driver
    reads them for the tables), as must GENEPHENO_HOME / GENEPHENO_MIRROR, which travel to the
    workers. `loader` and `train_and_predict` are pickled to the workers: module-level
    functions of a module the workers can import. Each task loads its dataset (the driver
    loads it too, for the skip decision) and builds its split context: the novel-protein view
    (DIAMOND of the test genes against the other species, `split_context`) is recomputed by
    every cell of a dataset x split (DIAMOND's database cache in GENEPHENO_HOME is shared).

    A failing cell is recorded in `<out>/failed/<id>.txt` and the others go on (keep_going);
    with keep_going=False the first failure cancels the remaining tasks and is raised.
    """
    import ray

    from genepheno_core.scale.runtime import connect, disconnect

    # absolute: a worker's working directory is not the driver's
    out_dir = Path(out_dir).resolve()
    (out_dir / "cells").mkdir(parents=True, exist_ok=True)
    loader = load_dataset or load_benchmark_dataset
    connection = connect(address, num_cpus)
    refs: dict = {}
    try:
        plan = CellPlan(config, out_dir, loader, pending=set())
        works = [work for work, _ in plan]  # datasets are loaded one at a time, then dropped
        runs = [w for w in works if not w.reuse]
        reuses = [w for w in works if w.reuse]
        max_cpus = _largest_node_cpus()
        task = ray.remote(_run_cell_task)

        def cpus_of(work: CellWork) -> int:
            return cell_cpus(work.base, config, cpus_per_cell, max_cpus)

        def submit(work: CellWork) -> None:
            ref = task.options(num_cpus=cpus_of(work), name=f"cell {work.cell_id}").remote(
                config, str(out_dir), work, cpus_of(work), plan.fingerprints[(work.dataset, work.split)], loader,
                train_and_predict)
            refs[ref] = work

        counts = {"done": 0, "failed": 0}

        def run_all(batch: list[CellWork]) -> None:
            """Every cell of `batch`, started in plan order (`CpuWindow`), to the last one."""
            window = CpuWindow(connection.cpus, batch, cpus_of)
            logger.info("benchmark on Ray: %d cells to run (%g CPUs)", len(batch), connection.cpus)
            bar = None
            if progress:
                from tqdm.auto import tqdm

                bar = tqdm(total=len(batch), desc="benchmark cells", unit="cell")
            try:
                for work in window.ready():
                    submit(work)
                while refs:
                    ready, _ = ray.wait(list(refs), num_returns=1)
                    work = refs.pop(ready[0])
                    try:
                        ray.get(ready[0])
                        counts["done"] += 1
                        (out_dir / "failed" / f"{work.cell_id}.txt").unlink(missing_ok=True)
                    except Exception as exc:  # noqa: BLE001 - one failing method must not stop the table
                        error = _original_error(exc)
                        if not keep_going:
                            raise error from None
                        counts["failed"] += 1
                        record_failure(out_dir, work.cell_id, error)
                    finally:
                        window.finished(work)
                    if bar is not None:
                        bar.update(1)
                    for work in window.ready():
                        submit(work)
            finally:
                if bar is not None:
                    bar.close()

        run_all(runs)
        # a seed-independent method's other seeds copy the cell just computed; when that cell
        # failed, they are computed themselves (as the local runner would)
        again = [w for w in reuses if not _reuse_other_seed(out_dir, w.dataset, w.split, w.method, w.seed, config,
                                                            plan.fingerprints[(w.dataset, w.split)])]
        if again:
            run_all(again)
        logger.info("benchmark on Ray: %d cells run, %d reused, %d already done, %d failed", counts["done"],
                    len(reuses) - len(again), plan.skipped, counts["failed"])
        return plan.finish(command)
    finally:
        for ref in refs:  # interrupted or failed fast: no orphan cells keep a joined cluster busy
            ray.cancel(ref, force=True)
        if connection.started_here:
            disconnect(connection)
