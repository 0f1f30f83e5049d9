"""`POST /webhooks/events`: accept a GitLab hook, check its token, store it, answer 202."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from kg.api.deps import event_log, settings
from kg.config import Settings
from kg.errors import InvalidInput, Unauthorized
from kg.events import EventLog
from webhooks import gitlab
from webhooks.tokens import verify

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post(
    "/events",
    status_code=202,
    responses={400: {}, 401: {}},
    openapi_extra={
        "parameters": [
            {
                "name": "X-Gitlab-Event",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "enum": [gitlab.PUSH_HOOK, gitlab.TAG_PUSH_HOOK]},
            },
            {"name": "X-Gitlab-Token", "in": "header", "required": True, "schema": {"type": "string"}},
            {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}},
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": gitlab.request_schema()}},
        },
    },
)
async def receive(
    request: Request,
    events: Annotated[EventLog, Depends(event_log)],
    config: Annotated[Settings, Depends(settings)],
) -> JSONResponse:
    """Receive a GitLab `Push Hook` or `Tag Push Hook`; other kinds are acknowledged and ignored.

    The answer is sent only after the event is durably stored.
    """
    secret = config.hook_secret.get_secret_value()
    raw = await request.body()
    try:
        body: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"body is not JSON: {exc}", field="body") from None
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object", field="body")
    kind = request.headers.get("x-gitlab-event", "")
    token = request.headers.get("x-gitlab-token")
    if kind not in (gitlab.PUSH_HOOK, gitlab.TAG_PUSH_HOOK):
        project_id = gitlab.project_id_of(body)
        if project_id is not None and not verify(secret, project_id, token):
            raise Unauthorized()
        return JSONResponse(
            {"status": "ignored", "reason": f"event kind {kind!r} is not used"}, status_code=202
        )
    event = gitlab.parse_push(body)
    if not verify(secret, event.project.id, token):
        raise Unauthorized()
    key = gitlab.delivery_key(dict(request.headers), raw)
    push, reason = gitlab.to_push(event, kind, key)
    if push is None:
        return JSONResponse({"status": "ignored", "reason": reason}, status_code=202)
    stored = await events.enqueue_async(push)
    return JSONResponse(
        {"status": "accepted" if stored else "duplicate", "project": push.project_id},
        status_code=202,
    )
