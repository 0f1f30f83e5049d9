"""Reading a request body within a bound: the rest of an oversized body is never read."""

from __future__ import annotations

from starlette.requests import Request

from kg.errors import BodyTooLarge


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
