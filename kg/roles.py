"""The four roles a fleet runs, one per process (`kg api`, `kg webhooks`, `kg worker`,
`kg scheduler`), and what each checks of its configuration before it starts.

`kg serve` runs all four in one process (and its worker child); the checks here are about
running them apart: a backend that lives in one file on one machine (the embedded store,
an SQLite event log or search index) works only while every role runs on that machine, and
the embedded store takes one writer.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from dataclasses import dataclass, field
from typing import Literal

from kg.config import Settings

Role = Literal["api", "webhooks", "worker", "scheduler"]
_SERVER_STORE = "KG_STORE_URL=http(s)://… (a SPARQL server)"


@dataclass
class FleetCheck:
    """What a role found in its configuration: errors stop it, warnings are printed."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _one_machine(url: str) -> bool:
    return not url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://"))


def check_fleet(role: Role, settings: Settings, concurrency: int = 1) -> FleetCheck:
    """One line per thing that does not hold when `role` runs apart from the others."""
    found = FleetCheck()
    if role == "worker" and concurrency > 1 and settings.embedded_store:
        found.errors.append(
            f"kg worker --concurrency {concurrency} needs a store server ({_SERVER_STORE}): "
            "the embedded store takes one writer"
        )
    elif role in ("api", "worker") and settings.embedded_store:
        found.warnings.append(
            f"kg {role} on the embedded store: kg api and kg worker must share this machine and "
            f"data dir, with one worker (a fleet needs {_SERVER_STORE})"
        )
    if role in ("api", "webhooks", "worker", "scheduler") and _one_machine(settings.event_log_url):
        found.warnings.append(
            "the event log is SQLite (KG_EVENT_LOG_URL): every role must run on this machine "
            "(a fleet needs postgresql://…)"
        )
    if role in ("api", "worker") and _one_machine(settings.search_url.get_secret_value()):
        found.warnings.append(
            "the search index is SQLite (KG_SEARCH_URL): kg api and kg worker must run on this "
            "machine (a fleet needs postgresql://…)"
        )
    if role == "scheduler" and _one_machine(settings.event_log_url):
        found.warnings.append(
            "schedules are kept in memory: run one kg scheduler (with a PostgreSQL event log, "
            "any number fire each job once)"
        )
    return found


def stop_on_signals() -> threading.Event:
    """An event SIGTERM or SIGINT sets. Installed before a role starts its work: a SIGTERM
    arriving while it starts must stop it gracefully, not kill it and orphan its processes."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return stop


def wait_for(stop: threading.Event) -> None:
    """Block until `stop` is set (waking each second, so that signals are handled)."""
    while not stop.wait(1.0):
        pass


def run_workers(settings: Settings, concurrency: int) -> None:
    """`kg worker`: `concurrency` worker processes, restarted when they die, until SIGTERM
    (then each finishes its job; one still running after the job time limit is killed,
    which leaves the store as it was)."""
    from kg.pipeline.supervisor import Watchdog, WorkerProcess

    stop = stop_on_signals()
    workers = [WorkerProcess(settings, f"kg-worker-{n}") for n in range(concurrency)]
    watchdog = Watchdog(workers)
    watchdog.start()
    try:
        wait_for(stop)
    finally:
        watchdog.stop(grace=settings.job_timeout_seconds)


def run_scheduler(settings: Settings) -> None:
    """`kg scheduler`: fire kg's periodic jobs until SIGTERM."""
    from kg.scheduler import start_scheduler

    stop = stop_on_signals()
    scheduler = start_scheduler(
        settings, identity=f"{socket.gethostname()}:{os.getpid()}"
    )  # KgError: not started
    try:
        wait_for(stop)
    finally:
        scheduler.stop()
