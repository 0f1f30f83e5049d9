"""Ranked search over projects, datasets, workflows and people, with who may see what."""

from __future__ import annotations

from collections.abc import Callable

from kg.config import Settings
from kg.search.base import Document, SearchIndex, SearchQuery, SearchResult

__all__ = ["BACKENDS", "Document", "SearchIndex", "SearchQuery", "SearchResult", "open_index"]


def _sqlite(settings: Settings) -> SearchIndex:
    from kg.search.sqlite import SqliteIndex

    return SqliteIndex(settings.data_dir / "search.sqlite")


def _postgresql(settings: Settings) -> SearchIndex:
    from kg.search.postgres import PostgresIndex

    return PostgresIndex(settings.search_url.get_secret_value())


BACKENDS: dict[str, Callable[[Settings], SearchIndex]] = {"sqlite": _sqlite, "postgresql": _postgresql}
"""Every search index kg offers, by name (its contract tests run on each)."""


def open_index(settings: Settings) -> SearchIndex:
    """The search index `KG_SEARCH_URL` names: PostgreSQL for a `postgresql://` URL, else
    SQLite FTS5 in the data dir. Raises `kg.errors.Unavailable` when the server cannot be
    reached or prepared."""
    return BACKENDS["postgresql" if settings.search_url.get_secret_value() else "sqlite"](settings)
