"""`Reader` over a SPARQL 1.1 server.

A caller's query goes to the server with the protocol's dataset parameters, which override
whatever FROM / FROM NAMED the query carries (SPARQL 1.1 Protocol 2.1.4, checked per server
in tests/store/sparql11/), listing the graphs `kg.sparql.readable` allows: never an empty
list, which servers read as "everything". Records are read again whenever the writer has
published since (`kg.store.sparql11.stamp`), so access follows the newest records.
"""

from __future__ import annotations

import io
import json
import threading
from typing import Any

import pyoxigraph as ox

from kg import queries
from kg.access import Access
from kg.errors import QueryError, QueryTooLarge, StoreUnavailable
from kg.iri import Minter
from kg.rdf import serialize_graph
from kg.sparql.dataset import read_only, without_dataset
from kg.sparql.negotiation import choose, parse_accept
from kg.sparql.readable import Readable, dataset_of, readable
from kg.store.base import Bindings, ProjectRecord
from kg.store.reading import Answer, LineageRequest, QueryRequest
from kg.store.records import by_slug
from kg.store.sparql11.binding import bind
from kg.store.sparql11.client import NO_GRAPH, SparqlClient
from kg.store.sparql11.named import NamedSelects
from kg.store.sparql11.stamp import stamp_of

_READABLE_CACHE = 1024
_GRAPH_FORMS = ("CONSTRUCT", "DESCRIBE")
_WIRE = {"solutions": "application/sparql-results+json", "graph": "application/n-triples"}


class RemoteReader:
    """Reads a SPARQL server that kg's `RemoteStore` writes."""

    def __init__(self, client: SparqlClient, minter: Minter, *, timeout: float, max_bytes: int) -> None:
        self.client = client
        self.minter = minter
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.named = NamedSelects(client)
        self._lock = threading.Lock()
        self._stamp: str | None = None
        self._records: list[ProjectRecord] = []
        self._readable: dict[Access | None, Readable] = {}
        self._runs: dict[str, Any] = {}

    def _current(self) -> tuple[list[ProjectRecord], dict[Access | None, Readable], dict[str, Any]]:
        """The records as the writer last published them (read again when it has since)."""
        stamp = stamp_of(self.named, self.minter)
        with self._lock:
            if stamp is None or stamp != self._stamp:
                self._records = self.named.records(self.minter.base)
                self._readable, self._runs = {}, {}
                self._stamp = stamp
            return self._records, self._readable, self._runs

    def _allowed(self, access: Access | None) -> Readable:
        projects, cache, _ = self._current()
        found = cache.get(access)
        if found is None:
            if len(cache) >= _READABLE_CACHE:
                cache.clear()
            found = cache[access] = readable(self.minter, projects, access)
        return found

    def records(self) -> list[ProjectRecord]:
        return by_slug(self._current()[0])

    def select(self, name: str, bindings: Bindings) -> list[dict[str, str]]:
        return self.named.select(name, bindings)

    def answer(self, request: QueryRequest) -> Answer:
        found = read_only(request.query, strict=True)  # no namespace backs a server's engine
        # The graphs a query names travel as protocol parameters, kept to what it may read:
        # a server that merges them with the query's own clauses then sees no clause.
        query = without_dataset(request.query) if found.given else request.query
        if not request.bindings:  # a caller's query, not a named query of kg's own
            self.client.profile.refuse(query)
        default, named = dataset_of(request, found, self._allowed(request.access))
        if request.bindings:
            query = bind(query, {name: ox.Literal(value) for name, value in request.bindings})
        kind = "graph" if found.form in _GRAPH_FORMS else "solutions"
        media = choose(parse_accept(request.accept, request.format), kind)
        # Asked in one format and serialized here as negotiated: every store then answers in
        # the same CSV, XML or Turtle as embedded (servers differ in quoting and in how
        # they write ASK), and an answer cut short does not parse.
        wire = _WIRE[kind]
        answer = self.client.query(
            query,
            accept=wire,
            max_bytes=self.max_bytes,
            default_graphs=default or (NO_GRAPH,),
            named_graphs=named or (NO_GRAPH,),
            timeout_seconds=self.timeout,
            trusted=True,  # checked above, with the dataset it is allowed
        )
        body = _standard_ask(answer.body) if found.form == "ASK" else answer.body
        if media != wire:
            body = convert(body, kind, media)
            if len(body) > self.max_bytes:
                raise QueryTooLarge(f"result larger than {self.max_bytes} bytes; add a LIMIT")
        return Answer(media, body)

    def lineage(self, request: LineageRequest) -> Answer:
        from kg.lineage import lineage

        projects, _, runs = self._current()
        graphs = {r.slug: r.graph for r in projects if r.graph}
        document = lineage(
            self.named,
            graphs,
            request.slug,
            request.path,
            direction=request.direction,  # type: ignore[arg-type]
            depth=request.depth,
            readable=request.readable,
            cache=runs,
        )
        return Answer("application/json", json.dumps(document).encode())

    def export(self, graph: str, accept: str) -> Answer:
        only = frozenset({graph})
        return self.answer(
            QueryRequest(queries.load("project_graph.rq"), accept, default_graphs=(graph,), visible=only)
        )

    def check(self) -> tuple[bool, str]:
        try:
            self.named.ping()
        except StoreUnavailable as exc:
            return False, str(exc)
        return True, ""

    def close(self) -> None:
        self.client.close()


def _standard_ask(body: bytes) -> bytes:
    """An ASK answer in standard SPARQL JSON: Virtuoso 7.2 answers with a result set of one
    row (true) or none (false)."""
    try:
        document = json.loads(body)
    except ValueError:
        return body
    if not isinstance(document, dict) or "boolean" in document or "results" not in document:
        return body
    return json.dumps({"head": {}, "boolean": bool(document["results"].get("bindings"))}).encode()


def convert(body: bytes, kind: str, media: str) -> bytes:
    """Re-serialize a server's answer (SPARQL JSON, or N-Triples) as `media`."""
    try:
        if kind == "graph":
            triples = ox.parse(body, ox.RdfFormat.N_TRIPLES)
            out = io.BytesIO()
            serialize_graph(triples, out, ox.RdfFormat.from_media_type(media))
            return out.getvalue()
        results = ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
        return results.serialize(format=ox.QueryResultsFormat.from_media_type(media)) or b""
    except (SyntaxError, ValueError) as exc:
        raise QueryError(
            f"the store's answer does not read as {'RDF' if kind == 'graph' else 'SPARQL JSON'}"
        ) from exc
