"""`GET /knowledge-graph/datasets/{id}`: a dataset by identifier (renku-graph's shape)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from kg.api.deps import caller, search_index
from kg.errors import NotFound
from kg.search import Access, Document, SearchIndex

router = APIRouter(prefix="/knowledge-graph/datasets", tags=["datasets"])


def _visible(index: SearchIndex, key: str, access: Access) -> list[tuple[Document, str]]:
    found: list[tuple[Document, str]] = []
    for doc in index.find("dataset", key):
        entry = index.project(doc.project)
        if entry is not None and entry.readable_by(access):
            found.append((doc, entry.visibility))
    return found


@router.get("/{identifier}", responses={404: {}})
async def dataset(
    identifier: str,
    request: Request,
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
) -> dict[str, Any]:
    """A dataset the caller may read, with the projects it is in; 404 otherwise."""
    found = await run_in_threadpool(_visible, index, identifier, access)
    if not found:
        raise NotFound("dataset", identifier)
    doc, visibility = found[0]
    base = str(request.base_url).rstrip("/")
    ident = dataset_identifier(doc)

    def project(d: Document, v: str) -> dict[str, Any]:
        return {
            "path": d.project,
            "slug": d.project,
            "name": d.project.rsplit("/", 1)[-1],
            "visibility": v,
            "dataset": {"identifier": dataset_identifier(d)},
            "_links": [{"rel": "project-details", "href": f"{base}/knowledge-graph/projects/{d.project}"}],
        }

    return {
        "identifier": ident,
        "versions": {"initial": initial_identifier(doc)},
        "name": doc.name,
        "slug": doc.slug or doc.name,
        "description": doc.description,
        "created": doc.created or None,
        "dateModified": doc.modified or None,
        "published": {"creator": [{"name": c} for c in doc.creators]},
        "keywords": doc.keywords,
        "hasPart": [{"atLocation": p} for p in doc.paths],
        "project": project(doc, visibility),
        "usedIn": [project(d, v) for d, v in found],
        "images": [],
        "_links": dataset_links(base, doc, "self"),
    }


def dataset_identifier(doc: Document) -> str:
    """A dataset's identifier: the one its metadata gives, else its IRI's last segment."""
    identifier: str = doc.extra.get("identifier") or doc.id.rsplit("/", 1)[-1]
    return identifier


def initial_identifier(doc: Document) -> str:
    """The identifier of the first version of a dataset's lineage (its own if unknown)."""
    initial: str = doc.extra.get("initial") or dataset_identifier(doc)
    return initial


def dataset_links(base: str, doc: Document, rel: str) -> list[dict[str, str]]:
    """renku-graph's links of a dataset: itself, its initial version, its tags."""
    slug = quote(doc.slug or doc.name, safe="")
    return [
        {"rel": rel, "href": f"{base}/knowledge-graph/datasets/{dataset_identifier(doc)}"},
        {"rel": "initial-version", "href": f"{base}/knowledge-graph/datasets/{initial_identifier(doc)}"},
        {"rel": "tags", "href": f"{base}/knowledge-graph/projects/{doc.project}/datasets/{slug}/tags"},
    ]
