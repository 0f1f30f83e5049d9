"""Contract tests for every EventLog implementation the factory offers (`kg.events.BACKENDS`,
see conftest.py); what only SQLite does is in test_sqlite.py, only PostgreSQL test_postgres.py."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from kg.errors import LeaseLost
from kg.events import EventLog, Push
from tests.events.conftest import OpenLog
from tests.events.pushes import push


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


def test_a_worker_asking_again_takes_back_a_lease_it_lost_track_of(events: EventLog) -> None:
    # its claim's answer (or its settling) was lost with a connection: the job is still
    # leased to it, and a worker asks for work only between jobs
    events.enqueue(push("k1"))
    lost = events.claim("w", 600)
    assert lost is not None
    assert events.claim("other", 600) is None
    again = events.claim("w", 600)
    assert again is not None and again.project_id == lost.project_id
    events.complete(again, commit="x", warnings=[])
    assert events.status(1).state == "idle"  # type: ignore[union-attr]


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


def test_a_push_to_an_idle_project_is_due_at_once(open_log: OpenLog) -> None:
    events = open_log(coalesce_seconds=30)
    events.enqueue(push("k1"))
    job = events.claim("w", 60)
    assert job is not None
    events.complete(job, commit="a" * 40, warnings=[])
    events.enqueue(push("k2", commit="b" * 40))  # idle again: no window either
    again = events.claim("w", 60)
    assert again is not None
    assert again.commit == "b" * 40


def test_pushes_while_a_job_runs_wait_out_the_window_from_its_start(open_log: OpenLog) -> None:
    events = open_log(coalesce_seconds=0.5)
    events.enqueue(push("k1", commit="1" * 40))
    job = events.claim("w", 60)
    assert job is not None
    claimed = time.time()
    for i in range(2, 6):  # a burst while the first job runs
        events.enqueue(push(f"k{i}", commit=f"{i}" * 40))
    events.complete(job, commit="1" * 40, warnings=[])
    status = events.status(1)
    assert status is not None
    assert status.state == "pending"
    assert status.next_attempt_at is not None
    assert status.next_attempt_at == pytest.approx(claimed + 0.5, abs=0.25)
    assert events.claim("w", 60) is None
    time.sleep(max(status.next_attempt_at - time.time(), 0) + 0.05)
    second = events.claim("w", 60)
    assert second is not None
    assert second.commit == "5" * 40  # the whole burst: one more ingest


def test_a_push_to_a_queued_project_joins_it_without_delaying_it(open_log: OpenLog) -> None:
    events = open_log(coalesce_seconds=30)
    events.enqueue(push("k1", commit="1" * 40))
    events.enqueue(push("k2", commit="2" * 40))
    job = events.claim("w", 60)
    assert job is not None
    assert job.commit == "2" * 40


def test_a_push_brings_a_project_waiting_for_a_retry_forward(open_log: OpenLog) -> None:
    events = open_log(coalesce_seconds=0.2)
    events.enqueue(push("k1"))
    job = events.claim("w", 60)
    assert job is not None
    events.retry_later(job, "network down", 3600)
    time.sleep(0.25)  # the window since the last claim has passed
    events.enqueue(push("k2"))
    again = events.claim("w", 60)
    assert again is not None
    assert again.attempt == 1  # a new push starts counting attempts over


def test_a_job_that_keeps_killing_its_worker_is_given_up(open_log: OpenLog) -> None:
    events = open_log(max_attempts=2)
    events.enqueue(push("k1"))
    for _ in range(2):  # each worker dies mid-job: its lease runs out
        assert events.claim("doomed", 0.1) is not None
        time.sleep(0.15)
    assert events.claim("w", 60) is None
    status = events.status(1)
    assert status is not None
    assert status.state == "failed"
    assert "2 times" in status.message
    events.enqueue(push("k2"))  # a new push starts over
    assert events.claim("w", 60) is not None


def test_receivers_on_two_handles_store_each_delivery_once(open_log: OpenLog) -> None:
    import asyncio

    first, second = open_log(), open_log()  # two webhook processes on one log

    async def deliver_all() -> list[bool]:
        pushes = [push(f"k{i}", project=i % 5) for i in range(150)]
        return list(
            await asyncio.gather(
                *(first.enqueue_async(p) for p in pushes), *(second.enqueue_async(p) for p in pushes)
            )
        )

    stored = asyncio.run(deliver_all())
    assert stored.count(True) == 150
    assert [a or b for a, b in zip(stored[:150], stored[150:], strict=True)] == [True] * 150
    assert sum(s.events_total for s in first.statuses()) == 150


def test_a_job_carries_the_request_id_of_its_newest_push(events: EventLog) -> None:
    events.enqueue(replace(push("k1", commit="1" * 40), request_id="first-request"))
    events.enqueue(replace(push("k2", commit="2" * 40), request_id="second-request"))
    job = events.claim("w", 60)
    assert job is not None and (job.commit, job.request_id) == ("2" * 40, "second-request")
    events.complete(job, commit="2" * 40, warnings=[])
    events.enqueue(push("k3", commit="3" * 40))  # a push from no request (the CLI, a test)
    job = events.claim("w", 60)
    assert job is not None and job.request_id == ""
