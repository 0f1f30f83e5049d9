"""Whether this kg can do its work: a worker alive and moving, an event log it can read and
write, and a checkpoint of the store that readers can open. `/health` reports each;
`/ready` fails when any does not hold."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kg.errors import KgError
from kg.events import EventLog
from kg.pipeline.liveness import read_beat, trouble
from kg.pipeline.supervisor import WorkerProcess
from kg.search import SearchIndex
from kg.store.reading import Reader

REMEMBER_SECONDS = 1.0
"""A probe's answer is reused this long: `/ready` in a loop costs no more than one probe."""


@dataclass(frozen=True)
class Check:
    """One thing kg needs, and whether it has it."""

    ok: bool
    detail: str = ""


def worker(process: WorkerProcess | None, data_dir: Path, stale: float, job_timeout: float) -> Check:
    """The worker process runs, beats, and is not stuck on one job."""
    if process is None:
        return Check(True, "not run by this process (KG_WORKER_ENABLED=false)")
    pid = process.pid()
    if pid is None:
        return Check(False, "the worker process is not running")
    why = trouble(read_beat(data_dir), pid, process.started_at, stale, job_timeout)
    return Check(not why, why)


def event_log(events: EventLog) -> Check:
    """The event log answers a read and takes a write."""
    try:
        events.probe()
    except KgError as exc:
        return Check(False, str(exc))
    return Check(True)


def search_index(index: SearchIndex) -> Check:
    """The search index answers a read. No probe is part of `SearchIndex` yet: a lookup by
    key, which every backend answers from an index, stands in for one."""
    try:
        index.is_buried(0)
    except Exception as exc:  # sqlite3, psycopg, KgError: each backend fails in its own words
        return Check(False, f"the search index cannot be read: {exc}"[:300])
    return Check(True)


def store(reader: Reader) -> Check:
    """The store can be read (embedded: some checkpoint opens; remote: the server answers)."""
    ok, why = reader.check()
    return Check(ok, why)


def isolation(isolated: bool) -> Check:
    """Whether query and extraction processes run cut off the network (information: where the
    kernel allows no namespace, a stricter SERVICE check stands in, and nothing is at fault)."""
    if isolated:
        return Check(True, "query and extraction processes are cut off the network")
    return Check(True, "no network namespace allowed here: SERVICE is refused by a stricter scan")


class Probes:
    """The checks of one kg process, each remembered for `REMEMBER_SECONDS`."""

    def __init__(self, checks: dict[str, Callable[[], Check]]) -> None:
        self._checks = checks
        self._seen: dict[str, tuple[float, Check]] = {}
        self._lock = threading.Lock()

    def run(self) -> dict[str, Check]:
        """Every check's current answer."""
        now = time.monotonic()
        out = {}
        with self._lock:
            for name, check in self._checks.items():
                seen = self._seen.get(name)
                if seen is None or now - seen[0] > REMEMBER_SECONDS:
                    seen = self._seen[name] = (now, check())
                out[name] = seen[1]
        return out
