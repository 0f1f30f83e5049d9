"""Fixtures for real components: git repositories, git daemon, kg processes."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.config import Settings
from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.gitrepo import GitRepo, make_repo
from tests.fixtures.servers import GitDaemon
from tests.fixtures.stores import STORES, as_fields, env_in_test

FIXTURES = Path(__file__).parent / "fixtures"
pytest_plugins = ["tests.fixtures.browser"]  # browser, page, phone_page, console_errors


def quick_settings(tmp_path: Path, **more: str) -> Settings:
    """Settings for a kg instance under a fresh data dir, quick to retry (`more`: other fields)."""
    return Settings(
        data_dir=tmp_path / "kg",
        hook_secret="test-hook-secret",  # type: ignore[arg-type]
        worker_poll_seconds=0.1,
        retry_base_seconds=0.5,
        coalesce_seconds=0,
        **more,  # type: ignore[arg-type]
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for an embedded instance under a fresh data dir."""
    return quick_settings(tmp_path)


@pytest.fixture
def git_repo(tmp_path: Path) -> Callable[[str], GitRepo]:
    """Factory: `git_repo("name")` makes an empty repository under the test's tmp dir."""

    def make(name: str = "repo") -> GitRepo:
        return make_repo(tmp_path / "repos" / name)

    return make


@pytest.fixture
def git_daemon(tmp_path: Path) -> Iterator[GitDaemon]:
    """A git daemon serving `tmp_path/served` over git:// on 127.0.0.1."""
    root = tmp_path / "served"
    root.mkdir()
    daemon = GitDaemon(root)
    yield daemon
    daemon.stop()


@pytest.fixture
def git_http(tmp_path: Path) -> Iterator[GitHttpServer]:
    """`git http-backend` serving `tmp_path/served` over HTTP on 127.0.0.1, without auth."""
    root = tmp_path / "served"
    root.mkdir(exist_ok=True)
    server = GitHttpServer(root)
    yield server
    server.stop()


@pytest.fixture
def gitlab_payload() -> Callable[[str], dict[str, Any]]:
    """Load a GitLab hook payload from tests/fixtures/gitlab/."""

    def load(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((FIXTURES / "gitlab" / f"{name}.json").read_text())
        return data

    return load


REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "real"


@pytest.fixture
def real() -> Path:
    """The real metadata samples in ../shared/fixtures/real (skipped where they are absent)."""
    if not REAL.is_dir():
        pytest.skip(f"real fixtures not found at {REAL} (they ship beside the repo in CI)")
    return REAL


@pytest.fixture
def identity() -> Iterator[Any]:
    """A Keycloak realm and GitLab user endpoint on 127.0.0.1 (see tests/fixtures/identity.py)."""
    from tests.fixtures.identity import IdentityServer

    server = IdentityServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One `oxigraph serve` for the session (tests keep apart by graph IRIs); see
    tests/fixtures/sparqlservers.py."""
    from tests.fixtures.sparqlservers import OxigraphServer

    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph-server"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One Virtuoso for the session: it takes seconds to start, so tests keep apart by
    graph IRIs; see tests/fixtures/sparqlservers.py."""
    from tests.fixtures.sparqlservers import VirtuosoServer

    server = VirtuosoServer(tmp_path_factory.mktemp("virtuoso-server"))
    yield server
    server.stop()


@pytest.fixture(params=list(STORES))
def any_store_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """`KG_*` variables pointing a fresh kg instance at each store kg offers in turn (see
    tests/fixtures/stores.py); servers are started once per session."""
    return env_in_test(request.param, request)


@pytest.fixture
def any_store(any_store_env: dict[str, str], tmp_path: Path) -> Settings:
    """Settings of a fresh kg instance on each store kg offers in turn."""
    return quick_settings(tmp_path, **as_fields(any_store_env))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """One PostgreSQL for the session (tests keep apart by database); see
    tests/fixtures/postgres.py."""
    from tests.fixtures.postgres import PostgresServer

    # not below pytest's base temp: another pytest run may make that 0700 again, and the
    # server may run as the `postgres` account (see tests/fixtures/postgres.py)
    root = Path(tempfile.mkdtemp(prefix="kg-postgres-"))
    server = PostgresServer(root)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: Any) -> str:
    """The URL of a fresh, empty database on the session's PostgreSQL."""
    url: str = postgres_server.url(postgres_server.create_database())
    return url
