"""Dependencies the routes take. Async, so FastAPI does not run them in its threadpool."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from kg import queries
from kg.access import Access
from kg.api.outbound import GitLabCalls
from kg.auth.callers import Callers
from kg.config import Settings
from kg.events import EventLog
from kg.search import SearchIndex
from kg.sparql.admission import Admission, Caller
from kg.sparql.dataset import read_only
from kg.store import Reader
from kg.store.reading import Answer, LineageRequest, QueryRequest


async def settings(request: Request) -> Settings:
    """The app's settings."""
    value: Settings = request.app.state.settings
    return value


async def event_log(request: Request) -> EventLog:
    """The app's event log."""
    value: EventLog = request.app.state.events
    return value


async def store_reader(request: Request) -> Reader:
    """The app's reader of the store."""
    value: Reader = request.app.state.reader
    return value


async def graph_rows(
    request: Request, reader: Reader, graph: str, name: str, bindings: tuple[tuple[str, str], ...] = ()
) -> list[dict[str, str]]:
    """The rows of the named query `name` run on one project's live `graph` alone (as its
    default graph), each variable's value as a string, charged like any query."""
    query = QueryRequest(
        query=queries.load(name),
        accept="application/sparql-results+json",
        default_graphs=(graph,),
        visible=frozenset({graph}),
        bindings=bindings,
    )
    answer = await run_query(request, reader, query)
    rows = json.loads(answer.body)["results"]["bindings"]
    return [{k: v["value"] for k, v in row.items()} for row in rows]


async def run_query(request: Request, reader: Reader, query: QueryRequest | LineageRequest) -> Answer:
    """Answer a query through the store's reader, charged to the caller's share (see `Admission`).

    A caller's own SPARQL is first scanned (no update, no SERVICE), within the share too:
    scanning a 1 MB query costs memory, and a crowd must not scan in parallel.
    """

    def answer() -> Answer:
        if isinstance(query, LineageRequest):
            return reader.lineage(query)
        if query.access is not None and not query.bindings:
            read_only(query.query, strict=request.app.state.strict_sparql)
        return reader.answer(query)

    return await charged(request, answer)


async def charged(request: Request, read: Callable[[], Answer]) -> Answer:
    """Run `read` off the event loop, holding one of the caller's query slots."""
    admission: Admission = request.app.state.admission
    address = request.client.host if request.client else None
    # `caller` (a dependency of every route that queries) put the user there
    async with admission.slot(Caller.of(getattr(request.state, "user", None), address)):
        return await run_in_threadpool(read)


async def search_index(request: Request) -> SearchIndex:
    """The app's search index."""
    value: SearchIndex = request.app.state.index
    return value


async def caller(request: Request) -> Access:
    """Who is calling (anonymous without a token); an invalid token is 401."""
    callers: Callers = request.app.state.callers
    address = request.client.host if request.client else None
    headers = dict(request.headers)
    if "authorization" in headers or "private-token" in headers:
        # GitLab (or Keycloak's keys) may be asked: off the event loop, a few at a time
        access = await outbound(request).run(callers.identify, headers, address)
    else:
        access = callers.identify(headers, address)
    request.state.user = access.user
    return access


def outbound(request: Request) -> GitLabCalls:
    """The budget of GitLab calls made while answering requests."""
    calls: GitLabCalls = request.app.state.gitlab_calls
    return calls


def address_of(request: Request) -> str | None:
    """The client's address (as the server, or a trusted proxy in front of it, says)."""
    return request.client.host if request.client else None


def gitlab_token(request: Request) -> tuple[str, bool] | None:
    """The caller's own GitLab token and whether it is an OAuth token, or None when the
    caller sent none (anonymous, or a Keycloak JWT, which GitLab does not take)."""
    private = request.headers.get("private-token", "").strip()
    if private:
        return private, False
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    bearer = bearer.strip()
    if scheme.lower() == "bearer" and bearer and not bearer.startswith("eyJ"):
        return bearer, True
    return None
