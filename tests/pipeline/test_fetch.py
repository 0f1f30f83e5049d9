"""Fetching private repositories: the token reaches the server, and nothing else sees it."""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
from tests.fixtures.gitrepo import GitRepo
from tests.fixtures.identity import IdentityServer
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
    mirrors = Mirrors(tmp_path / "mirrors", token=TOKEN, forge_origin=forge.origin)
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
        Mirrors(tmp_path / "mirrors", token=wrong, forge_origin=forge.origin).sync(
            1, forge.url("private.git")
        )
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
        Mirrors(tmp_path / "mirrors", token=TOKEN, forge_origin=forge.origin).sync(1, forge.url("nope.git"))
    assert not failure.value.recoverable


def test_an_unreachable_server_is_retried(tmp_path: Path) -> None:
    from tests.fixtures.servers import free_port

    with pytest.raises(FetchFailed) as failure:
        Mirrors(tmp_path / "mirrors").sync(1, f"http://127.0.0.1:{free_port()}/x.git")
    assert failure.value.recoverable


def test_the_token_goes_only_to_the_forge_origin(forge: GitHttpServer, tmp_path: Path) -> None:
    other = GitHttpServer(forge.root)  # the same repositories, on another port: another origin
    try:
        mirrors = Mirrors(tmp_path / "mirrors", token=TOKEN, forge_origin=forge.origin)
        mirrors.sync(1, other.url("private.git"))
        assert other.seen and all(auth is None for _, auth in other.seen)
    finally:
        other.stop()


@pytest.mark.parametrize(
    "url",
    [
        "ext::sh -c touch% /tmp/kg-pwned",
        "fd::17",
        "file:///etc",
        "/etc",
        "--upload-pack=touch /tmp/kg-pwned",
        "ssh://-oProxyCommand=touch%20/tmp/kg-pwned/x",
    ],
)
def test_git_refuses_every_transport_but_http(url: str, tmp_path: Path) -> None:
    with pytest.raises(FetchFailed) as failure:
        Mirrors(tmp_path / "mirrors").sync(1, url)
    assert not failure.value.recoverable
    assert not Path("/tmp/kg-pwned").exists()


def test_a_redirect_is_not_followed(tmp_path: Path) -> None:
    seen: list[str] = []

    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere.git" + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with pytest.raises(FetchFailed) as failure:
            Mirrors(tmp_path / "mirrors").sync(1, f"http://127.0.0.1:{httpd.server_address[1]}/p.git")
        assert "redirect" in str(failure.value).lower()
        assert len(seen) == 1
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_worker_never_logs_the_token(
    identity: IdentityServer,
    git_repo: Callable[[str], GitRepo],
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    repo = git_repo("private")
    repo.commit({"a.txt": "1"}, "first")
    identity.gitlab_user(TOKEN, 1)
    identity.gitlab_project(1, "g/private", "private", {1: 40})
    identity.gitlab_repository(1, repo.path)
    identity.gitlab_project(2, "g/missing", "private", {1: 40})  # GitLab has no repository for it
    # kg's own GitLab token reads the project at GitLab and clones it (no KG_GIT_TOKEN needed)
    settings = settings.model_copy(update={"gitlab_url": identity.url, "gitlab_token": SecretStr(TOKEN)})
    events = open_event_log(settings)
    store = open_store(settings)
    worker = Worker(settings, events, store, open_index(settings))
    caplog.set_level(logging.DEBUG)
    for pid, path in ((1, "g/private"), (2, "g/missing")):
        events.enqueue(Push(delivery_key=str(pid), project_id=pid, path=path, clone_url="", commit=None))
    assert worker.run_once() and worker.run_once()
    ok, missing = events.status(1), events.status(2)
    assert ok is not None and ok.state == "idle"
    assert missing is not None and missing.state == "failed"
    assert (
        missing.message == "fetching the repository failed: the forge has no such repository (or not for kg)"
    )
    assert TOKEN not in caplog.text
    assert "job done" in caplog.text and "failed for good" in caplog.text
    assert {token for _, token in identity.git_seen} <= {TOKEN, None}
    store.close()
