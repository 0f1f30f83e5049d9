"""The scheduler: kg's periodic jobs (`kg.scheduler.jobs`) on apscheduler 4.

Its schedules live in a data store chosen by `KG_EVENT_LOG_URL`: with a PostgreSQL event
log, apscheduler's SQLAlchemy store in the same database (schema `kg_scheduler`), where
schedulers on many machines acquire each due run under a lock, so exactly one of them
fires it; with the embedded SQLite event log, in memory (one `kg serve`, one scheduler).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from apscheduler import CoalescePolicy, ConflictPolicy, Scheduler, current_job
from apscheduler.abc import DataStore
from apscheduler.datastores.memory import MemoryDataStore
from apscheduler.datastores.sqlalchemy import SQLAlchemyDataStore
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from kg.config import Settings
from kg.errors import Unavailable
from kg.scheduler.jobs import Upkeep, describe, intervals

__all__ = ["KgScheduler", "data_store_for", "shared", "start_scheduler"]

log = logging.getLogger("kg.scheduler")
SCHEMA = "kg_scheduler"
_SETUP_LOCK = 0x6B675F7363686564  # "kg_sched": any constant all kg schedulers agree on


def shared(settings: Settings) -> bool:
    """Whether the schedules are shared by every scheduler of a fleet (PostgreSQL)."""
    return settings.event_log_url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://"))


def data_store_for(settings: Settings) -> tuple[DataStore, Engine | None]:
    """Where the schedules live: beside a PostgreSQL event log (with its engine), else in memory."""
    if not shared(settings):
        return MemoryDataStore(), None
    address = settings.event_log_url.split("://", 1)[1]
    engine = create_engine(f"postgresql+psycopg://{address}", pool_pre_ping=True, pool_size=2)
    return SQLAlchemyDataStore(engine, schema=SCHEMA), engine


@contextmanager
def _one_at_a_time(engine: Engine | None) -> Iterator[None]:
    """Hold a PostgreSQL advisory lock: apscheduler creates its schema with `IF NOT EXISTS`,
    which two schedulers starting together still race on (a unique violation)."""
    if engine is None:
        yield
        return
    with engine.connect() as db:
        db.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _SETUP_LOCK})
        try:
            yield
        finally:
            db.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _SETUP_LOCK})


class KgScheduler:
    """kg's jobs on an apscheduler `Scheduler` running in a background thread."""

    def __init__(self, settings: Settings, identity: str = "") -> None:
        self.settings = settings
        self.upkeep = Upkeep(settings)
        store, self._engine = data_store_for(settings)
        self.scheduler = Scheduler(store, identity=identity)

    def start(self) -> None:
        """Define the jobs (a changed interval replaces the stored schedule) and start firing.

        Each job first fires one interval after start: a fleet's restart does not run every
        job at once.
        """
        try:
            self._define()
        except (SQLAlchemyError, OSError) as exc:
            where = urlsplit(self.settings.event_log_url)
            raise Unavailable(
                f"the scheduler's database at {where.hostname}:{where.port or 5432} does not answer "
                f"({type(exc).__name__})"
            ) from None  # its text may quote the URL, password and all
        self.scheduler.start_in_background()

    def _define(self) -> None:
        now = datetime.now(UTC)
        with _one_at_a_time(self._engine):
            for name, seconds in intervals(self.settings).items():
                task = f"kg.{name}"
                # a local callable: the task row names no function, so nothing in the shared
                # store decides what runs here
                self.scheduler.configure_task(task, func=partial(self.run, name), max_running_jobs=1)
                self.scheduler.add_schedule(
                    task,
                    IntervalTrigger(seconds=seconds, start_time=now + timedelta(seconds=seconds)),
                    id=name,
                    coalesce=CoalescePolicy.latest,
                    conflict_policy=ConflictPolicy.replace,
                )

    def run(self, name: str) -> Any:
        """Run one job, logging which scheduled run it was (a fleet fires each once)."""
        job = current_job.get()
        fired = job.scheduled_fire_time.isoformat() if job.scheduled_fire_time else ""
        try:
            result = getattr(self.upkeep, name)()
        except Exception:
            log.exception("scheduled job failed", extra={"job": name, "fire_time": fired})
            raise
        log.info("scheduled job ran", extra={"job": name, "fire_time": fired, "result": describe(result)})
        return result

    def stop(self) -> None:
        """Stop firing and release the scheduler's thread and the jobs' components."""
        self.scheduler.stop()
        self.scheduler.wait_until_stopped()
        self.scheduler.__exit__(None, None, None)
        self.upkeep.close()
        if self._engine is not None:
            self._engine.dispose()


def start_scheduler(settings: Settings, identity: str = "") -> KgScheduler:
    """A started scheduler (stop it with `stop()`)."""
    scheduler = KgScheduler(settings, identity)
    scheduler.start()
    return scheduler
