"""Connecting to Ray: a local instance sized to this machine, or an existing cluster.

Every engine (batch prediction, embedding, the benchmark grid, Ray Serve) connects here, so
that the workers see what the driver sees: the GENEPHENO_* variables (data mirror, caches,
assets) travel in the job's runtime environment. Paths in them must exist on every node
(docs/SCALING.md: shared storage).

Ray 2.60 protects a cluster with a token when one exists (`~/.ray/auth_token`, written by
the first local instance, or RAY_AUTH_TOKEN / RAY_AUTH_TOKEN_PATH): `ray start --head` then
enables token authentication, but a driver joining by address does not on its own and is
refused ("InvalidAuthToken"). `connect` does what `ray start` does: with a token available
and RAY_AUTH_MODE unset, it joins in token mode. (Ray also rewrites 127.0.0.1 in an address
to this machine's IP; the head's GCS listens there too, so "127.0.0.1:PORT" joins a head
started on this machine, with or without `--node-ip-address 127.0.0.1`.)
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from genepheno_core.environment import ASSETS, ESM_DIR, HOME, MIRROR, MODELS_DIR

logger = logging.getLogger(__name__)

# forwarded to every worker of the job (when set in the driver)
FORWARDED_VARIABLES = (HOME, MIRROR, ASSETS, MODELS_DIR, ESM_DIR)


@dataclass(frozen=True)
class RayConnection:
    address: str | None  # the cluster joined; None: a local instance this process started
    started_here: bool  # True: `disconnect` stops the instance
    cpus: float  # CPUs of the cluster when connected

    @property
    def own_cluster(self) -> bool:
        return self.started_here


def runtime_env() -> dict:
    """The job's runtime environment: the GENEPHENO_* variables set in this process."""
    env = {name: os.environ[name] for name in FORWARDED_VARIABLES if os.environ.get(name, "").strip()}
    return {"env_vars": env} if env else {}


def connect(address: str | None = None, num_cpus: int | None = None) -> RayConnection:
    """Join the cluster at `address` ("auto", "HOST:PORT" of a `ray start --head`), or start a
    local instance with `num_cpus` CPUs (default: all of this machine's). Reuses a connection
    this process already has. Raises GenePhenoError with the address when the cluster cannot
    be reached."""
    import ray

    from genepheno_core.errors import GenePhenoError

    if ray.is_initialized():
        return RayConnection(address, False, float(ray.cluster_resources().get("CPU", 0)))
    options = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    if address:
        # a cluster's workers get the variables from the job's runtime environment; a local
        # instance's inherit this process's environment (and a runtime environment would
        # cost each worker ~1.4 s: it could not use the workers Ray starts in advance)
        options["runtime_env"] = runtime_env() or None
        _token_auth_like_ray_start()
        if num_cpus is not None:
            raise GenePhenoError("--cpus sizes a local Ray instance; a cluster joined with --address brings its own")
        try:
            ray.init(address=address, **options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise GenePhenoError(f"cannot join the Ray cluster at {address!r}: {exc}") from None
    else:
        cpus = num_cpus or os.cpu_count() or 1
        # a new local instance: never attach to a cluster this machine happens to run. Its
        # raylet starts one worker per CPU at once (by default it waits for the first driver
        # to connect), so the actors' worker processes have imported Ray by the time the
        # first one is asked for (measured: ~1 s less on a 100-protein run, docs/SCALING.md)
        ray.init(address="local", num_cpus=int(cpus), _system_config={"enable_worker_prestart": True}, **options)
    cpus = float(ray.cluster_resources().get("CPU", 0))
    logger.info("Ray: %s, %g CPUs", f"joined {address}" if address else "local instance", cpus)
    return RayConnection(address, not address, cpus)


def _token_auth_like_ray_start() -> None:
    """Use token authentication when a token is available and RAY_AUTH_MODE is unset, as
    `ray start --head` does (module docstring)."""
    if os.environ.get("RAY_AUTH_MODE") is not None:
        return
    try:  # Ray's own rule (private API of Ray 2.60, pinned); the fallback below mirrors it
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available,
        )

        maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
    except ImportError:
        from pathlib import Path

        if os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH") or (
                Path.home() / ".ray" / "auth_token").is_file():
            os.environ["RAY_AUTH_MODE"] = "token"


def disconnect(connection: RayConnection | None = None) -> None:
    """Disconnect (and stop the local instance `connect` started)."""
    import ray

    if ray.is_initialized():
        if connection is not None and connection.started_here:
            _stop_monitor()
        ray.shutdown()


def _stop_monitor() -> None:
    """Stop the local instance's autoscaler monitor before `ray.shutdown`. `ray.shutdown`
    stops the GCS first and then sends the monitor SIGTERM, whose handler tries to report to
    that GCS and hangs until shutdown's 1 s grace period ends in a SIGKILL: every run would
    wait 1 s (measured: shutdown 1.4 s -> 0.15 s bare, 0.4 s after a batch run). A one-node instance has nothing to
    autoscale, so the monitor is killed outright. Private API of Ray 2.60 (pinned); without it
    shutdown just takes the extra second."""
    try:
        from ray._private import ray_constants, worker

        processes = worker._global_node.all_processes.get(ray_constants.PROCESS_TYPE_MONITOR, [])
    except (AttributeError, ImportError):
        return
    for info in processes:
        if info.process.poll() is None:
            info.process.kill()
            info.process.wait(timeout=5)


def unwrap_error(exc: BaseException) -> BaseException:
    """The user-facing exception inside a Ray task / Ray Data error (a GenePhenoError raised in
    a worker arrives wrapped; its message names the file and record), else `exc`."""
    from genepheno_core.errors import GenePhenoError

    seen = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, GenePhenoError):
            return e
        cause = getattr(e, "cause", None)
        if isinstance(cause, BaseException):
            todo.append(cause)
        todo += [e.__cause__, e.__context__]
    return exc
