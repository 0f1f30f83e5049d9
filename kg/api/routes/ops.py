"""Operations: health, version, metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kg import __version__

router = APIRouter(tags=["ops"])


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    """Liveness plus the state of the background processes."""
    runner = getattr(request.app.state, "worker", None)
    return {
        "status": "ok",
        "worker": None if runner is None else runner.alive(),
    }


@router.get("/version")
@router.get("/knowledge-graph/version", include_in_schema=False)
async def version() -> dict[str, Any]:
    """kg's version, in renku-graph's shape."""
    return {"name": "kg", "versions": [{"version": __version__}]}


@router.get("/knowledge-graph/spec.json", include_in_schema=False)
async def spec(request: Request) -> dict[str, Any]:
    """The OpenAPI document of the whole service (also at /spec.json)."""
    document: dict[str, Any] = request.app.openapi()
    return document


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
