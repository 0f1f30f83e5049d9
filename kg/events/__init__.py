"""The event log: durable pushes, coalesced into one job per project, claimed with a lease."""

from __future__ import annotations

from collections.abc import Callable

from kg.config import Settings
from kg.events.base import EventLog, Job, ProjectStatus, Push
from kg.events.fairness import Fairness

__all__ = ["BACKENDS", "EventLog", "Job", "ProjectStatus", "Push", "open_event_log"]


def _fairness(settings: Settings) -> Fairness:
    return Fairness(heavy_seconds=settings.worker_heavy_seconds, heavy_share=settings.worker_heavy_share)


def _sqlite(settings: Settings) -> EventLog:
    from kg.events.sqlite import SqliteEventLog

    return SqliteEventLog(
        settings.event_log_path,
        coalesce_seconds=settings.coalesce_seconds,
        max_attempts=settings.max_attempts,
        fairness=_fairness(settings),
    )


def _postgresql(settings: Settings) -> EventLog:
    from kg.events.postgres import PostgresEventLog

    return PostgresEventLog(
        settings.event_log_url,
        coalesce_seconds=settings.coalesce_seconds,
        max_attempts=settings.max_attempts,
        fairness=_fairness(settings),
    )


BACKENDS: dict[str, Callable[[Settings], EventLog]] = {"sqlite": _sqlite, "postgresql": _postgresql}
"""Every event log kg offers, by the scheme of `KG_EVENT_LOG_URL`; the contract tests run
against each."""


def open_event_log(settings: Settings) -> EventLog:
    """The event log `KG_EVENT_LOG_URL` names (default: SQLite in the data dir)."""
    scheme = settings.event_log_url.split(":", 1)[0] if settings.event_log_url else "sqlite"
    # SQLAlchemy's spelling names the driver too; psycopg is the only one kg uses
    return BACKENDS[scheme.removesuffix("+psycopg")](settings)
