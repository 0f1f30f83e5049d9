"""A worker killed with SIGKILL mid-ingest leaves the store as it was; the job is redone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pyoxigraph as ox
import pytest

from kg.config import Settings
from kg.events import Push
from kg.events.sqlite import SqliteEventLog
from kg.iri import Minter
from kg.pipeline.ingest import ProjectInfo, ingest_repository
from kg.store import open_store
from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.servers import kg_env
from tests.fixtures.synthetic import synthetic_repo

pytestmark = pytest.mark.slow
SLUG = "g/big"


def run_worker(data: Path, log: IO[bytes], **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kg", "worker"],
        env=kg_env(data, **env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_for(predicate: object, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def project_triples(data: Path) -> tuple[str | None, set[ox.Triple]]:
    settings = Settings(data_dir=data)
    store = open_store(settings, read_only=True)
    record = store.project(Minter(settings.base_iri).project(SLUG))
    assert record is not None and record.graph
    raw = store.raw  # type: ignore[attr-defined]
    quads = raw.quads_for_pattern(None, None, None, ox.NamedNode(record.graph))
    return record.ingested_commit, {ox.Triple(q.subject, q.predicate, q.object) for q in quads}


def test_sigkill_mid_ingest(tmp_path: Path, git_http: GitHttpServer) -> None:
    small = synthetic_repo(git_http.root / "small.git", 20, seed=1)
    big = synthetic_repo(git_http.root / "big.git", 6000, seed=2)  # another history: a full rebuild
    data = tmp_path / "kg"
    events = SqliteEventLog(data / "events.sqlite")
    log = (tmp_path / "worker.log").open("ab")

    def push(key: str, repo: Path) -> None:
        url = git_http.url(repo.name)
        events.enqueue(Push(delivery_key=key, project_id=9, path=SLUG, clone_url=url, commit=None))

    def state() -> str:
        status = events.status(9)
        return status.state if status else "none"

    # 1. A first, complete ingest.
    push("first", small)
    worker = run_worker(data, log, KG_GIT_ALLOWED_ORIGINS=git_http.origin)
    wait_for(lambda: state() == "idle")
    worker.terminate()
    assert worker.wait(20) == 0
    before = project_triples(data)

    # 2. A second push; the worker is killed while it extracts and loads.
    push("second", big)
    worker = run_worker(data, log, KG_WORKER_LEASE_SECONDS="3", KG_GIT_ALLOWED_ORIGINS=git_http.origin)
    work = data / "tmp"
    wait_for(lambda: any(p.stat().st_size > 0 for p in work.glob("*.nt")) if work.exists() else False)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    assert state() == "running"  # claimed, never completed
    assert project_triples(data) == before  # readers still see the first ingest

    # 3. A new worker cannot take the job until the lease expires, then finishes it.
    killed_at = time.monotonic()
    worker = run_worker(data, log, KG_WORKER_LEASE_SECONDS="3", KG_GIT_ALLOWED_ORIGINS=git_http.origin)
    wait_for(lambda: state() == "idle")
    assert time.monotonic() - killed_at > 1.5
    worker.terminate()
    assert worker.wait(20) == 0
    status = events.status(9)
    assert status is not None and status.attempts == 0
    commit, after = project_triples(data)
    big_head = subprocess.run(
        ["git", "-C", str(big), "rev-parse", "main"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert commit == big_head

    # 4. The result equals a clean ingest of the same commit into a fresh store.
    clean = tmp_path / "clean"
    settings = Settings(data_dir=clean)
    store = open_store(settings)
    ingest_repository(
        store, Minter(settings.base_iri), big, ProjectInfo(SLUG, "public", 9), workdir=clean / "tmp"
    )
    store.close()
    assert project_triples(clean)[1] == after
    assert len(after) > len(before[1])
    log.close()
