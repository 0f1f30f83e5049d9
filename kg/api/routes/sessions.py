"""Interactive sessions: `POST/GET /sessions`, `GET/DELETE /sessions/{name}`,
`GET /sessions/{name}/logs`.

Every route needs an identified caller (401 otherwise), who sees and stops only their own
sessions: another user's session is 404, as if it did not exist, so names do not leak. A
session starts only on a project the caller may read (404 otherwise, like the project pages)
at a commit kg ingested of it; what it runs and how big it is are checked against the
settings before the backend is asked for anything, so a refused request creates nothing.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from kg.access import Access
from kg.api.deps import caller, search_index, settings, store_reader
from kg.api.limits import read_whole_body
from kg.api.session_specs import (
    MAX_REQUEST_BYTES,
    REQUEST_SCHEMA,
    SessionRequest,
    clone_source,
    image_of,
    read_request,
    resources_of,
    session_json,
)
from kg.config import Settings
from kg.errors import NotFound, Unauthorized, Unprocessable
from kg.search import SearchIndex
from kg.search.base import ProjectEntry
from kg.sessions import Session, SessionBackend, SessionSpec, session_name
from kg.store import Reader
from kg.store.base import Bindings

router = APIRouter(prefix="/sessions", tags=["sessions"])
MAX_LOG_LINES = 10_000


async def backend(request: Request) -> SessionBackend:
    """The app's session backend."""
    value: SessionBackend = request.app.state.sessions
    return value


async def user_of(access: Annotated[Access, Depends(caller)]) -> str:
    """The identified caller; anonymous is 401."""
    if access.user is None:
        raise Unauthorized()
    return access.user


def project_for(index: SearchIndex, project: str | int, access: Access) -> ProjectEntry:
    """The project a request names (path or GitLab id) if the caller may read it; else 404."""
    key = str(project).strip().strip("/")
    if key.isdigit():
        entries = [e for e in index.projects_of(int(key)) if e.readable_by(access)]
        entry = entries[0] if entries else None
    else:
        entry = index.project(key)
    if entry is None or not entry.readable_by(access):
        raise NotFound("project", key)
    return entry


def ingested(reader: Reader, entry: ProjectEntry, sha: str) -> bool:
    """Whether the project's live graph holds the commit (kg ingested it)."""
    if not entry.graph:
        return False
    bound: Bindings = {"graph": ox.NamedNode(entry.graph), "sha": ox.Literal(sha)}
    return bool(reader.select("commit_exists.rq", bound))


async def own(sessions: SessionBackend, name: str, user: str) -> Session:
    """The caller's session of that name; 404 for none and for another user's."""
    found = await sessions.get(name)
    if found is None or found.user != user:
        raise NotFound("session", name)
    return found


async def spec_for(
    asked: SessionRequest, user: str, access: Access, index: SearchIndex, reader: Reader, config: Settings
) -> SessionSpec:
    """The spec of the session a request asks for, every check done; raises what is wrong."""
    entry = await run_in_threadpool(project_for, index, asked.project, access)
    sha = asked.commit_sha.lower()
    image, resources = image_of(asked, config), resources_of(asked, config)
    if not await run_in_threadpool(ingested, reader, entry, sha):
        raise Unprocessable(
            f"commit {sha} is not a commit of {entry.slug} that kg ingested", field="commit_sha"
        )
    clone_url, token = clone_source(entry, config)
    return SessionSpec(
        name=session_name(user, entry.slug, sha),
        user=user,
        project_id=entry.gitlab_id or 0,
        project_path=entry.slug,
        commit_sha=sha,
        branch=asked.branch,
        image=image,
        resources=resources,
        default_url=asked.default_url,
        clone_url=clone_url,
        token=token,
    )


@router.post(
    "",
    status_code=201,
    openapi_extra={"requestBody": REQUEST_SCHEMA},
    responses={200: {}, 400: {}, 404: {}, 409: {}, 413: {}, 422: {}},
)
async def start_session(
    request: Request,
    user: Annotated[str, Depends(user_of)],
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
    reader: Annotated[Reader, Depends(store_reader)],
    config: Annotated[Settings, Depends(settings)],
    sessions: Annotated[SessionBackend, Depends(backend)],
) -> JSONResponse:
    """Start a session of a project at a commit: 201 with it, or 200 with the caller's
    session of that project and commit if it exists (409 if that one runs another image or
    size). More than `KG_SESSIONS_MAX_PER_USER` is 422: waiting does not help, stopping one does."""
    body = await read_whole_body(request, MAX_REQUEST_BYTES, "a session request")
    spec = await spec_for(read_request(body), user, access, index, reader, config)
    starting: asyncio.Lock = request.app.state.session_starts
    async with starting:  # the count and the start, one request at a time
        mine = await sessions.list(user)
        existed = any(s.name == spec.name for s in mine)
        if not existed and len(mine) >= config.sessions_max_per_user:
            raise Unprocessable(
                f"you have {len(mine)} sessions, the limit is {config.sessions_max_per_user}: stop one first"
            )
        session = await sessions.start(spec)
    return JSONResponse(session_json(session), status_code=200 if existed else 201)


@router.get("", responses={401: {}})
async def list_sessions(
    user: Annotated[str, Depends(user_of)],
    sessions: Annotated[SessionBackend, Depends(backend)],
) -> list[dict[str, Any]]:
    """The caller's sessions, oldest first."""
    return [session_json(s) for s in await sessions.list(user)]


@router.get("/{name}", responses={404: {}})
async def get_session(
    name: str,
    user: Annotated[str, Depends(user_of)],
    sessions: Annotated[SessionBackend, Depends(backend)],
) -> dict[str, Any]:
    """One of the caller's sessions."""
    return session_json(await own(sessions, name, user))


@router.delete("/{name}", status_code=204, response_class=Response, responses={404: {}})
async def stop_session(
    name: str,
    user: Annotated[str, Depends(user_of)],
    sessions: Annotated[SessionBackend, Depends(backend)],
) -> Response:
    """Stop one of the caller's sessions; a session that is gone already is 204 too."""
    found = await sessions.get(name)
    if found is not None:
        if found.user != user:
            raise NotFound("session", name)
        await sessions.stop(name)
    return Response(status_code=204)


@router.get("/{name}/logs", response_class=PlainTextResponse, responses={404: {}})
async def session_logs(
    name: str,
    user: Annotated[str, Depends(user_of)],
    sessions: Annotated[SessionBackend, Depends(backend)],
    max_lines: Annotated[int, Query(ge=1, le=MAX_LOG_LINES)] = 250,
) -> PlainTextResponse:
    """The last lines of one of the caller's sessions' output."""
    await own(sessions, name, user)
    return PlainTextResponse(await sessions.logs(name, max_lines))
