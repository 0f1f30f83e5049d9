"""`GET /knowledge-graph/entities`: cross-entity search (renku-graph's shape, plus facets)."""

from __future__ import annotations

import json
import math
import re
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from kg import metrics
from kg.access import Access
from kg.api.deps import caller, search_index
from kg.api.fields import present
from kg.api.routes.datasets import dataset_identifier
from kg.api.schemas import SearchEnvelope, SearchHit
from kg.errors import InvalidInput
from kg.search import Document, SearchIndex, SearchQuery

router = APIRouter(prefix="/knowledge-graph", tags=["search"])

_KINDS = {"project", "dataset", "workflow", "person"}
_SORT = re.compile(r"^(matchingScore|name|dateModified|date)(?::(asc|desc))?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BODY_ONLY_FACETS = {"creator"}
"""Facets only the envelope carries (see `entities`)."""


def _is_date(value: str) -> bool:
    """A real calendar day written YYYY-MM-DD (not 2023-13-45, nor 2023-02-30)."""
    if not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


SortKey = Literal[
    "matchingScore",
    "matchingScore:asc",
    "matchingScore:desc",
    "name",
    "name:asc",
    "name:desc",
    "dateModified",
    "dateModified:asc",
    "dateModified:desc",
    "date",
    "date:asc",
    "date:desc",
]


def _query(params: dict[str, list[str]], access: Access) -> SearchQuery:
    def many(name: str, allowed: set[str] | None = None) -> list[Any]:
        values = [v for v in params.get(name, []) if v != ""]
        for value in values:
            if allowed is not None and value not in allowed:
                raise InvalidInput(f"{name}: {value!r} is not one of {sorted(allowed)}", field=name)
        return values

    def number(name: str, default: int, top: int) -> int:
        raw = params.get(name, [str(default)])[-1]
        if not raw.isdigit() or not 1 <= int(raw) <= top:
            raise InvalidInput(f"{name}: must be a whole number from 1 to {top}", field=name)
        return int(raw)

    query = SearchQuery(
        text=params.get("query", [""])[-1],
        kinds=many("type", _KINDS),
        creators=many("creator"),
        roles=many("role", {"owner", "maintainer", "reader"}),
        visibilities=many("visibility", {"public", "internal", "private"}),
        namespaces=many("namespace"),
        page=number("page", 1, 1_000_000),
        per_page=number("per_page", 20, 100),
    )
    if query.roles and not access.authenticated:
        # renku-graph: a role filter without a token is a bad request, not a missing login
        raise InvalidInput("role: filtering by role needs a token", field="role")
    for name in ("since", "until"):
        value = params.get(name, [""])[-1]
        if value and not _is_date(value):
            raise InvalidInput(f"{name}: expected a date, YYYY-MM-DD", field=name)
        setattr(query, name, value)
    if query.since and query.until and query.since > query.until:
        raise InvalidInput("since: must not be after until", field="since")
    sorts = []
    for value in many("sort"):
        match = _SORT.match(value)
        if match is None:
            raise InvalidInput(
                f"sort: {value!r} is not matchingScore|name|dateModified|date[:asc|desc]", field="sort"
            )
        sorts.append((match.group(1), match.group(2) or ("asc" if match.group(1) == "name" else "desc")))
    if sorts:
        query.sort = sorts
    return query


def item(doc: Document, visibility: str, base: str) -> dict[str, Any]:
    """One hit in renku-graph's shape."""
    namespace = doc.project.rsplit("/", 1)[0] if "/" in doc.project else ""
    common = {
        "type": doc.kind,
        "matchingScore": 1.0,
        "name": doc.name,
        "visibility": visibility,
        "description": doc.description,
        "keywords": doc.keywords,
    }
    if doc.kind == "project":
        return present(
            {
                **common,
                "slug": doc.slug,
                "path": doc.slug,
                "namespace": namespace,
                "namespaces": _namespaces(namespace),
                "date": doc.created,
                "dateModified": doc.modified,
                "creator": doc.creators[0] if doc.creators else None,
                "images": _images(doc),
                "_links": [{"rel": "details", "href": f"{base}/knowledge-graph/projects/{doc.slug}"}],
            }
        )
    if doc.kind == "dataset":
        identifier = dataset_identifier(doc)
        return present(
            {
                **common,
                "slug": doc.slug or doc.name,
                "identifier": identifier,
                # renku-graph: an imported (published) dataset is dated by its publication
                "date": doc.extra.get("published") or doc.created,
                "dateModified": doc.modified,
                "creators": doc.creators,
                "images": [],
                "project": {"path": doc.project, "slug": doc.project},
                "_links": [{"rel": "details", "href": f"{base}/knowledge-graph/datasets/{identifier}"}],
            }
        )
    if doc.kind == "workflow":
        return present(
            {
                **common,
                "date": doc.created,
                "workflowType": doc.extra.get("tool", ""),
                "project": {"path": doc.project, "slug": doc.project},
                "_links": [],
            }
        )
    return {"type": "person", "matchingScore": 1.0, "name": doc.name, "_links": []}


def _images(doc: Document) -> list[dict[str, Any]]:
    """renku-graph's image list: each with its position and a link to its location."""
    return [
        {"location": url, "_links": [{"rel": "view", "href": url}]} for url in doc.extra.get("images", [])
    ]


def _namespaces(namespace: str) -> list[dict[str, str]]:
    parts = namespace.split("/") if namespace else []
    return [{"rel": p, "namespace": "/".join(parts[: i + 1])} for i, p in enumerate(parts)]


def paging_headers(request: Request, total: int, page: int, per_page: int) -> dict[str, str]:
    """Total, Total-Pages, Per-Page, Page, Next-Page, Prev-Page and Link, as renku-graph sends them."""
    pages = max(1, math.ceil(total / per_page))
    headers = {"Total": str(total), "Total-Pages": str(pages), "Per-Page": str(per_page), "Page": str(page)}

    def url(number: int) -> str:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"] + [
            ("page", str(number))
        ]
        # headers are latin-1: the path is sent percent-encoded, as it came
        return f"{quote(request.url.path)}?{urlencode(params)}"

    links = [f'<{url(1)}>; rel="first"', f'<{url(pages)}>; rel="last"']
    if page < pages:
        headers["Next-Page"] = str(page + 1)
        links.append(f'<{url(page + 1)}>; rel="next"')
    if page > 1:
        headers["Prev-Page"] = str(page - 1)
        links.append(f'<{url(page - 1)}>; rel="prev"')
    headers["Link"] = ", ".join(links)
    return headers


