"""Operations: liveness, readiness, version, metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from kg import __version__
from kg.health import Check, Probes
from kg.metrics import Scrape

router = APIRouter(tags=["ops"])


async def _checks(request: Request) -> dict[str, Any]:
    probes: Probes = request.app.state.probes
    checks = await run_in_threadpool(probes.run)
    runner = getattr(request.app.state, "worker", None)
    return {
        "status": "ok" if all(c.ok for c in checks.values()) else "degraded",
        "worker": None if runner is None else runner.alive(),
        "checks": {name: _shown(c) for name, c in checks.items()},
    }


def _shown(check: Check) -> dict[str, Any]:
    return {"ok": check.ok, **({"detail": check.detail} if check.detail else {})}


@router.get("/health")
async def health() -> dict[str, Any]:
    """Liveness: 200 while the process serves, whatever its dependencies do (a store down is
    not cured by restarting kg; `/ready` tells about dependencies)."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {}})
async def ready(request: Request) -> JSONResponse:
    """Readiness: 200 when the store, the event log, the search index (and the worker, where
    this process runs one) can do their work; 503 with the failing checks' details otherwise."""
    body = await _checks(request)
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


@router.get("/version")
@router.get("/knowledge-graph/version", include_in_schema=False)
async def version() -> dict[str, Any]:
    """kg's version, in renku-graph's shape."""
    return {"name": "kg", "versions": [{"version": __version__}]}


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus metrics: this process's (and, under `kg serve`, its worker's), and the
    event log's queue depth. Counted off the event loop: the queue depth reads the log."""
    scrape = Scrape(getattr(request.app.state, "events", None))
    body = await run_in_threadpool(generate_latest, scrape)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
