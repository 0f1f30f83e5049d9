"""`Store` on a SPARQL 1.1 server: Graph Store Protocol to load, SPARQL Update to publish.

Readers on the server see every update at once, so publishing takes steps that each leave
a whole project readable (see `kg.store.audiences` for audience graphs):

1. a new generation is loaded into a graph no record points to (unreachable);
2. a project leaving its audience graph is first detached (its record loses `kg:audience`,
   so readers list its own graphs), then its triples are retracted from the audience;
3. one small update points the record at the new generation, still detached;
4. the generation is merged into its audience graph, then a small update attaches it.

A crash between steps leaves a record pointing at a whole graph; `merge_audiences` attaches
what is detached, `collect_garbage` drops what no record points to. While a project is
detached and its triples are still (or already partly) in the audience graph, a query may
see one of its rows twice: never a row of another version or of a project it may not read.
"""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

import pyoxigraph as ox

from kg import metrics, queries
from kg.errors import QueryError
from kg.iri import Minter
from kg.queries import Rendered
from kg.rdf import iri
from kg.store.audiences import audience_of
from kg.store.base import Bindings, ProjectRecord
from kg.store.records import by_slug, live_graphs, publish_update
from kg.store.sparql11.client import SparqlClient
from kg.store.sparql11.named import NamedSelects
from kg.store.sparql11.stamp import restamp, stamp_of

log = logging.getLogger("kg.store")
_RECHECK_SECONDS = 1.0
"""How often a writer asks whether another has written (one small query)."""


