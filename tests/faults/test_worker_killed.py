"""Three `kg worker` processes on one PostgreSQL queue, one SIGKILLed mid-ingest: every
project ends ingested once, and a reader querying throughout never sees a partial graph."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from kg.config import Settings
from kg.events import EventLog, Push, open_event_log
from tests.fixtures.fleet import KgRole, fleet_env
from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.sparqlservers import OxigraphServer
from tests.fixtures.synthetic import synthetic_repo

pytestmark = pytest.mark.slow
PROJECTS = 6
COMMITS = 1500
COUNT_COMMITS = """
SELECT ?g (COUNT(DISTINCT ?c) AS ?n)
WHERE { GRAPH ?g { ?c a <https://w3id.org/kg/ontology#Commit> } } GROUP BY ?g
"""


def head(repo: Path) -> str:
    done = subprocess.run(["git", "-C", str(repo), "rev-parse", "main"], capture_output=True, text=True)
    return done.stdout.strip()


def commits_per_graph(api: KgRole) -> dict[str, int]:
    response = httpx.get(
        f"{api.url}/sparql",
        params={"query": COUNT_COMMITS},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    )
    response.raise_for_status()
    rows = response.json()["results"]["bindings"]
    return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}


class ReaderLoop(threading.Thread):
    """Queries kg api until stopped, remembering every commit count it saw per graph."""

    def __init__(self, api: KgRole) -> None:
        super().__init__(daemon=True)
        self.api = api
        self.seen: list[dict[str, int]] = []
        self.errors: list[str] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                self.seen.append(commits_per_graph(self.api))
            except httpx.HTTPError as exc:
                self.errors.append(str(exc))
            self.halt.wait(0.05)


def test_a_worker_killed_mid_ingest_loses_nothing_and_shows_nothing_half_done(
    tmp_path: Path, postgres_url: str, git_http: GitHttpServer
) -> None:
    repos = [synthetic_repo(git_http.root / f"p{i}.git", COMMITS, seed=i) for i in range(PROJECTS)]
    store = OxigraphServer(tmp_path / "oxigraph", timeout_s=60)
    env = fleet_env(
        postgres_url, store.url, KG_GIT_ALLOWED_ORIGINS=git_http.origin, KG_WORKER_LEASE_SECONDS="3"
    )
    api = KgRole("api", tmp_path / "api", env)
    workers = [KgRole("worker", tmp_path / f"worker{i}", env) for i in range(3)]
    reader = ReaderLoop(api)
    reader.start()
    events = open_event_log(Settings(event_log_url=postgres_url))
    try:
        for i, repo in enumerate(repos):
            events.enqueue(
                Push(
                    delivery_key=f"d{i}",
                    project_id=i + 1,
                    path=f"fleet/p{i + 1}",
                    clone_url=git_http.url(repo.name),
                    commit=head(repo),
                    visibility="public",
                )
            )
        victim = wait_for_a_running_job(events, postgres_url, workers)
        time.sleep(0.5)  # well into its ingest: fetched, extracting or loading
        victim.kill()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            statuses = [events.status(i + 1) for i in range(PROJECTS)]
            if all(s is not None and s.state == "idle" for s in statuses):
                break
            time.sleep(0.2)
        reader.halt.set()
        reader.join(30)
        for i, repo in enumerate(repos):
            status = events.status(i + 1)
            assert status is not None and status.state == "idle", status
            assert status.ingested_commit == head(repo)
            assert status.events_done == status.events_total == 1
        done = [line for w in workers for line in log_lines(w) if line["msg"] == "job done"]
        assert sorted(line["project_id"] for line in done) == list(range(1, PROJECTS + 1))  # once each
        retaken = [line for w in workers for line in log_lines(w) if line["msg"] == "job claimed"]
        assert any(line["attempt"] == 2 for line in retaken)  # the victim's job, after its lease
        final = commits_per_graph(api)
        assert sorted(final.values()) == [COMMITS] * PROJECTS  # one graph each, whole
        assert len(reader.seen) > 20 and not reader.errors, reader.errors[:3]
        partial = [counts for counts in reader.seen if set(counts.values()) - {COMMITS}]
        assert not partial, partial[:3]
        assert any(len(counts) < PROJECTS for counts in reader.seen)  # it watched ingests happen
    finally:
        reader.halt.set()
        events.close()
        for role in [api, *workers]:
            role.stop()
        store.stop()


def log_lines(role: KgRole) -> list[dict[str, Any]]:
    """The role's JSON log lines."""
    return [json.loads(line) for line in role.log.read_text().splitlines() if line.startswith("{")]


def wait_for_a_running_job(events: EventLog, postgres_url: str, workers: list[KgRole]) -> KgRole:
    """The worker role one of whose processes holds a job's lease (owner `host:pid:…`)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for status in events.statuses():
            if status.state != "running":
                continue
            owner = lease_owner(postgres_url, status.project_id)
            for worker in workers:
                if owner is not None and owner in worker.pids():
                    return worker
        time.sleep(0.05)
    raise AssertionError("no worker ever claimed a job")


def lease_owner(postgres_url: str, project_id: int) -> int | None:
    """The pid in the lease owner of the project's running job (the owner is `host:pid:…`)."""
    with psycopg.connect(postgres_url) as db:
        row = db.execute("SELECT lease_owner FROM projects WHERE project_id = %s", (project_id,)).fetchone()
    return int(row[0].split(":")[1]) if row and row[0] else None
