"""The event log: durable pushes, coalesced into one job per project, claimed with a lease."""

from __future__ import annotations

from collections.abc import Callable

from kg.config import Settings
from kg.events.base import EventLog, Job, ProjectStatus, Push

__all__ = ["BACKENDS", "EventLog", "Job", "ProjectStatus", "Push", "open_event_log"]


def _sqlite(settings: Settings) -> EventLog:
    from kg.events.sqlite import SqliteEventLog

    return SqliteEventLog(
        settings.event_log_path,
        coalesce_seconds=settings.coalesce_seconds,
        max_attempts=settings.max_attempts,
    )


BACKENDS: dict[str, Callable[[Settings], EventLog]] = {"sqlite": _sqlite}
"""Every event log kg offers, by the scheme of `KG_EVENT_LOG_URL`; the contract tests run
against each."""


def open_event_log(settings: Settings) -> EventLog:
    """The event log `KG_EVENT_LOG_URL` names (default: SQLite in the data dir)."""
    scheme = settings.event_log_url.split(":", 1)[0] if settings.event_log_url else "sqlite"
    return BACKENDS[scheme](settings)
