"""Pages each user viewed lately (renku-graph's "recently viewed"): SQLite in the data directory.

Bounded: each user keeps their `KEEP` newest views (one row per entity, its newest time), so
a user clicking through thousands of pages costs a fixed few rows.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Literal

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from kg.access import Access

KEEP = 200
Kind = Literal["project", "dataset"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS views (
    user TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (user, kind, key)
);
CREATE INDEX IF NOT EXISTS views_by_user ON views (user, at);
"""


class RecentViews:
    """Views per user, newest first, shared by threads (one connection per thread)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._db().executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            self._local.db = db
        return db

    def saw(self, user: str, kind: Kind, key: str) -> None:
        """Remember that `user` viewed the entity now (and forget their oldest beyond `KEEP`)."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "INSERT INTO views VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user, kind, key) DO UPDATE SET at = excluded.at",
                (user, kind, key, time.time()),
            )
            db.execute(
                "DELETE FROM views WHERE user = ? AND rowid NOT IN"
                " (SELECT rowid FROM views WHERE user = ? ORDER BY at DESC, rowid DESC LIMIT ?)",
                (user, user, KEEP),
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def newest(self, user: str, kinds: set[str], limit: int) -> list[tuple[str, str]]:
        """(kind, key) of the user's views of those kinds, newest first."""
        rows = self._db().execute(
            "SELECT kind, key FROM views WHERE user = ? ORDER BY at DESC, rowid DESC", (user,)
        )
        return [(k, key) for k, key in rows if k in kinds][:limit]

    def forget(self, kind: Kind, key: str) -> None:
        """Nobody's views of an entity that is gone."""
        self._db().execute("DELETE FROM views WHERE kind = ? AND key = ?", (kind, key))

    def close(self) -> None:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def views(request: Request) -> RecentViews:
    """The app's store of recent views."""
    found: RecentViews = request.app.state.views
    return found


async def remember(request: Request, access: Access, kind: Kind, key: str) -> None:
    """Note that an authenticated caller viewed an entity's page."""
    if access.user is not None:
        await run_in_threadpool(views(request).saw, access.user, kind, key)
