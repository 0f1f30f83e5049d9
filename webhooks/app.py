"""The webhook receiver as a service of its own (`kg webhooks`): `POST /webhooks/events`,
`/health`, `/ready` and `/metrics`; it opens the event log and nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from kg import __version__, health
from kg.config import Settings
from kg.events import open_event_log
from kg.http import problems
from kg.http.requestid import RequestIds
from kg.metrics import Scrape
from webhooks import receiver


async def _checks(request: Request) -> dict[str, Any]:
    probes: health.Probes = request.app.state.probes
    checks = await run_in_threadpool(probes.run)
    return {
        "status": "ok" if all(c.ok for c in checks.values()) else "degraded",
        "checks": {
            name: {"ok": c.ok, **({"detail": c.detail} if c.detail else {})} for name, c in checks.items()
        },
    }


def create_webhooks_app(settings: Settings) -> FastAPI:
    """The receiver alone. Its event log opens with the app and closes with it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        app.state.settings = settings
        app.state.events = open_event_log(settings)
        app.state.probes = health.Probes({"eventLog": lambda: health.event_log(app.state.events)})
        try:
            yield
        finally:
            app.state.events.close()

    app = FastAPI(title="kg webhooks", version=__version__, lifespan=lifespan, openapi_url="/spec.json")
    problems.install(app)
    app.add_middleware(RequestIds)  # the push's id reaches its job's log lines
    app.include_router(receiver.router)

    @app.get("/health", tags=["ops"])
    async def health_route() -> dict[str, Any]:
        """Liveness: 200 while the process serves (`/ready` tells about the event log)."""
        return {"status": "ok"}

    @app.get("/ready", tags=["ops"], responses={503: {}})
    async def ready(request: Request) -> JSONResponse:
        """Readiness: 503 unless the event log takes writes (GitLab's deliveries would fail)."""
        body = await _checks(request)
        return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics_route(request: Request) -> Response:
        """Prometheus metrics: webhooks received and rejected, and the event log's queue depth."""
        scrape = Scrape(getattr(request.app.state, "events", None))
        body = await run_in_threadpool(generate_latest, scrape)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return app
