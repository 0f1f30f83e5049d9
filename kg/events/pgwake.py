"""Idle workers woken by PostgreSQL's LISTEN/NOTIFY instead of polling the queue.

Whatever may make work due (a stored push, a job given back) sends `NOTIFY` in its
transaction; PostgreSQL delivers it at commit. One thread per process listens and counts
notifications; a worker notes the count before it looks for work and, finding none, waits
for the count to move. A notification counted before the note belongs to a commit its
look already saw, so none is missed between looking and waiting.
"""

from __future__ import annotations

import logging
import threading

import psycopg

from kg.errors import Unavailable
from kg.events.pgconnect import CONNECT_SECONDS, Connections

CHANNEL = "kg_event_log"
"""A constant identifier: LISTEN and NOTIFY take no bound parameters."""
NOTIFY = f"NOTIFY {CHANNEL}"
_LISTEN_SLICE = 0.2
_RECONNECT_SECONDS = 1.0

log = logging.getLogger("kg.events")


class Wakeups:
    """Counts notifications on `CHANNEL` from a listening thread, started on first use."""

    def __init__(self, connections: Connections) -> None:
        self._connections = connections
        self._count = 0
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._listening = threading.Event()

    def mark(self) -> int:
        """The current count; the first call starts listening and waits (briefly) until it
        does, so nothing committed after the mark goes unheard."""
        with self._changed:
            if self._thread is None and not self._closing.is_set():
                self._thread = threading.Thread(target=self._listen, name="event-log-listen", daemon=True)
                self._thread.start()
        self._listening.wait(CONNECT_SECONDS)
        with self._changed:
            return self._count

    def wait(self, since: int, timeout: float) -> bool:
        """Wait until the count passes `since`, at most `timeout` seconds; True if it did."""
        with self._changed:
            return self._changed.wait_for(lambda: self._count != since, max(timeout, 0.0))

    def _bump(self) -> None:
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    def _listen(self) -> None:
        attempts = 0
        while not self._closing.is_set():
            attempts += 1
            try:
                conn = self._connections.connect(statement_seconds=0)
            except Unavailable as exc:
                self._listening.set()  # nobody should wait for a server that is away
                log.warning("cannot listen for new events; polling meanwhile", extra={"error": str(exc)})
                self._closing.wait(_RECONNECT_SECONDS)
                continue
            try:
                conn.execute(f"LISTEN {CHANNEL}")
                if attempts > 1:
                    self._bump()  # listening again: what was sent meanwhile went unheard
                self._listening.set()
                while not self._closing.is_set():
                    for _ in conn.notifies(timeout=_LISTEN_SLICE):
                        self._bump()
            except psycopg.Error as exc:
                log.warning(
                    "listening for new events failed; polling meanwhile",
                    extra={"error": self._connections.unavailable(exc).args[0]},
                )
                self._closing.wait(_RECONNECT_SECONDS)
            finally:
                conn.close()

    def close(self) -> None:
        """Stop listening."""
        self._closing.set()
        with self._changed:
            thread, self._thread = self._thread, None
            self._changed.notify_all()
        if thread is not None:
            thread.join()
