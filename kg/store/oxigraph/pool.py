"""The embedded store's `Reader` for `kg serve`: each read runs in a query process that can
be killed.

pyoxigraph's `query()` cannot be interrupted, holds the GIL while iterating, and a few
queries abort the whole process (a Rust panic). So the serving process never runs a
query itself: it hands the query to an idle query process over a pipe, waits at most the
timeout, and on timeout or death kills and replaces that process. The cost per query is
one pickled request and one bytes reply over a local pipe.
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from kg.confined import Child, confine, out_of_memory
from kg.errors import (
    Forbidden,
    InvalidInput,
    KgError,
    NotFound,
    QueryCrashed,
    QueryError,
    QuerySyntaxError,
    QueryTimeout,
    QueryTooLarge,
)
from kg.iri import Minter
from kg.sparql.negotiation import NotAcceptable
from kg.store.base import Bindings, ProjectRecord
from kg.store.oxigraph.snapshot import Snapshot
from kg.store.reading import Answer, LineageRequest, QueryRequest

log = logging.getLogger("kg.sparql")

_OUT_OF_MEMORY = "the query needed more than {} MB of memory (KG_SPARQL_MAX_MEMORY_MB); narrow it down"
_UNANSWERED = "the query could not be answered from kg's store; try again"
_CALLS = frozenset({"answer", "lineage", "select", "records", "export"})
"""The `Reader` methods a query process runs."""
_ERRORS: dict[str, type[KgError]] = {
    cls.__name__: cls
    for cls in (QuerySyntaxError, QueryTooLarge, Forbidden, InvalidInput, NotAcceptable, QueryError)
}


def _serve(
    conn: Connection, path: str, base_iri: str, max_bytes: int, memory_bytes: int, last_words: str
) -> None:
    isolated = confine(memory_bytes, Path(last_words))
    # off the network, a SERVICE the scan misses reaches nothing; else the scan is strict
    snapshot = Snapshot(Path(path), Minter(base_iri), max_bytes, strict=not isolated)
    while True:
        try:
            method, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if method not in _CALLS:
                raise QueryError(f"no such read: {method}")
            conn.send(("ok", getattr(snapshot, method)(*args)))
        except NotFound as exc:
            conn.send(("notfound", exc.kind, exc.key))
        except KgError as exc:
            conn.send(("error", type(exc).__name__, str(exc)))
        except MemoryError:
            conn.send(("error", "QueryTooLarge", _OUT_OF_MEMORY.format(memory_bytes >> 20)))
        except OSError:  # its text names files of the server
            log.exception("query failed")
            conn.send(("error", "QueryError", _UNANSWERED))
        except Exception as exc:  # report, and keep serving: the next query may be fine
            log.exception("query failed")
            conn.send(("error", "QueryError", f"the query failed ({type(exc).__name__})"))


class QueryPool:
    """`Reader` over the embedded store at `path`, through a fixed number of query processes."""

    def __init__(
        self,
        path: Path,
        base_iri: str,
        *,
        size: int,
        timeout: float,
        max_bytes: int,
        memory_bytes: int = 1 << 30,
        scratch: Path | None = None,
    ) -> None:
        self._args = (str(path), base_iri, max_bytes, memory_bytes)
        self._checker = Snapshot(path, Minter(base_iri), max_bytes)
        self.memory_bytes = memory_bytes
        self.scratch = scratch or Path(tempfile.gettempdir())
        self.timeout = timeout
        self._idle: queue.Queue[Child] = queue.Queue()
        self._all: set[Child] = set()
        self._lock = threading.Lock()
        for _ in range(size):
            self._idle.put(self._start())

    def _start(self) -> Child:
        worker = Child.start(_serve, self._args, name="kg-query", scratch=self.scratch)
        with self._lock:
            self._all.add(worker)
        return worker

    def _replace(self, worker: Child) -> Child:
        worker.kill()
        with self._lock:
            self._all.discard(worker)
        return self._start()

    def answer(self, request: QueryRequest) -> Answer:
        """Run a caller's query over what it may read."""
        answer: Answer = self._call("answer", request)
        return answer

    def lineage(self, request: LineageRequest) -> Answer:
        """A file's lineage, as JSON."""
        answer: Answer = self._call("lineage", request)
        return answer

    def select(self, name: str, bindings: Bindings) -> list[dict[str, str]]:
        """Run a named query of kg's own over everything."""
        rows: list[dict[str, str]] = self._call("select", name, dict(bindings))
        return rows

    def records(self) -> list[ProjectRecord]:
        """Every published project's record."""
        found: list[ProjectRecord] = self._call("records")
        return found

    def export(self, graph: str, accept: str) -> Answer:
        """One project graph, serialized as negotiated."""
        answer: Answer = self._call("export", graph, accept)
        return answer

    def check(self) -> tuple[bool, str]:
        """Some checkpoint of the store opens (checked in this process: it only opens one)."""
        return self._checker.check()

    def _call(self, method: str, *args: Any) -> Any:
        """Run a `Snapshot` method in a query process; raises `QueryError` subclasses, `NotFound`."""
        try:
            worker = self._idle.get(timeout=self.timeout)
        except queue.Empty:
            raise QueryTimeout(f"no query process free within {self.timeout:.0f}s") from None
        healthy = False
        try:
            if not worker.process.is_alive():
                worker = self._replace(worker)
            worker.conn.send((method, args))
            if not worker.conn.poll(self.timeout):
                log.warning("query timed out", extra={"timeout": self.timeout})
                raise QueryTimeout(f"query stopped after {self.timeout:g}s")
            try:
                reply = worker.conn.recv()
            except (EOFError, OSError):
                exitcode, words = worker.ended()
                log.error("query process died", extra={"exitcode": exitcode, "said": words[-500:]})
                if out_of_memory(exitcode, words):
                    raise QueryTooLarge(_OUT_OF_MEMORY.format(self.memory_bytes >> 20)) from None
                raise QueryCrashed("the query engine crashed on this query") from None
            healthy = True
        finally:
            self._idle.put(worker if healthy else self._replace(worker))
        if reply[0] == "ok":
            return reply[1]
        if reply[0] == "notfound":
            raise NotFound(reply[1], reply[2])
        raise _ERRORS.get(reply[1], QueryError)(reply[2])

    def close(self) -> None:
        """Stop every query process."""
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.kill()
