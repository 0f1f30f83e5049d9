"""Webhook → clone over HTTP → graph → SPARQL, REST and lineage, with `kg serve` on each store kg
offers; and what a store that goes away costs: 503s, retried ingests, nothing lost."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.gitrepo import GitRepo
from tests.fixtures.servers import KgServer
from tests.fixtures.sparqlservers import OxigraphServer
from tests.pipeline.test_end_to_end import commits_in_graph, push_hook, wait_status
from tests.test_lineage import pipeline


def serve(tmp_path: Path, git_http: GitHttpServer, store: dict[str, str], **more: str) -> KgServer:
    env = {"KG_SPARQL_WORKERS": "1", "KG_GIT_ALLOWED_ORIGINS": git_http.origin, **store, **more}
    return KgServer(tmp_path / "kg", env)


@pytest.fixture
def server(tmp_path: Path, git_http: GitHttpServer, any_store_env: dict[str, str]) -> Iterator[KgServer]:
    s = serve(tmp_path, git_http, any_store_env, KG_MAX_ATTEMPTS="2")
    yield s
    s.stop()


def test_a_push_becomes_sparql_rest_and_lineage(
    server: KgServer,
    any_store_env: dict[str, str],
    git_http: GitHttpServer,
    git_repo: Callable[[str], GitRepo],
    gitlab_payload: Callable[[str], dict[str, Any]],
) -> None:
    work = git_repo("work")
    pipeline(work)
    url = git_http.publish(work.path, "p1.git")
    payload = gitlab_payload("push_event")
    assert push_hook(server, payload, 1, url, work.head(), "d1").status_code == 202
    assert wait_status(server, 1, "success")["ingestedCommit"] == work.head()
    before = commits_in_graph(server)
    assert before == int(work.git("rev-list", "--count", "HEAD"))

    work.commit({"notes.txt": "more\n"}, "one more")  # incremental: the live graph is extended
    git_http.publish(work.path, "p1.git")
    assert push_hook(server, payload, 1, url, work.head(), "d2").status_code == 202
    wait_status(server, 1, "success")
    assert commits_in_graph(server) == before + 1

    with server.client() as http:
        project = http.get("/knowledge-graph/projects/g/p1")
        assert project.status_code == 200 and project.json()["path"] == "g/p1"
        lineage = http.get(f"/knowledge-graph/projects/g/p1/files/{quote('report.pdf', safe='')}/lineage")
        assert lineage.status_code == 200, lineage.text
        runs = [n for n in lineage.json()["nodes"] if n["type"] == "ProcessRun"]
        assert len(runs) >= 2
        history = http.get("/knowledge-graph/projects/g/p1/files/data%2Fclean.csv/history")
        assert history.status_code == 200 and history.json()["history"]
        turtle = http.get("/knowledge-graph/projects/g/p1/graph", headers={"Accept": "text/turtle"})
        assert f"{any_store_env['KG_BASE_IRI']}projects/g/p1/-/commits/" in turtle.text


def wait_message(server: KgServer, project_id: int, start: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    message = ""
    with server.client() as client:
        while time.monotonic() < deadline:
            status = client.get(f"/projects/{project_id}/events/status").json()
            message = status.get("details", {}).get("message", "")
            if message.startswith(start):
                return str(message)
            time.sleep(0.1)
    raise AssertionError(f"project {project_id} never said {start!r}: {message!r}")


def test_a_store_that_goes_away_costs_503s_and_retries_never_lost_work(
    tmp_path: Path,
    git_http: GitHttpServer,
    git_repo: Callable[[str], GitRepo],
    gitlab_payload: Callable[[str], dict[str, Any]],
) -> None:
    ox = OxigraphServer(tmp_path / "oxigraph")
    kg = serve(tmp_path, git_http, {"KG_STORE_URL": ox.url}, KG_MAX_ATTEMPTS="20")
    try:
        work = git_repo("work")
        work.commit({"a.txt": "a\n"}, "first")
        url = git_http.publish(work.path, "p1.git")
        payload = gitlab_payload("push_event")
        assert push_hook(kg, payload, 1, url, work.head(), "d1").status_code == 202
        wait_status(kg, 1, "success")

        ox.kill()
        with kg.client() as http:
            down = http.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"})
            assert down.status_code == 503, down.text
            assert down.headers["content-type"].startswith("application/problem+json")
            assert "does not answer" in down.json()["detail"] and "Traceback" not in down.text
            ready = http.get("/ready")
            assert ready.status_code == 503 and ready.json()["checks"]["store"]["ok"] is False
        work.commit({"b.txt": "b\n"}, "second")
        git_http.publish(work.path, "p1.git")
        assert push_hook(kg, payload, 1, url, work.head(), "d2").status_code == 202  # stored, not lost
        waiting = wait_message(kg, 1, "waiting to retry")
        assert "does not answer" in waiting

        ox.start()
        status = wait_status(kg, 1, "success", timeout=90)
        assert status["ingestedCommit"] == work.head()
        assert commits_in_graph(kg) == 2
    finally:
        kg.stop()
        ox.stop()
