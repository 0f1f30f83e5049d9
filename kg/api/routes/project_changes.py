"""Changing projects through kg, as renku-ui does on its settings pages: edit, delete, create.

Each change is made in GitLab with the caller's own token (GitLab decides who may: 403 below
maintainer), then reflected in kg: edits at once in the index and by a fresh ingest, a
deletion by taking the project out of the index, a new project by activating it like
`POST /projects/{id}/webhooks`. A project the caller may not read in kg is 404.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from kg.access import Access
from kg.api.deps import caller, event_log, gitlab_token, outbound, search_index, settings
from kg.api.limits import read_body
from kg.api.project_forms import ProjectChange, ProjectCreation, read_change, read_creation
from kg.api.routes.hooks import _vault
from kg.api.routes.knowledge_projects import readable
from kg.api.schemas import InfoMessage, ProjectCreated
from kg.config import Settings
from kg.errors import Forbidden, Unauthorized, Unavailable
from kg.events import EventLog, Push
from kg.forge import GitLab, ProjectEdits
from kg.pipeline.location import forge_clone_url
from kg.search import SearchIndex
from webhooks.tokens import hook_token

router = APIRouter(prefix="/knowledge-graph/projects", tags=["projects"])
MAX_BODY = 8 << 20
"""Largest edit body read (an image included): GitLab's own avatar limit is smaller."""
_CHANGE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "description": {"type": "string", "nullable": True},
                    "keywords": {"type": "array", "items": {"type": "string"}},
                    "visibility": {"type": "string", "enum": ["public", "internal", "private"]},
                },
            }
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "keywords": {"type": "array", "items": {"type": "string"}},
                    "visibility": {"type": "string", "enum": ["public", "internal", "private"]},
                    "image": {"type": "string", "format": "binary"},
                },
            }
        },
    },
}
_CREATE_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["name", "namespaceId"],
                "properties": {
                    "name": {"type": "string"},
                    "namespaceId": {"type": "integer"},
                    "description": {"type": "string"},
                    "keywords": {"type": "array", "items": {"type": "string"}},
                    "visibility": {"type": "string", "enum": ["public", "internal", "private"]},
                    "image": {"type": "string", "format": "binary"},
                },
            }
        }
    },
}
_ERRORS: dict[int | str, dict[str, Any]] = {400: {}, 401: {}, 403: {}, 404: {}, 413: {}, 503: {}}


def as_caller(request: Request, access: Access, config: Settings) -> ProjectEdits:
    """GitLab, reached with the caller's own token; 401 without one."""
    if not access.authenticated:
        raise Unauthorized()
    if not config.gitlab_url:
        raise Unavailable("changing projects needs GitLab (KG_GITLAB_URL)")
    found = gitlab_token(request)
    if found is None:
        raise Forbidden("changing a project needs a GitLab token (PRIVATE-TOKEN or a GitLab OAuth token)")
    return ProjectEdits(GitLab(config.gitlab_url, found[0], oauth=found[1]))


def _refresh(project_id: int, why: str) -> Push:
    """A fresh ingest of the project's default branch, GitLab saying where and for whom."""
    return Push(
        delivery_key=f"{why}:{project_id}:{time.time_ns()}",
        project_id=project_id,
        path="",
        clone_url="",
        commit=None,
        kind="refresh",
    )


@router.patch("/{slug:path}", status_code=202, openapi_extra={"requestBody": _CHANGE_BODY}, responses=_ERRORS)
@router.put("/{slug:path}", status_code=202, openapi_extra={"requestBody": _CHANGE_BODY}, responses=_ERRORS)
async def change_project(
    slug: str,
    request: Request,
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
    events: Annotated[EventLog, Depends(event_log)],
    config: Annotated[Settings, Depends(settings)],
) -> InfoMessage:
    """Change the description, keywords, visibility or image of a project, in GitLab."""
    gitlab = as_caller(request, access, config)
    entry = await run_in_threadpool(readable, index, slug, access)
    raw, complete = await read_body(request, MAX_BODY)
    change: ProjectChange = read_change(request.headers.get("content-type", ""), raw, complete)
    target = entry.gitlab_ref
    calls = outbound(request)
    if change.fields:
        await calls.run(gitlab.update, target, change.fields)
    if change.image is not None:
        await calls.run(gitlab.set_avatar, target, *change.image)
    shown: dict[str, Any] = {k: v for k, v in change.fields.items() if k != "topics"}
    if "topics" in change.fields:
        shown["keywords"] = change.fields["topics"]
    if shown:
        await run_in_threadpool(index.amend_project, entry.slug, shown)
    details = request.app.state.forge_details
    if details is not None:
        details.forget(target)
    if entry.gitlab_id is not None:
        await events.enqueue_async(_refresh(entry.gitlab_id, "edit"))
    return InfoMessage(message="Project update accepted", severity="Info")


@router.delete("/{slug:path}", status_code=202, responses=_ERRORS)
async def delete_project(
    slug: str,
    request: Request,
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
    events: Annotated[EventLog, Depends(event_log)],
    config: Annotated[Settings, Depends(settings)],
) -> InfoMessage:
    """Delete the project in GitLab, and take it out of kg."""
    gitlab = as_caller(request, access, config)
    entry = await run_in_threadpool(readable, index, slug, access)
    await outbound(request).run(gitlab.delete, entry.gitlab_ref)
    await run_in_threadpool(index.bury_project, entry.slug, entry.gitlab_id)
    await run_in_threadpool(request.app.state.views.forget, "project", entry.slug)
    if entry.gitlab_id is not None:  # the worker, the store's one writer, removes its graph
        await events.enqueue_async(_refresh(entry.gitlab_id, "delete"))
    return InfoMessage(message="Project deleted", severity="Info")


@router.post("", status_code=201, openapi_extra={"requestBody": _CREATE_BODY}, responses=_ERRORS)
async def create_project(
    request: Request,
    access: Annotated[Access, Depends(caller)],
    events: Annotated[EventLog, Depends(event_log)],
    config: Annotated[Settings, Depends(settings)],
) -> ProjectCreated:
    """Create a project in GitLab and activate it in kg (hook, then a first ingest)."""
    gitlab = as_caller(request, access, config)
    raw, complete = await read_body(request, MAX_BODY)
    creation: ProjectCreation = read_creation(request.headers.get("content-type", ""), raw, complete)
    calls = outbound(request)
    made = await calls.run(gitlab.create, creation.fields)
    project_id, path = int(made["id"]), str(made["path_with_namespace"])
    if creation.image is not None:
        await calls.run(gitlab.set_avatar, project_id, *creation.image)
    token = gitlab_token(request)
    secret = hook_token(config.hook_secret.get_secret_value(), project_id)
    await calls.run(gitlab.forge.ensure_hook, project_id, config.hook_url, secret)
    if token is not None:
        await run_in_threadpool(_vault(request).put, project_id, token[0])
    await events.enqueue_async(
        Push(
            delivery_key=f"activation:{project_id}:{time.time_ns()}",
            project_id=project_id,
            path=path,
            clone_url=forge_clone_url(config.gitlab_url, path),
            commit=None,
            kind="activation",
            default_branch=str(made.get("default_branch") or "main"),
            visibility=str(made.get("visibility") or "private"),
        )
    )
    return ProjectCreated(message="Project created", slug=path)
