"""The REST API (FastAPI, served by uvicorn or by Ray Serve): `create_app(model)` in `app`,
the Ray Serve deployment in `ray_serve`. Sits on the core's public layers (interpret), like
the dashboard; `python -m genepheno_core serve` starts it."""

from __future__ import annotations

from genepheno_core.server.app import MAX_BODY_BYTES, Service, create_app

__all__ = ["MAX_BODY_BYTES", "Service", "create_app"]
