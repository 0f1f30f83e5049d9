"""`GET /ontology`: the vocabulary, by content negotiation (HTML, Turtle, JSON-LD)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from kg import ontology
from kg.sparql.negotiation import parse_accept

router = APIRouter(prefix="/ontology", tags=["ontology"])
alias = APIRouter(tags=["ontology"])  # renku-graph's path

_CHOICES = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/turtle": "ttl",
    "application/x-turtle": "ttl",
    "application/ld+json": "jsonld",
    "application/json": "jsonld",
}


@router.get(
    "",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "text/turtle": {}, "application/ld+json": {}}}},
)
@alias.get("/knowledge-graph/ontology", include_in_schema=False)
async def get_ontology(request: Request, format: str | None = None) -> Response:
    """The kg ontology: HTML for browsers, Turtle or JSON-LD by `Accept` (or `?format=`)."""
    choice = format
    if choice is None:
        for media, _ in parse_accept(request.headers.get("accept", "")).ranges:
            if media in _CHOICES:
                choice = _CHOICES[media]
                break
        else:
            choice = "ttl"
    if choice == "html":
        return HTMLResponse(ontology.page(), headers={"Vary": "Accept"})
    if choice in ("jsonld", "json-ld"):
        return Response(ontology.jsonld(), media_type="application/ld+json", headers={"Vary": "Accept"})
    return Response(ontology.turtle(), media_type="text/turtle; charset=utf-8", headers={"Vary": "Accept"})


@router.get("/shapes", response_class=Response, responses={200: {"content": {"text/turtle": {}}}})
async def get_shapes() -> Response:
    """The SHACL shapes extractors' output conforms to."""
    return Response(ontology.shapes(), media_type="text/turtle; charset=utf-8")


@router.get(
    "/context.jsonld", response_class=Response, responses={200: {"content": {"application/ld+json": {}}}}
)
async def get_context() -> Response:
    """The JSON-LD context of API responses."""
    return Response(ontology.context(), media_type="application/ld+json")
