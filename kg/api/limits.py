"""Bounds on what any request may carry before a route looks at it."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from kg.errors import BodyTooLarge

MAX_PARAMETERS = 100
"""Query (or form) parameters one request may carry; renku-graph's widest search uses ~20."""
MAX_QUERY_BYTES = 1024 * 1024
"""A SPARQL query (or its form) larger than this is refused (413): real ones are a few KB."""


async def read_body(request: Request, limit: int) -> tuple[bytes, bool]:
    """At most `limit` bytes of the body, and whether that is all of it (the rest is never read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) <= limit:
        return await request.body(), True
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], False
    return b"".join(chunks), True


async def read_whole_body(request: Request, limit: int, what: str) -> bytes:
    """The body, or `BodyTooLarge` if it is over `limit` bytes."""
    body, complete = await read_body(request, limit)
    if not complete:
        raise BodyTooLarge(f"{what} larger than {limit} bytes")
    return body


def too_many(count: int) -> str | None:
    """Why a request with `count` parameters is refused, or None."""
    if count > MAX_PARAMETERS:
        return f"{count} parameters; at most {MAX_PARAMETERS} are accepted"
    return None


class ParameterLimit:
    """ASGI middleware answering 400 to a query string of too many parameters, before any
    parsing or routing (hundreds of repeated `type=` would otherwise each become work)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query: bytes = scope.get("query_string", b"") if scope["type"] == "http" else b""
        why = too_many(query.count(b"&") + 1) if query else None
        if why is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {"type": "about:blank", "title": "InvalidInput", "status": 400, "detail": why}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
