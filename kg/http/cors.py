"""CORS for browser clients hosted elsewhere (YASGUI, Sparnatural, notebooks): the SPARQL
endpoint and the read-only REST routes answer any origin anonymously; only the origins in
`KG_CORS_ORIGINS` may send credentials (an `Authorization` header) and read the answer.

Starlette's CORSMiddleware cannot say "any origin, but credentials only for these": with a
wildcard and credentials it reflects every origin, which would let any page act as a signed-in
user. Routes that change things (webhooks, sessions, project edits) get no CORS at all.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

READS = frozenset({"GET", "HEAD"})
SPARQL = "/sparql"
EXPOSED = "Total, Total-Pages, Per-Page, Page, Next-Page, Prev-Page, Link, Facets, X-Request-Id, Retry-After"
ANONYMOUS_HEADERS = "Accept, Content-Type"
MAX_AGE = "600"
_CLOSED = ("/webhooks", "/sessions", "/projects/")


def allowed_methods(path: str) -> frozenset[str]:
    """Methods a cross-origin page may use on `path`: reads, and POST for SPARQL queries
    (the endpoint is read-only); nothing on routes that change things.

    >>> sorted(allowed_methods("/sparql"))
    ['GET', 'HEAD', 'POST']
    >>> sorted(allowed_methods("/webhooks/events")), sorted(allowed_methods("/sessions/x"))
    ([], [])
    """
    if path.startswith(_CLOSED):
        return frozenset()
    return READS | {"POST"} if path == SPARQL else READS


class Cors:
    """ASGI middleware answering preflights and marking answers for cross-origin callers."""

    def __init__(self, app: ASGIApp, trusted: frozenset[str]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        methods = allowed_methods(scope["path"])
        if origin is None or not methods:
            await self.app(scope, receive, send)
            return
        wanted = headers.get("access-control-request-method")
        if scope["method"] == "OPTIONS" and wanted is not None:
            await self._preflight(origin, wanted, methods)(scope, receive, send)
            return
        if scope["method"] not in methods:
            await self.app(scope, receive, send)
            return
        marks = self._marks(origin)

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                for name, value in marks.items():
                    answer[name] = value
                answer["Access-Control-Expose-Headers"] = EXPOSED
                answer.add_vary_header("Origin")  # the grant differs by origin (and keeps Accept)
            await send(message)

        await self.app(scope, receive, marked)

    def _marks(self, origin: str) -> dict[str, str]:
        if origin in self.trusted:
            return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true"}
        return {"Access-Control-Allow-Origin": "*"}

    def _preflight(self, origin: str, wanted: str, methods: frozenset[str]) -> Response:
        if wanted.upper() not in methods:
            return Response(status_code=204, headers={"Vary": "Origin"})  # no grant: the browser stops
        allow_headers = ANONYMOUS_HEADERS
        if origin in self.trusted:
            allow_headers += ", Authorization"
        headers = {
            **self._marks(origin),
            "Access-Control-Allow-Methods": ", ".join(sorted(methods)),
            "Access-Control-Allow-Headers": allow_headers,
            "Access-Control-Max-Age": MAX_AGE,
        }
        headers["Vary"] = "Origin"
        return Response(status_code=204, headers=headers)
