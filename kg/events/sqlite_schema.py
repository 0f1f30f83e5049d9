"""The embedded event log's tables, and the in-place upgrade of files older kgs wrote.

SQLite keeps its own upgrades (by `PRAGMA user_version`) rather than alembic: a file is
only ever opened by processes on one machine, its changes so far are added columns and
tables, and a file of any older version is upgraded by the same few statements.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 3

# Delivery keys are unique per project: one project's key can never swallow another's event.
_EVENTS = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_key TEXT NOT NULL,
    project_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ref TEXT NOT NULL,
    commit_sha TEXT,
    received_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    request_id TEXT NOT NULL DEFAULT '',
    UNIQUE (project_id, delivery_key)
)
"""
_V0_COLUMNS = "id, delivery_key, project_id, kind, ref, commit_sha, received_at, state"
_EVENTS_INDEX = "CREATE INDEX IF NOT EXISTS events_by_project ON events (project_id, state, id)"
_PROJECTS = """
CREATE TABLE IF NOT EXISTS projects (
    project_id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    clone_url TEXT NOT NULL,
    default_branch TEXT NOT NULL,
    visibility TEXT NOT NULL,
    target_commit TEXT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at REAL NOT NULL,
    lease_owner TEXT,
    lease_until REAL,
    last_event_id INTEGER NOT NULL,
    claimed_event_id INTEGER,
    ingested_commit TEXT,
    message TEXT NOT NULL DEFAULT '',
    warnings TEXT NOT NULL DEFAULT '[]',
    updated_at REAL NOT NULL
)
"""
_PROJECTS_INDEX = "CREATE INDEX IF NOT EXISTS projects_due ON projects (state, available_at)"
_PROBES = "CREATE TABLE IF NOT EXISTS probes (id INTEGER PRIMARY KEY, at REAL NOT NULL)"
# version 3: when a project last got a worker and how long its last job took (fairness), and
# the request that stored each event (its id follows the job into the worker's logs)
_FAIRNESS_COLUMNS = ("claimed_at REAL", "last_seconds REAL")
_WORKERS = "CREATE TABLE IF NOT EXISTS workers (name TEXT PRIMARY KEY, seen_at REAL NOT NULL)"


def migrate(db: sqlite3.Connection) -> None:
    """Create the tables, or bring a log written by an older kg up to date, in place
    (inside the caller's write transaction)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version >= SCHEMA_VERSION:
        return
    # version 0: delivery keys unique across projects; version 1: no probes table; version 2:
    # no fairness columns, no request ids
    old = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone()
    old = old if version == 0 else None
    if old is not None:
        db.execute("DROP INDEX IF EXISTS events_by_project")
        db.execute("ALTER TABLE events RENAME TO events_v0")
    db.execute(_EVENTS)
    if old is not None:
        db.execute(f"INSERT INTO events ({_V0_COLUMNS}) SELECT {_V0_COLUMNS} FROM events_v0")
        db.execute("DROP TABLE events_v0")
    if "request_id" not in {row[1] for row in db.execute("PRAGMA table_info(events)")}:
        db.execute("ALTER TABLE events ADD COLUMN request_id TEXT NOT NULL DEFAULT ''")
    db.execute(_EVENTS_INDEX)
    db.execute(_PROJECTS)
    columns = {row[1] for row in db.execute("PRAGMA table_info(projects)")}
    for column in _FAIRNESS_COLUMNS:
        if column.split()[0] not in columns:
            db.execute(f"ALTER TABLE projects ADD COLUMN {column}")
    db.execute(_PROJECTS_INDEX)
    db.execute(_PROBES)
    db.execute(_WORKERS)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
