"""`POST /webhooks/events`: accept a GitLab hook, check its token, store it, answer 202."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from kg import metrics
from kg.api.deps import event_log, settings
from kg.api.limits import read_body
from kg.bounded import Bounds, loads_json
from kg.config import Settings
from kg.errors import BodyTooLarge, InvalidInput, Unauthorized
from kg.events import EventLog, Push
from webhooks import gitlab
from webhooks.tokens import verify

log = logging.getLogger("kg.webhooks")
router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post(
    "/events",
    status_code=202,
    responses={400: {}, 401: {}, 413: {}, 503: {}},
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
@metrics.counted_rejections  # each refusal, by reason
async def receive(
    request: Request,
    events: Annotated[EventLog, Depends(event_log)],
    config: Annotated[Settings, Depends(settings)],
) -> JSONResponse:
    """Receive a GitLab `Push Hook` or `Tag Push Hook`; other kinds are acknowledged and ignored.

    A stranger costs little: at most `KG_HOOK_MAX_BYTES` are read, and the token is checked
    against the project id found in those bytes before any JSON is decoded. The answer is
    sent only after the event is durably stored.
    """
    kind = request.headers.get("x-gitlab-event", "")
    raw, complete = await read_body(request, config.hook_max_bytes)
    if kind not in (gitlab.PUSH_HOOK, gitlab.TAG_PUSH_HOOK):
        metrics.WEBHOOKS_RECEIVED.labels("ignored").inc()
        return JSONResponse(
            {"status": "ignored", "reason": f"event kind {kind[:64]!r} is not used"}, status_code=202
        )
    project_id = gitlab.project_id_in(raw)
    if project_id is None:
        if not complete:
            raise BodyTooLarge(f"body larger than {config.hook_max_bytes} bytes")
        raise InvalidInput("body names no project_id", field="project_id")
    if not verify(config.hook_secret.get_secret_value(), project_id, request.headers.get("x-gitlab-token")):
        raise Unauthorized()
    key = gitlab.delivery_key(dict(request.headers), raw)
    if not complete:
        # A real push of this project, too large to read: what it asks for is a fresh look
        # at the default branch, which needs nothing from the body.
        push: Push | None = gitlab.refresh(project_id, key)
        reason = ""
    else:
        try:
            body = loads_json(raw, Bounds(max_bytes=config.hook_max_bytes, max_depth=32), what="JSON")
        except InvalidInput as exc:
            raise InvalidInput(f"body: {exc}", field="body") from None
        event = gitlab.parse_push(body)
        if event.project_id != project_id:
            raise InvalidInput("project_id appears with two values", field="project_id")
        push, reason = gitlab.to_push(event, kind, key)
    if push is None:
        metrics.WEBHOOKS_RECEIVED.labels("ignored").inc()
        return JSONResponse({"status": "ignored", "reason": reason}, status_code=202)
    stored = await metrics.counted_store(events.enqueue_async(push))
    log.info("webhook stored" if stored else "webhook duplicate", extra={"project_id": push.project_id})
    return JSONResponse(
        {"status": "accepted" if stored else "duplicate", "project": push.project_id},
        status_code=202,
    )
