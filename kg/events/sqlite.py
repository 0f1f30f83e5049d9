"""The embedded event log: SQLite in WAL mode with `synchronous=FULL`.

A project becomes due `coalesce_seconds` after the first push of a burst, so a burst of
pushes (a script pushing branch after branch, a rebase) costs one ingest.

One row per project carries the coalesced job: every accepted event bumps
`last_event_id`, and a claim takes whatever is newest. Completing a job settles the events
up to the one it claimed; events that arrived while it ran keep the project pending.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kg.errors import LeaseLost, Unavailable
from kg.events.base import Job, JobState, ProjectStatus, Push
from kg.events.batch import GroupCommit

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
_SCHEMA_VERSION = 3
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

_ENQUEUE_PROJECT = """
INSERT INTO projects (project_id, path, clone_url, default_branch, visibility, target_commit,
                      state, available_at, last_event_id, updated_at)
VALUES (:project_id, :path, :clone_url, :default_branch, :visibility, :commit,
        'pending', :due, :event_id, :now)
ON CONFLICT (project_id) DO UPDATE SET
    -- a refresh (a body too large to read) says nothing about the project: keep what is known
    path = CASE WHEN excluded.path = '' THEN projects.path ELSE excluded.path END,
    clone_url = CASE WHEN excluded.path = '' THEN projects.clone_url ELSE excluded.clone_url END,
    default_branch = CASE WHEN excluded.path = ''
                     THEN projects.default_branch ELSE excluded.default_branch END,
    visibility = CASE WHEN excluded.path = '' THEN projects.visibility ELSE excluded.visibility END,
    target_commit = excluded.target_commit,
    last_event_id = excluded.last_event_id,
    state = CASE WHEN projects.state = 'running' THEN 'running' ELSE 'pending' END,
    attempts = CASE WHEN projects.state = 'running' THEN projects.attempts ELSE 0 END,
    available_at = CASE WHEN projects.state = 'running' THEN projects.available_at
                        WHEN projects.state = 'pending'
                            THEN min(projects.available_at, excluded.available_at)
                        ELSE excluded.available_at END,
    updated_at = excluded.updated_at
"""

_DUE = """
SELECT project_id, state, attempts FROM projects
WHERE (state = 'pending' AND available_at <= :now)
   OR (state = 'running' AND lease_until < :now)
