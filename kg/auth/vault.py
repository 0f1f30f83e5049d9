"""Access tokens kg keeps to fetch private repositories later: encrypted at rest (Fernet).

The key comes from `KG_TOKEN_KEY`; a token is decrypted only to be handed to git or GitLab,
and never logged.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from kg.config import Settings


class TokenVault:
    """Project id → encrypted access token, in one SQLite file."""

    def __init__(self, path: Path, key: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fernet = Fernet(key.encode())
        self._local = threading.local()
        self._db().execute(
            "CREATE TABLE IF NOT EXISTS tokens (project_id INTEGER PRIMARY KEY, secret BLOB NOT NULL,"
            " stored_at REAL NOT NULL)"
        )

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            self._local.db = db
        return db

    def put(self, project_id: int, token: str) -> None:
        """Keep (or replace) the token for a project."""
        secret = self._fernet.encrypt(token.encode())
        self._db().execute(
            "INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", (project_id, secret, time.time())
        )

    def get(self, project_id: int) -> str | None:
        """The token for a project, or None (also when it cannot be decrypted with this key)."""
        row = self._db().execute("SELECT secret FROM tokens WHERE project_id = ?", (project_id,)).fetchone()
        if row is None:
            return None
        try:
            return self._fernet.decrypt(row[0]).decode()
        except InvalidToken:
            return None

    def delete(self, project_id: int) -> None:
        """Forget a project's token."""
        self._db().execute("DELETE FROM tokens WHERE project_id = ?", (project_id,))

    def close(self) -> None:
        """Release the file."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def open_vault(settings: Settings) -> TokenVault:
    """The token vault in the data dir, keyed with `KG_TOKEN_KEY`."""
    return TokenVault(settings.data_dir / "tokens.sqlite", settings.token_key.get_secret_value())
