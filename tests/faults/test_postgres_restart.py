"""PostgreSQL restarted under load: webhooks answer 503 (GitLab retries), never 202 for what
was not stored; workers carry on once it is back."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from kg.config import Settings
from kg.events import open_event_log
from tests.fixtures.fleet import KgRole, deliver, fleet_env
from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.sparqlservers import OxigraphServer
from tests.fixtures.synthetic import synthetic_repo

pytestmark = pytest.mark.slow


class Sender(threading.Thread):
    """Delivers small batches of pushes until stopped; keeps every (key, status)."""

    def __init__(self, url: str, clone_url: str, head: str) -> None:
        super().__init__(daemon=True)
        self.url, self.clone_url, self.head = url, clone_url, head
        self.results: list[tuple[str, int]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        batch = 0
        while not self.halt.is_set():
            deliveries = [(100 + i % 20, f"load-{batch}-{i}") for i in range(40)]
            answered = asyncio.run(deliver(self.url, deliveries, self.clone_url, self.head, connections=8))
            self.results += [(key, status) for key, status, _ in answered]
            batch += 1


def stored_keys(postgres_url: str) -> set[str]:
    import psycopg

    with psycopg.connect(postgres_url) as db:
        rows = db.execute("SELECT delivery_key FROM events").fetchall()
    return {key.removeprefix("idempotency-key:") for (key,) in rows}


def test_a_restart_costs_503s_never_a_false_202_and_workers_resume(
    tmp_path: Path, postgres_server: Any, git_http: GitHttpServer
) -> None:
    postgres_url = postgres_server.url(postgres_server.create_database())
    repo = synthetic_repo(git_http.root / "p.git", 30, seed=3)
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "main"], capture_output=True, text=True
    ).stdout
    head = head.strip()
    store = OxigraphServer(tmp_path / "oxigraph")
    env = fleet_env(postgres_url, store.url, KG_GIT_ALLOWED_ORIGINS=git_http.origin)
    hooks = KgRole("webhooks", tmp_path / "webhooks", env)
    worker = KgRole("worker", tmp_path / "worker", env)
    sender = Sender(hooks.url, git_http.url("p.git"), head)
    try:
        sender.start()
        time.sleep(2)
        postgres_server.stop("immediate")  # as a crash: connections cut mid-transaction
        time.sleep(3)
        postgres_server.start()
        time.sleep(3)
        sender.halt.set()
        sender.join(120)

        statuses = {status for _, status in sender.results}
        assert 503 in statuses, "the restart was not noticed"
        assert statuses <= {202, 503}, statuses
        stored = stored_keys(postgres_url)
        acknowledged = {key for key, status in sender.results if status == 202}
        assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged but lost"
        refused = {key for key, status in sender.results if status == 503}
        assert refused, "no delivery was refused while the database was down"

        # the worker kept going: the pushed project is ingested after the restart
        events = open_event_log(Settings(event_log_url=postgres_url))
        try:
            deadline = time.monotonic() + 120
            done = [events.status(100 + i) for i in range(20)]
            while time.monotonic() < deadline and not all(s and s.state == "idle" for s in done):
                time.sleep(0.2)
                done = [events.status(100 + i) for i in range(20)]
            assert all(s is not None and s.state == "idle" and s.ingested_commit == head for s in done), done
        finally:
            events.close()
    finally:
        sender.halt.set()
        hooks.stop()
        worker.stop()
        store.stop()
