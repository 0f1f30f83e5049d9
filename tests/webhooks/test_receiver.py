"""The webhook receiver, in-process against a real SQLite event log."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kg.api.app import create_app
from kg.config import Settings
from kg.events.sqlite import SqliteEventLog
from webhooks.tokens import hook_token

Payload = Callable[[str], dict[str, Any]]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    settings = settings.model_copy(update={"worker_enabled": False, "sparql_workers": 1})
    with TestClient(create_app(settings)) as c:
        yield c


def headers(project_id: int = 15, kind: str = "Push Hook", **extra: str) -> dict[str, str]:
    return {
        "X-Gitlab-Event": kind,
        "X-Gitlab-Token": hook_token("test-hook-secret", project_id),
        "Content-Type": "application/json",
        **extra,
    }


def stored(settings: Settings) -> int:
    return SqliteEventLog(settings.event_log_path).event_count()


def test_a_push_is_stored_and_acknowledged(
    client: TestClient, gitlab_payload: Payload, settings: Settings
) -> None:
    response = client.post(
        "/webhooks/events",
        json=gitlab_payload("push_event"),
        headers=headers(**{"Idempotency-Key": "k-1"}),
    )
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "project": 15}
    assert stored(settings) == 1
    status = client.get("/projects/15/events/status").json()
    assert status["activated"] is True
    assert status["progress"] == {"done": 0, "total": 1, "percentage": 0.0}
    assert status["details"]["status"] == "in-progress"


def test_a_redelivery_is_stored_once(client: TestClient, gitlab_payload: Payload, settings: Settings) -> None:
    body = gitlab_payload("push_event")
    for _ in range(3):
        r = client.post("/webhooks/events", json=body, headers=headers(**{"Idempotency-Key": "k"}))
        assert r.status_code == 202
    assert r.json()["status"] == "duplicate"
    # Without Idempotency-Key the event UUID deduplicates.
    for _ in range(2):
        client.post("/webhooks/events", json=body, headers=headers(**{"X-Gitlab-Event-UUID": "u-1"}))
    assert stored(settings) == 2


def test_a_tag_push_refreshes_the_default_branch(
    client: TestClient, gitlab_payload: Payload, settings: Settings
) -> None:
    r = client.post(
        "/webhooks/events",
        json=gitlab_payload("tag_push_event"),
        headers=headers(kind="Tag Push Hook"),
    )
    assert (r.status_code, r.json()["status"]) == (202, "accepted")
    job = SqliteEventLog(settings.event_log_path).claim("t", 10)
    assert job is not None
    assert job.commit is None


@pytest.mark.parametrize(
    ("payload", "change", "reason"),
    [
        ("branch_deleted_event", {}, "was deleted"),
        ("push_event", {"ref": "refs/heads/feature"}, "not to the default branch"),
    ],
)
def test_pushes_that_change_nothing_are_acknowledged_and_ignored(
    client: TestClient,
    gitlab_payload: Payload,
    settings: Settings,
    payload: str,
    change: dict[str, str],
    reason: str,
) -> None:
    body = {**gitlab_payload(payload), **change}
    r = client.post("/webhooks/events", json=body, headers=headers())
    assert r.status_code == 202
    assert r.json()["status"] == "ignored"
    assert reason in r.json()["reason"]
    assert stored(settings) == 0


def test_unknown_event_kinds_are_acknowledged_and_ignored(
    client: TestClient, gitlab_payload: Payload
) -> None:
    r = client.post("/webhooks/events", json=gitlab_payload("note_event"), headers=headers(kind="Note Hook"))
    assert r.status_code == 202
    assert r.json() == {"status": "ignored", "reason": "event kind 'Note Hook' is not used"}


@pytest.mark.parametrize(
    "token",
    [None, "", "wrong", hook_token("test-hook-secret", 16), hook_token("other-secret", 15)],
)
def test_a_bad_or_missing_token_is_refused_without_detail(
    client: TestClient, gitlab_payload: Payload, settings: Settings, token: str | None
) -> None:
    h = headers()
    if token is None:
        del h["X-Gitlab-Token"]
    else:
        h["X-Gitlab-Token"] = token
    r = client.post("/webhooks/events", json=gitlab_payload("push_event"), headers=h)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json() == {"type": "about:blank", "title": "Unauthorized", "status": 401}
    assert stored(settings) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"project_id": 15, not json', "body"),
        (b'{"project_id": 15, "x": "\xff\xfe"}', "body"),
        (b'[{"project_id": 15}]', "body"),
        (b'{"project_id": 15' + b', "x": [' * 40 + b"]" * 40 + b"}", "body"),
        (json.dumps({"object_kind": "push", "project_id": 15}).encode(), "ref"),
        (b"[1, 2]", "project_id"),
        (None, "project.id"),
        (None, "after"),
    ],
)
def test_malformed_payloads_are_400_problems(
    client: TestClient,
    gitlab_payload: Payload,
    settings: Settings,
    body: bytes | None,
    field: str,
) -> None:
    if body is None:  # a real payload with one field broken
        payload = gitlab_payload("push_event")
        if field == "project.id":
            payload["project"]["id"] = "fifteen"
        else:
            payload["after"] = "not-a-sha"
        body = json.dumps(payload).encode()
    r = client.post("/webhooks/events", content=body, headers=headers())
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["parameter"] == field
    assert stored(settings) == 0


def test_a_push_too_large_to_read_refreshes_the_default_branch(
    client: TestClient, gitlab_payload: Payload, settings: Settings
) -> None:
    body = gitlab_payload("push_event")
    body["commits"] = body["commits"] * 5000  # ~2 MB, over KG_HOOK_MAX_BYTES
    r = client.post("/webhooks/events", json=body, headers=headers())
    assert (r.status_code, r.json()["status"]) == (202, "accepted")
    job = SqliteEventLog(settings.event_log_path).claim("t", 10)
    assert job is not None
    assert (job.project_id, job.commit) == (15, None)


def test_a_large_body_with_a_wrong_token_is_refused(client: TestClient, gitlab_payload: Payload) -> None:
    body = gitlab_payload("push_event")
    body["commits"] = body["commits"] * 5000
    r = client.post("/webhooks/events", json=body, headers=headers(project_id=16))
    assert r.status_code == 401
    r = client.post("/webhooks/events", content=b"x" * 2_000_000, headers=headers())
    assert r.status_code == 413


def test_status_of_an_unknown_project(client: TestClient) -> None:
    # without GitLab to ask, a project kg never heard of is nobody's to read
    assert client.get("/projects/999/events/status").status_code == 404
    assert client.get("/projects/abc/events/status").status_code == 400
