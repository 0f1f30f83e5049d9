"""Project sync status: `GET /projects/{id}/events/status` (renku-graph webhook-service).

Only callers who may read the project get an answer; to everyone else the project does not
exist (404), whether kg knows it or not.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from kg.api.deps import caller, event_log, gitlab_token, search_index, settings
from kg.config import Settings
from kg.errors import NotFound, Unauthorized
from kg.events import EventLog, ProjectStatus
from kg.forge import GitLab
from kg.search import Access, SearchIndex
from kg.status import status_document

router = APIRouter(prefix="/projects", tags=["projects"])


@router.get("/{project_id}/events/status", responses={404: {}})
async def events_status(
    project_id: Annotated[int, Path(ge=0, le=2**63 - 1)],
    request: Request,
    events: Annotated[EventLog, Depends(event_log)],
    index: Annotated[SearchIndex, Depends(search_index)],
    access: Annotated[Access, Depends(caller)],
    config: Annotated[Settings, Depends(settings)],
) -> dict[str, Any]:
    """How far kg is with the project's events, and why it stopped if it did."""
    status = await run_in_threadpool(events.status, project_id)
    token = gitlab_token(request)
    readable = await run_in_threadpool(_may_read, project_id, status, index, access, config, token)
    if not readable:
        raise NotFound("project", str(project_id))
    return status_document(status)


def _may_read(
    project_id: int,
    status: ProjectStatus | None,
    index: SearchIndex,
    access: Access,
    config: Settings,
    token: tuple[str, bool] | None,
) -> bool:
    """The knowledge graph's rule once kg holds the project; before that, GitLab's (asked with
    the caller's own token, or anonymously), or without GitLab what the push said."""
    entries = index.projects_of(project_id)
    if entries:
        return any(entry.readable_by(access) for entry in entries)
    if config.gitlab_url:
        forge = GitLab(config.gitlab_url, token[0] if token else None, oauth=bool(token and token[1]))
        try:
            forge.describe(project_id)
        except (NotFound, Unauthorized):
            return False
        return True
    return status is not None and status.visibility == "public"
