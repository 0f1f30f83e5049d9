"""Serving the explorer: its shell for every page URL, its built assets, its settings, and
Swagger UI from the same assets (so `/docs` works offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from kg.api.deps import settings
from kg.config import Settings
from kg.explorer.examples import example_queries
from kg.urls import origin

STATIC = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)


def content_policy(config: Settings) -> str:
    """The pages' Content-Security-Policy: only kg's own scripts; network calls to kg and to
    the OIDC provider (discovery and the token exchange are the browser's)."""
    provider = origin(config.oidc_issuer)
    connect = " ".join(filter(None, ["'self'", provider]))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; "
        f"connect-src {connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


def _shell(config: Settings) -> FileResponse:
    return FileResponse(
        STATIC / "index.html",
        media_type="text/html",
        headers={
            "Content-Security-Policy": content_policy(config),
            "Referrer-Policy": "no-referrer",  # the sign-in answer carries a code in its URL
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        },
    )


@router.get("/explore/config.json")
async def explorer_config(config: Annotated[Settings, Depends(settings)]) -> dict[str, Any]:
    """What the pages need to know: where to sign in, whether sessions can be started."""
    oidc = {"issuer": config.oidc_issuer, "clientId": config.oidc_client_id} if config.oidc_issuer else None
    # sessions need a signed-in user, and the explorer signs in only through OIDC
    return {"oidc": oidc, "sessions": oidc is not None}


@router.get("/explore/examples.json")
async def examples() -> JSONResponse:
    """kg's own named queries, as examples for the SPARQL page."""
    return JSONResponse(example_queries(), headers={"Cache-Control": "max-age=300"})


@router.api_route("/", methods=["GET", "HEAD"])
@router.api_route("/explore", methods=["GET", "HEAD"])
async def home(config: Annotated[Settings, Depends(settings)]) -> FileResponse:
    """The search page."""
    return _shell(config)


@router.api_route("/explore/{page:path}", methods=["GET", "HEAD"])
async def page(page: str, config: Annotated[Settings, Depends(settings)]) -> FileResponse:
    """Any explorer page: the same shell, which routes on the URL (deep links survive reloads)."""
    return _shell(config)


@router.get("/docs")
async def docs() -> HTMLResponse:
    """Swagger UI for /spec.json, from kg's own copy of its assets."""
    return get_swagger_ui_html(
        openapi_url="/spec.json",
        title="kg API",
        swagger_js_url="/explore/static/docs/swagger-ui-bundle.js",
        swagger_css_url="/explore/static/docs/swagger-ui.css",
        swagger_favicon_url="/explore/static/icon.svg",
    )


def install(app: FastAPI) -> None:
    """Mount the assets and the pages (after every API route: the shell catches the rest of
    /explore/)."""
    app.mount("/explore/static", StaticFiles(directory=STATIC, check_dir=False), name="explorer-static")
    app.include_router(router)
