"""`/metrics` of a real `kg serve` counts real work: webhooks taken and refused, jobs run by
its worker process (multiprocess mode), failures by class, queries, searches, publishes,
identity calls that fail, and the queue by state."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from kg.auth.gitlab import GitLabUsers
from kg.errors import CommandFailed, Unauthorized
from kg.events import Push
from kg.events.sqlite import SqliteEventLog
from kg.forge import GitLab
from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.gitrepo import GitRepo
from tests.fixtures.identity import IdentityServer
from tests.fixtures.servers import KgServer, free_port, kg_env
from tests.pipeline.test_end_to_end import COMMITS, push_hook, wait_status


def scrape(kg: KgServer) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of `/metrics`, by name and labels."""
    response = httpx.get(f"{kg.url}/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """The sum of every sample called `name` whose labels include `labels` (0 if none)."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} not seen in {timeout} s")


def test_real_work_shows_in_metrics(
    tmp_path: Path,
    git_http: GitHttpServer,
    git_repo: Callable[[str], GitRepo],
    gitlab_payload: Callable[[str], dict[str, Any]],
    identity: IdentityServer,
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/realms/kg"  # an identity provider that does not answer
    env = {
        "KG_SPARQL_WORKERS": "1",
        "KG_GIT_ALLOWED_ORIGINS": git_http.origin,
        "KG_MAX_ATTEMPTS": "1",
        "KG_SPARQL_TIMEOUT_SECONDS": "1",
        "KG_OIDC_ISSUER": nobody,
    }
    kg = KgServer(tmp_path / "kg", env)
    try:
        before = scrape(kg)
        assert value(before, "kg_queue_projects", state="pending") == 0
        assert value(before, "kg_job_duration_seconds_count") == 0

        work = git_repo("work")
        for i in range(3):
            work.commit({f"f{i}.txt": f"{i}\n"}, f"commit {i}")
        url = git_http.publish(work.path, "p1.git")
        payload = gitlab_payload("push_event")
        assert push_hook(kg, payload, 1, url, work.head(), "d1").status_code == 202
        assert push_hook(kg, payload, 1, url, work.head(), "d1").json()["status"] == "duplicate"
        stranger = httpx.post(
            f"{kg.url}/webhooks/events",
            json={"project_id": 1},
            headers={"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "wrong"},
        )
        assert stranger.status_code == 401
        nameless = httpx.post(
            f"{kg.url}/webhooks/events", content=b"{}", headers={"X-Gitlab-Event": "Push Hook"}
        )
        assert nameless.status_code == 400
        other = httpx.post(f"{kg.url}/webhooks/events", json={}, headers={"X-Gitlab-Event": "Issue Hook"})
        assert other.json()["status"] == "ignored"
        wait_status(kg, 1, "success")
        # a repository the git server does not have: the job fails for good (one attempt)
        missing = f"{git_http.origin}/nowhere.git"
        assert push_hook(kg, payload, 2, missing, work.head(), "d2").status_code == 202
        wait_status(kg, 2, "failure")

        with kg.client() as http:
            assert http.get("/sparql", params={"query": COMMITS}).status_code == 200
            endless = "SELECT (COUNT(*) AS ?n) { " + " ".join(
                f"VALUES ?{v} {{ {' '.join(str(i) for i in range(2000))} }}" for v in "abc"
            )
            assert http.post("/sparql", data={"query": endless + " }"}).status_code == 503
            assert http.get("/knowledge-graph/entities", params={"query": "p1"}).status_code == 200
            token = identity.token("7", issuer=nobody)
            denied = http.get(
                "/sparql", params={"query": "ASK {}"}, headers={"Authorization": f"Bearer {token}"}
            )
            assert denied.status_code == 401

        after = scrape(kg)
        expected = [
            ("kg_webhooks_received_total", {"outcome": "accepted"}, 2),
            ("kg_webhooks_received_total", {"outcome": "duplicate"}, 1),
            ("kg_webhooks_rejected_total", {"reason": "unauthorized"}, 1),
            ("kg_webhooks_rejected_total", {"reason": "invalid"}, 1),
            ("kg_webhooks_received_total", {"outcome": "ignored"}, 1),
            ("kg_job_duration_seconds_count", {"outcome": "success"}, 1),
            ("kg_job_duration_seconds_count", {"outcome": "failed"}, 1),
            ("kg_ingest_failures_total", {"failure": "FetchFailed", "retry": "false"}, 1),
            ("kg_sparql_query_duration_seconds_count", {"outcome": "answered"}, 1),
            ("kg_sparql_query_duration_seconds_count", {"outcome": "timeout"}, 1),
            ("kg_search_duration_seconds_count", {"outcome": "answered"}, 1),
            ("kg_store_publish_duration_seconds_count", {"kind": "replace"}, 1),
            ("kg_identity_call_errors_total", {"service": "oidc"}, 1),
        ]
        grew = {
            (name, *labels.values()): value(after, name, **labels) - value(before, name, **labels)
            for name, labels, _ in expected
        }
        assert grew == {(name, *labels.values()): n for name, labels, n in expected}
        # the worker's numbers come from its own process, through the shared files
        assert value(after, "kg_job_triples_total", mode="full") > 0
        assert value(after, "kg_job_triples_per_second_count", mode="full") == 1
        assert value(after, "kg_queue_projects", state="idle") == 1
        assert value(after, "kg_queue_projects", state="failed") == 1
        assert value(after, "process_resident_memory_bytes") > 0
        # only the API and the worker keep metric files: the query process killed by the
        # timeout (and its replacement) left none behind
        writers = {f.stem.rsplit("_", 1)[1] for f in (kg.data_dir / "metrics").iterdir()}
        assert len(writers) == 2, writers
    finally:
        kg.stop()


def test_a_worker_on_its_own_serves_its_metrics_on_the_metrics_port(
    tmp_path: Path, git_http: GitHttpServer, git_repo: Callable[[str], GitRepo]
) -> None:
    work = git_repo("work")
    work.commit({"a.txt": "a\n"}, "first")
    url = git_http.publish(work.path, "p1.git")
    data = tmp_path / "kg"
    events = SqliteEventLog(data / "events.sqlite")
    events.enqueue(Push(delivery_key="d1", project_id=1, path="g/p1", clone_url=url, commit=work.head()))
    events.close()
    port = free_port()
    env = kg_env(data, KG_METRICS_PORT=str(port), KG_GIT_ALLOWED_ORIGINS=git_http.origin)
    worker = subprocess.Popen([sys.executable, "-m", "kg", "worker"], env=env, stderr=subprocess.DEVNULL)
    try:

        def done() -> bool:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            except httpx.HTTPError:
                return False
            samples = {
                (s.name, frozenset(s.labels.items())): s.value
                for family in text_string_to_metric_families(text)
                for s in family.samples
            }
            return value(samples, "kg_job_duration_seconds_count", outcome="success") == 1

        wait_for(done, "the worker's job in its own /metrics", timeout=60)
    finally:
        worker.terminate()
        worker.wait(30)


def test_gitlab_calls_that_fail_are_counted_in_process() -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: the call fails, not the caller

    def errors() -> float:
        return REGISTRY.get_sample_value("kg_identity_call_errors_total", {"service": "gitlab"}) or 0.0

    before = errors()
    with pytest.raises(Unauthorized):
        GitLabUsers(dead).user("glpat-someone", bearer=False)
    with pytest.raises(CommandFailed):
        GitLab(dead, "glpat-kg", timeout=2).describe(1)
    assert errors() - before == 2
