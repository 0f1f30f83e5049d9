"""An idle worker ingests a push as soon as it is stored, not a poll interval later, on
every event log; and it still stops promptly while idle."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from kg.config import Settings
from kg.events import Push, open_event_log
from kg.pipeline.worker import Worker
from kg.search import open_index
from kg.store import open_store
from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.gitrepo import GitRepo

POLL = 120.0  # the longest idle wait: far past every bound below
BOUND = 60.0  # generous: an ingest of two commits, plus waking


@pytest.fixture(params=["sqlite", "postgresql"])
def event_log_url(request: pytest.FixtureRequest, settings: Settings) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{settings.data_dir}/events.sqlite"
    url: str = request.getfixturevalue("postgres_url")
    return url


def test_an_idle_worker_ingests_a_push_at_once(
    settings: Settings, event_log_url: str, git_repo: Callable[[str], GitRepo], git_http: GitHttpServer
) -> None:
    settings = settings.model_copy(
        update={
            "git_allowed_origins": git_http.origin,
            "worker_poll_seconds": POLL,
            "event_log_url": event_log_url,
        }
    )
    repo = git_repo("small")
    repo.commit({"a.txt": "a"}, "first")
    repo.commit({"b.txt": "b"}, "second")
    url = git_http.publish(repo.path, "small.git")
    worker_log, receiver_log = open_event_log(settings), open_event_log(settings)
    store, index = open_store(settings), open_index(settings)
    stop = threading.Event()
    thread = threading.Thread(target=Worker(settings, worker_log, store, index).run, args=(stop,))
    thread.start()
    try:
        time.sleep(0.5)  # the worker found nothing and waits
        receiver_log.enqueue(Push(delivery_key="k", project_id=3, path="g/small", clone_url=url, commit=None))
        deadline = time.monotonic() + BOUND
        while (status := receiver_log.status(3)) is None or status.state != "idle":
            assert time.monotonic() < deadline, f"not ingested within {BOUND}s: {status}"
            time.sleep(0.05)
        assert status.ingested_commit == repo.head()
    finally:
        stopped = time.monotonic()
        stop.set()
        thread.join(BOUND)
        assert not thread.is_alive()
        assert time.monotonic() - stopped < BOUND / 2  # idle for POLL, yet it heard `stop`
        for closable in (worker_log, receiver_log, store, index):
            closable.close()
