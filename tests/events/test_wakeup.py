"""An idle worker waiting for work wakes when a push is stored, by any process, on every
backend. Bounds are generous: they tell "woke" from "waited for the whole timeout"."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from kg.events import EventLog, Job
from tests.events.conftest import OpenLog
from tests.events.pushes import push

LONG = 60.0  # a wait's timeout: waking near it would mean no wake-up at all
WOKE = 30.0

ENQUEUE = """
from kg.config import load_settings
from kg.events import Push, open_event_log
log = open_event_log(load_settings())
log.enqueue(Push(delivery_key="other-process", project_id=5, path="g/p5", clone_url="git://127.0.0.1/p5", commit=None))
log.close()
"""


def claim_as_a_worker_does(events: EventLog) -> Job:
    """Claim, and wait for work while there is none (a wake is a hint, not a promise)."""
    started = time.monotonic()
    while (job := events.claim("w", 60)) is None:
        assert events.wait_for_work(LONG) is True, "waited out the whole timeout: never woken"
        assert time.monotonic() - started < WOKE
    return job


def test_a_waiting_worker_wakes_when_another_process_stores_a_push(
    open_log: OpenLog, event_log_url: str, tmp_path: Path
) -> None:
    events = open_log()
    assert events.claim("w", 60) is None
    env = {**os.environ, "KG_EVENT_LOG_URL": event_log_url, "KG_DATA_DIR": str(tmp_path)}
    writer = subprocess.Popen([sys.executable, "-c", ENQUEUE], env=env)
    job = claim_as_a_worker_does(events)
    assert writer.wait(WOKE) == 0
    assert job.project_id == 5


def test_a_push_stored_between_looking_and_waiting_is_not_missed(open_log: OpenLog) -> None:
    worker, receiver = open_log(), open_log()
    assert worker.claim("w", 60) is None
    receiver.enqueue(push("k1"))  # before the worker starts waiting
    started = time.monotonic()
    assert worker.wait_for_work(LONG) is True
    assert time.monotonic() - started < WOKE


def test_a_retry_falling_due_ends_the_wait(open_log: OpenLog) -> None:
    events = open_log()
    events.enqueue(push("k1"))
    job = events.claim("w", 60)
    assert job is not None
    events.retry_later(job, "network down", 0.3)
    assert events.claim("w", 60) is None
    assert claim_as_a_worker_does(events).project_id == 1


def test_with_nothing_to_do_the_wait_times_out(open_log: OpenLog) -> None:
    events = open_log()
    assert events.claim("w", 60) is None
    assert events.wait_for_work(0.3) is False
