"""What only the PostgreSQL event log does: a server that can be down, credentials in its
URL, schema migrations shared by a fleet, claims from many processes at once."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest

from kg.config import SettingsError, load_settings
from kg.errors import Unavailable
from kg.events import open_event_log
from kg.events.postgres import PostgresEventLog
from tests.events.pushes import push
from tests.fixtures.servers import free_port


def nowhere(postgres_server: Any) -> str:
    """A URL with the server's real credentials, on a port where nothing listens."""
    return postgres_server.url("kg").replace(f":{postgres_server.port}/", f":{free_port()}/")


def test_an_unreachable_server_is_unavailable_and_the_password_is_not_told(postgres_server: Any) -> None:
    url = nowhere(postgres_server)
    with pytest.raises(Unavailable) as caught:
        PostgresEventLog(url)
    assert postgres_server.password not in str(caught.value)
    assert "kg:***@127.0.0.1" in str(caught.value)


def test_a_server_gone_after_opening_makes_every_call_unavailable_then_recovers(
    postgres_server: Any, postgres_url: str
) -> None:
    log = PostgresEventLog(postgres_url)
    try:
        assert log.enqueue(push("before")) is True
        postgres_server.stop("fast")  # "immediate" costs a recovery that fsyncs every database
        try:
            for call in (lambda: log.enqueue(push("during")), log.probe, lambda: log.claim("w", 60)):
                with pytest.raises(Unavailable) as caught:
                    call()
                assert postgres_server.password not in str(caught.value)
            with pytest.raises(Unavailable):
                asyncio.run(log.enqueue_async(push("during-async")))
        finally:
            postgres_server.start()
        log.probe()  # the dead connections are replaced, nothing to restart
        assert log.enqueue(push("after")) is True
        status = log.status(1)
        assert status is not None
        assert status.events_total == 2  # nothing stored while the server was away
    finally:
        log.close()


def test_many_logs_opening_a_fresh_database_at_once_migrate_it_once(postgres_url: str) -> None:
    # threads, each opening its own log on its own connections: to the server, six processes
    errors: list[BaseException] = []
    logs: list[PostgresEventLog] = []
    lock = threading.Lock()

    def open_one() -> None:
        try:
            log = PostgresEventLog(postgres_url)
        except BaseException as exc:
            errors.append(exc)
            return
        with lock:
            logs.append(log)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for log in logs:
        log.close()
    assert errors == []
    with psycopg.connect(postgres_url) as db:
        assert db.execute("SELECT version_num FROM kg_event_log_version").fetchall() == [("r0001",)]


def test_workers_on_separate_connections_never_share_a_project(postgres_url: str) -> None:
    machines = [PostgresEventLog(postgres_url) for _ in range(3)]  # a pool each, as processes have
    for project in range(60):
        machines[0].enqueue(push(f"k{project}", project=project))
    claimed: list[int] = []
    lock = threading.Lock()

    def work(log: PostgresEventLog, name: str) -> None:
        while (job := log.claim(name, 60)) is not None:
            with lock:
                claimed.append(job.project_id)
            log.complete(job, commit="c", warnings=[])

    threads = [
        threading.Thread(target=work, args=(log, f"m{m}w{w}"))
        for m, log in enumerate(machines)
        for w in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for log in machines:
        log.close()
    assert sorted(claimed) == list(range(60))


def test_the_driver_spelling_of_the_url_opens_the_same_log(postgres_url: str, tmp_path: Path) -> None:
    url = postgres_url.replace("postgresql://", "postgresql+psycopg://")
    log = open_event_log(load_settings(data_dir=tmp_path, event_log_url=url))
    try:
        assert log.enqueue(push("k1")) is True
        assert isinstance(log, PostgresEventLog)
    finally:
        log.close()


def test_a_malformed_url_is_refused_without_showing_its_password() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(event_log_url="postgres://kg:hunter22@db/kg")
    assert "hunter22" not in str(caught.value)
    assert "KG_EVENT_LOG_URL" in str(caught.value)
