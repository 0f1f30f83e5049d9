"""Contract tests for every EventLog implementation the factory offers (`kg.events.BACKENDS`);
the tests at the end that open SQLite files directly are about the SQLite one."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from kg.config import Settings
from kg.errors import LeaseLost
from kg.events import BACKENDS, EventLog, Push, open_event_log
from kg.events.sqlite import SqliteEventLog

# where each backend keeps a test's events: a backend added to the factory without an entry
# here fails its contract tests instead of skipping them
URLS = {"sqlite": lambda tmp: f"sqlite:///{tmp}/events.sqlite"}


@pytest.fixture(params=sorted(BACKENDS))
def events(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventLog]:
    settings = Settings(data_dir=tmp_path, event_log_url=URLS[request.param](tmp_path), coalesce_seconds=0)
    log = open_event_log(settings)
    yield log
    log.close()


def push(key: str, project: int = 1, commit: str | None = "a" * 40) -> Push:
    return Push(
        delivery_key=key,
        project_id=project,
        path=f"g/p{project}",
        clone_url=f"git://127.0.0.1/p{project}",
        commit=commit,
    )


def test_a_delivery_is_stored_once(events: EventLog) -> None:
    assert events.enqueue(push("k1")) is True
    assert events.enqueue(push("k1")) is False
    status = events.status(1)
    assert status is not None
    assert status.events_total == 1


def test_a_delivery_key_deduplicates_within_its_project_only(events: EventLog) -> None:
    assert events.enqueue(push("same-key", project=1)) is True
    # another project's hook reusing the key is its own event, not a duplicate
    assert events.enqueue(push("same-key", project=2)) is True
    assert events.claim("w", 60) is not None
    assert events.claim("w", 60) is not None


def test_a_refresh_changes_nothing_known_of_the_project(events: EventLog) -> None:
    events.enqueue(replace(push("k1", commit="1" * 40), visibility="private", default_branch="trunk"))
    refresh = Push(delivery_key="k2", project_id=1, path="", clone_url="", commit=None, kind="refresh")
    assert refresh.visibility == "private"  # the narrowest, unless an event says otherwise
    events.enqueue(replace(refresh, visibility="public", default_branch="main"))
    job = events.claim("w", 60)
    assert job is not None
    assert (job.path, job.clone_url, job.commit) == ("g/p1", "git://127.0.0.1/p1", None)
    assert (job.visibility, job.default_branch) == ("private", "trunk")


def test_many_pushes_coalesce_into_one_job_for_the_newest_commit(events: EventLog) -> None:
    for i in range(50):
        events.enqueue(push(f"k{i}", commit=f"{i:040x}"))
    job = events.claim("w", 60)
    assert job is not None
    assert job.commit == f"{49:040x}"
    assert events.claim("w2", 60) is None
    events.complete(job, commit=job.commit or "", warnings=[])
    assert events.claim("w", 60) is None
    status = events.status(1)
    assert status is not None
    assert (status.events_done, status.events_total, status.state) == (50, 50, "idle")


def test_events_arriving_during_a_job_keep_the_project_pending(events: EventLog) -> None:
    events.enqueue(push("k1", commit="1" * 40))
    job = events.claim("w", 60)
    assert job is not None
    events.enqueue(push("k2", commit="2" * 40))
    assert events.claim("other", 60) is None  # still leased
    events.complete(job, commit="1" * 40, warnings=["w1"])
    status = events.status(1)
    assert status is not None
    assert (status.state, status.events_done, status.events_total) == ("pending", 1, 2)
    again = events.claim("w", 60)
    assert again is not None
    assert again.commit == "2" * 40


def test_an_expired_lease_is_handed_out_again(events: EventLog) -> None:
    events.enqueue(push("k1"))
    dead = events.claim("dead-worker", 0.2)
    assert dead is not None
    assert events.claim("w", 60) is None
    time.sleep(0.3)
    alive = events.claim("w", 60)
    assert alive is not None
    assert alive.attempt == 2
    with pytest.raises(LeaseLost):
        events.complete(dead, commit="x", warnings=[])
    events.complete(alive, commit="x", warnings=[])


def test_renewing_keeps_the_lease(events: EventLog) -> None:
    events.enqueue(push("k1"))
    job = events.claim("w", 0.3)
    assert job is not None
    for _ in range(3):
        time.sleep(0.15)
        events.renew(job, 0.3)
    assert events.claim("thief", 60) is None


def test_retry_later_waits_for_the_delay(events: EventLog) -> None:
    events.enqueue(push("k1"))
    job = events.claim("w", 60)
    assert job is not None
    events.retry_later(job, "network down", 0.3)
    assert events.claim("w", 60) is None
    status = events.status(1)
    assert status is not None
    assert (status.state, status.message) == ("pending", "network down")
    time.sleep(0.35)
    assert events.claim("w", 60) is not None


def test_failing_records_the_reason_and_a_new_push_starts_over(events: EventLog) -> None:
    events.enqueue(push("k1"))
    job = events.claim("w", 60)
    assert job is not None
    events.fail(job, "repository not found")
    status = events.status(1)
    assert status is not None
    assert (status.state, status.message, status.events_done) == (
        "failed",
        "repository not found",
        1,
    )
    assert events.claim("w", 60) is None
    events.enqueue(push("k2"))
    assert events.claim("w", 60) is not None


def test_unknown_project_has_no_status(events: EventLog) -> None:
    assert events.status(404) is None


def test_concurrent_workers_never_share_a_job(events: EventLog) -> None:
    for project in range(20):
        events.enqueue(push(f"k{project}", project=project))
    claimed: list[int] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        while (job := events.claim(name, 60)) is not None:
            with lock:
                claimed.append(job.project_id)
            events.complete(job, commit="c", warnings=[])

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == list(range(20))


def test_pushes_survive_reopening(tmp_path: Path) -> None:
    first = SqliteEventLog(tmp_path / "e.sqlite")
    first.enqueue(push("k1"))
    first.close()
    second = SqliteEventLog(tmp_path / "e.sqlite")
    assert second.claim("w", 60) is not None
    second.close()


def test_a_burst_is_due_once_the_coalescing_window_has_passed(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "e.sqlite", coalesce_seconds=0.4)
    log.enqueue(push("k1", commit="1" * 40))
    assert log.claim("w", 60) is None
    time.sleep(0.2)
    log.enqueue(push("k2", commit="2" * 40))  # does not extend the window
    assert log.claim("w", 60) is None
    time.sleep(0.25)
    job = log.claim("w", 60)
    assert job is not None
    assert job.commit == "2" * 40


def test_concurrent_enqueues_share_transactions_and_lose_nothing(events: EventLog) -> None:
    import asyncio

    async def burst() -> list[bool]:
        pushes = [push(f"k{i}", project=i % 7) for i in range(300)]
        pushes += [push("k0", project=0)]  # a duplicate inside the burst
        return list(await asyncio.gather(*(events.enqueue_async(p) for p in pushes)))

    results = asyncio.run(burst())
    assert results.count(True) == 300
    assert results[-1] is False
    assert sum(s.events_total for s in events.statuses()) == 300


def test_a_log_from_before_per_project_keys_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, delivery_key TEXT NOT NULL UNIQUE,
            project_id INTEGER NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL, commit_sha TEXT,
            received_at REAL NOT NULL, state TEXT NOT NULL DEFAULT 'pending');
        CREATE INDEX events_by_project ON events (project_id, state, id);
        INSERT INTO events (delivery_key, project_id, kind, ref, received_at) VALUES ('k', 1, 'push', 'r', 0);
        """
    )
    db.close()
    log = SqliteEventLog(path)
    assert log.event_count() == 1
    assert log.enqueue(push("k", project=1)) is False
    assert log.enqueue(push("k", project=2)) is True
    log.close()
    indexes = sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    assert ("events_by_project",) in indexes


def test_a_job_carries_the_request_id_of_its_newest_push(events: EventLog) -> None:
    events.enqueue(replace(push("k1", commit="1" * 40), request_id="first-request"))
    events.enqueue(replace(push("k2", commit="2" * 40), request_id="second-request"))
    job = events.claim("w", 60)
    assert job is not None and (job.commit, job.request_id) == ("2" * 40, "second-request")
    events.complete(job, commit="2" * 40, warnings=[])
    events.enqueue(push("k3", commit="3" * 40))  # a push from no request (the CLI, a test)
    job = events.claim("w", 60)
    assert job is not None and job.request_id == ""


def test_a_log_from_before_request_ids_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite"
    SqliteEventLog(path).close()
    db = sqlite3.connect(path)
    db.executescript(
        "ALTER TABLE events DROP COLUMN request_id; PRAGMA user_version = 2;"
        "INSERT INTO events (delivery_key, project_id, kind, ref, received_at) VALUES ('k', 1, 'push', 'r', 0);"
    )
    db.close()
    log = SqliteEventLog(path)
    assert log.event_count() == 1
    assert log.enqueue(replace(push("k2"), request_id="r2")) is True
    job = log.claim("w", 60)
    assert job is not None and job.request_id == "r2"
    log.close()
