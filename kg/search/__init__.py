"""Ranked search over projects, datasets, workflows and people, with who may see what."""

from __future__ import annotations

from collections.abc import Callable

from kg.config import Settings
from kg.search.base import Document, SearchIndex, SearchQuery, SearchResult

__all__ = ["BACKENDS", "Document", "SearchIndex", "SearchQuery", "SearchResult", "open_index"]


def _sqlite(settings: Settings) -> SearchIndex:
    from kg.search.sqlite import SqliteIndex

    return SqliteIndex(settings.data_dir / "search.sqlite")


BACKENDS: dict[str, Callable[[Settings], SearchIndex]] = {"sqlite": _sqlite}
"""Every search index kg offers, by name (its contract tests run on each)."""


def open_index(settings: Settings) -> SearchIndex:
    """The search index: SQLite FTS5 in the data dir (the only one kg offers today)."""
    return BACKENDS["sqlite"](settings)
