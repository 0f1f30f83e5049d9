"""The fleet's event log: PostgreSQL, shared by webhook receivers and workers on many machines.

It behaves as the SQLite log does (see kg/events/sqlite.py for the model: one coalesced
job row per project, events settled up to the one a job claimed). What differs:

- Workers claim with `SELECT … FOR UPDATE SKIP LOCKED`: two workers never hand out one
  project, and neither waits for the other's claim.
- Times come from the server's clock, so leases mean the same on machines whose clocks drift.
- Idle workers wait on LISTEN/NOTIFY (kg/events/pgwake.py); the schema is kept by alembic
  (kg/events/pgschema.py).
- Connection failures are `Unavailable` naming the server without its password.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from kg.errors import LeaseLost
from kg.events import pgsql as sql
from kg.events.base import Job, JobState, ProjectStatus, Push
from kg.events.batch import GroupCommit
from kg.events.fairness import WORKER_FORGET_SECONDS, WORKER_TOUCH_SECONDS, Fairness
from kg.events.pgconnect import Connections, Cursor
from kg.events.pgschema import migrate
from kg.events.pgwake import NOTIFY, Wakeups

_HEAVY_LOCK = 0x6B67_6876  # "kghv": held while a claim checks the cap on heavy jobs
_NOW = "SELECT extract(epoch FROM clock_timestamp())::float8"


def _now(cur: Cursor) -> float:
    row = cur.execute(_NOW).fetchone()
    assert row is not None
    return float(row[0])


class PostgresEventLog:
    """`EventLog` in a PostgreSQL database. Safe to share between threads, processes, machines."""

    def __init__(
        self,
        url: str,
        *,
        coalesce_seconds: float = 0.0,
        max_attempts: int = 0,
        fairness: Fairness | None = None,
        connections: int = 8,
    ) -> None:
        self.coalesce_seconds = coalesce_seconds
        self.max_attempts = max_attempts
        self.fairness = fairness or Fairness()
        self._db = Connections(url, what="the event log", size=connections)
        migrate(url)
        self._wakeups = Wakeups(self._db)
        self._local = threading.local()
        self._batcher = GroupCommit(self._enqueue_batch)

    def enqueue(self, push: Push) -> bool:
        return self._batcher.submit(push)

    async def enqueue_async(self, push: Push) -> bool:
        return await self._batcher.submit_async(push)

    def _enqueue_batch(self, pushes: list[Push]) -> list[bool]:
        """Store many pushes in one transaction. Projects are locked in id order, so two
        batches touching the same projects wait for each other instead of deadlocking."""

        def write(cur: Cursor) -> list[bool]:
            now = _now(cur)
            stored = [False] * len(pushes)
            for i in sorted(range(len(pushes)), key=lambda i: pushes[i].project_id):
                stored[i] = self._enqueue_one(cur, pushes[i], now)
            if any(stored):
                cur.execute(NOTIFY)
            return stored

        return self._db.run(write)

    def _enqueue_one(self, cur: Cursor, push: Push, now: float) -> bool:
        row = cur.execute(
            "INSERT INTO events (delivery_key, project_id, kind, ref, commit_sha, received_at,"
            " request_id) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (project_id, delivery_key) DO NOTHING RETURNING id",
            (push.delivery_key, push.project_id, push.kind, push.ref, push.commit, now, push.request_id),
        ).fetchone()
        if row is None:
            return False
        cur.execute(
            sql.ENQUEUE_PROJECT,
            {
                "project_id": push.project_id,
                "path": push.path,
                "clone_url": push.clone_url,
                "default_branch": push.default_branch,
                "visibility": push.visibility,
                "commit": push.commit,
                "now": now,
                "event_id": row[0],
                "coalesce": self.coalesce_seconds,
            },
        )
        return True

    def claim(self, worker: str, lease_seconds: float) -> Job | None:
        self._local.mark = self._wakeups.mark()

        def take(cur: Cursor) -> Job | None:
            now = _now(cur)
            cur.execute(sql.TOUCH, {"name": worker, "now": now, "touch": WORKER_TOUCH_SECONDS})
            cur.execute("DELETE FROM workers WHERE seen_at < %s", (now - WORKER_FORGET_SECONDS,))
            while True:
                row = self._next(cur, now, lease_seconds, worker)
                if row is None:
                    return None
                if not self._poison(cur, row, now):
                    break
            job = cur.execute(
                "UPDATE projects SET state = 'running', lease_owner = %s, lease_until = %s,"
                " claimed_event_id = last_event_id, claimed_at = %s, attempts = attempts + 1,"
                " updated_at = %s WHERE project_id = %s"
                " RETURNING project_id, path, clone_url, target_commit, default_branch, visibility,"
                " attempts, claimed_event_id",
                (worker, now + lease_seconds, now, now, row["project_id"]),
            ).fetchone()
            assert job is not None
            newest = cur.execute("SELECT request_id FROM events WHERE id = %s", (job[7],)).fetchone()
            return Job(
                project_id=job[0],
                path=job[1],
                clone_url=job[2],
                commit=job[3],
                default_branch=job[4],
                visibility=job[5],
                attempt=job[6],
                lease_owner=worker,
                last_event_id=job[7],
                request_id=newest[0] if newest is not None else "",
            )

        return self._db.run(take)

    def _heavy_allowed(self, cur: Cursor, now: float, lease_seconds: float) -> bool:
        params = {"now": now, "lease": lease_seconds, "heavy": self.fairness.heavy_seconds}
        row = cur.execute(sql.LOAD, params).fetchone()
        assert row is not None
        return self.fairness.heavy_allowed(int(row[0]), int(row[1]))

    def _due(self, cur: Cursor, now: float, worker: str, *, heavy_ok: bool) -> dict[str, Any] | None:
        params = {"now": now, "heavy_ok": heavy_ok, "heavy": self.fairness.heavy_seconds, "worker": worker}
        row = cur.execute(sql.DUE, params).fetchone()
        if row is None:
            return None
        return {"project_id": row[0], "state": row[1], "attempts": row[2], "last_seconds": row[3]}

    def _next(self, cur: Cursor, now: float, lease_seconds: float, worker: str) -> dict[str, Any] | None:
        """The next due project this worker may take, locked for this transaction."""
        heavy_ok = self._heavy_allowed(cur, now, lease_seconds)
        row = self._due(cur, now, worker, heavy_ok=heavy_ok)
        if row is None or row["last_seconds"] < self.fairness.heavy_seconds:
            return row
        # Count again where no other claim of a heavy job can overtake this one.
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_HEAVY_LOCK,))
        if self._heavy_allowed(cur, now, lease_seconds):
            return row
        return self._due(cur, now, worker, heavy_ok=False)

    def _poison(self, cur: Cursor, row: dict[str, Any], now: float) -> bool:
        """Fail a job whose last `max_attempts` claims all ended with their worker gone
        (killed or crashed mid-job): handing it out again would take the next worker down."""
        if not self.max_attempts or row["state"] != "running" or row["attempts"] < self.max_attempts:
            return False
        reason = f"the job stopped its worker {row['attempts']} times (crashed or killed); giving up"
        project = row["project_id"]
        cur.execute(
            "UPDATE events SET state = 'failed' WHERE project_id = %s AND state = 'pending'"
            " AND id <= (SELECT claimed_event_id FROM projects WHERE project_id = %s)",
            (project, project),
        )
        cur.execute(
            "UPDATE projects SET state = CASE WHEN last_event_id > claimed_event_id THEN 'pending'"
            " ELSE 'failed' END, attempts = 0, lease_owner = NULL, lease_until = NULL,"
            " available_at = %s, message = %s, updated_at = %s WHERE project_id = %s",
            (now, reason, now, project),
        )
        return True

    def _check_lease(self, cur: Cursor, job: Job) -> None:
        row = cur.execute(
            "SELECT state, lease_owner FROM projects WHERE project_id = %s FOR UPDATE", (job.project_id,)
        ).fetchone()
        if row is None or row[0] != "running" or row[1] != job.lease_owner:
            raise LeaseLost(f"lease on project {job.project_id} was lost")

    def renew(self, job: Job, lease_seconds: float) -> None:
        def extend(cur: Cursor) -> None:
            self._check_lease(cur, job)
            now = _now(cur)
            cur.execute(
                "UPDATE projects SET lease_until = %s WHERE project_id = %s",
                (now + lease_seconds, job.project_id),
            )
            cur.execute(sql.TOUCH, {"name": job.lease_owner, "now": now, "touch": WORKER_TOUCH_SECONDS})

        self._db.run(extend)

    def complete(self, job: Job, *, commit: str, warnings: list[str]) -> None:
        self._settle(job, "done", "idle", "", commit=commit, warnings=warnings)

    def retry_later(self, job: Job, reason: str, delay_seconds: float) -> None:
        def give_back(cur: Cursor) -> None:
            self._check_lease(cur, job)
            now = _now(cur)
            cur.execute(
                "UPDATE projects SET state = 'pending', lease_owner = NULL, lease_until = NULL,"
                " available_at = %s, last_seconds = %s - claimed_at, message = %s, updated_at = %s"
                " WHERE project_id = %s",
                (now + delay_seconds, now, reason, now, job.project_id),
            )
            cur.execute(NOTIFY)

        self._db.run(give_back)

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

        def settle(cur: Cursor) -> None:
            self._check_lease(cur, job)
            now = _now(cur)
            cur.execute(
                "UPDATE events SET state = %s WHERE project_id = %s AND id <= %s AND state = 'pending'",
                (events_to, job.project_id, job.last_event_id),
            )
            cur.execute(
                sql.SETTLE,
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
            cur.execute(NOTIFY)

        self._db.run(settle)

    def wait_for_work(self, timeout: float) -> bool:
        since = getattr(self._local, "mark", None)
        if since is None:
            since = self._wakeups.mark()

        def next_due(cur: Cursor) -> float | None:
            now = _now(cur)
            row = cur.execute(sql.NEXT_DUE, {"now": now}).fetchone()
            return None if row is None or row[0] is None else float(row[0]) - now

        due_in = self._db.run(next_due)
        if due_in is not None and due_in < timeout:
            self._wakeups.wait(since, due_in)
            return True  # woken, or something fell due meanwhile
        return self._wakeups.wait(since, timeout)

    def _status(self, row: tuple[Any, ...], counts: dict[int, tuple[int, int]]) -> ProjectStatus:
        (project_id, path, state, attempts, message, ingested, available_at, warnings, visibility) = row
        total, done = counts.get(project_id, (0, 0))
        job_state: JobState = state
        return ProjectStatus(
            project_id=project_id,
            path=path,
            state=job_state,
            events_total=total,
            events_done=done,
            attempts=attempts,
            message=message,
            ingested_commit=ingested,
            next_attempt_at=available_at if state == "pending" else None,
            warnings=json.loads(warnings),
            visibility=visibility,
        )

    def _read(self, project_id: int | None) -> list[ProjectStatus]:
        where = "" if project_id is None else " WHERE project_id = %(id)s"

        def read(cur: Cursor) -> list[ProjectStatus]:
            rows = cur.execute(
                "SELECT project_id, path, state, attempts, message, ingested_commit, available_at,"
                f" warnings, visibility FROM projects{where} ORDER BY path",
                {"id": project_id},
            ).fetchall()
            counted = cur.execute(
                "SELECT project_id, count(*), count(*) FILTER (WHERE state <> 'pending')"
                f" FROM events{where} GROUP BY project_id",
                {"id": project_id},
            ).fetchall()
            counts = {r[0]: (int(r[1]), int(r[2])) for r in counted}
            return [self._status(row, counts) for row in rows]

        return self._db.run(read)

    def status(self, project_id: int) -> ProjectStatus | None:
        found = self._read(project_id)
        return found[0] if found else None

    def statuses(self) -> list[ProjectStatus]:
        return self._read(None)

    def probe(self) -> None:
        def write(cur: Cursor) -> None:
            cur.execute("SELECT count(*) FROM projects").fetchone()
            cur.execute(
                "INSERT INTO probes (id, at) VALUES (1, %s) ON CONFLICT (id) DO UPDATE SET at = excluded.at",
                (time.time(),),
            )

        self._db.run(write)

    def event_count(self) -> int:
        """How many distinct events were ever stored (for checks and benchmarks)."""
        return int(
            self._db.run(lambda cur: (cur.execute("SELECT count(*) FROM events").fetchone() or (0,))[0])
        )

    def close(self) -> None:
        self._batcher.close()
        self._wakeups.close()
        self._db.close()
