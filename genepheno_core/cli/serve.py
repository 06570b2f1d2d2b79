"""`serve`: the REST API (genepheno_core.server) under uvicorn, or on Ray Serve."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from genepheno_core.cli.options import add_model_options

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="the REST API (POST /v1/predict, /v1/explain; GET /v1/models, /v1/phenotypes, /healthz; docs at /docs)",
        description="Serve predictions over HTTP. The model is loaded once per process (per replica with "
        "--engine ray). Listens on 127.0.0.1 unless told otherwise.",
    )
    add_model_options(p)  # requests whose proteins are given no GO go to NAME-go-transfer
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: one uvicorn process; ray: a Ray Serve deployment with --replicas replicas")
    p.add_argument("--replicas", type=int, default=1, metavar="N", help="replicas with --engine ray (default 1)")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="with --engine ray: an existing Ray cluster (e.g. 127.0.0.1:6379; default: start a "
                        "local Ray instance sized to this machine)")
    p.set_defaults(func=serve_handler)


def serve_handler(args: argparse.Namespace) -> int:
    from genepheno_core.errors import GenePhenoError
    from genepheno_core.interpret.model_store import choose_model, resolve_model

    if not 0 < args.port < 65536:
        raise GenePhenoError(f"--port must be within 1..65535, got {args.port}")
    if args.replicas < 1:
        raise GenePhenoError(f"--replicas must be >= 1, got {args.replicas}")
    if args.engine != "ray" and (args.replicas != 1 or args.address):
        raise GenePhenoError("--replicas and --address need --engine ray")
    model = resolve_model(args.model)  # a bad model fails here, with the core's message
    no_go = choose_model(args.model, go_given=False) if args.auto_model else args.model
    no_go = resolve_model(no_go) if no_go is not args.model else None
    if no_go is not None:
        logger.info("proteins given no GO are answered by %s (--exact-model: by %s)", no_go.path.name, model.path.name)
    if args.engine == "ray":
        return _serve_ray(Path(model.path).resolve(), args, Path(no_go.path).resolve() if no_go is not None else None)
    import uvicorn

    from genepheno_core.server import Service, create_app

    app = create_app(service=Service(model, no_go_model=no_go))
    logger.info("GenePheno API on http://%s:%d (docs: /docs)", args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
    return 0


def _serve_ray(model: Path, args: argparse.Namespace, no_go_model: Path | None = None) -> int:
    from genepheno_core.server import ray_serve

    done = threading.Event()
    try:
        ray_serve.start(model, replicas=args.replicas, host=args.host, port=args.port, address=args.address,
                        no_go_model=no_go_model)
        # after ray.init, which installs its own fatal-signal handlers: Ctrl-C / SIGTERM end
        # the wait below, and the app is removed cleanly
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
        logger.info("GenePheno API on Ray Serve, %d replica(s), http://%s:%d (docs: /docs)", args.replicas,
                    args.host, args.port)
        print(f"serving on http://{args.host}:{args.port} ({args.replicas} replica(s)); Ctrl-C stops", flush=True)
        done.wait()
    finally:
        ray_serve.stop(own_cluster=args.address is None)
    return 0
