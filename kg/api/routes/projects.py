"""Project sync status: `GET /projects/{id}/events/status` (renku-graph webhook-service)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from starlette.concurrency import run_in_threadpool

from kg.api.deps import event_log
from kg.events import EventLog
from kg.status import status_document

router = APIRouter(prefix="/projects", tags=["projects"])


@router.get("/{project_id}/events/status")
async def events_status(
    project_id: Annotated[int, Path(ge=0, le=2**63 - 1)], events: Annotated[EventLog, Depends(event_log)]
) -> dict[str, Any]:
    """How far kg is with the project's events, and why it stopped if it did."""
    return status_document(await run_in_threadpool(events.status, project_id))
