"""A real `kg serve` on a PostgreSQL event log whose server stops: webhooks answer 503
(GitLab delivers again later), never 202 for what was not stored, and the password of the
log's URL shows in no answer or log line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from kg.events.postgres import PostgresEventLog
from tests.fixtures.servers import KgServer
from webhooks.tokens import hook_token

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gitlab"
SECRET = "test-hook-secret"


def deliver(client: httpx.Client, key: str) -> httpx.Response:
    payload = json.loads((FIXTURES / "push_event.json").read_text())
    payload["project"].update(
        id=8, path_with_namespace="g/outage", git_http_url="http://127.0.0.1:9/none.git"
    )
    payload["project_id"] = 8
    headers = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": hook_token(SECRET, 8), "Idempotency-Key": key}
    return client.post("/webhooks/events", json=payload, headers=headers)


def test_webhooks_answer_503_while_the_event_log_is_away(
    postgres_server: Any, postgres_url: str, tmp_path: Path
) -> None:
    server = KgServer(tmp_path / "kg", {"KG_EVENT_LOG_URL": postgres_url, "KG_WORKER_ENABLED": "false"})
    try:
        with server.client() as client:
            assert deliver(client, "before").status_code == 202
            postgres_server.stop("fast")  # "immediate" costs a recovery that fsyncs every database
            try:
                during = deliver(client, "during")
            finally:
                postgres_server.start()
            assert during.status_code == 503
            assert during.headers["content-type"].startswith("application/problem+json")
            assert "event log" in during.json()["detail"]
            assert postgres_server.password not in during.text
            assert deliver(client, "after").status_code == 202
    finally:
        server.stop()
    assert postgres_server.password not in server.log.read_text()
    log = PostgresEventLog(postgres_url)
    try:
        assert log.event_count() == 2  # before and after; nothing claimed stored while away
    finally:
        log.close()
