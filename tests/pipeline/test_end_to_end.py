"""Webhook → clone over HTTP (git http-backend) → graph → SPARQL, against a real `kg serve`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.gitrepo import GitRepo
from tests.fixtures.servers import KgServer, kg_env
from webhooks.tokens import hook_token

COMMITS = (
    "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a <https://w3id.org/kg/ontology#Commit> ; "
    "<http://schema.org/isPartOf> ?p }"
)


@pytest.fixture
def server(tmp_path: Path, git_http: GitHttpServer) -> Iterator[KgServer]:
    env = {"KG_MAX_ATTEMPTS": "2", "KG_SPARQL_WORKERS": "1", "KG_GIT_ALLOWED_ORIGINS": git_http.origin}
    s = KgServer(tmp_path / "kg", env)
    yield s
    s.stop()


def push_hook(
    server: KgServer, payload: dict[str, Any], project_id: int, url: str, after: str, key: str
) -> httpx.Response:
    body = json.loads(json.dumps(payload))
    body["project"].update(id=project_id, git_http_url=url, path_with_namespace=f"g/p{project_id}")
    body.update(after=after, checkout_sha=after, project_id=project_id)
    with server.client() as client:
        return client.post(
            "/webhooks/events",
            json=body,
            headers={
                "X-Gitlab-Event": "Push Hook",
                "Idempotency-Key": key,
                "X-Gitlab-Token": hook_token("test-hook-secret", project_id),
            },
        )


def wait_status(server: KgServer, project_id: int, want: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with server.client() as client:
        while time.monotonic() < deadline:
            status: dict[str, Any] = client.get(f"/projects/{project_id}/events/status").json()
            details = status.get("details", {})
            if details.get("status") == want and status["progress"]["done"] == status["progress"]["total"]:
                return status
            time.sleep(0.1)
    raise AssertionError(f"project {project_id} never reached {want}: {status}")


def commits_in_graph(server: KgServer) -> int:
    with server.client() as client:
        r = client.get("/sparql", params={"query": COMMITS}, headers={"Accept": "text/csv"})
    assert r.status_code == 200, r.text
    return int(r.text.split()[1])


def test_push_to_graph_to_sparql(
    server: KgServer,
    git_http: GitHttpServer,
    git_repo: Callable[[str], GitRepo],
    gitlab_payload: Callable[[str], dict[str, Any]],
) -> None:
    work = git_repo("work")
    for i in range(5):
        work.commit({f"f{i}.txt": f"{i}\n", "shared.txt": f"v{i}\n"}, f"commit {i}")
    url = git_http.publish(work.path, "p1.git")
    payload = gitlab_payload("push_event")

    assert push_hook(server, payload, 1, url, work.head(), "d1").status_code == 202
    status = wait_status(server, 1, "success")
    assert status["ingestedCommit"] == work.head()
    assert commits_in_graph(server) == 5

    # An incremental push: only the new commits are extracted.
    for i in range(3):
        work.commit({"shared.txt": f"w{i}\n"}, f"more {i}")
    git_http.publish(work.path, "p1.git")
    assert push_hook(server, payload, 1, url, work.head(), "d2").status_code == 202
    status = wait_status(server, 1, "success")
    assert status["progress"] == {"done": 2, "total": 2, "percentage": 100.0}
    assert status["ingestedCommit"] == work.head()
    assert commits_in_graph(server) == 8

    # History rewritten by a force-push: the graph is rebuilt without the dropped commits.
    work.git("reset", "-q", "--hard", "HEAD~4")
    work.commit({"new.txt": "n\n"}, "rewritten")
    git_http.publish(work.path, "p1.git")
    assert push_hook(server, payload, 1, url, work.head(), "d3").status_code == 202
    wait_status(server, 1, "success")
    assert commits_in_graph(server) == 5


def test_fifty_pushes_are_ingested_as_one_job(
    tmp_path: Path,
    git_http: GitHttpServer,
    git_repo: Callable[[str], GitRepo],
    gitlab_payload: Callable[[str], dict[str, Any]],
) -> None:
    work = git_repo("many")
    shas = [work.commit({"a.txt": f"{i}\n"}, f"c{i}") for i in range(3)]
    url = git_http.publish(work.path, "p2.git")
    data = tmp_path / "kg50"
    # The API alone first: all 50 pushes are stored before any worker runs.
    allowed = {"KG_GIT_ALLOWED_ORIGINS": git_http.origin}
    api = KgServer(data, {"KG_WORKER_ENABLED": "false", "KG_SPARQL_WORKERS": "1", **allowed})
    try:
        payload = gitlab_payload("push_event")
        for i in range(49):
            assert push_hook(api, payload, 2, url, shas[i % 3], f"k{i}").status_code == 202
        assert push_hook(api, payload, 2, url, shas[-1], "last").status_code == 202
        log = data.parent / "worker.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "kg", "worker"],
                env=kg_env(data, **allowed),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                status = wait_status(api, 2, "success")
            finally:
                worker.terminate()
                worker.wait(20)
        assert status["progress"]["total"] == 50
        assert status["ingestedCommit"] == shas[-1]
        jobs = [json.loads(line) for line in log.read_text().splitlines() if "job done" in line]
        assert [(j["mode"], j["commits"]) for j in jobs] == [("full", 3)]
        assert commits_in_graph(api) == 3
    finally:
        api.stop()


def test_failures_are_recorded_and_the_service_stays_up(
    server: KgServer,
    git_http: GitHttpServer,
    git_repo: Callable[[str], GitRepo],
    gitlab_payload: Callable[[str], dict[str, Any]],
) -> None:
    payload = gitlab_payload("push_event")
    missing = git_http.url("does-not-exist.git")
    assert push_hook(server, payload, 3, missing, "a" * 40, "m1").status_code == 202
    status = wait_status(server, 3, "failure")
    assert status["details"]["message"] == (
        "fetching the repository failed: the forge has no such repository (or not for kg)"
    )

    # A repository whose objects are corrupt on the server side.
    work = git_repo("corrupt")
    work.commit({"a.txt": "hello\n" * 100}, "one")
    url = git_http.publish(work.path, "corrupt.git")
    objects = git_http.root / "corrupt.git" / "objects"
    for obj in objects.glob("??/*"):
        obj.chmod(0o644)
        obj.write_bytes(b"garbage")
    assert push_hook(server, payload, 4, url, work.head(), "c1").status_code == 202
    status = wait_status(server, 4, "failure")
    assert status["details"]["message"]

    with server.client() as client:
        assert client.get("/health").json()["status"] == "ok"
    shutil.rmtree(git_http.root / "corrupt.git")
