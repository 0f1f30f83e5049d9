"""The OpenAPI document as renku-graph describes its API: its two security schemes (a GitLab
token, an OIDC token), its paging headers, and, at `/knowledge-graph/spec.json`, its server
prefix (`/knowledge-graph`) with the paths below it.

`/spec.json` stays the whole service (webhooks, SPARQL, status) with full paths, so that
clients and schemathesis reach every route from one document.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

PREFIX = "/knowledge-graph"
PAGING = {
    "Total": "How many items there are in all.",
    "Total-Pages": "How many pages there are.",
    "Per-Page": "Items per page.",
    "Page": "This page's number (from 1).",
    "Next-Page": "The next page's number, when there is one.",
    "Prev-Page": "The previous page's number, when there is one.",
    "Link": "The first, last, next and previous pages' URLs (RFC 8288).",
}
PAGED = {
    "/knowledge-graph/entities",
    "/knowledge-graph/projects/{slug}/datasets",
    "/knowledge-graph/projects/{slug}/datasets/{dataset_slug}/tags",
    "/knowledge-graph/users/{user_id}/projects",
}
SECURITY_SCHEMES = {
    "private-token": {
        "type": "apiKey",
        "in": "header",
        "name": "PRIVATE-TOKEN",
        "description": "A GitLab personal access token (or `Authorization: Bearer <GitLab OAuth token>`).",
    },
    "oidc": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "`Authorization: Bearer <OIDC access token>` (Keycloak) or a GitLab OAuth token.",
    },
}
router = APIRouter(prefix=PREFIX, tags=["spec"])


def describe(app: FastAPI) -> None:
    """Add renku-graph's security schemes and paging headers to the app's OpenAPI document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = build()
        components = spec.setdefault("components", {})
        components["securitySchemes"] = SECURITY_SCHEMES
        components["headers"] = {
            name: {"description": text, "schema": {"type": "string" if name == "Link" else "integer"}}
            for name, text in PAGING.items()
        }
        # every route takes either token, or none (anonymous: public projects only)
        spec["security"] = [{}, {"private-token": []}, {"oidc": []}]
        for path, operations in spec.get("paths", {}).items():
            if path not in PAGED:
                continue
            for operation in operations.values():
                ok = operation.get("responses", {}).get("200")
                if ok is not None:
                    ok["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in PAGING}
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def renku_graph_view(spec: dict[str, Any]) -> dict[str, Any]:
    """The document as renku-graph serves it: server `/knowledge-graph`, paths below it."""
    view = copy.deepcopy(spec)
    view["servers"] = [{"url": PREFIX}]
    view["paths"] = {
        path.removeprefix(PREFIX) or "/": operations
        for path, operations in spec.get("paths", {}).items()
        if path.startswith(PREFIX + "/")
    }
    return view


@router.get("/spec.json", include_in_schema=False)
async def knowledge_graph_spec(request: Request) -> JSONResponse:
    """renku-graph's `/knowledge-graph/spec.json`."""
    return JSONResponse(renku_graph_view(request.app.openapi()))
