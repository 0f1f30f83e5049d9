"""What a writer of a SPARQL server does that the embedded writer (one process, locked) need
not: notice what another writer did."""

from __future__ import annotations

import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.config import Settings
from kg.iri import Minter
from kg.store import ProjectRecord, open_store
from tests.store.helpers import ntriples
from tests.store.sparql11.test_reader import settings_on


@pytest.mark.parametrize("kind", ["oxigraph-server", "virtuoso"])
def test_a_writer_sees_what_another_wrote(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    settings: Settings = settings_on(kind, request, tmp_path)
    first, second = open_store(settings), open_store(settings)
    try:
        record = ProjectRecord(Minter(settings.base_iri).project("g/a"), "g/a", "a")
        published = first.replace_project_graph(record, ntriples(tmp_path / "a.nt", "a", 2))
        time.sleep(1.1)  # a writer asks at most once a second whether another has written
        assert second.project(record.iri) == published
        assert second.remove_project(record.iri)
        time.sleep(1.1)
        assert first.project(record.iri) is None
        again = first.replace_project_graph(record, ntriples(tmp_path / "b.nt", "b", 1))
        assert again.generation > published.generation  # never reuses a generation
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("kind", ["oxigraph-server", "virtuoso"])
def test_what_a_dead_writer_left_is_collected_and_nothing_else(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    settings: Settings = settings_on(kind, request, tmp_path)
    minter = Minter(settings.base_iri)
    record = ProjectRecord(minter.project("g/a"), "g/a", "a")
    first = open_store(settings)
    live = first.replace_project_graph(record, ntriples(tmp_path / "a.nt", "a", 2)).graph
    half = minter.project_graph(record.iri, 7)  # a load a killed writer never published
    foreign = f"urn:not-kg:{tmp_path.name}"  # another application's graph on the same server
    for graph in (half, foreign):
        first.client.put_graph(graph, ntriples(tmp_path / "x.nt", "x", 1))  # type: ignore[attr-defined]
    first.close()
    second = open_store(settings)
    try:
        assert second.collect_garbage() == 1
        graphs = {r["graph"] for r in second.select("graph_exists.rq", {"graph": ox.NamedNode(half)})}
        assert graphs == set()
        assert second.select("graph_exists.rq", {"graph": ox.NamedNode(foreign)})
        assert second.select("graph_exists.rq", {"graph": ox.NamedNode(live or "")})
    finally:
        second.close()