ORDER BY available_at LIMIT 1
"""


class SqliteEventLog:
    """`EventLog` in one SQLite file. Safe to share between threads and processes."""

    def __init__(self, path: Path, *, coalesce_seconds: float = 0.0, max_attempts: int = 0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.coalesce_seconds = coalesce_seconds
        self.max_attempts = max_attempts
        self._local = threading.local()
        self._batcher = GroupCommit(self._enqueue_batch)
        self._migrate()

    def _migrate(self) -> None:
        """Create the tables, or bring a log written by an older kg up to date, in place."""
        with self._tx() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version >= _SCHEMA_VERSION:
                return
            # version 0: delivery keys unique across projects; version 1: no probes table;
            # version 2: no request ids
            old = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone()
            old = old if version == 0 else None
            if old is not None:
                db.execute("DROP INDEX IF EXISTS events_by_project")
                db.execute("ALTER TABLE events RENAME TO events_v0")
            db.execute(_EVENTS)
            if old is not None:
                db.execute(f"INSERT INTO events ({_V0_COLUMNS}) SELECT {_V0_COLUMNS} FROM events_v0")
                db.execute("DROP TABLE events_v0")
            if "request_id" not in {c[1] for c in db.execute("PRAGMA table_info(events)")}:
                db.execute("ALTER TABLE events ADD COLUMN request_id TEXT NOT NULL DEFAULT ''")
            db.execute(_EVENTS_INDEX)
            db.execute(_PROJECTS)
            db.execute(_PROJECTS_INDEX)
            db.execute(_PROBES)
            db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            # FULL: an acknowledged webhook must survive a power cut, not only a crash.
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
        return db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def enqueue(self, push: Push) -> bool:
        return self._batcher.submit(push)

    async def enqueue_async(self, push: Push) -> bool:
        return await self._batcher.submit_async(push)

    def _enqueue_batch(self, pushes: list[Push]) -> list[bool]:
        """Store many pushes in one transaction: one fsync acknowledges them all."""
        try:
            with self._tx() as db:
                return [self._enqueue_one(db, push) for push in pushes]
        except sqlite3.OperationalError as exc:  # disk full, file unwritable: nothing stored
            raise Unavailable(f"the event log cannot be written ({exc}); nothing was stored") from exc

    def _enqueue_one(self, db: sqlite3.Connection, push: Push) -> bool:
        now = time.time()
        cursor = db.execute(
            "INSERT OR IGNORE INTO events (delivery_key, project_id, kind, ref, commit_sha,"
            " received_at, request_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (push.delivery_key, push.project_id, push.kind, push.ref, push.commit, now, push.request_id),
        )
        if cursor.rowcount == 0:
            return False
        db.execute(
            _ENQUEUE_PROJECT,
            {
                "project_id": push.project_id,
                "path": push.path,
                "clone_url": push.clone_url,
                "default_branch": push.default_branch,
                "visibility": push.visibility,
                "commit": push.commit,
                "now": now,
                "due": now + self.coalesce_seconds,
                "event_id": cursor.lastrowid,
            },
        )
        return True

    def claim(self, worker: str, lease_seconds: float) -> Job | None:
        now = time.time()
        with self._tx() as db:
            while True:
                row = db.execute(_DUE, {"now": now}).fetchone()
                if row is None:
                    return None
                if not self._poison(db, row, now):
                    break
            db.execute(
                "UPDATE projects SET state = 'running', lease_owner = ?, lease_until = ?,"
                " claimed_event_id = last_event_id, attempts = attempts + 1, updated_at = ?"
                " WHERE project_id = ?",
                (worker, now + lease_seconds, now, row["project_id"]),
            )
            job = db.execute("SELECT * FROM projects WHERE project_id = ?", (row["project_id"],)).fetchone()
            newest = db.execute(
                "SELECT request_id FROM events WHERE id = ?", (job["claimed_event_id"],)
            ).fetchone()
        return Job(
            project_id=job["project_id"],
            path=job["path"],
            clone_url=job["clone_url"],
            commit=job["target_commit"],
            default_branch=job["default_branch"],
            visibility=job["visibility"],
            attempt=job["attempts"],
            lease_owner=worker,
            last_event_id=job["claimed_event_id"],
            request_id=newest["request_id"] if newest is not None else "",
        )

    def _poison(self, db: sqlite3.Connection, row: sqlite3.Row, now: float) -> bool:
        """Fail a job whose last `max_attempts` claims all ended with their worker gone
        (killed or crashed mid-job): handing it out again would take the next worker down."""
        if not self.max_attempts or row["state"] != "running" or row["attempts"] < self.max_attempts:
            return False
        reason = f"the job stopped its worker {row['attempts']} times (crashed or killed); giving up"
        db.execute(
            "UPDATE events SET state = 'failed' WHERE project_id = ? AND state = 'pending'"
            " AND id <= (SELECT claimed_event_id FROM projects WHERE project_id = ?)",
            (row["project_id"], row["project_id"]),
        )
        db.execute(
            "UPDATE projects SET state = CASE WHEN last_event_id > claimed_event_id THEN 'pending'"
            " ELSE 'failed' END, attempts = 0, lease_owner = NULL, lease_until = NULL,"
            " available_at = ?, message = ?, updated_at = ? WHERE project_id = ?",
            (now, reason, now, row["project_id"]),
        )
        return True

    def _check_lease(self, db: sqlite3.Connection, job: Job) -> None:
        row = db.execute(
            "SELECT state, lease_owner FROM projects WHERE project_id = ?", (job.project_id,)
        ).fetchone()
        if row is None or row["state"] != "running" or row["lease_owner"] != job.lease_owner:
            raise LeaseLost(f"lease on project {job.project_id} was lost")

    def renew(self, job: Job, lease_seconds: float) -> None:
        with self._tx() as db:
            self._check_lease(db, job)
            db.execute(
                "UPDATE projects SET lease_until = ? WHERE project_id = ?",
                (time.time() + lease_seconds, job.project_id),
            )

    def complete(self, job: Job, *, commit: str, warnings: list[str]) -> None:
        self._settle(job, "done", "idle", "", commit=commit, warnings=warnings)

    def retry_later(self, job: Job, reason: str, delay_seconds: float) -> None:
        now = time.time()
        with self._tx() as db:
            self._check_lease(db, job)
            db.execute(
                "UPDATE projects SET state = 'pending', lease_owner = NULL, lease_until = NULL,"
                " available_at = ?, message = ?, updated_at = ? WHERE project_id = ?",
                (now + delay_seconds, reason, now, job.project_id),
            )

    def fail(self, job: Job, reason: str) -> None:
        self._settle(job, "failed", "failed", reason)

    def _settle(
        self,
        job: Job,
        events_to: str,
        project_to: str,
        message: str,
        *,
        commit: str | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        """Settle the job's events; the project stays pending if newer events arrived."""
        now = time.time()
        with self._tx() as db:
            self._check_lease(db, job)
            db.execute(
                "UPDATE events SET state = ? WHERE project_id = ? AND id <= ? AND state = 'pending'",
                (events_to, job.project_id, job.last_event_id),
            )
            db.execute(
                "UPDATE projects SET state = CASE WHEN last_event_id > claimed_event_id"
                " THEN 'pending' ELSE ? END, attempts = 0, lease_owner = NULL,"
                " lease_until = NULL, available_at = ?, message = ?,"
                " ingested_commit = coalesce(?, ingested_commit),"
                " warnings = coalesce(?, warnings), updated_at = ? WHERE project_id = ?",
                (
                    project_to,
                    now,
                    message,
                    commit,
                    None if warnings is None else json.dumps(warnings),
                    now,
                    job.project_id,
                ),
            )

    def _status(self, db: sqlite3.Connection, row: sqlite3.Row) -> ProjectStatus:
        counts = db.execute(
            "SELECT count(*) AS total, coalesce(sum(state != 'pending'), 0) AS done"
            " FROM events WHERE project_id = ?",
            (row["project_id"],),
        ).fetchone()
        state: JobState = row["state"]
        return ProjectStatus(
            project_id=row["project_id"],
            path=row["path"],
            state=state,
            events_total=counts["total"],
            events_done=counts["done"],
            attempts=row["attempts"],
            message=row["message"],
            ingested_commit=row["ingested_commit"],
            next_attempt_at=row["available_at"] if state == "pending" else None,
            warnings=json.loads(row["warnings"]),
            visibility=row["visibility"],
        )

    def status(self, project_id: int) -> ProjectStatus | None:
        db = self._db()
        row = db.execute("SELECT * FROM projects WHERE project_id = ?", (project_id,)).fetchone()
        return None if row is None else self._status(db, row)

    def statuses(self) -> list[ProjectStatus]:
        db = self._db()
        rows = db.execute("SELECT * FROM projects ORDER BY path").fetchall()
        return [self._status(db, row) for row in rows]

    def probe(self) -> None:
        # Connections (in WAL mode, with the shared index) trust the pages they can find in
        # the WAL, so a damaged file goes unnoticed until a checkpoint: look at it directly.
        try:
            with self.path.open("rb") as f:
                header = f.read(16)
        except OSError as exc:
            raise Unavailable(f"the event log cannot be read ({exc.strerror})") from exc
        if header != b"SQLite format 3\x00":
            raise Unavailable("the event log file is damaged: it is not a database")
        db = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("SELECT count(*) FROM projects").fetchone()
            db.execute("INSERT OR REPLACE INTO probes (id, at) VALUES (1, ?)", (time.time(),))
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise Unavailable(f"the event log cannot be read or written ({exc})") from exc
        finally:
            db.close()

    def event_count(self) -> int:
        """How many distinct events were ever stored (for checks and benchmarks)."""
        return int(self._db().execute("SELECT count(*) FROM events").fetchone()[0])

    def close(self) -> None:
        self._batcher.close()
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
