"""Project sync status: `GET /projects/{id}/events/status` (renku-graph webhook-service).

Only callers who may read the project get an answer; to everyone else the project does not
exist (404), whether kg knows it or not.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from kg.access import Access
from kg.api.deps import address_of, caller, event_log, gitlab_token, outbound, search_index, settings
from kg.config import Settings
from kg.errors import NotFound, Unauthorized
from kg.events import EventLog
from kg.forge import GitLab
from kg.search import SearchIndex
from kg.status import status_document

router = APIRouter(prefix="/projects", tags=["projects"])


@router.get("/{project_id}/events/status", responses={404: {}, 429: {}})
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
    entries = await run_in_threadpool(index.projects_of, project_id)
    if entries:  # kg holds it: the knowledge graph's rule
        readable = any(entry.readable_by(access) for entry in entries)
    elif config.gitlab_url:  # not yet: GitLab's, asked with the caller's own token (or none)
        token = gitlab_token(request)
        forge = GitLab(config.gitlab_url, token[0] if token else None, oauth=bool(token and token[1]))
        readable = await outbound(request).call(address_of(request), _shown_by, forge, project_id)
    else:  # no GitLab: what the push said
        readable = status is not None and status.visibility == "public"
    if not readable:
        raise NotFound("project", str(project_id))
    return status_document(status)


def _shown_by(forge: GitLab, project_id: int) -> bool:
    """Whether GitLab shows the project to whoever `forge` asks as."""
    try:
        forge.describe(project_id)
    except (NotFound, Unauthorized):
        return False
    return True
