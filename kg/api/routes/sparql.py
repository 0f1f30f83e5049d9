"""`GET/POST /sparql`: the SPARQL 1.1 Protocol, read-only."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request, Response

from kg import metrics
from kg.access import Access
from kg.api.deps import caller, run_query, store_reader
from kg.api.limits import MAX_QUERY_BYTES, read_whole_body, too_many
from kg.errors import Forbidden, InvalidInput
from kg.store import Reader
from kg.store.reading import QueryRequest

router = APIRouter(tags=["sparql"])

_DESCRIPTION = (
    "SPARQL 1.1 Protocol query operation: `?query=` (GET), form POST, or a POST with "
    "`Content-Type: application/sparql-query`. Results by `Accept` (SPARQL JSON/XML/CSV/TSV; "
    "Turtle, N-Triples, JSON-LD, RDF/XML for CONSTRUCT/DESCRIBE) or `format=`. Updates are "
    "refused. The default graph is the union of all readable graphs."
)


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name, [])
    if len(values) > 1:
        raise InvalidInput(f"{name} given {len(values)} times", field=name)
    return values[0] if values else None


async def _request(request: Request) -> QueryRequest:
    params = parse_qs(request.url.query, keep_blank_values=True)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method == "POST":
        if content_type == "application/sparql-update":
            raise Forbidden("SPARQL updates are not allowed: this endpoint is read-only")
        if content_type == "application/x-www-form-urlencoded":
            body = await read_whole_body(request, MAX_QUERY_BYTES, "form")
            form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
            if "update" in form:
                raise Forbidden("SPARQL updates are not allowed: this endpoint is read-only")
            for key, values in form.items():
                params.setdefault(key, []).extend(values)
        elif content_type == "application/sparql-query":
            if "query" in params:
                raise InvalidInput("query given both in the URL and in the body", field="query")
            body = await read_whole_body(request, MAX_QUERY_BYTES, "query")
            params["query"] = [body.decode("utf-8", "replace")]
        else:
            raise InvalidInput(
                "POST needs Content-Type application/sparql-query or application/x-www-form-urlencoded",
                field="Content-Type",
            )
    why = too_many(sum(len(values) for values in params.values()))
    if why:
        raise InvalidInput(why, field="query")
    query = _one(params, "query")
    if not query or not query.strip():
        raise InvalidInput("missing query parameter", field="query")
    return QueryRequest(
        query=query,
        accept=request.headers.get("accept", ""),
        format=_one(params, "format") or _one(params, "output") or _one(params, "results"),
        default_graphs=tuple(params.get("default-graph-uri", [])),
        named_graphs=tuple(params.get("named-graph-uri", [])),
    )


async def _answer(request: Request, reader: Reader, access: Access) -> Response:
    query = replace(await _request(request), access=access)
    # scanned in run_query, before a query process sees it
    answer = await metrics.timed_query(run_query(request, reader, query))
    media = answer.media_type
    if media.startswith("text/") or media.endswith(("+json", "+xml", "/n-triples", "/n-quads")):
        media += "; charset=utf-8"
    return Response(answer.body, media_type=media, headers={"Vary": "Accept"})


_RESULTS: dict[str, Any] = {
    media: {}
    for media in (
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
        "text/turtle",
        "application/n-triples",
        "application/ld+json",
        "application/rdf+xml",
        "application/n-quads",
    )
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {"content": _RESULTS},
    400: {},
    401: {},
    403: {},
    406: {},
    413: {},
    422: {},
    429: {},
    500: {},
    503: {},
}


@router.get("/sparql", description=_DESCRIPTION, responses=_ERRORS, response_class=Response)
async def sparql_get(
    request: Request,
    reader: Annotated[Reader, Depends(store_reader)],
    access: Annotated[Access, Depends(caller)],
    query: Annotated[str, Query(min_length=1, description="The SPARQL query.")],
) -> Response:
    """Run a read-only SPARQL query given as `?query=`, over the graphs the caller may read."""
    return await _answer(request, reader, access)


@router.post(
    "/sparql",
    description=_DESCRIPTION,
    responses=_ERRORS,
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/sparql-query": {"schema": {"type": "string", "minLength": 1}},
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["query"],
                        "properties": {"query": {"type": "string", "minLength": 1}},
                    },
                },
            },
        }
    },
)
async def sparql_post(
    request: Request,
    reader: Annotated[Reader, Depends(store_reader)],
    access: Annotated[Access, Depends(caller)],
) -> Response:
    """Run a read-only SPARQL query sent as a form or as `application/sparql-query`."""
    return await _answer(request, reader, access)
