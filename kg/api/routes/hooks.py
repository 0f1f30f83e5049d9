"""Webhook management like renku-graph's webhook-service, acting at GitLab with the caller's token.

`POST /projects/{id}/webhooks` creates the push hook (201, or 200 if it existed), keeps the
caller's token (encrypted) to fetch the repository later, and schedules a first ingest;
`DELETE` removes hook and token; `POST .../validation` says whether the hook is there.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from kg.access import Access
from kg.api.deps import caller, event_log, gitlab_token, outbound, settings
from kg.auth.vault import TokenVault
from kg.config import Settings
from kg.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from kg.events import EventLog, Push
from kg.forge import GitLab
from kg.pipeline.location import forge_clone_url
from webhooks.tokens import hook_token

router = APIRouter(prefix="/projects", tags=["webhooks"])
ProjectId = Annotated[int, Path(ge=1, le=2**63 - 1)]


async def acting_as_caller(
    request: Request,
    access: Annotated[Access, Depends(caller)],
    config: Annotated[Settings, Depends(settings)],
) -> tuple[GitLab, str]:
    """A GitLab client acting with the authenticated caller's own GitLab token, and that token."""
    if not access.authenticated:
        raise Unauthorized()
    if not config.gitlab_url:
        raise InvalidInput("no GitLab is configured (KG_GITLAB_URL)", field="KG_GITLAB_URL")
    found = gitlab_token(request)
    if found is None:
        raise Forbidden("managing webhooks needs a GitLab token (PRIVATE-TOKEN or a GitLab OAuth token)")
    token, oauth = found
    return GitLab(config.gitlab_url, token, oauth=oauth), token


def _vault(request: Request) -> TokenVault:
    vault: TokenVault = request.app.state.vault
    return vault


@router.post("/{project_id}/webhooks", status_code=201, responses={200: {}, 401: {}, 403: {}, 404: {}})
async def create_hook(
    project_id: ProjectId,
    request: Request,
    gitlab: Annotated[tuple[GitLab, str], Depends(acting_as_caller)],
    config: Annotated[Settings, Depends(settings)],
    events: Annotated[EventLog, Depends(event_log)],
) -> JSONResponse:
    """Create kg's push hook on the project (with its own secret token) and start ingesting it."""
    forge, token = gitlab
    secret = hook_token(config.hook_secret.get_secret_value(), project_id)
    created = await outbound(request).run(forge.ensure_hook, project_id, config.hook_url, secret)
    project = await outbound(request).run(forge.describe, project_id)
    await run_in_threadpool(_vault(request).put, project_id, token)
    await events.enqueue_async(
        Push(
            delivery_key=f"activation:{project_id}:{time.time_ns()}",
            project_id=project_id,
            path=project.path,
            clone_url=forge_clone_url(config.gitlab_url, project.path),
            commit=None,
            kind="activation",
            default_branch=project.default_branch,
            visibility=project.visibility,
        )
    )
    message = "Hook created" if created else "Hook already existed"
    return JSONResponse({"message": message}, status_code=201 if created else 200)


@router.delete("/{project_id}/webhooks", responses={401: {}, 403: {}, 404: {}})
async def delete_hook(
    project_id: ProjectId,
    request: Request,
    gitlab: Annotated[tuple[GitLab, str], Depends(acting_as_caller)],
    config: Annotated[Settings, Depends(settings)],
) -> JSONResponse:
    """Remove kg's hook from the project and forget its stored token."""
    forge, _ = gitlab
    if not await outbound(request).run(forge.remove_hook, project_id, config.hook_url):
        raise NotFound("webhook of project", str(project_id))
    await run_in_threadpool(_vault(request).delete, project_id)
    return JSONResponse({"message": "Hook deleted"})


@router.post("/{project_id}/webhooks/validation", responses={401: {}, 403: {}, 404: {}})
async def validate_hook(
    project_id: ProjectId,
    request: Request,
    gitlab: Annotated[tuple[GitLab, str], Depends(acting_as_caller)],
    config: Annotated[Settings, Depends(settings)],
) -> JSONResponse:
    """Whether kg's hook is on the project; refreshes the stored token when it is."""
    forge, token = gitlab
    if not await outbound(request).run(forge.has_hook, project_id, config.hook_url):
        raise NotFound("webhook of project", str(project_id))
    await run_in_threadpool(_vault(request).put, project_id, token)
    return JSONResponse({"message": "Hook valid"})
