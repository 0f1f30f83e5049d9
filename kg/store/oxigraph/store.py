"""The embedded store's writer: pyoxigraph on disk, one writer; readers open checkpoints
(`kg.store.oxigraph.checkpoints`) because RocksDB cannot be read while another process writes it."""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox

from kg import metrics
from kg.iri import Minter
from kg.store.audiences import audience_of, holders, is_audience
from kg.store.base import ProjectRecord
from kg.store.oxigraph.audiences import retract
from kg.store.oxigraph.checkpoints import newest_snapshot, write_checkpoint
from kg.store.oxigraph.records import open_oxigraph, select, stored_records
from kg.store.reading import Bindings
from kg.store.records import by_slug, live_graphs, publish_update

BULK_CHUNK_BYTES = 16 * 1024 * 1024


class OxigraphStore:
    """`Store` on an on-disk pyoxigraph database."""

    def __init__(self, path: Path, minter: Minter, *, read_only: bool = False) -> None:
        self.path = path
        self.minter = minter
        if read_only:
            snapshot = newest_snapshot(path)
            self._store = open_oxigraph(snapshot, read_only=True) if snapshot else ox.Store()
        else:
            self._store = open_oxigraph(path, read_only=False)
        # Reading 10,000 records with SPARQL takes 1.5 s; this process is their only writer,
        # so it reads them once and keeps them in step.
        self._records: dict[str, ProjectRecord] | None = None

    @property
    def raw(self) -> ox.Store:
        """The underlying pyoxigraph store (for queries and tests). Records written through
        it are read again: using it forgets the records this object remembers."""
        self._records = None
        return self._store

    def _known(self) -> dict[str, ProjectRecord]:
        if self._records is None:
            self._records = {r.iri: r for r in stored_records(self._store, self.minter.base)}
        return self._records

    def project(self, iri: str) -> ProjectRecord | None:
        return self._known().get(iri)

    def projects(self) -> list[ProjectRecord]:
        return by_slug(self._known().values())

    def select(self, name: str, bindings: Bindings) -> list[dict[str, str]]:
        return select(self._store, name, bindings)

    def _unused_generation(self, record: ProjectRecord) -> int:
        # A crashed job may have left a half-loaded generation behind: never reuse one.
        generation = record.generation + 1
        while self._store.contains_named_graph(
            ox.NamedNode(self.minter.project_graph(record.iri, generation))
        ):
            generation += 1
        return generation

    @metrics.timed_publish("replace")
    def replace_project_graph(self, record: ProjectRecord, ntriples: Path) -> ProjectRecord:
        current = self.project(record.iri)
        generation = self._unused_generation(current or record)
        graph = self.minter.project_graph(record.iri, generation)
        audience = audience_of(self.minter, record)
        # Each bulk load keeps one core busy: loading the generation and the audience side
        # by side took 6.0 s where one after the other took 13.1 s (600k triples, 2 cores).
        with ThreadPoolExecutor(2) as pool:
            loads = [pool.submit(self._bulk_load, ntriples, ox.NamedNode(g)) for g in (graph, audience)]
            for load in loads:
                load.result()
        if current is not None:
            self._leave_audience(current, record)
        published = self._publish(
            record.evolve(graph=graph, generation=generation, audience=audience), checkpoint=False
        )
        if current is not None and current.graph:
            # Readers must not see the old generation's triples through the audience graph;
            # dropping the old graph itself can wait for garbage collection (it is slow).
            retract(self._store, current.graph, holders(self.minter, self.projects()))
        self.checkpoint()
        return published

    def _bulk_load(self, ntriples: Path, graph: ox.NamedNode) -> None:
        # One bulk_load of 600k triples peaks at 600 MB; chunks of ~30 MB of N-Triples keep
        # the peak near 170 MB and are no slower.
        with ntriples.open("rb") as data:
            rest = b""
            while block := data.read(BULK_CHUNK_BYTES):
                block, _, tail = (rest + block).rpartition(b"\n")
                self._store.bulk_load(block + b"\n", ox.RdfFormat.N_TRIPLES, to_graph=graph)
                rest = tail
            if rest.strip():
                self._store.bulk_load(rest, ox.RdfFormat.N_TRIPLES, to_graph=graph)

    @metrics.timed_publish("extend")
    def extend_project_graph(self, record: ProjectRecord, ntriples: Path) -> ProjectRecord:
        current = self.project(record.iri)
        if current is None or current.graph is None:
            return self.replace_project_graph(record, ntriples)
        graph = current.graph
        current = self._leave_audience(current, record)
        self._store.load(path=str(ntriples), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
        audience = self._join_audience(current, record, ntriples)
        return self._publish(record.evolve(graph=graph, generation=current.generation, audience=audience))

    def publish_record(self, record: ProjectRecord) -> ProjectRecord:
        return self._republish(record, checkpoint=True)

    def _republish(self, record: ProjectRecord, *, checkpoint: bool) -> ProjectRecord:
        current = self.project(record.iri)
        if current is not None:
            # Only the description changes: the live graph stays the one published.
            record = record.evolve(graph=current.graph, generation=current.generation)
            current = self._leave_audience(current, record)
        audience = self._join_audience(current, record, None)
        return self._publish(record.evolve(audience=audience), checkpoint=checkpoint)

    def remove_project(self, iri: str) -> bool:
        current = self.project(iri)
        if current is None:
            return False
        if current.audience:
            # as when leaving an audience: detached first, then its triples retracted
            self._publish(current.evolve(audience=None), checkpoint=False)
            if current.graph:
                keep = holders(self.minter, self.projects(), excluding=current.iri)
                retract(self._store, current.graph, {current.audience: keep.get(current.audience, set())})
        self._store.remove_graph(ox.NamedNode(self.minter.record_graph(iri)))
        del self._known()[iri]
        self.checkpoint()  # its live graph, pointed to by no record now, is garbage
        return True

    def merge_audiences(self) -> int:
        """Merge every project whose audience graph does not hold it yet (a job killed
        between detaching and publishing, a store written before audiences existed)."""
        pending = [r for r in self.projects() if r.audience != audience_of(self.minter, r)]
        for record in pending:
            # one checkpoint for all: each writes every record beside it (10,000 of them)
            self._republish(record, checkpoint=False)
        if pending:
            self.checkpoint()
        return len(pending)

    def _leave_audience(self, current: ProjectRecord, record: ProjectRecord) -> ProjectRecord:
        """Take a project out of its audience graph if `record` (its new visibility or
        members) puts it in another one."""
        audience = current.audience
        if audience is None or audience == audience_of(self.minter, record):
            return current
        # Detach first: if this dies half-way, the record says "not merged", which
        # `merge_audiences` repairs, instead of claiming a merge that is half retracted.
        detached = self._publish(current.evolve(audience=None), checkpoint=False)
        if current.graph:
            keep = holders(self.minter, self.projects(), excluding=current.iri)
            retract(self._store, current.graph, {audience: keep.get(audience, set())})
        return detached

    def _join_audience(
        self, current: ProjectRecord | None, record: ProjectRecord, increment: Path | None
    ) -> str:
        """Make `record`'s audience graph hold the project's live graph; its IRI."""
        audience = audience_of(self.minter, record)
        if current is None or current.graph is None:
            return audience
        if current.audience == audience:
            if increment is not None:
                self._store.load(
                    path=str(increment), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(audience)
                )
            return audience
        with tempfile.NamedTemporaryFile(dir=self.path.parent, suffix=".nt") as dump:
            self._store.dump(dump.name, ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(current.graph))
            self._bulk_load(Path(dump.name), ox.NamedNode(audience))
        return audience

    def _publish(self, record: ProjectRecord, *, checkpoint: bool = True) -> ProjectRecord:
        record, update = publish_update(self.minter, self.project(record.iri), record)
        self._store.update(update)
        self._known()[record.iri] = record
        if checkpoint:
            self.checkpoint()
        return record

    def collect_garbage(self) -> int:
        projects = self.projects()
        live = live_graphs(self.minter, projects)
        graphs = [g.value for g in self._store.named_graphs()]
        stale = [g for g in graphs if g not in live and not is_audience(self.minter, g)]
        keep = holders(self.minter, projects)
        # an audience graph no live project points to (its last member set changed) must empty
        keep.update({g: set() for g in graphs if is_audience(self.minter, g) and g not in keep})
        for graph in stale:
            # A dead generation may still be merged in an audience graph (replaced, or a
            # job killed half-way): its triples leave the audience before the graph goes.
            retract(self._store, graph, keep)
            self._store.remove_graph(ox.NamedNode(graph))
        for audience in [g for g in keep if not keep[g] and g in graphs]:
            self._store.remove_graph(ox.NamedNode(audience))
            stale.append(audience)
        if stale:
            self.checkpoint()
        return len(stale)

    def checkpoint(self) -> None:
        """Show readers the store as it is now (see `kg.store.checkpoints`)."""
        write_checkpoint(self._store, self.path, self.projects())

    def close(self) -> None:
        # pyoxigraph closes the database when the object is collected.
        del self._store
