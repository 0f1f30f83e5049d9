"""Fairness on every backend: big projects pushed again and again never hold every worker,
and a project that just had a worker goes behind those still waiting for one."""

from __future__ import annotations

import threading
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


def test_small_projects_get_through_while_workers_churn_on_heavy_ones(open_log: OpenLog) -> None:
    """Three worker threads; three heavy projects, each pushed to again while it is ingested,
    so there is always heavy work due; small projects pushed meanwhile are claimed next."""
    events = open_log(worker_heavy_seconds=HEAVY, worker_heavy_share=0.75)  # 3 workers: 2 heavy
    heavy = [1, 2, 3]
    make_heavy(events, heavy, ["w0", "w1", "w2"])
    for project in heavy:
        events.enqueue(push(f"again-{project}", project=project))
    lock = threading.Lock()
    claims: list[int] = []  # every claim, in the order they returned
    running_heavy, most_heavy = 0, 0
    stop = threading.Event()
    small = list(range(10, 16))

    def work(name: str) -> None:
        nonlocal running_heavy, most_heavy
        pushes = 0
        while not stop.is_set():
            job = events.claim(name, 60)
            if job is None:
                events.wait_for_work(0.2)
                continue
            with lock:
                claims.append(job.project_id)
                if job.project_id in heavy:
                    running_heavy += 1
                    most_heavy = max(most_heavy, running_heavy)
            if job.project_id in heavy:
                pushes += 1
                events.enqueue(push(f"{name}-{pushes}", project=job.project_id))  # pushed again
                time.sleep(HEAVY + 0.05)
                with lock:
                    running_heavy -= 1
            events.complete(job, commit="c", warnings=[])

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    waited: dict[int, int] = {}  # heavy claims between a small project's push and its claim
    try:
        time.sleep(0.5)  # the workers are busy on heavy projects
        for project in small:
            with lock:
                before = len(claims)
            events.enqueue(push(f"small-{project}", project=project))
            deadline = time.monotonic() + 30
            while project not in claims:
                assert time.monotonic() < deadline, f"small project {project} never claimed: {claims}"
                time.sleep(0.01)
            with lock:
                waited[project] = sum(1 for p in claims[before : claims.index(project)] if p in heavy)
            time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert most_heavy <= 2  # the third worker never took a heavy project
    assert sum(1 for p in claims if p in heavy) >= 4  # heavy projects kept running meanwhile
    # claims already under way when the push landed may return first; nothing waits longer
    assert max(waited.values()) <= 2, waited
