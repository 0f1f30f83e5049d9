"""Connections to a PostgreSQL server, bounded in number and in time, whose failures are
`Unavailable` and whose messages never carry the password.

psycopg_pool is not a dependency: a handful of connections per process (webhook
acknowledgements share one through group commit; workers and API threads take one per
transaction) needs a semaphore and a list, nothing more.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg

from kg.errors import Unavailable

T = TypeVar("T")
CONNECT_SECONDS = 5
STATEMENT_SECONDS = 30
WAIT_SECONDS = 30.0
"""How long a caller waits for one of the connections when all are in use."""

Cursor = psycopg.Cursor[Any]


def libpq_url(url: str) -> str:
    """The URL libpq understands: SQLAlchemy's `postgresql+psycopg://` spelling is accepted.

    >>> libpq_url("postgresql+psycopg://kg@db/kg")
    'postgresql://kg@db/kg'
    """
    return re.sub(r"^postgresql\+psycopg://", "postgresql://", url)


def masked(url: str) -> str:
    """`url` with its password hidden, for messages and logs.

    >>> masked("postgresql://kg:s3cret@db:5432/kg")
    'postgresql://kg:***@db:5432/kg'
    >>> masked("postgresql://db/kg")
    'postgresql://db/kg'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def scrubbed(message: str, url: str) -> str:
    """`message` without the password of `url`, wherever a driver may have quoted it.

    >>> scrubbed("bad password 's3cret' for kg", "postgresql://kg:s3cret@db/kg")
    "bad password '***' for kg"
    """
    password = urlsplit(url).password
    return message.replace(password, "***") if password else message


class Connections:
    """At most `size` open connections to one database, lent one transaction at a time."""

    def __init__(self, url: str, *, what: str, size: int = 8) -> None:
        self._url = libpq_url(url)
        self.shown = masked(self._url)
        self.what = what
        self._idle: list[psycopg.Connection[Any]] = []
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()

    def unavailable(self, exc: BaseException) -> Unavailable:
        """The error callers get when the server cannot be used; it names no password."""
        reason = scrubbed(
            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, self._url
        )
        return Unavailable(f"{self.what} at {self.shown} cannot be used ({reason}); nothing was changed")

    def connect(self, *, statement_seconds: float = STATEMENT_SECONDS) -> psycopg.Connection[Any]:
        """A new autocommit connection (transactions are explicit), or `Unavailable`."""
        try:
            return psycopg.connect(
                self._url,
                autocommit=True,
                connect_timeout=CONNECT_SECONDS,
                options=f"-c statement_timeout={int(statement_seconds * 1000)}",
            )
        except psycopg.Error as exc:
            raise self.unavailable(exc) from None

    def run(self, work: Callable[[Cursor], T]) -> T:
        """Run `work` in one transaction and commit. A connection that died while idle (the
        server restarted) is replaced and the work tried once more on a fresh one."""
        if not self._slots.acquire(timeout=WAIT_SECONDS):
            raise Unavailable(f"{self.what} at {self.shown} is busy: every connection is in use")
        try:
            conn, reused = self._take()
            try:
                return self._once(conn, work)
            except psycopg.OperationalError as exc:
                conn.close()
                if not reused:
                    raise self.unavailable(exc) from None
                self._drop_idle()
            conn, _ = self._take(fresh=True)
            try:
                return self._once(conn, work)
            except psycopg.OperationalError as exc:
                conn.close()
                raise self.unavailable(exc) from None
        finally:
            self._slots.release()

    def _once(self, conn: psycopg.Connection[Any], work: Callable[[Cursor], T]) -> T:
        try:
            with conn.transaction(), conn.cursor() as cursor:
                result = work(cursor)
        except psycopg.OperationalError:
            raise
        except BaseException:
            self._give_back(conn)  # rolled back (a lost lease, say): the connection is sound
            raise
        self._give_back(conn)
        return result

    def _give_back(self, conn: psycopg.Connection[Any]) -> None:
        if conn.broken or conn.closed:
            conn.close()
            return
        with self._lock:
            self._idle.append(conn)

    def _take(self, *, fresh: bool = False) -> tuple[psycopg.Connection[Any], bool]:
        with self._lock:
            while self._idle and not fresh:
                conn = self._idle.pop()
                if not conn.closed:
                    return conn, True
        return self.connect(), False

    def _drop_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def close(self) -> None:
        """Close the idle connections; called once nobody uses the log any more."""
        self._drop_idle()
