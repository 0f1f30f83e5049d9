"""The event log: durable pushes, coalesced into one job per project, claimed with a lease."""

from __future__ import annotations

from kg.config import Settings
from kg.events.base import EventLog, Job, ProjectStatus, Push

__all__ = ["EventLog", "Job", "ProjectStatus", "Push", "open_event_log"]


def open_event_log(settings: Settings) -> EventLog:
    """The event log `KG_EVENT_LOG_URL` names (today: SQLite)."""
    from kg.events.sqlite import SqliteEventLog

    return SqliteEventLog(
        settings.event_log_path,
        coalesce_seconds=settings.coalesce_seconds,
        max_attempts=settings.max_attempts,
    )
