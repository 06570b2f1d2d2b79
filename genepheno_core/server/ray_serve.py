"""The same FastAPI app as a Ray Serve deployment with N replicas (`serve --engine ray`).

Each replica builds the app with `create_app(model)` when it starts (Serve's builder-function
ingress), so each loads the model once; Serve's proxy spreads requests over the replicas and
the app behaves exactly as under uvicorn (same routes, limits, errors and answers). The
model directory must be readable at the same path on every node of the cluster (README,
"Scaling out").
"""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger(__name__)

APP_NAME = "genepheno"


def serve_application(model: str | Path, replicas: int = 1, cpus_per_replica: float = 1.0,
                      no_go_model: str | Path | None = None):
    """The Serve application (a bound deployment) of the API over `model` (an absolute model
    directory: replicas may start on other nodes) and `no_go_model` (the model directory for
    requests whose proteins are given no GO; None: `model` answers them)."""
    from ray import serve

    if replicas < 1:
        raise ValueError(f"replicas must be >= 1, got {replicas}")
    path = str(model)
    no_go = str(no_go_model) if no_go_model is not None else None

    def build_app():  # a builder without arguments: Serve calls it on each replica
        from genepheno_core.server.app import create_app

        return create_app(path, no_go_model=no_go)

    ingress = serve.ingress(build_app)
    deployment = serve.deployment(
        ingress(), name=APP_NAME, num_replicas=int(replicas),
        # one core per replica (its torch threads follow Ray's OMP_NUM_THREADS); several
        # requests per replica at once, so that its micro-batcher sees them together
        ray_actor_options={"num_cpus": cpus_per_replica}, max_ongoing_requests=32)
    return deployment.bind()


def start(model: str | Path, replicas: int = 1, host: str = "127.0.0.1", port: int = 8000,
          address: str | None = None, cpus_per_replica: float = 1.0, no_go_model: str | Path | None = None):
    """Connect to Ray (`address`: an existing cluster, e.g. "127.0.0.1:6379"; None: a local
    instance sized to this machine), start Serve's HTTP proxy on host:port and deploy the
    app; returns when every replica is ready (the caller keeps the process alive, and calls
    `stop` at the end)."""
    from ray import serve

    from genepheno_core.scale.runtime import connect

    connect(address)  # the GENEPHENO_* variables travel to the replicas
    serve.start(http_options={"host": host, "port": int(port)})
    logger.info("deploying %d replica(s) of the API over %s", replicas, model)
    return serve.run(serve_application(model, replicas, cpus_per_replica, no_go_model), name=APP_NAME, route_prefix="/")


def stop(shutdown_ray: bool = True, own_cluster: bool = True) -> None:
    """Remove the app; with `own_cluster` (the local instance `start` made) also Serve, and
    disconnect from (or stop the local) Ray. On a cluster it joined, only the app goes:
    Serve's proxy and controller belong to the cluster (and tearing them down from a
    disconnecting driver could abort it)."""
    from ray import serve

    try:
        if own_cluster:
            serve.shutdown()
        else:
            serve.delete(APP_NAME)
    finally:
        if shutdown_ray:
            from genepheno_core.scale.runtime import RayConnection, disconnect

            # the shared way out: an instance of our own also stops its monitor first (runtime.disconnect)
            disconnect(RayConnection(address=None, started_here=own_cluster, cpus=0.0))
