"""Errors as RFC 9457 problem details (`application/problem+json`), mapped in one place."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from kg import errors
from kg.pipeline.failures import public_reason
from kg.sessions.base import SessionConflict
from kg.sparql.negotiation import NotAcceptable

log = logging.getLogger("kg.api")

# Most specific first.
STATUS: list[tuple[type[errors.KgError], int]] = [
    (NotAcceptable, 406),
    (errors.NotFound, 404),
    (errors.BodyTooLarge, 413),
    (errors.Unprocessable, 422),
    (errors.InvalidInput, 400),
    (errors.Unauthorized, 401),
    (errors.Forbidden, 403),
    (errors.TooManyRequests, 429),
    (errors.QuerySyntaxError, 400),
    (errors.QueryTooLarge, 422),
    (errors.QueryTimeout, 503),
    (errors.QueryCrashed, 500),
    (errors.StoreBusy, 503),
    (errors.StoreUnavailable, 503),
    (errors.Unavailable, 503),
    (errors.LeaseLost, 409),
    (SessionConflict, 409),
    (errors.CommandFailed, 502),
]


def problem(status: int, title: str, detail: str = "", **extra: object) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def status_of(exc: errors.KgError) -> int:
    """The HTTP status for a kg error."""
    return next((code for cls, code in STATUS if isinstance(exc, cls)), 500)


async def _kg_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.KgError)
    status = status_of(exc)
    title = type(exc).__name__
    if isinstance(exc, errors.Unauthorized):
        response = problem(401, "Unauthorized")  # never say why
        response.headers["WWW-Authenticate"] = 'Bearer realm="kg"'  # RFC 9110: a 401 names a scheme
        return response
    if isinstance(exc, errors.TooManyRequests):
        response = problem(429, "TooManyRequests", str(exc))
        response.headers["Retry-After"] = str(max(1, round(exc.retry_after)))
        return response
    if isinstance(exc, errors.Unavailable):
        log.error("unavailable", extra={"path": request.url.path, "error": str(exc)})
        response = problem(503, "Unavailable", str(exc))
        response.headers["Retry-After"] = "30"
        return response
    if status >= 500:
        log.warning("request failed", extra={"path": request.url.path, "error": str(exc)})
    extra: dict[str, object] = {}
    if isinstance(exc, errors.InvalidInput) and exc.field:
        extra["parameter"] = exc.field
    if isinstance(exc, errors.NotFound) and exc.kind == "project":
        # renku-ui tells "not activated" from other failures by these words (renku-graph's)
        extra["message"] = "Info about project cannot be found"
    return problem(status, title, _detail(exc), **extra)


def _detail(exc: errors.KgError) -> str:
    """What the caller is told: kg's own words, never what a remote said or a server path."""
    if isinstance(exc, errors.CommandFailed):
        return public_reason(exc)
    if isinstance(exc, errors.StoreBusy):
        return "the store is busy; try again shortly"
    return str(exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    loc = [str(p) for p in first["loc"]]
    # a parameter is named as such; a body field by its path
    where = (
        loc[1]
        if len(loc) > 1 and loc[0] in ("query", "path", "header", "cookie")
        else ".".join(loc[1:] or loc)
    )
    return problem(400, "InvalidInput", f"{where}: {first['msg']}", parameter=where)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    response = problem(exc.status_code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", extra={"path": request.url.path})
    return problem(500, "Internal Server Error", "an unexpected error occurred")


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(errors.KgError, _kg_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


_PROBLEM_CODES = ("400", "401", "403", "404", "406", "409", "413", "422", "429", "500", "502", "503")


def document(app: FastAPI) -> None:
    """Say in the OpenAPI document what the service really answers: bad parameters are 400
    problems (FastAPI documents its 422), and any route may answer 401 to a bad token."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = build()
        problem = {
            "description": "Problem",
            "content": {"application/problem+json": {"schema": {"type": "object"}}},
        }
        for operations in spec.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if responses.get("422", {}).get("description") == "Validation Error":  # FastAPI's
                    responses.pop("422")
                    responses["400"] = problem
                for code in _PROBLEM_CODES:
                    if code in responses and not responses[code].get("content"):
                        responses[code] = {
                            **problem,
                            **{k: v for k, v in responses[code].items() if k != "content"},
                        }
                responses.setdefault("401", problem)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
