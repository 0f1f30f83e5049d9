"""The attacker's view: a real `kg serve`, a GitLab stand-in that serves repositories over
HTTP, a request recorder that must receive nothing, and hooks sent as GitLab sends them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.recorder import RequestRecorder
from tests.fixtures.servers import KgServer
from webhooks.tokens import hook_token

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def recorder() -> Iterator[RequestRecorder]:
    """A server on 127.0.0.1 nothing should ever reach."""
    server = RequestRecorder()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_recorder() -> Iterator[RequestRecorder]:
    """`recorder`, shared by a module's tests."""
    server = RequestRecorder()
    yield server
    server.stop()


def push_body(project_id: int, path: str, url: str, after: str, *, visibility: int = 20) -> dict[str, Any]:
    """A GitLab Push Hook body for the default branch, from the documented example."""
    body: dict[str, Any] = json.loads((FIXTURES / "gitlab" / "push_event.json").read_text())
    body.update(after=after, checkout_sha=after, project_id=project_id)
    body["project"].update(
        id=project_id, path_with_namespace=path, git_http_url=url, visibility_level=visibility
    )
    return body


def send_hook(
    server: KgServer,
    body: dict[str, Any] | bytes,
    project_id: int,
    *,
    key: str | None = None,
    token: str = "",
) -> httpx.Response:
    """POST a Push Hook with the project's own token (or `token`)."""
    headers = {
        "X-Gitlab-Event": "Push Hook",
        "X-Gitlab-Token": token or hook_token("test-hook-secret", project_id),
        "Content-Type": "application/json",
    }
    if key:
        headers["Idempotency-Key"] = key
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{server.url}/webhooks/events", content=content, headers=headers, timeout=60)


def settled(server: KgServer, project_id: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The project's status once its events are all done (succeeded or failed)."""
    deadline = time.monotonic() + 90
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = httpx.get(f"{server.url}/projects/{project_id}/events/status", headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        status = response.json()
        progress = status["progress"]
        if status["details"]["status"] != "in-progress" and progress["done"] == progress["total"]:
            return status
        time.sleep(0.1)
    raise AssertionError(f"project {project_id} never settled: {status}")


def sparql_count(server: KgServer, query: str, headers: dict[str, str] | None = None) -> int:
    """The single number a counting query answers, as the caller sees it."""
    response = httpx.get(
        f"{server.url}/sparql", params={"query": query}, headers={"Accept": "text/csv", **(headers or {})}
    )
    assert response.status_code == 200, response.text
    return int(response.text.split()[1])


def commits_of(server: KgServer, slug: str, headers: dict[str, str] | None = None) -> int:
    """How many commits of a project a caller's SPARQL sees."""
    prefix = f"https://kg.local/projects/{slug}/-/commits/"
    query = (
        "SELECT (COUNT(?c) AS ?n) WHERE { ?c a <https://w3id.org/kg/ontology#Commit> "
        f"FILTER(STRSTARTS(STR(?c), '{prefix}')) }}"
    )
    return sparql_count(server, query, headers)


Hook = Callable[..., httpx.Response]


def published(server: KgServer) -> dict[str, dict[str, Any]]:
    """The project records readers see now (the newest checkpoint's), by slug."""
    try:
        name = (server.data_dir / "store.version").read_text().strip()
        rows = json.loads((server.data_dir / "store.snapshots" / f"{name}.records.json").read_text())
    except FileNotFoundError:
        return {}
    return {row["slug"]: row for row in rows}


def wait_published(server: KgServer, slug: str, timeout: float = 60) -> dict[str, Any]:
    """A project's record, once the worker has published it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = published(server).get(slug)
        if record is not None:
            return record
        time.sleep(0.1)
    raise AssertionError(f"{slug} never published")
