"""What only the SQLite index does: migrating an index written by an older kg."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.access import Access
from kg.errors import Unavailable
from kg.search import SearchQuery
from kg.search.sqlite import SqliteIndex
from tests.search.test_contract import filled, names


def test_an_index_from_before_the_hits_table_is_migrated(tmp_path: Path) -> None:
    import sqlite3

    index = filled(SqliteIndex(tmp_path / "search.sqlite"))
    before = names(index, text="measurements")
    index.close()
    db = sqlite3.connect(index.path)
    db.executescript("DROP TABLE hits; PRAGMA user_version = 0;")
    db.close()
    reopened = SqliteIndex(index.path)
    assert names(reopened, text="measurements") == before != []
    assert reopened.search(SearchQuery(text="ada"), Access()).facets["type"] == {"dataset": 1, "person": 1}


def test_a_damaged_index_is_unavailable(tmp_path: Path) -> None:
    index = SqliteIndex(tmp_path / "search.sqlite")
    index.close()
    (tmp_path / "search.sqlite").write_bytes(b"not a database" * 1000)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"search.sqlite{suffix}").unlink(missing_ok=True)
    with pytest.raises(Unavailable, match="the search index cannot be read"):
        index.probe()


def test_an_index_from_before_the_creator_facet_is_migrated(tmp_path: Path) -> None:
    import sqlite3

    index = filled(SqliteIndex(tmp_path / "search.sqlite"))
    index.close()
    db = sqlite3.connect(index.path)
    # `hits` as kg wrote it before it held creators (version 2)
    db.executescript(
        "DROP TABLE hits; CREATE TABLE hits (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL,"
        " kind TEXT NOT NULL, visibility TEXT NOT NULL, namespace TEXT NOT NULL,"
        " project INTEGER NOT NULL, name TEXT NOT NULL, created TEXT, modified TEXT);"
        " INSERT INTO hits SELECT d.rowid, d.id, d.kind, p.visibility, p.namespace, p.rowid,"
        " lower(d.name), d.created, d.modified FROM docs d JOIN projects p ON p.slug = d.project;"
        " PRAGMA user_version = 2;"
    )
    db.close()
    reopened = SqliteIndex(index.path)
    result = reopened.search(SearchQuery(creators=["ada lovelace"]), Access("7"))
    assert result.facets["creator"] == {"Ada Lovelace": 3}
    assert result.total == 3
    assert SqliteIndex(index.path).search(SearchQuery(), Access()).facets["creator"] == {"Ada Lovelace": 1}
