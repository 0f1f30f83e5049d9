"""The embedded store: generations, atomic publishing, garbage collection."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.config import Settings
from kg.errors import StoreBusy
from kg.iri import Minter
from kg.store import ProjectRecord
from kg.store.oxigraph import OxigraphStore, Snapshot
from kg.store.reading import QueryRequest
from tests.store.helpers import ntriples


def record(minter: Minter, slug: str = "group/Projekt ü", **kw: object) -> ProjectRecord:
    return ProjectRecord(
        iri=minter.project(slug),
        slug=slug,
        name=slug.rsplit("/")[-1],
        ingested_commit="c" * 40,
        **kw,
    )  # type: ignore[arg-type]


def count(snapshot: Snapshot, query: str) -> int:
    body = snapshot.answer(QueryRequest(query=query, accept="text/csv")).body.decode()
    return int(body.splitlines()[1])


def test_records_round_trip(store: OxigraphStore, tmp_path: Path) -> None:
    rec = record(store.minter, visibility="private", gitlab_id=7, triples=3)
    published = store.replace_project_graph(rec, ntriples(tmp_path / "a.nt", "a", 3))
    assert store.project(rec.iri) == published
    assert published.generation == 1
    assert published.graph == store.minter.project_graph(rec.iri, 1)
    assert (published.visibility, published.gitlab_id, published.slug) == ("private", 7, rec.slug)
    assert store.projects() == [published]


def test_replacing_publishes_a_new_generation_and_gc_drops_the_old(
    store: OxigraphStore, settings: Settings, tmp_path: Path
) -> None:
    rec = record(store.minter)
    store.replace_project_graph(rec, ntriples(tmp_path / "a.nt", "a", 10))
    second = store.replace_project_graph(rec, ntriples(tmp_path / "b.nt", "b", 4))
    assert second.generation == 2
    reader = Snapshot(settings.store_path, store.minter, 10**6)
    # The old generation is still on disk but no reader sees it.
    assert count(reader, "SELECT (COUNT(*) AS ?n) { ?s <https://kg.test/p> ?o }") == 4
    assert store.collect_garbage() == 1
    names = {g.value for g in store.raw.named_graphs()}
    assert names == {second.graph, store.minter.record_graph(rec.iri), store.minter.audience_graph("public")}


def test_a_half_loaded_generation_is_invisible_and_never_reused(
    store: OxigraphStore, settings: Settings, tmp_path: Path
) -> None:
    rec = record(store.minter)
    first = store.replace_project_graph(rec, ntriples(tmp_path / "a.nt", "a", 10))
    # What a job killed during its bulk load leaves behind: part of generation 2.
    leftover = store.minter.project_graph(rec.iri, 2)
    store.raw.bulk_load(
        ntriples(tmp_path / "half.nt", "half", 5).read_bytes(),
        ox.RdfFormat.N_TRIPLES,
        to_graph=ox.NamedNode(leftover),
    )
    reader = Snapshot(settings.store_path, store.minter, 10**6)
    assert count(reader, "SELECT (COUNT(*) AS ?n) { ?s <https://kg.test/p> ?o }") == 10
    assert count(reader, "SELECT (COUNT(DISTINCT ?g) AS ?n) { GRAPH ?g { ?s ?p ?o } }") == 2
    assert store.project(rec.iri) == first
    third = store.replace_project_graph(rec, ntriples(tmp_path / "c.nt", "c", 2))
    assert third.generation == 3
    assert store.collect_garbage() == 2


def test_extending_adds_to_the_current_generation(store: OxigraphStore, tmp_path: Path) -> None:
    rec = record(store.minter)
    first = store.replace_project_graph(rec, ntriples(tmp_path / "a.nt", "a", 3))
    extended = store.extend_project_graph(
        rec.evolve(ingested_commit="d" * 40), ntriples(tmp_path / "b.nt", "b", 2)
    )
    assert extended.graph == first.graph
    assert extended.ingested_commit == "d" * 40
    assert len(list(store.raw.quads_for_pattern(None, None, None, ox.NamedNode(first.graph)))) == 5


def test_a_reader_snapshot_is_refreshed_after_publishing(
    store: OxigraphStore, settings: Settings, tmp_path: Path
) -> None:
    reader = Snapshot(settings.store_path, store.minter, 10**6)
    query = "SELECT (COUNT(*) AS ?n) { ?s <https://kg.test/p> ?o }"
    assert count(reader, query) == 0
    store.replace_project_graph(record(store.minter), ntriples(tmp_path / "a.nt", "a", 3))
    assert count(reader, query) == 3


def test_a_second_writer_is_refused(store: OxigraphStore, settings: Settings) -> None:
    with pytest.raises(StoreBusy, match="another process"):
        OxigraphStore(settings.store_path, store.minter)
