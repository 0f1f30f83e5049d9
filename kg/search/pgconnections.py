"""Connections to the PostgreSQL search index, shared by a process's threads.

A few connections are kept open and lent out one transaction at a time (the API searches
from a thread pool). A connection the server dropped (a restart, a failover) is found out
at its next use, and a transaction may be chosen as a deadlock's victim: that one
transaction is run again once on a new connection, since every transaction here is a whole
unit that rolled back. Failures to reach the server become `kg.errors.Unavailable` naming
the server, never the password.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

import psycopg

from kg.errors import Unavailable

T = TypeVar("T")
CONNECT_SECONDS = 10
STATEMENT_MILLISECONDS = 300_000
"""Longest one statement may run (re-indexing the largest project takes seconds)."""
_RETRIED = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
WAIT_SECONDS = 30
"""Longest a caller waits for one of the process's connections."""


def where(url: str) -> str:
    """The server and database a URL names, for messages: never its user or password.

    >>> where("postgresql://kg:secret@db.example:5433/kg")
    'db.example:5433/kg'
    """
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.hostname or 'localhost'}{port}{parts.path or '/'}"
    except ValueError:  # a port that is not a number
        return "the configured server (KG_SEARCH_URL)"


class Connections:
    """At most `size` connections to one database, lent out per transaction."""

    def __init__(self, url: str, size: int = 8) -> None:
        self._url = url
        self.where = where(url)
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)

    def _connect(self) -> psycopg.Connection:
        failure = None
        try:
            db = psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_SECONDS)
        except psycopg.Error as exc:
            failure = self._reason(exc)
        if failure is not None:  # raised here, so the driver's error is not even its context
            raise Unavailable(f"the search index at {self.where} cannot be reached ({failure})")
        db.execute(f"SET statement_timeout = {STATEMENT_MILLISECONDS}")
        return db

    def _reason(self, exc: psycopg.Error) -> str:
        """libpq's first line (it never prints the password; the URL's is removed anyway)."""
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        password = urlsplit(self._url).password if "@" in self._url else None
        return reason.replace(password, "***") if password else reason

    def run(
        self, work: Callable[[psycopg.Connection], T], *, write: bool = False, snapshot: bool = False
    ) -> T:
        """`work(connection)`: in one transaction when `write`; reading one snapshot of the
        database when `snapshot` (its statements agree with each other); else in autocommit."""
        if not self._slots.acquire(timeout=WAIT_SECONDS):
            raise Unavailable(f"the search index at {self.where} is busy; try again")
        try:
            return self._run(work, write, snapshot)
        finally:
            self._slots.release()

    def _run(self, work: Callable[[psycopg.Connection], T], write: bool, snapshot: bool) -> T:
        failure = ""
        for attempt in (1, 2):
            with self._lock:
                reused = self._idle.pop() if self._idle else None
            db = reused or self._connect()
            try:
                if write or snapshot:
                    with db.transaction():
                        if snapshot:
                            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                        result = work(db)
                else:
                    result = work(db)
            except psycopg.OperationalError as exc:
                db.close()
                dropped = reused is not None and db.broken  # while idle: a restart, a failover
                if attempt == 1 and (dropped or isinstance(exc, _RETRIED)):
                    continue  # once more, on a new connection
                failure = self._failure(exc)
                break
            except BaseException:
                if db.broken or db.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    db.close()
                else:
                    self._give_back(db)
                raise
            self._give_back(db)
            return result
        raise Unavailable(failure)

    def _failure(self, exc: psycopg.OperationalError) -> str:
        if isinstance(exc, psycopg.errors.QueryCanceled):
            return "the search index took too long to answer; try again"
        return f"the search index at {self.where} failed ({self._reason(exc)})"

    def _give_back(self, db: psycopg.Connection) -> None:
        with self._lock:
            self._idle.append(db)

    def close(self) -> None:
        """Close every idle connection (a later use connects again, as SQLite's index does)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for db in idle:
            db.close()
