"""`GET /knowledge-graph/current-user/recently-viewed`: the projects and datasets the caller
viewed lately (their pages on kg), newest first, as search hits; anonymous is 401."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from kg.access import Access
from kg.api.deps import caller, search_index
from kg.api.routes.entities import item
from kg.api.schemas import SearchHit
from kg.api.viewed import views
from kg.errors import Unauthorized
from kg.search import SearchIndex

router = APIRouter(prefix="/knowledge-graph", tags=["search"])


def _hits(index: SearchIndex, seen: list[tuple[str, str]], access: Access, base: str) -> list[dict[str, Any]]:
    """The viewed entities the caller may still read, as search hits."""
    hits = []
    for kind, key in seen:
        if kind == "project":
            entry = index.project(key)
            docs = index.documents(key, "project") if entry and entry.readable_by(access) else []
            hits += [item(d, entry.visibility, base) for d in docs[:1] if entry]
        else:
            for doc in index.find("dataset", key)[:1]:
                owner = index.project(doc.project)
                if owner is not None and owner.readable_by(access):
                    hits.append(item(doc, owner.visibility, base))
    return hits


@router.get("/current-user/recently-viewed", responses={200: {"model": list[SearchHit]}, 401: {}})
@router.get("/entities/current-user/recently-viewed", responses={200: {"model": list[SearchHit]}, 401: {}})
async def recently_viewed(
    request: Request,
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
    type: Annotated[list[Literal["project", "dataset"]], Query()] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=200)] = 10,
) -> list[dict[str, Any]]:
    """What the caller viewed lately (projects and datasets), newest first."""
    if access.user is None:
        raise Unauthorized()
    kinds: set[str] = set(type) or {"project", "dataset"}
    seen = await run_in_threadpool(views(request).newest, access.user, kinds, limit)
    base = str(request.base_url).rstrip("/")
    return await run_in_threadpool(_hits, index, seen, access, base)
