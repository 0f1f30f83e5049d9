"""Operations: health, version, metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from kg import __version__
from kg.health import Check, Probes

router = APIRouter(tags=["ops"])


async def _health(request: Request) -> dict[str, Any]:
    probes: Probes = request.app.state.probes
    checks = await run_in_threadpool(probes.run)
    runner = getattr(request.app.state, "worker", None)
    return {
        "status": "ok" if all(c.ok for c in checks.values()) else "degraded",
        "worker": None if runner is None else runner.alive(),
        "checks": {
            name: {"ok": c.ok, **({"detail": c.detail} if c.detail else {})} for name, c in checks.items()
        },
    }


def _shown(check: Check) -> dict[str, Any]:
    return {"ok": check.ok, **({"detail": check.detail} if check.detail else {})}


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    """Whether kg can do its work: `ok`, or `degraded` with the checks that fail (always 200:
    the process itself is alive)."""
    return await _health(request)


@router.get("/ready", responses={503: {}})
async def ready(request: Request) -> JSONResponse:
    """`/health`, answering 503 unless every check holds (for load balancers and probes)."""
    body = await _health(request)
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


@router.get("/version")
@router.get("/knowledge-graph/version", include_in_schema=False)
async def version() -> dict[str, Any]:
    """kg's version, in renku-graph's shape."""
    return {"name": "kg", "versions": [{"version": __version__}]}


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
