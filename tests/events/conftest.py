"""Event logs of every backend kg offers (`kg.events.BACKENDS`), fresh for each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.config import Settings
from kg.events import BACKENDS, EventLog, open_event_log


def _sqlite_url(request: pytest.FixtureRequest, tmp: Path) -> str:
    return f"sqlite:///{tmp}/events.sqlite"


def _postgresql_url(request: pytest.FixtureRequest, tmp: Path) -> str:
    url: str = request.getfixturevalue("postgres_url")  # PostgreSQL starts only when asked for
    return url


# where each backend keeps a test's events: a backend added to the factory without an entry
# here fails its contract tests instead of skipping them
URLS: dict[str, Callable[[pytest.FixtureRequest, Path], str]] = {
    "sqlite": _sqlite_url,
    "postgresql": _postgresql_url,
}

OpenLog = Callable[..., EventLog]


@pytest.fixture(params=sorted(BACKENDS))
def event_log_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh event log of each backend lives."""
    return URLS[request.param](request, tmp_path)


@pytest.fixture
def open_log(event_log_url: str, tmp_path: Path) -> Iterator[OpenLog]:
    """Factory: `open_log(**settings)` opens (another handle on) the test's event log."""
    opened: list[EventLog] = []

    def open_one(**fields: Any) -> EventLog:
        settings = Settings(
            data_dir=tmp_path, event_log_url=event_log_url, **{"coalesce_seconds": 0, **fields}
        )
        log = open_event_log(settings)
        opened.append(log)
        return log

    yield open_one
    for log in opened:
        log.close()


@pytest.fixture
def events(open_log: OpenLog) -> EventLog:
    """The test's event log, without a coalescing window."""
    return open_log()
