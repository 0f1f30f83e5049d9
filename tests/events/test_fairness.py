"""Fairness on every backend: big projects pushed again and again never hold every worker,
and a project that just had a worker goes behind those still waiting for one."""

from __future__ import annotations

import time

from kg.events import EventLog, Job
from tests.events.conftest import OpenLog
from tests.events.pushes import push

HEAVY = 0.2  # seconds an ingest must take for its project to count as heavy


def claimed(job: Job | None) -> int | None:
    return None if job is None else job.project_id


def make_heavy(events: EventLog, projects: list[int], workers: list[str]) -> None:
    """Each worker ingests one of `projects`, slowly: they become heavy, the workers live."""
    for project in projects:
        events.enqueue(push(f"first-{project}", project=project))
    jobs = [events.claim(worker, 60) for worker in workers]
    time.sleep(HEAVY + 0.05)
    for job in jobs:
        assert job is not None
        events.complete(job, commit="c", warnings=[])


def test_heavy_projects_leave_a_worker_for_small_ones(open_log: OpenLog) -> None:
    events = open_log(worker_heavy_seconds=HEAVY, worker_heavy_share=0.75)  # 3 workers: 2 heavy
    make_heavy(events, [1, 2, 3], ["w1", "w2", "w3"])
    for project in (1, 2, 3):  # pushed to again: all three due, none small
        events.enqueue(push(f"again-{project}", project=project))

    first, second = events.claim("w1", 60), events.claim("w2", 60)
    assert {claimed(first), claimed(second)} <= {1, 2, 3}
    assert events.claim("w3", 60) is None  # a heavy project is due, but w3 stays free

    events.enqueue(push("small-10", project=10))
    events.enqueue(push("small-11", project=11))
    small = events.claim("w3", 60)
    assert claimed(small) == 10
    assert small is not None
    events.complete(small, commit="c", warnings=[])
    small = events.claim("w3", 60)
    assert claimed(small) == 11
    assert small is not None
    events.complete(small, commit="c", warnings=[])
    assert events.claim("w3", 60) is None  # still only heavy work left, both slots taken

    assert first is not None
    events.complete(first, commit="c", warnings=[])
    third = events.claim("w1", 60)  # a slot is free again: the last heavy project runs
    assert claimed(third) == ({1, 2, 3} - {claimed(first), claimed(second)}).pop()


def test_a_job_running_long_counts_as_heavy_before_it_ends(open_log: OpenLog) -> None:
    events = open_log(worker_heavy_seconds=HEAVY, worker_heavy_share=0.5)  # 2 workers: 1 heavy
    make_heavy(events, [1], ["w1"])
    events.enqueue(push("new-2", project=2))  # never ingested: not known to be heavy
    events.claim("w2", 60)  # both workers live now
    events.enqueue(push("again-1", project=1))
    events.enqueue(push("new-3", project=3))
    running = events.claim("w1", 60)
    assert claimed(running) == 3  # never had a worker: goes first
    time.sleep(HEAVY + 0.05)  # project 3 turns out heavy while it runs
    assert events.claim("w3", 60) is None  # project 1 (heavy) must wait for the slot


def test_a_project_that_just_had_a_worker_goes_behind_those_waiting(events: EventLog) -> None:
    events.enqueue(push("a1", project=1))
    job = events.claim("w", 60)
    assert job is not None
    events.enqueue(push("a2", project=1))  # pushed again while it runs
    events.complete(job, commit="c", warnings=[])  # due again at once
    events.enqueue(push("b1", project=2))  # due after project 1, but has not had a worker
    events.enqueue(push("c1", project=3))
    order = []
    while (next_job := events.claim("w", 60)) is not None:
        order.append(next_job.project_id)
        events.complete(next_job, commit="c", warnings=[])
    assert order == [2, 3, 1]


def test_with_one_worker_heavy_projects_still_run(open_log: OpenLog) -> None:
    events = open_log(worker_heavy_seconds=HEAVY, worker_heavy_share=0.75)
    make_heavy(events, [1], ["only"])
    events.enqueue(push("again-1", project=1))
    assert claimed(events.claim("only", 60)) == 1
