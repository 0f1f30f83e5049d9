"""The embedded store's `Reader`: a read-only snapshot (checkpoint) of the store.

`kg serve` runs it inside query processes (`kg.store.oxigraph.pool`), never in the serving
process: pyoxigraph cannot interrupt a query and some queries abort the whole process. The
CLI runs it in its own process.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import IO, Any, cast

import pyoxigraph as ox

from kg import queries
from kg.access import Access
from kg.errors import InvalidInput, QueryError, QuerySyntaxError, QueryTooLarge
from kg.iri import Minter
from kg.rdf import serialize_graph
from kg.sparql.dataset import SERVICE_REFUSED, Dataset, read_only
from kg.sparql.negotiation import choose, parse_accept
from kg.sparql.readable import Readable, dataset_of, readable
from kg.store.base import ProjectRecord
from kg.store.oxigraph.checkpoints import newest_snapshot, read_records, snapshots_newest_first
from kg.store.oxigraph.records import open_oxigraph, select, stored_records
from kg.store.reading import Answer, Bindings, LineageRequest, QueryRequest
from kg.store.records import by_slug

log = logging.getLogger("kg.sparql")
_RETRIES = 3
_NETWORK = re.compile(r"network is unreachable|lookup address|connection refused|error sending request", re.I)
_READABLE_CACHE = 1024


class CappedBuffer:
    """A write-only buffer that refuses to grow beyond `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise QueryTooLarge(f"result larger than {self.limit} bytes; add a LIMIT")
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush; pyoxigraph calls it."""

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


class Snapshot:
    """`Reader` on the newest checkpoint of the embedded store, reopened whenever a writer
    has published since."""

    def __init__(self, path: Path, minter: Minter, max_bytes: int, *, strict: bool = False) -> None:
        self.path = path
        self.minter = minter
        self.max_bytes = max_bytes
        self.strict = strict
        self._store: ox.Store | None = None
        self._opened: Path | None = None
        self._wanted: Path | None = None
        self.projects: list[ProjectRecord] = []
        self.graphs: dict[str, str] = {}
        self.runs_cache: dict[str, Any] = {}
        self._readable: dict[Access | None, Readable] = {}

    def store(self) -> ox.Store:
        """The newest published checkpoint that opens, reopened when a newer one appears."""
        snapshot = newest_snapshot(self.path)
        if self._store is not None and snapshot in (self._opened, self._wanted):
            return self._store
        self._wanted = snapshot
        store, opened = self._open_newest()
        known = read_records(opened) if opened is not None else None
        self.projects = known if known is not None else stored_records(store, self.minter.base)
        self.graphs = {r.slug: r.graph for r in self.projects if r.graph}
        self.runs_cache = {}
        self._readable = {}
        self._store, self._opened = store, opened
        return store

    def _open_newest(self) -> tuple[ox.Store, Path | None]:
        """The newest checkpoint that opens (a deleted or damaged one is skipped)."""
        candidates = snapshots_newest_first(self.path)
        if not candidates:
            return ox.Store(), None  # nothing published yet: an empty store answers every query
        for candidate in candidates:
            try:
                return open_oxigraph(candidate, read_only=True), candidate
            except OSError:
                log.warning(
                    "checkpoint does not open; trying an older one", extra={"checkpoint": candidate.name}
                )
        raise QueryError("no checkpoint of the store can be opened")

    def readable(self, access: Access | None) -> Readable:
        """What `access` may read in the newest snapshot (cached until the next one)."""
        self.store()
        return self._allowed(access)

    def _allowed(self, access: Access | None) -> Readable:
        # On the snapshot already opened for the query: reopening here could decide access
        # on newer records than the data the query reads.
        found = self._readable.get(access)
        if found is None:
            if len(self._readable) >= _READABLE_CACHE:
                self._readable.clear()
            found = self._readable[access] = readable(self.minter, self.projects, access)
        return found

    def _dataset(self, request: QueryRequest, named_in_query: Dataset) -> dict[str, Any]:
        default, named = dataset_of(request, named_in_query, self._allowed(request.access))
        return {
            "default_graph": [ox.NamedNode(g) for g in default],
            "named_graphs": [ox.NamedNode(g) for g in named],
        }

    def records(self) -> list[ProjectRecord]:
        """Every published project's record, ordered by slug."""
        self.store()
        return by_slug(self.projects)

    def select(self, name: str, bindings: Bindings) -> list[dict[str, str]]:
        """Run the named read query of `queries/` with bound values, over everything."""
        return select(self.store(), name, bindings)

    def export(self, graph: str, accept: str) -> Answer:
        """One project graph, serialized as negotiated."""
        only = frozenset({graph})
        return self.answer(
            QueryRequest(queries.load("project_graph.rq"), accept, default_graphs=(graph,), visible=only)
        )

    def check(self) -> tuple[bool, str]:
        """Some checkpoint opens read-only (or nothing was published yet)."""
        candidates = snapshots_newest_first(self.path)
        if not candidates:
            return True, "nothing published yet"
        for candidate in candidates:
            try:
                opened = open_oxigraph(candidate, read_only=True)
            except OSError:
                continue
            del opened
            if candidate == candidates[0]:
                return True, ""
            return True, "the newest checkpoint does not open; readers use an older one"
        return False, "no checkpoint of the store opens"

    def close(self) -> None:
        """Let go of the open checkpoint."""
        self._store = None

    def answer(self, request: QueryRequest) -> Answer:
        """Run the query and serialize its result as negotiated."""
        named_in_query = read_only(request.query, strict=self.strict)
        for attempt in range(_RETRIES):
            try:
                return self._execute(request, named_in_query)
            except (OSError, RuntimeError) as exc:
                if _NETWORK.search(str(exc)):
                    # a SERVICE call the scanner did not see, which the query process's
                    # network namespace stopped (see kg.confined)
                    raise InvalidInput(SERVICE_REFUSED, field="query") from None
                # A checkpoint pruned while this process still had it open: a fresh
                # snapshot lists the files that exist now.
                if attempt == _RETRIES - 1:
                    raise
                self._store = None
        raise AssertionError("unreachable")

    def lineage(self, request: LineageRequest) -> Answer:
        """Compute a file's lineage on the current snapshot, as JSON."""
        from kg.lineage import lineage

        store = self.store()
        document = lineage(
            _Selecting(store),
            self.graphs,
            request.slug,
            request.path,
            direction=request.direction,  # type: ignore[arg-type]
            depth=request.depth,
            readable=request.readable,
            cache=self.runs_cache,
        )
        return Answer("application/json", json.dumps(document).encode())

    def _execute(self, request: QueryRequest, named_in_query: Dataset) -> Answer:
        store = self.store()
        try:
            result = store.query(
                request.query,
                substitutions={ox.Variable(name): ox.Literal(value) for name, value in request.bindings}
                or None,
                **self._dataset(request, named_in_query),
            )
        except SyntaxError as exc:
            raise QuerySyntaxError(str(exc)) from exc
        preference = parse_accept(request.accept, request.format)
        out = CappedBuffer(self.max_bytes)
        if isinstance(result, ox.QueryTriples):
            media = choose(preference, "graph")
            serialize_graph(result, cast(IO[bytes], out), ox.RdfFormat.from_media_type(media))
        else:
            media = choose(preference, "solutions")
            result.serialize(cast(IO[bytes], out), ox.QueryResultsFormat.from_media_type(media))
        return Answer(media, out.getvalue())


class _Selecting:
    """Named queries on one opened checkpoint (a lineage walk must not switch mid-way)."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store

    def select(self, name: str, bindings: Bindings) -> list[dict[str, str]]:
        return select(self.store, name, bindings)
