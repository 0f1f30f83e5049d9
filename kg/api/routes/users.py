"""`GET /knowledge-graph/users/{id}/projects`: a user's projects, activated (ingested by kg)
or not (in GitLab only, with the link that activates them)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from kg.access import Access
from kg.api.deps import address_of, caller, gitlab_token, outbound, search_index, settings
from kg.api.fields import present
from kg.api.routes.entities import paging_headers
from kg.config import Settings
from kg.errors import KgError
from kg.forge import GitLab
from kg.search import SearchIndex
from kg.search.base import ProjectEntry

router = APIRouter(prefix="/knowledge-graph/users", tags=["users"])
log = logging.getLogger(__name__)


def _activated(index: SearchIndex, user_id: int, access: Access, base: str) -> list[dict[str, Any]]:
    items = []
    for entry in index.member_projects(str(user_id)):
        if entry.readable_by(access):
            items.append(_activated_item(index, entry, base))
    return items


def _activated_item(index: SearchIndex, entry: ProjectEntry, base: str) -> dict[str, Any]:
    docs = index.documents(entry.slug, "project")
    doc = docs[0] if docs else None
    return present(
        {
            "id": entry.gitlab_id,
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


def _not_activated(gitlab: GitLab, index: SearchIndex, user_id: int, base: str) -> list[dict[str, Any]]:
    """The user's GitLab projects, as the caller's token sees them, that kg has not ingested."""
    ingested = index.projects()
    known = {p.gitlab_id for p in ingested} | {p.slug for p in ingested}
    items = []
    for project in gitlab.user_projects(user_id):
        if project.get("id") in known or project.get("path_with_namespace") in known:
            continue
        owner = project.get("owner") or {}
        items.append(
            present(
                {
                    "id": project.get("id"),
                    "name": project.get("name"),
                    "slug": project.get("path_with_namespace"),
                    "path": project.get("path_with_namespace"),
                    "visibility": project.get("visibility"),
                    "date": project.get("created_at"),
                    "creator": owner.get("name"),
                    "description": project.get("description") or "",
                    "keywords": project.get("topics") or project.get("tag_list") or [],
                    "_links": [
                        {
                            "rel": "activation",
                            "href": f"{base}/projects/{project.get('id')}/webhooks",
                            "method": "POST",
                        }
                    ],
                }
            )
        )
    return items


@router.get("/{user_id}/projects", responses={502: {}})
async def user_projects(
    user_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="a GitLab user id")],
    request: Request,
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
    config: Annotated[Settings, Depends(settings)],
    state: Annotated[str, Query(pattern="^(ACTIVATED|NOT_ACTIVATED|ALL)$")] = "ALL",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSONResponse:
    """Projects of a user the caller may see: activated ones from kg (the user is a member),
    not activated ones from GitLab (owned by the user, listed with the caller's GitLab token,
    or as to an anonymous visitor for anonymous and Keycloak callers)."""
    base = str(request.base_url).rstrip("/")
    items: list[dict[str, Any]] = []
    if state != "NOT_ACTIVATED":
        items += await run_in_threadpool(_activated, index, user_id, access, base)
    if state != "ACTIVATED" and config.gitlab_url:
        credentials = gitlab_token(request)
        token, oauth = credentials if credentials else (None, False)
        gitlab = GitLab(config.gitlab_url, token, oauth=oauth)
        try:
            items += await outbound(request).call(
                address_of(request), _not_activated, gitlab, index, user_id, base
            )
        except KgError as exc:
            if state == "NOT_ACTIVATED":
                raise
            # the activated projects are still worth answering with
            log.warning("GitLab did not list the user's projects", extra={"user": user_id, "error": str(exc)})
    page_items = items[(page - 1) * per_page : page * per_page]
    return JSONResponse(page_items, headers=paging_headers(request, len(items), page, per_page))
