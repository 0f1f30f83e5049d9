"""`GET /knowledge-graph/users/{id}/projects`: the projects a user is a member of."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from kg.api.deps import caller, search_index
from kg.api.routes.entities import paging_headers
from kg.search import Access, SearchIndex

router = APIRouter(prefix="/knowledge-graph/users", tags=["users"])


@router.get("/{user_id}/projects")
async def user_projects(
    user_id: str,
    request: Request,
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
    state: Annotated[str, Query(pattern="^(ACTIVATED|NOT_ACTIVATED|ALL)$")] = "ALL",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSONResponse:
    """Projects of a user that the caller may read (kg knows only activated, i.e. ingested, ones)."""
    projects = await run_in_threadpool(index.member_projects, user_id)
    visible = [p for p in projects if p.readable_by(access)] if state != "NOT_ACTIVATED" else []
    base = str(request.base_url).rstrip("/")
    items = []
    for entry in visible[(page - 1) * per_page : page * per_page]:
        docs = await run_in_threadpool(index.documents, entry.slug, "project")
        doc = docs[0] if docs else None
        items.append(
            {
                "name": doc.name if doc else entry.slug.rsplit("/", 1)[-1],
                "slug": entry.slug,
                "path": entry.slug,
                "visibility": entry.visibility,
                "date": doc.created if doc else None,
                "creator": doc.creators[0] if doc and doc.creators else None,
                "description": doc.description if doc else "",
                "keywords": doc.keywords if doc else [],
                "_links": [{"rel": "details", "href": f"{base}/knowledge-graph/projects/{entry.slug}"}],
            }
        )
    return JSONResponse(items, headers=paging_headers(request, len(visible), page, per_page))
