"""Project pages under `/knowledge-graph/projects/{namespace...}/{name}` (renku-graph's shapes).

Anything the caller may not read is 404, exactly like a project that does not exist.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kg.access import Access
from kg.api.deps import address_of, caller, charged, gitlab_token, outbound, search_index, store_reader
from kg.api.fields import present
from kg.api.forge_details import ForgeDetails
from kg.api.project_page import project_body, project_jsonld
from kg.api.routes.datasets import dataset_links, initial_identifier
from kg.api.routes.entities import item, paging_headers
from kg.api.schemas import ProjectDetails
from kg.api.viewed import remember
from kg.errors import InvalidInput, NotFound, TooManyRequests, Unavailable
from kg.search import Document, SearchIndex
from kg.search.base import ProjectEntry
from kg.store import Reader

router = APIRouter(prefix="/knowledge-graph/projects", tags=["projects"])


def readable(index: SearchIndex, slug: str, access: Access) -> ProjectEntry:
    """The project, if the caller may read it; else `NotFound` (never 403)."""
    entry = index.project(slug.strip("/"))
    if entry is None or not entry.readable_by(access):
        raise NotFound("project", slug)
    return entry


def readable_slugs(index: SearchIndex, access: Access) -> frozenset[str] | None:
    """Every project the caller may read, or None when nothing is hidden."""
    projects = index.readable_projects(access)
    return None if projects is None else frozenset(p.slug for p in projects)


_GRAPH_TYPES = ("text/turtle", "application/n-triples", "application/ld+json", "application/trig")


@router.get(
    "/{slug:path}/graph",
    response_class=Response,
    responses={404: {}, 406: {}, 200: {"content": {media: {} for media in _GRAPH_TYPES}}},
)
async def project_graph(
    slug: str,
    request: Request,
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
    reader: Annotated[Reader, Depends(store_reader)],
) -> Response:
    """kg: the project's whole graph as Turtle, N-Triples, JSON-LD or TriG (by `Accept`)."""
    entry = await run_in_threadpool(readable, index, slug, access)
    accept = request.headers.get("accept", "")
    trig = "application/trig" in accept and "text/turtle" not in accept.split("application/trig")[0]
    wanted = "application/n-triples" if trig else accept
    answer = await charged(request, partial(reader.export, entry.graph, wanted))
    if trig:  # N-Triples lines are valid TriG inside the graph's block
        body = f"<{entry.graph}> {{\n".encode() + answer.body + b"}\n"
        return Response(body, media_type="application/trig")
    return Response(answer.body, media_type=answer.media_type, headers={"Vary": "Accept"})


def _datasets(index: SearchIndex, slug: str, access: Access) -> tuple[ProjectEntry, list[Document]]:
    """A project the caller may read, and its current datasets."""
    entry = readable(index, slug, access)
    return entry, index.documents(entry.slug, "dataset")


@router.get("/{slug:path}/datasets", responses={404: {}})
async def project_datasets(
    slug: str,
    request: Request,
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 100,
) -> JSONResponse:
    """The project's current datasets."""
    entry, every = await run_in_threadpool(_datasets, index, slug, access)
    base = str(request.base_url).rstrip("/")
    items = []
    for doc in every[(page - 1) * per_page : page * per_page]:
        hit = item(doc, entry.visibility, base)
        items.append(
            present(
                {
                    "identifier": hit["identifier"],
                    "versions": {"initial": initial_identifier(doc)},
                    "name": doc.name,
                    "slug": hit["slug"],
                    "dateCreated": doc.created,
                    "datePublished": doc.extra.get("published"),
                    "dateModified": doc.modified,
                    "sameAs": doc.extra.get("sameAs"),
                    "derivedFrom": None if doc.extra.get("sameAs") else doc.extra.get("derivedFrom"),
                    "images": [],
                    "_links": dataset_links(base, doc, "details"),
                }
            )
        )
    return JSONResponse(items, headers=paging_headers(request, len(every), page, per_page))


@router.get("/{slug:path}/datasets/{dataset_slug}/tags", responses={404: {}})
async def dataset_tags(
    slug: str,
    dataset_slug: str,
    request: Request,
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSONResponse:
    """Tags of a project's dataset (on any of its versions), newest first."""
    entry, every = await run_in_threadpool(_datasets, index, slug, access)
    found = [d for d in every if (d.slug or d.name) == dataset_slug]
    if not found:
        raise NotFound("dataset", f"{entry.slug}:{dataset_slug}")
    tags = found[0].extra.get("tags") or []
    base = str(request.base_url).rstrip("/")
    items = [
        present(
            {
                "name": tag["name"],
                "date": tag.get("date"),
                "description": tag.get("description"),
                "_links": [
                    {"rel": "dataset-details", "href": f"{base}/knowledge-graph/datasets/{tag['version']}"}
                ],
            }
        )
        for tag in tags[(page - 1) * per_page : page * per_page]
    ]
    return JSONResponse(items, headers=paging_headers(request, len(tags), page, per_page))


@router.get("", include_in_schema=False)
async def no_project() -> Response:
    """No listing here (renku-graph has none): a path is needed, as at `.../projects/`."""
    raise InvalidInput("a project path is needed", field="slug")


@router.get(
    "/{slug:path}",
    response_class=Response,
    responses={404: {}, 200: {"model": ProjectDetails, "content": {"application/ld+json": {}}}},
)
async def project(
    slug: str,
    request: Request,
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
) -> Response:
    """A project's page: renku-graph's JSON, or its JSON-LD when asked for `application/ld+json`."""
    if not slug.strip("/"):
        raise InvalidInput("a project path is needed", field="slug")
    entry = await run_in_threadpool(readable, index, slug, access)
    found = await run_in_threadpool(index.documents, entry.slug, "project")
    gitlab: dict[str, Any] = {}
    details: ForgeDetails | None = request.app.state.forge_details
    if details is not None:
        target = entry.gitlab_ref
        token = gitlab_token(request)
        known = details.cached(target, token)
        try:  # charged to the caller's address: a crawler must not make kg crawl GitLab
            gitlab = (
                known
                if known is not None
                else await outbound(request).call(address_of(request), details.of, target, token)
            )
        except (TooManyRequests, Unavailable):
            gitlab = {}  # the page without GitLab's part, rather than no page
    body = project_body(entry, found[0] if found else None, gitlab, str(request.base_url).rstrip("/"), access)
    await remember(request, access, "project", entry.slug)
    if "application/ld+json" in request.headers.get("accept", ""):
        return JSONResponse(project_jsonld(entry, body), media_type="application/ld+json")
    return JSONResponse(body)
