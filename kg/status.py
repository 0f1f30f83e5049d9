"""Project sync status in renku-graph's webhook-service shape."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kg.events import ProjectStatus

_DETAILS = {
    "pending": "in-progress",
    "running": "in-progress",
    "idle": "success",
    "failed": "failure",
}


def _message(status: ProjectStatus) -> str:
    if status.state == "running":
        return "ingesting"
    if status.state == "pending":
        return f"waiting to retry: {status.message}" if status.message else "waiting to be ingested"
    if status.state == "failed":
        return status.message
    warned = f" with {len(status.warnings)} warning(s)" if status.warnings else ""
    return f"ingested {status.ingested_commit or ''}{warned}".strip()


def iso_time(epoch: float | None) -> str | None:
    """An ISO 8601 UTC time (`Z`, milliseconds) for seconds since the epoch.

    >>> iso_time(1_700_000_000.25), iso_time(None)
    ('2023-11-14T22:13:20.250Z', None)
    """
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status_document(status: ProjectStatus | None) -> dict[str, Any]:
    """`{activated, progress{done,total,percentage}, details{status,message}}` plus kg's fields."""
    if status is None:
        return {"activated": False, "progress": {"done": 0, "total": 0, "percentage": 0.0}}
    total, done = status.events_total, status.events_done
    return {
        "activated": True,
        "progress": {
            "done": done,
            "total": total,
            "percentage": round(100.0 * done / total, 2) if total else 0.0,
        },
        "details": {"status": _DETAILS[status.state], "message": _message(status)},
        "path": status.path,
        "ingestedCommit": status.ingested_commit,
        "attempts": status.attempts,
        "nextAttemptAt": iso_time(status.next_attempt_at),
        "warnings": status.warnings,
    }
