"""What only the SQLite event log does: its file, and files older kgs wrote."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from kg.events.sqlite import SqliteEventLog
from tests.events.pushes import push


def test_pushes_survive_reopening(tmp_path: Path) -> None:
    first = SqliteEventLog(tmp_path / "e.sqlite")
    first.enqueue(push("k1"))
    first.close()
    second = SqliteEventLog(tmp_path / "e.sqlite")
    assert second.claim("w", 60) is not None
    second.close()


def test_a_log_from_before_per_project_keys_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, delivery_key TEXT NOT NULL UNIQUE,
            project_id INTEGER NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL, commit_sha TEXT,
            received_at REAL NOT NULL, state TEXT NOT NULL DEFAULT 'pending');
        CREATE INDEX events_by_project ON events (project_id, state, id);
        INSERT INTO events (delivery_key, project_id, kind, ref, received_at) VALUES ('k', 1, 'push', 'r', 0);
        """
    )
    db.close()
    log = SqliteEventLog(path)
    assert log.event_count() == 1
    assert log.enqueue(push("k", project=1)) is False
    assert log.enqueue(push("k", project=2)) is True
    log.close()
    indexes = sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    assert ("events_by_project",) in indexes


def test_a_log_from_before_fairness_is_upgraded_and_keeps_its_jobs(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, delivery_key TEXT NOT NULL,
            project_id INTEGER NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL, commit_sha TEXT,
            received_at REAL NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
            UNIQUE (project_id, delivery_key));
        CREATE TABLE projects (project_id INTEGER PRIMARY KEY, path TEXT NOT NULL,
            clone_url TEXT NOT NULL, default_branch TEXT NOT NULL, visibility TEXT NOT NULL,
            target_commit TEXT, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
            available_at REAL NOT NULL, lease_owner TEXT, lease_until REAL,
            last_event_id INTEGER NOT NULL, claimed_event_id INTEGER, ingested_commit TEXT,
            message TEXT NOT NULL DEFAULT '', warnings TEXT NOT NULL DEFAULT '[]',
            updated_at REAL NOT NULL);
        CREATE TABLE probes (id INTEGER PRIMARY KEY, at REAL NOT NULL);
        INSERT INTO events (delivery_key, project_id, kind, ref, received_at) VALUES ('k', 7, 'push', 'r', 0);
        INSERT INTO projects (project_id, path, clone_url, default_branch, visibility, state,
            available_at, last_event_id, updated_at)
            VALUES (7, 'g/p7', 'git://127.0.0.1/p7', 'main', 'private', 'pending', 0, 1, 0);
        PRAGMA user_version = 2;
        """
    )
    db.close()
    log = SqliteEventLog(path)
    job = log.claim("w", 60)
    assert job is not None
    assert (job.project_id, job.path) == (7, "g/p7")
    log.complete(job, commit="c", warnings=[])
    assert log.enqueue(push("k", project=7)) is False
    log.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (3,)


def test_a_log_from_before_request_ids_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite"
    SqliteEventLog(path).close()
    db = sqlite3.connect(path)
    db.executescript(
        "ALTER TABLE events DROP COLUMN request_id; PRAGMA user_version = 2;"
        "INSERT INTO events (delivery_key, project_id, kind, ref, received_at) VALUES ('k', 1, 'push', 'r', 0);"
    )
    db.close()
    log = SqliteEventLog(path)
    assert log.event_count() == 1
    assert log.enqueue(replace(push("k2"), request_id="r2")) is True
    job = log.claim("w", 60)
    assert job is not None and job.request_id == "r2"
    log.close()
