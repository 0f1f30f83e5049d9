"""Fetching private repositories: the token reaches the server, and nothing else sees it."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from kg.config import Settings
from kg.errors import FetchFailed
from kg.events import Push, open_event_log
from kg.pipeline.fetch import Mirrors
from kg.pipeline.worker import Worker
from kg.search import open_index
from kg.store import open_store
from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.synthetic import synthetic_repo

TOKEN = "glpat-s3cr3t-T0KEN"


@pytest.fixture
def forge(tmp_path: Path) -> Iterator[GitHttpServer]:
    root = tmp_path / "forge"
    root.mkdir()
    synthetic_repo(root / "private.git", 5)
    server = GitHttpServer(root, TOKEN)
    yield server
    server.stop()


def test_the_token_travels_in_a_header_only(forge: GitHttpServer, tmp_path: Path) -> None:
    mirrors = Mirrors(tmp_path / "mirrors", token=TOKEN)
    mirror = mirrors.sync(1, forge.url("private.git"))
    assert (
        subprocess.run(
            ["git", "-C", str(mirror), "rev-parse", "main"], check=True, capture_output=True
        ).returncode
        == 0
    )
    assert any(auth == forge.expected for _, auth in forge.seen)
    assert all(TOKEN not in path for path, _ in forge.seen)
    for file in mirror.rglob("*"):
        if file.is_file():
            assert TOKEN.encode() not in file.read_bytes(), file
    # A second sync fetches into the same mirror.
    assert mirrors.sync(1, forge.url("private.git")) == mirror


def test_a_wrong_token_fails_for_good_without_showing_it(forge: GitHttpServer, tmp_path: Path) -> None:
    wrong = "glpat-wrong-TOKEN"
    with pytest.raises(FetchFailed) as failure:
        Mirrors(tmp_path / "mirrors", token=wrong).sync(1, forge.url("private.git"))
    assert not failure.value.recoverable
    assert wrong not in str(failure.value)
    assert "Authentication failed" in str(failure.value) or "401" in str(failure.value)


def test_credentials_in_a_url_are_redacted(forge: GitHttpServer, tmp_path: Path) -> None:
    url = forge.url("private.git").replace("http://", "http://someone:hunter2@")
    with pytest.raises(FetchFailed) as failure:
        Mirrors(tmp_path / "mirrors").sync(1, url)
    assert "hunter2" not in str(failure.value)
    assert "127.0.0.1" in str(failure.value)


def test_a_missing_repository_fails_for_good(forge: GitHttpServer, tmp_path: Path) -> None:
    with pytest.raises(FetchFailed) as failure:
        Mirrors(tmp_path / "mirrors", token=TOKEN).sync(1, forge.url("nope.git"))
    assert not failure.value.recoverable


def test_an_unreachable_server_is_retried(tmp_path: Path) -> None:
    from tests.fixtures.servers import free_port

    with pytest.raises(FetchFailed) as failure:
        Mirrors(tmp_path / "mirrors").sync(1, f"http://127.0.0.1:{free_port()}/x.git")
    assert failure.value.recoverable


def test_the_worker_never_logs_the_token(
    forge: GitHttpServer, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings.model_copy(update={"git_token": SecretStr(TOKEN)})
    events = open_event_log(settings)
    store = open_store(settings)
    worker = Worker(settings, events, store, open_index(settings))
    caplog.set_level(logging.DEBUG)
    events.enqueue(
        Push(
            delivery_key="a",
            project_id=1,
            path="g/private",
            clone_url=forge.url("private.git"),
            commit=None,
        )
    )
    events.enqueue(
        Push(
            delivery_key="b",
            project_id=2,
            path="g/missing",
            clone_url=forge.url("missing.git"),
            commit=None,
        )
    )
    assert worker.run_once() and worker.run_once()
    ok, missing = events.status(1), events.status(2)
    assert ok is not None and ok.state == "idle"
    assert missing is not None and missing.state == "failed"
    assert TOKEN not in missing.message
    assert TOKEN not in caplog.text
    assert "job done" in caplog.text and "failed for good" in caplog.text
    store.close()
