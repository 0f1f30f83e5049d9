"""Periodic jobs of the embedded process (apscheduler)."""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler

from kg.pipeline.supervisor import WorkerProcess


def start_scheduler(worker: WorkerProcess | None) -> BackgroundScheduler:
    """Start the scheduler: today it keeps the worker process alive."""
    scheduler = BackgroundScheduler(daemon=True)
    if worker is not None:
        scheduler.add_job(
            worker.start,
            "interval",
            seconds=2,
            id="worker-watchdog",
            max_instances=1,
            coalesce=True,
        )
    scheduler.start()
    return scheduler
