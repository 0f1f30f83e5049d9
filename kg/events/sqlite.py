"""The embedded event log: SQLite in WAL mode with `synchronous=FULL`.

A push to an idle project is due at once. Pushes arriving while the project is queued or
running join its next job, due no sooner than `coalesce_seconds` after the previous one
started, so a burst of pushes (a script pushing branch after branch) costs two ingests.

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
from kg.events import sqlite_sql as sql
from kg.events.base import Job, JobState, ProjectStatus, Push
from kg.events.batch import GroupCommit
from kg.events.fairness import WORKER_FORGET_SECONDS, WORKER_TOUCH_SECONDS, Fairness
from kg.events.sqlite_schema import migrate

_WAKE_POLL = 0.02
"""How often an idle worker asks SQLite whether another connection committed (cheap: a
read of the shared WAL index, no disk access)."""


class SqliteEventLog:
    """`EventLog` in one SQLite file. Safe to share between threads and processes."""

    def __init__(
        self,
        path: Path,
        *,
        coalesce_seconds: float = 0.0,
        max_attempts: int = 0,
        fairness: Fairness | None = None,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.coalesce_seconds = coalesce_seconds
        self.max_attempts = max_attempts
        self.fairness = fairness or Fairness()
        self._local = threading.local()
        self._batcher = GroupCommit(self._enqueue_batch)
        self._migrate()

    def _migrate(self) -> None:
        with self._tx() as db:
            migrate(db)

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
            sql.ENQUEUE_PROJECT,
            {
                "project_id": push.project_id,
                "path": push.path,
                "clone_url": push.clone_url,
                "default_branch": push.default_branch,
                "visibility": push.visibility,
                "commit": push.commit,
                "now": now,
                "coalesce": self.coalesce_seconds,
                "event_id": cursor.lastrowid,
            },
        )
        return True

    def claim(self, worker: str, lease_seconds: float) -> Job | None:
        self._local.mark = self._data_version()
        now = time.time()
        with self._tx() as db:
            db.execute(sql.TOUCH, {"name": worker, "now": now, "touch": WORKER_TOUCH_SECONDS})
            db.execute("DELETE FROM workers WHERE seen_at < ?", (now - WORKER_FORGET_SECONDS,))
            while True:
                row = self._next(db, now, lease_seconds, worker)
                if row is None:
                    return None
                if not self._poison(db, row, now):
                    break
            db.execute(
                "UPDATE projects SET state = 'running', lease_owner = ?, lease_until = ?,"
                " claimed_event_id = last_event_id, claimed_at = ?, attempts = attempts + 1,"
                " updated_at = ? WHERE project_id = ?",
                (worker, now + lease_seconds, now, now, row["project_id"]),
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

    def _next(
        self, db: sqlite3.Connection, now: float, lease_seconds: float, worker: str
    ) -> sqlite3.Row | None:
        """The next due project this worker may take (the write lock is held: no other
        claim runs meanwhile)."""
        heavy = self.fairness.heavy_seconds
        load = db.execute(sql.LOAD, {"now": now, "lease": lease_seconds, "heavy": heavy}).fetchone()
        heavy_ok = self.fairness.heavy_allowed(load["live"], load["heavy"])
        row: sqlite3.Row | None = db.execute(
            sql.DUE, {"now": now, "heavy_ok": heavy_ok, "heavy": heavy, "worker": worker}
        ).fetchone()
        return row

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
        now = time.time()
        with self._tx() as db:
            self._check_lease(db, job)
            db.execute(
                "UPDATE projects SET lease_until = ? WHERE project_id = ?",
                (now + lease_seconds, job.project_id),
            )
            db.execute(sql.TOUCH, {"name": job.lease_owner, "now": now, "touch": WORKER_TOUCH_SECONDS})

    def complete(self, job: Job, *, commit: str, warnings: list[str]) -> None:
        self._settle(job, "done", "idle", "", commit=commit, warnings=warnings)

    def retry_later(self, job: Job, reason: str, delay_seconds: float) -> None:
        now = time.time()
        with self._tx() as db:
            self._check_lease(db, job)
            db.execute(
                "UPDATE projects SET state = 'pending', lease_owner = NULL, lease_until = NULL,"
                " available_at = ?, last_seconds = ? - claimed_at, message = ?, updated_at = ?"
                " WHERE project_id = ?",
                (now + delay_seconds, now, reason, now, job.project_id),
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
                " THEN 'pending' ELSE :to END, attempts = 0, lease_owner = NULL,"
                " lease_until = NULL, available_at = max(:now, claimed_at + :coalesce),"
                " last_seconds = :now - claimed_at, message = :message,"
                " ingested_commit = coalesce(:commit, ingested_commit),"
                " warnings = coalesce(:warnings, warnings), updated_at = :now"
                " WHERE project_id = :project_id",
                {
                    "to": project_to,
                    "now": now,
                    "coalesce": self.coalesce_seconds,
                    "message": message,
                    "commit": commit,
                    "warnings": None if warnings is None else json.dumps(warnings),
                    "project_id": job.project_id,
                },
            )

    def _data_version(self) -> int:
        """Changes whenever another connection (process, thread) commits to the file."""
        return int(self._db().execute("PRAGMA data_version").fetchone()[0])

    def wait_for_work(self, timeout: float) -> bool:
        since = getattr(self._local, "mark", None)
        if since is None:
            since = self._data_version()
        now = time.time()
        due = self._db().execute(sql.NEXT_DUE, {"now": now}).fetchone()[0]
        deadline = time.monotonic() + (timeout if due is None else min(timeout, due - now))
        while time.monotonic() < deadline:
            if self._data_version() != since:
                return True
            time.sleep(min(_WAKE_POLL, max(deadline - time.monotonic(), 0)))
        return due is not None and due - now < timeout

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
