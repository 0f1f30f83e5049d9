"""Bounds on what any request may carry before a route looks at it."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from kg.http.bodies import read_body, read_whole_body

MAX_PARAMETERS = 100
"""Query (or form) parameters one request may carry; renku-graph's widest search uses ~20."""
MAX_QUERY_BYTES = 1024 * 1024
"""A SPARQL query (or its form) larger than this is refused (413): real ones are a few KB."""

__all__ = ["MAX_PARAMETERS", "MAX_QUERY_BYTES", "ParameterLimit", "read_body", "read_whole_body", "too_many"]


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
