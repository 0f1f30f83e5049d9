"""Ranked search over projects, datasets, workflows and people, with who may see what."""

from __future__ import annotations

from kg.config import Settings
from kg.search.base import Document, SearchIndex, SearchQuery, SearchResult

__all__ = ["Document", "SearchIndex", "SearchQuery", "SearchResult", "open_index"]


def open_index(settings: Settings) -> SearchIndex:
    """The search index: SQLite FTS5 in the data dir (the only one kg offers today)."""
    from kg.search.sqlite import SqliteIndex

    return SqliteIndex(settings.data_dir / "search.sqlite")
