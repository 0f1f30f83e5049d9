"""Request ids: every request has one, from the caller's `X-Request-Id` when it is a sane
one, or made here; it comes back in the response and goes on every log line of the request."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg import logs

HEADER = "X-Request-Id"
_SANE = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")
"""What a caller's id may be: proxies send UUIDs, hex, or base64; nothing that could forge a
log field, a header or a terminal escape, and nothing longer than a log line wants."""


def request_id_from(given: str | None) -> str:
    """The caller's id if it is sane, else a new one.

    >>> request_id_from("3f1c-aa")
    '3f1c-aa'
    >>> len(request_id_from("evil\\nline")), len(request_id_from("x" * 129))
    (32, 32)
    """
    if given is not None and _SANE.fullmatch(given):
        return given
    return uuid.uuid4().hex


class RequestIds:
    """ASGI middleware: choose the request's id, make it current for logging, answer with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        rid = request_id_from(given.decode("latin-1") if given is not None else None)
        # uvicorn runs each request in a task of its own: setting the variable here cannot
        # leak into another request, and log lines written after an error still carry it
        logs.request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        await self.app(scope, receive, send_with_id)
