"""Sync status documents, as `GET /projects/{id}/events/status` and `kg status` show them."""

from __future__ import annotations

from datetime import datetime

from kg.events import ProjectStatus
from kg.status import status_document


def test_the_next_attempt_is_an_iso_time_in_utc() -> None:
    waiting = ProjectStatus(
        7,
        "team/retried",
        "pending",
        1,
        0,
        attempts=1,
        message="GitLab did not answer",
        next_attempt_at=1_700_000_000.5,
    )
    doc = status_document(waiting)
    assert doc["nextAttemptAt"] == "2023-11-14T22:13:20.500Z"
    assert datetime.fromisoformat(doc["nextAttemptAt"]).timestamp() == 1_700_000_000.5
    assert doc["details"] == {"status": "in-progress", "message": "waiting to retry: GitLab did not answer"}
    idle = status_document(ProjectStatus(7, "team/retried", "idle", 1, 1, ingested_commit="a" * 40))
    assert idle["nextAttemptAt"] is None
