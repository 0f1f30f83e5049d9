"""The store goes away under a fleet (`kg api` and `kg worker` as separate processes on
PostgreSQL): the API answers 503 with a clear message, jobs wait and retry, and everything
pushed meanwhile is ingested once the store is back. (The single-process forms: a full disk
under the embedded store in tests/security/test_jobs.py, a stopped server under `kg serve` in
tests/pipeline/test_end_to_end_stores.py.)"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest

from kg.config import Settings
from kg.events import Push, open_event_log
from tests.fixtures.fleet import KgRole, fleet_env
from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.sparqlservers import OxigraphServer
from tests.fixtures.synthetic import synthetic_repo

pytestmark = pytest.mark.slow
QUERY = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def test_a_store_outage_costs_503s_and_loses_no_push(
    tmp_path: Path, postgres_url: str, git_http: GitHttpServer
) -> None:
    store = OxigraphServer(tmp_path / "oxigraph")
    env = fleet_env(postgres_url, store.url, KG_GIT_ALLOWED_ORIGINS=git_http.origin, KG_MAX_ATTEMPTS="50")
    api = KgRole("api", tmp_path / "api", env)
    worker = KgRole("worker", tmp_path / "worker", env)
    events = open_event_log(Settings(event_log_url=postgres_url))

    def push(project_id: int, repo: Path) -> str:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "main"], capture_output=True, text=True)
        events.enqueue(
            Push(
                delivery_key=f"d{project_id}",
                project_id=project_id,
                path=f"fleet/p{project_id}",
                clone_url=git_http.url(repo.name),
                commit=head.stdout.strip(),
                visibility="public",
            )
        )
        return head.stdout.strip()

    def wait(predicate: object, what: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():  # type: ignore[operator]
            assert time.monotonic() < deadline, f"never: {what}"
            time.sleep(0.1)

    try:
        first = push(1, synthetic_repo(git_http.root / "p1.git", 20, seed=1))
        wait(lambda: (s := events.status(1)) is not None and s.ingested_commit == first, "first ingest")

        store.kill()
        down = httpx.get(f"{api.url}/sparql", params={"query": QUERY}, timeout=60)
        assert down.status_code == 503, down.text
        assert down.headers["content-type"].startswith("application/problem+json")
        assert "does not answer" in down.json()["detail"] and "Traceback" not in down.text
        ready = httpx.get(f"{api.url}/ready", timeout=60)
        assert ready.status_code == 503
        second = push(2, synthetic_repo(git_http.root / "p2.git", 20, seed=2))
        wait(lambda: "does not answer" in (((s := events.status(2)) and s.message) or ""), "a retry")
        assert events.status(2).state == "pending"  # type: ignore[union-attr]

        store.start()
        wait(lambda: (s := events.status(2)) is not None and s.ingested_commit == second, "ingest after")
        up = httpx.get(f"{api.url}/sparql", params={"query": QUERY}, timeout=60)
        assert up.status_code == 200
        assert httpx.get(f"{api.url}/ready", timeout=60).status_code == 200
    finally:
        events.close()
        api.stop()
        worker.stop()
        store.stop()
