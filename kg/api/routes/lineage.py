"""A file's routes: `/knowledge-graph/projects/{namespace...}/{name}/files/{location}/lineage`
(renku-graph's) and `/history` (kg's).

The location is one URL-encoded path segment (renku-ui sends `data%2Fout.csv`), so the route
is read from the raw path: a location holding `files/` or `lineage/`, or a project called
`files`, still finds the right project and file. An unencoded location of several segments
is accepted when only one project the caller may read fits.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kg.access import Access
from kg.api.deps import caller, graph_rows, run_query, search_index, store_reader
from kg.api.routes.knowledge_projects import readable, readable_slugs
from kg.api.schemas import FileHistory, Lineage
from kg.api.session_specs import session_link
from kg.errors import InvalidInput, NotFound
from kg.search import SearchIndex
from kg.search.base import ProjectEntry
from kg.store import Reader
from kg.store.reading import LineageRequest

PREFIX = "/knowledge-graph/projects"
router = APIRouter(prefix=PREFIX, tags=["projects"])


def split_raw(raw_path: bytes, suffix: str = "/lineage") -> list[tuple[str, str]]:
    """The (project, location) pairs a raw file route can mean, the one-segment reading first.

    >>> split_raw(b"/knowledge-graph/projects/g/files/files/files%2Fx/lineage")
    [('g/files', 'files/x'), ('g', 'files/files/x')]
    >>> split_raw(b"/knowledge-graph/projects/g/p/files/out/a.csv/lineage")
    [('g/p', 'out/a.csv')]
    >>> split_raw(b"/api/kg/knowledge-graph/projects/g/p/files/a%2fb.csv/lineage")  # behind a prefix
    [('g/p', 'a/b.csv')]
    """
    text = raw_path.decode("utf-8", "replace")
    start = text.find(PREFIX + "/")
    if start < 0 or not text.endswith(suffix):
        return []
    segments = text[start + len(PREFIX) + 1 : -len(suffix)].split("/")
    readings = []
    for at in range(len(segments) - 2, 0, -1):  # the project is at least one segment
        if segments[at] == "files":
            project = "/".join(unquote(s) for s in segments[:at])
            location = "/".join(unquote(s) for s in segments[at + 1 :])
            readings.append((project, location))
    return readings


def choose(
    index: SearchIndex, raw_path: bytes, access: Access, suffix: str = "/lineage"
) -> tuple[ProjectEntry, str]:
    """The project and file a raw file route names, among the projects `access` may read."""
    readings = split_raw(raw_path, suffix)
    if not readings:
        raise NotFound("file", raw_path.decode("utf-8", "replace"))
    slug, location = readings[0]
    try:  # renku-ui's form: the location as one encoded segment
        return readable(index, slug, access), location
    except NotFound:
        if len(readings) == 1:
            raise
    fitting = []
    for slug, location in readings[1:]:
        try:
            fitting.append((readable(index, slug, access), location))
        except NotFound:
            continue
    if len(fitting) > 1:
        raise InvalidInput("ambiguous file location: encode it as one path segment", field="location")
    if not fitting:
        raise NotFound("project", readings[0][0])
    return fitting[0]


@router.get(
    "/{slug:path}/files/{location:path}/lineage",
    response_class=Response,
    responses={404: {}, 200: {"model": Lineage, "content": {"application/json": {}}}},
)
async def file_lineage(
    slug: str,
    location: Annotated[str, Path(description="the file's path, URL-encoded as one segment")],
    http: Request,
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
    reader: Annotated[Reader, Depends(store_reader)],
    direction: Literal["upstream", "downstream", "both"] = "both",
    depth: Annotated[int | None, Query(ge=1, description="kg: runs to follow each way")] = None,
) -> Response:
    """The lineage of a file: renku-graph's `{edges, nodes}`, plus kg's `direction`, `depth`
    and nodes of other projects (with their `project`)."""
    raw = http.scope.get("raw_path") or http.url.path.encode()
    entry, path = await run_in_threadpool(choose, index, raw, access)
    visible = await run_in_threadpool(readable_slugs, index, access)
    request = LineageRequest(entry.slug, path, direction, depth, visible)
    answer = await run_query(http, reader, request)
    found = await run_in_threadpool(index.documents, entry.slug, "project")
    commit = str(found[0].extra.get("commit") or "") if found else ""
    return Response(with_session(answer.body, entry.slug, commit), media_type="application/json")


def with_session(body: bytes, slug: str, commit: str) -> bytes:
    """The lineage JSON with kg's `session` field (open the project at the commit whose
    lineage this is: the current version), added in front without re-parsing 50,000 nodes.

    >>> json.loads(with_session(b'{"edges": []}', "g/p", "ab"))["session"]["body"]
    {'project': 'g/p', 'commit_sha': 'ab'}
    """
    if not commit or not body.startswith(b"{") or body.startswith(b"{}"):
        return body
    return b'{"session": ' + json.dumps(session_link(slug, commit)).encode() + b", " + body[1:]


@router.get("/{slug:path}/files/{location:path}/history", responses={404: {}})
async def file_history(
    slug: str,
    location: Annotated[str, Path(description="the file's path, URL-encoded as one segment")],
    http: Request,
    access: Annotated[Access, Depends(caller)],
    index: Annotated[SearchIndex, Depends(search_index)],
    reader: Annotated[Reader, Depends(store_reader)],
) -> FileHistory:
    """kg: the commits and runs that wrote, read or deleted a file, newest first."""
    raw = http.scope.get("raw_path") or http.url.path.encode()
    entry, path = await run_in_threadpool(choose, index, raw, access, "/history")
    rows = await graph_rows(http, reader, entry.graph, "file_history.rq", (("path", path),))
    if not rows:
        raise NotFound("file", f"{entry.slug}:{path}")
    events = [{k: v for k, v in row.items() if k != "path"} for row in rows]
    return FileHistory(path=path, project=entry.slug, history=events)
