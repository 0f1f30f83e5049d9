"""Each scheduler job does its work when fired, on real components (SQLite event log and
index, the embedded store or `oxigraph serve`, the GitLab stand-in)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from kg.config import Settings
from kg.events import Push, open_event_log
from kg.iri import Minter
from kg.pipeline.worker import Worker
from kg.scheduler import KgScheduler
from kg.scheduler.jobs import Upkeep
from kg.search import open_index
from kg.search.base import Document, ProjectEntry
from kg.store import ProjectRecord, open_store
from tests.conftest import quick_settings
from tests.fixtures.gitrepo import GitRepo
from tests.fixtures.identity import IdentityServer
from tests.fixtures.stores import as_fields, env_in_test


@pytest.fixture
def upkeep(settings: Settings) -> Iterator[Upkeep]:
    jobs = Upkeep(settings)
    yield jobs
    jobs.close()


def _ingested(settings: Settings, identity: IdentityServer, repo: GitRepo, pid: int, path: str) -> Settings:
    """`settings` with GitLab, and the project `pid` ingested by a real worker from GitLab."""
    identity.gitlab_user("kg-admin", 1)
    identity.admins.add(1)
    identity.gitlab_project(pid, path, "private", {7: 40})
    identity.gitlab_repository(pid, repo.path)
    settings = settings.model_copy(update={"gitlab_url": identity.url, "gitlab_token": SecretStr("kg-admin")})
    _work(settings, Push(delivery_key=f"first-{pid}", project_id=pid, path=path, clone_url="", commit=None))
    return settings


def _work(settings: Settings, push: Push | None = None) -> list[ProjectRecord]:
    """Run a worker until the queue is empty; the store's records afterwards."""
    events, store, index = open_event_log(settings), open_store(settings), open_index(settings)
    try:
        if push is not None:
            events.enqueue(push)
        worker = Worker(settings, events, store, index)
        while worker.run_once():
            pass
        return store.projects()
    finally:
        store.close()
        events.close()
        index.close()


def test_reconcile_enqueues_a_missed_push_and_the_worker_ingests_it(
    settings: Settings, identity: IdentityServer, git_repo: Callable[[str], GitRepo]
) -> None:
    repo = git_repo("missed")
    repo.commit({"a.txt": "1"}, "first")
    settings = _ingested(settings, identity, repo, 61, "climate/missed")
    upkeep = Upkeep(settings)
    assert upkeep.reconcile() == 0  # GitLab's head is what kg ingested
    repo.commit({"a.txt": "2"}, "second, whose hook never came")
    identity.gitlab_repository(61, repo.path)
    assert upkeep.reconcile() == 1
    assert upkeep.reconcile() == 0  # the same missed head is enqueued once
    upkeep.close()
    (record,) = _work(settings)
    assert record.ingested_commit == repo.head()


def test_access_refresh_hands_changed_readers_to_the_worker(
    settings: Settings, identity: IdentityServer, git_repo: Callable[[str], GitRepo]
) -> None:
    repo = git_repo("readers")
    repo.commit({"a.txt": "1"}, "first")
    settings = _ingested(settings, identity, repo, 62, "climate/readers")
    upkeep = Upkeep(settings)
    assert upkeep.refresh_access() == 0
    identity.members[62][8] = 30
    identity.projects[62]["visibility"] = "internal"
    assert upkeep.refresh_access() == 1
    upkeep.close()
    (record,) = _work(settings)
    assert (record.visibility, record.members) == ("internal", (("7", 40), ("8", 30)))
    again = Upkeep(settings)
    assert again.refresh_access() == 0
    again.close()


def test_the_queue_sweep_counts_states_and_due_retries(settings: Settings, upkeep: Upkeep) -> None:
    events = open_event_log(settings)
    for pid in (1, 2):
        events.enqueue(
            Push(delivery_key=f"k{pid}", project_id=pid, path=f"g/p{pid}", clone_url="", commit=None)
        )
    job = events.claim("w", 60)
    assert job is not None
    events.retry_later(job, "GitLab did not answer", 0)
    events.close()
    swept = upkeep.sweep_queue()
    assert (swept["pending"], swept["running"], swept["due_retries"]) == (2, 0, 1)


def _segments(settings: Settings) -> int:
    with sqlite3.connect(settings.data_dir / "search.sqlite") as db:
        return int(db.execute("SELECT count(DISTINCT segid) FROM docs_fts_idx").fetchone()[0])


def test_index_maintenance_merges_the_full_text_segments(settings: Settings, upkeep: Upkeep) -> None:
    index = open_index(settings)
    for n in range(6):  # each write leaves a full-text segment of its own
        entry = ProjectEntry(
            slug=f"g/p{n}", iri=f"urn:p{n}", graph=f"urn:g{n}", visibility="public", members={}
        )
        index.replace_project(
            entry, [Document(id=f"urn:p{n}", kind="project", project=entry.slug, name=f"rain {n}")]
        )
    index.close()
    assert _segments(settings) > 1
    assert upkeep.maintain_index() == 1
    assert _segments(settings) == 1


def test_garbage_collection_drops_dead_graphs_on_a_store_server(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = quick_settings(tmp_path, **as_fields(env_in_test("oxigraph-server", request)))
    store = open_store(settings)
    record = ProjectRecord(iri=Minter(settings.base_iri).project("g/gc"), slug="g/gc", name="gc")
    data = tmp_path / "one.nt"
    data.write_text(f'<{record.iri}> <https://schema.org/name> "gc" .\n')
    first = store.replace_project_graph(record, data)
    second = store.replace_project_graph(first, data)  # generation 1 is dead now
    assert second.graph != first.graph
    store.close()
    upkeep = Upkeep(settings)
    assert upkeep.collect_garbage() == 1
    assert upkeep.collect_garbage() == 0
    upkeep.close()


def test_every_job_fires_through_the_scheduler(settings: Settings) -> None:
    scheduler = KgScheduler(settings)
    scheduler.start()
    try:
        results: dict[str, Any] = {
            name: scheduler.scheduler.run_job(f"kg.{name}")
            for name in ("sweep_queue", "reconcile", "refresh_access", "maintain_index", "collect_garbage")
        }
    finally:
        scheduler.stop()
    assert results["sweep_queue"]["pending"] == 0
    assert (results["reconcile"], results["refresh_access"], results["collect_garbage"]) == (0, 0, 0)
    assert results["maintain_index"] == 0


def test_index_maintenance_on_postgresql_refreshes_the_planners_statistics(
    tmp_path: Path, postgres_url: str
) -> None:
    import psycopg

    settings = quick_settings(tmp_path, search_url=postgres_url)
    index = open_index(settings)
    entry = ProjectEntry(slug="g/p", iri="urn:p", graph="urn:g", visibility="public", members={})
    index.replace_project(entry, [Document(id="urn:p", kind="project", project="g/p", name="rain")])
    index.close()
    upkeep = Upkeep(settings)
    assert upkeep.maintain_index() == 0  # GIN keeps no segments
    upkeep.close()
    with psycopg.connect(postgres_url) as db:
        (analyzed,) = db.execute(
            "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'search_docs'"
        ).fetchone() or (None,)
    assert analyzed is not None
