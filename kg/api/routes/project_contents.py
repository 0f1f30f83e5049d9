"""kg's routes for a project's page: its files, its recent activity and how far its ingest is
(`/knowledge-graph/projects/{slug}/-/files`, `/-/activities`, `/-/sync`: after
GitLab's `/-/`, which no project name can be, so a project called `files` keeps its page)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from kg.access import Access
from kg.api.deps import caller, event_log, graph_rows, search_index, store_reader
from kg.api.routes.knowledge_projects import readable
from kg.events import EventLog
from kg.search import SearchIndex
from kg.status import status_document
from kg.store import Reader

router = APIRouter(prefix="/knowledge-graph/projects", tags=["projects"])

MAX_FILES = 10_000  # the query's LIMIT: Virtuoso sorts at most 10,000 rows


def _after(deleted: str | None, modified: str | None) -> bool:
    """Whether the newest event of a path is its deletion (times with any UTC offset)."""
    if not deleted:
        return False
    if not modified:
        return True
    return datetime.fromisoformat(deleted) >= datetime.fromisoformat(modified)


@router.get("/{slug:path}/-/files", responses={404: {}})
async def project_files(
    slug: str,
    request: Request,
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
    reader: Annotated[Reader, Depends(store_reader)],
) -> dict[str, Any]:
    """kg: every path kg knows in the project, with when it last changed and how many versions
    it had (at most 10,000; `truncated` says when there may be more)."""
    entry = await run_in_threadpool(readable, index, slug, access)
    rows = await graph_rows(request, reader, entry.graph, "project_files.rq")
    files = [
        {
            "path": row["path"],
            "modified": row.get("modified"),
            "versions": int(row.get("versions", "0")),
            "deleted": _after(row.get("deleted"), row.get("modified")),
        }
        for row in rows
    ]
    return {"project": entry.slug, "files": files, "truncated": len(rows) >= MAX_FILES}


@router.get("/{slug:path}/-/activities", responses={404: {}})
async def project_activities(
    slug: str,
    request: Request,
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
    reader: Annotated[Reader, Depends(store_reader)],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    """kg: the project's newest commits and runs (what, when, who, which commit)."""
    entry = await run_in_threadpool(readable, index, slug, access)
    seen: dict[str, dict[str, str]] = {}
    for row in await graph_rows(request, reader, entry.graph, "project_activities.rq"):
        seen.setdefault(row["activity"], row)  # a run with two agents: the first
    return {"project": entry.slug, "activities": list(seen.values())[:limit]}


@router.get("/{slug:path}/-/sync", responses={404: {}})
async def project_sync(
    slug: str,
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
    events: Annotated[EventLog, Depends(event_log)],
) -> dict[str, Any]:
    """kg: how far kg is with the project's pushes, by path (`/projects/{id}/events/status`
    needs GitLab's id, which projects ingested by hand do not have)."""
    entry = await run_in_threadpool(readable, index, slug, access)

    def find() -> dict[str, Any]:
        if entry.gitlab_id is not None:
            return status_document(events.status(entry.gitlab_id))
        found = [s for s in events.statuses() if s.path == entry.slug]
        return status_document(found[0] if found else None)

    return await run_in_threadpool(find)