class RemoteStore:
    """The writer of a SPARQL server's kg graphs (one writer at a time, like embedded)."""

    def __init__(self, client: SparqlClient, minter: Minter) -> None:
        self.client = client
        self.minter = minter
        self.named = NamedSelects(client)
        self._records: dict[str, ProjectRecord] = {}
        self._stamp: str | None = None
        self._checked = 0.0
        self._retired: set[str] = set()
        """Graphs this writer made garbage (or may have left half-made), dropped next."""
        self._swept = False

    def _known(self) -> dict[str, ProjectRecord]:
        # kg's worker is the one writer, but `kg forget` or `kg ingest` may write beside it:
        # the records are read again when the store's stamp is not the last this one saw.
        now = time.monotonic()
        if now - self._checked > _RECHECK_SECONDS:
            stamp = stamp_of(self.named, self.minter)
            if stamp is None or stamp != self._stamp:
                self._records = {r.iri: r for r in self.named.records(self.minter.base)}
                self._stamp = stamp
            self._checked = now
        return self._records

    def project(self, iri: str) -> ProjectRecord | None:
        return self._known().get(iri)

    def projects(self) -> list[ProjectRecord]:
        return by_slug(self._known().values())

    def select(self, name: str, bindings: Bindings) -> list[dict[str, str]]:
        return self.named.select(name, bindings)

    def _unused_generation(self, record: ProjectRecord) -> int:
        # A crashed job may have left a half-loaded generation behind: never reuse one.
        generation = record.generation + 1
        while self.named.any(
            "graph_exists.rq", {"graph": ox.NamedNode(self.minter.project_graph(record.iri, generation))}
        ):
            generation += 1
        return generation

    @metrics.timed_publish("replace")
    def replace_project_graph(self, record: ProjectRecord, ntriples: Path) -> ProjectRecord:
        current = self.project(record.iri)
        generation = self._unused_generation(current or record)
        graph = self.minter.project_graph(record.iri, generation)
        self._retired.add(graph)  # until it is published: a failed load is garbage
        self.client.put_graph(graph, ntriples)
        if current is not None:
            self._detach(current)
        switched = self._publish(record.evolve(graph=graph, generation=generation, audience=None))
        self._retired.discard(graph)
        if current is not None and current.graph:
            self._retired.add(current.graph)
        audience = audience_of(self.minter, switched)
        self.client.post_graph(audience, ntriples)
        return self._publish(switched.evolve(audience=audience))

    @metrics.timed_publish("extend")
    def extend_project_graph(self, record: ProjectRecord, ntriples: Path) -> ProjectRecord:
        current = self.project(record.iri)
        if current is None or current.graph is None:
            return self.replace_project_graph(record, ntriples)
        graph = current.graph
        record = record.evolve(graph=graph, generation=current.generation)
        audience = audience_of(self.minter, record)
        staging = f"{record.iri}/-/staging/{uuid.uuid4().hex}"
        self._retired.add(staging)
        self.client.put_graph(staging, ntriples)
        if current.audience not in (None, audience):
            current = self._detach(current)
        targets = [graph] + ([audience] if current.audience == audience else [])
        # one update: the increment appears everywhere at once, with the record saying so
        adds = [self._render("add_graph.ru", source=staging, target=t) for t in targets]
        published = self._publish(record.evolve(audience=current.audience), before=adds)
        self.client.delete_graph(staging)
        self._retired.discard(staging)
        return published if published.audience else self._attach(published)

    def publish_record(self, record: ProjectRecord) -> ProjectRecord:
        current = self.project(record.iri)
        if current is None:
            return self._publish(record.evolve(audience=None))
        record = record.evolve(graph=current.graph, generation=current.generation)
        if current.audience == audience_of(self.minter, record):
            return self._publish(record.evolve(audience=current.audience))
        if current.audience is not None:
            self._detach(current)
        return self._attach(self._publish(record.evolve(audience=None)))

    def remove_project(self, iri: str) -> bool:
        current = self.project(iri)
        if current is None:
            return False
        if current.audience:
            self._detach(current)
        drop = self._render("drop_graph.ru", graph=self.minter.record_graph(iri))
        self._stamp, stamping = restamp(self.minter)
        self.client.update(f"{drop} ;\n{stamping}")
        self._known().pop(iri, None)
        if current.graph:
            self._retired.add(current.graph)  # pointed to by no record now: garbage
        return True

    def merge_audiences(self) -> int:
        pending = [r for r in self.projects() if r.audience != audience_of(self.minter, r)]
        for record in pending:
            if record.audience is not None:
                record = self._detach(record)
            self._attach(record)
        return len(pending)

    def collect_garbage(self) -> int:
        """Drop the graphs this writer retired; the first time, also any graph kg minted below
        its base that no record points to (left by a writer that died)."""
        projects = self.projects()
        live = live_graphs(self.minter, projects)
        stale = set(self._retired)
        if not self._swept:
            stale |= self._unreferenced(live)
            self._swept = True
        stale -= live
        for graph in sorted(stale):
            # Dead generations were never merged, or were retracted before they died.
            self.client.delete_graph(graph)
        self._retired -= stale
        return len(stale)

    def _unreferenced(self, live: set[str]) -> set[str]:
        """Project graphs below this instance's base that no record points to (a scan of
        every quad: done once per writer, and skipped with a warning if the store's time
        limit stops it)."""
        try:
            rows = self.named.select("named_graphs.rq", {"base": ox.NamedNode(self.minter.base)})
        except QueryError as exc:
            log.warning(
                "could not list the store's graphs; only this writer's are dropped", extra={"error": str(exc)}
            )
            return set()
        return {r["graph"] for r in rows if self.minter.is_project_graph(r["graph"])} - live

    def close(self) -> None:
        self.client.close()

    def _detach(self, current: ProjectRecord) -> ProjectRecord:
        """Take a project out of its audience graph: detached first, so that a crash leaves
        a record readers list one by one, then its triples retracted."""
        audience = current.audience
        detached = self._publish(current.evolve(audience=None))
        if audience and current.graph:
            self.client.update(self._render("retract_graph.ru", audience=audience, graph=current.graph))
        return detached

    def _attach(self, record: ProjectRecord) -> ProjectRecord:
        """Merge a detached project's live graph into its audience graph, then say so."""
        audience = audience_of(self.minter, record)
        if record.graph:
            self.client.update(self._render("add_graph.ru", source=record.graph, target=audience))
        return self._publish(record.evolve(audience=audience))

    def _render(self, name: str, **graphs: str) -> str:
        return queries.render(name, {k: Rendered(iri(v)) for k, v in graphs.items()})

    def _publish(self, record: ProjectRecord, *, before: list[str] | None = None) -> ProjectRecord:
        """Write a record (after `before`, in the same update) and restamp the store."""
        record, update = publish_update(self.minter, self.project(record.iri), record)
        stamp, stamping = restamp(self.minter)
        self.client.update(" ;\n".join([*(before or []), update, stamping]))
        self._known()[record.iri] = record
        self._stamp = stamp
        return record