@router.get(
    "/entities",
    responses={200: {"model": list[SearchHit] | SearchEnvelope}, 400: {}, 401: {}, 503: {}},
)
async def entities(
    request: Request,
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
    query: Annotated[str, Query(description="Words to find (prefix match, any order).")] = "",
    type: Annotated[list[Literal["project", "dataset", "workflow", "person"]], Query()] = [],  # noqa: B006
    creator: Annotated[
        list[str], Query(description="A creator's whole name, ignoring case (several: any of them).")
    ] = [],  # noqa: B006
    role: Annotated[list[Literal["owner", "maintainer", "reader"]], Query(description="Needs a token.")] = [],  # noqa: B006
    visibility: Annotated[list[Literal["public", "internal", "private"]], Query()] = [],  # noqa: B006
    namespace: Annotated[list[str], Query()] = [],  # noqa: B006
    since: Annotated[date, Query(description="YYYY-MM-DD")] = date(1970, 1, 1),
    until: Annotated[date, Query(description="YYYY-MM-DD")] = date(9999, 12, 31),
    sort: Annotated[list[SortKey], Query()] = [],  # noqa: B006
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    envelope: Annotated[
        bool, Query(description="kg: `{items, facets}`, facets with `creator` (not in the Facets header).")
    ] = False,
) -> JSONResponse:
    """Ranked search over what the caller may see; facet counts in the `Facets` header (type,
    visibility, namespace) and with `envelope=true` in the body (also creator)."""
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    search = _query(params, access)
    result = await run_in_threadpool(metrics.timed_search(index.search), search, access)
    base = str(request.base_url).rstrip("/")
    items = []
    for doc in result.items:
        hit = item(doc, result.visibility.get(doc.id, "public"), base)
        if hit["type"] != "person" or search.text:
            hit["matchingScore"] = round(result.scores.get(doc.id, 0.0), 6)
        items.append(hit)
    headers = paging_headers(request, result.total, search.page, search.per_page)
    # the header keeps the facets it always had: up to 50 names, \u-escaped for latin-1, could
    # pass the 4-8 KB a proxy buffers for a response's headers (nginx's default)
    header_facets = {k: v for k, v in result.facets.items() if k not in _BODY_ONLY_FACETS}
    headers["Facets"] = json.dumps(header_facets, separators=(",", ":"))
    body: Any = {"items": items, "facets": result.facets} if envelope else items
    return JSONResponse(body, headers=headers)
