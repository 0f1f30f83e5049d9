"""`GET /knowledge-graph/datasets/{id}`: a dataset by identifier (renku-graph's shape)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from kg.access import Access
from kg.api.deps import caller, search_index
from kg.api.fields import present
from kg.api.schemas import DatasetDetails
from kg.api.viewed import remember
from kg.errors import NotFound
from kg.search import Document, SearchIndex

router = APIRouter(prefix="/knowledge-graph/datasets", tags=["datasets"])
_UUID = re.compile(
    r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)


def _visible(index: SearchIndex, key: str, access: Access) -> list[tuple[Document, str]]:
    found: list[tuple[Document, str]] = []
    docs = index.find("dataset", key)
    if not docs and _UUID.match(key):  # renku-ui may send a UUID with or without its hyphens
        bare = key.replace("-", "")
        hyphenated = f"{bare[:8]}-{bare[8:12]}-{bare[12:16]}-{bare[16:20]}-{bare[20:]}"
        docs = index.find("dataset", hyphenated if "-" not in key else bare)
    for doc in docs:
        entry = index.project(doc.project)
        if entry is not None and entry.readable_by(access):
            found.append((doc, entry.visibility))
    return found


@router.get("/{identifier}", responses={200: {"model": DatasetDetails}, 404: {}})
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

    await remember(request, access, "dataset", ident)
    extra = doc.extra
    provenance = {"sameAs": extra["sameAs"]} if extra.get("sameAs") else {}
    if not provenance and extra.get("derivedFrom"):
        provenance = {"derivedFrom": extra["derivedFrom"]}
    tags = extra.get("tags") or []
    initial = initial_identifier(doc)
    first_tags = [t for t in tags if t.get("version") == initial]
    return present(
        {
            "identifier": ident,
            "versions": {"initial": initial},
            "tags": {
                "initial": present(
                    {"name": first_tags[-1]["name"], "description": first_tags[-1].get("description")}
                )
            }
            if first_tags
            else None,
            "name": doc.name,
            "slug": doc.slug or doc.name,
            "url": extra.get("url"),
            **provenance,
            "description": doc.description,
            "created": doc.created,
            "dateModified": doc.modified,
            "published": present(
                {"datePublished": extra.get("published"), "creator": [_creator(c) for c in _people(doc)]}
            ),
            "keywords": doc.keywords,
            "hasPart": [{"atLocation": p} for p in doc.paths],
            "project": project(doc, visibility),
            "usedIn": [project(d, v) for d, v in found],
            "images": [],
            "_links": dataset_links(base, doc, "self"),
        }
    )


def _people(doc: Document) -> list[dict[str, str]]:
    """The dataset's creators as indexed (older indexes kept names only)."""
    people: list[dict[str, str]] = doc.extra.get("people") or [{"name": n} for n in doc.creators]
    return people


def _creator(person: dict[str, str]) -> dict[str, str]:
    """One creator: name, and e-mail and affiliation where known. A Renku person id (an ORCID
    URL, say) is an identifier, not an e-mail."""
    email = person.get("email", "")
    if "@" not in email or email.startswith(("http://", "https://")):
        email = ""
    return present(
        {
            "name": person.get("name", ""),
            "email": email.removeprefix("mailto:"),
            "affiliation": person.get("affiliation"),
        }
    )


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
