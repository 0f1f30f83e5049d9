"""What every store promises, run on each store kg offers (embedded, Oxigraph server, Virtuoso):
publishing, replacing and extending a project's graph, what each caller's query reads, and
taking projects out. Readers are the `Reader` kg's routes use; writers the `Store` its worker uses."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.access import Access
from kg.config import Settings
from kg.errors import Forbidden, InvalidInput
from kg.iri import Minter
from kg.store import ProjectRecord, Reader, Store, open_reader, open_store
from kg.store.reading import QueryRequest
from tests.store.helpers import ntriples

ANONYMOUS, OUTSIDER, MEMBER = Access(), Access("99"), Access("7")
SUBJECTS = "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(STRSTARTS(STR(?s), 'https://kg.test/data/')) }"


@pytest.fixture
def store(any_store: Settings) -> Iterator[Store]:
    s = open_store(any_store)
    yield s
    s.close()


@pytest.fixture
def reader(any_store: Settings) -> Iterator[Reader]:
    r = open_reader(any_store)
    yield r
    r.close()


def record(settings: Settings, slug: str, visibility: str = "public", members: str = "7") -> ProjectRecord:
    return ProjectRecord(
        iri=Minter(settings.base_iri).project(slug),
        slug=slug,
        name=slug.rsplit("/")[-1],
        visibility=visibility,
        ingested_commit="c" * 40,
        members=tuple((m, 30) for m in members.split(",") if m),
    )


def data(tmp: Path, name: str, count: int, *extra: str) -> Path:
    """`count` triples about `https://kg.test/data/<name>/<i>`."""
    return ntriples(tmp / f"{name}.nt", f"data/{name}", count, *extra)


def rows(reader: Reader, query: str, access: Access | None = None, **kw: object) -> list[str]:
    answer = reader.answer(QueryRequest(query=query, accept="text/csv", access=access, **kw))  # type: ignore[arg-type]
    return sorted(r[0] for r in list(csv.reader(io.StringIO(answer.body.decode())))[1:])


def owners(reader: Reader, access: Access | None, query: str = SUBJECTS, **kw: object) -> set[str]:
    """Which projects' data (by the name in their subjects) a caller's query reads."""
    return {s.split("/")[-2] for s in rows(reader, query, access, **kw)}


def test_a_published_project_reads_back(
    any_store: Settings, store: Store, reader: Reader, tmp_path: Path
) -> None:
    published = store.replace_project_graph(record(any_store, "g/a"), data(tmp_path, "a", 3))
    assert published.generation >= 1 and published.graph and published.audience
    assert [r.slug for r in reader.records()] == ["g/a"]
    found = reader.records()[0]
    assert (found.graph, found.members, found.ingested_commit) == (published.graph, (("7", 30),), "c" * 40)
    assert rows(reader, SUBJECTS, ANONYMOUS) == [f"https://kg.test/data/a/{i}" for i in range(3)]
    graph = reader.export(published.graph, "application/n-triples").body.decode()
    assert graph.count("https://kg.test/data/a/") == 3


def test_replacing_shows_only_the_new_generation_and_the_old_one_is_collected(
    any_store: Settings, store: Store, reader: Reader, tmp_path: Path
) -> None:
    first = store.replace_project_graph(record(any_store, "g/a"), data(tmp_path, "a", 5))
    second = store.replace_project_graph(record(any_store, "g/a"), data(tmp_path, "a", 2))
    assert second.generation > first.generation and second.graph != first.graph
    assert rows(reader, SUBJECTS, ANONYMOUS) == [f"https://kg.test/data/a/{i}" for i in range(2)]
    assert store.collect_garbage() >= 1
    assert store.collect_garbage() == 0
    assert rows(reader, SUBJECTS, ANONYMOUS) == [f"https://kg.test/data/a/{i}" for i in range(2)]


def test_extending_adds_to_the_live_generation(
    any_store: Settings, store: Store, reader: Reader, tmp_path: Path
) -> None:
    first = store.replace_project_graph(record(any_store, "g/a"), data(tmp_path, "a", 2))
    more = ntriples(
        tmp_path / "more.nt", "data/a", 0, '<https://kg.test/data/a/new> <https://kg.test/p> "n" .\n'
    )
    extended = store.extend_project_graph(record(any_store, "g/a"), more)
    assert (extended.graph, extended.generation) == (first.graph, first.generation)
    assert len(rows(reader, SUBJECTS, ANONYMOUS)) == 3
    assert store.collect_garbage() == 0  # no staging graph left behind


@pytest.fixture
def three(any_store: Settings, store: Store, tmp_path: Path) -> dict[str, ProjectRecord]:
    """A public, an internal and a private project (member 7); they share one triple."""
    shared = '<https://kg.test/data/shared/0> <https://kg.test/p> "s" .\n'
    return {
        v: store.replace_project_graph(record(any_store, f"g/{v}", v), data(tmp_path, v, 2, shared))
        for v in ("public", "internal", "private")
    }


def test_each_caller_reads_what_they_may(three: dict[str, ProjectRecord], reader: Reader) -> None:
    assert owners(reader, ANONYMOUS) == {"public", "shared"}
    assert owners(reader, OUTSIDER) == {"public", "internal", "shared"}
    assert owners(reader, MEMBER) == {"public", "internal", "private", "shared"}
    assert owners(reader, None) == {"public", "internal", "private", "shared"}  # kg's own tools
    # rows are not repeated for a triple two readable projects share
    assert rows(reader, SUBJECTS, MEMBER).count("https://kg.test/data/shared/0") == 1


def test_ask_answers_in_standard_json(three: dict[str, ProjectRecord], reader: Reader) -> None:
    def ask(subject: str, access: Access) -> bool:
        query = f"ASK {{ <https://kg.test/data/{subject}/0> ?p ?o }}"
        answer = reader.answer(
            QueryRequest(query=query, accept="application/sparql-results+json", access=access)
        )
        return bool(json.loads(answer.body)["boolean"])

    assert (ask("public", ANONYMOUS), ask("private", ANONYMOUS), ask("private", MEMBER)) == (
        True,
        False,
        True,
    )


def test_no_dataset_a_query_names_widens_what_it_reads(
    three: dict[str, ProjectRecord], reader: Reader
) -> None:
    private = three["private"].graph or ""
    named = f"SELECT DISTINCT ?s FROM <{private}> WHERE {{ ?s ?p ?o }}"
    assert rows(reader, named, ANONYMOUS) == []
    assert owners(reader, MEMBER, named) >= {"private"}
    from_named = f"SELECT DISTINCT ?s FROM NAMED <{private}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert rows(reader, from_named, ANONYMOUS) == []
    graphs = "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o } FILTER(CONTAINS(STR(?s), '/data/')) }"
    assert owners(reader, ANONYMOUS, graphs) == {"public", "shared"}
    explicit = f"SELECT DISTINCT ?s WHERE {{ GRAPH <{private}> {{ ?s ?p ?o }} }}"
    assert rows(reader, explicit, OUTSIDER) == []
    assert rows(reader, SUBJECTS, ANONYMOUS, default_graphs=(private,)) == []
    assert rows(reader, SUBJECTS, ANONYMOUS, named_graphs=(private,)) == []


def test_updates_and_service_never_reach_the_store(three: dict[str, ProjectRecord], reader: Reader) -> None:
    with pytest.raises(Forbidden):
        rows(reader, "DELETE WHERE { ?s ?p ?o }", MEMBER)
    with pytest.raises(InvalidInput, match="SERVICE"):
        rows(reader, "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", MEMBER)
    assert owners(reader, MEMBER) == {"public", "internal", "private", "shared"}


def test_a_project_made_private_leaves_what_strangers_read(
    any_store: Settings, three: dict[str, ProjectRecord], store: Store, reader: Reader
) -> None:
    store.publish_record(three["public"].evolve(visibility="private"))
    assert owners(reader, ANONYMOUS) == set()
    assert owners(reader, OUTSIDER) == {"internal", "shared"}  # the internal project has it too
    assert owners(reader, MEMBER) == {"public", "internal", "private", "shared"}
    store.publish_record(three["internal"].evolve(members=(("8", 30),), visibility="private"))
    assert owners(reader, MEMBER) == {"public", "private", "shared"}
    assert owners(reader, Access("8")) == {"internal", "shared"}
    assert store.merge_audiences() == 0


def test_a_removed_project_is_gone(three: dict[str, ProjectRecord], store: Store, reader: Reader) -> None:
    assert store.remove_project(three["public"].iri)
    assert not store.remove_project(three["public"].iri)
    assert [r.slug for r in reader.records()] == ["g/internal", "g/private"]
    assert owners(reader, ANONYMOUS) == set()
    assert owners(reader, MEMBER) == {"internal", "private", "shared"}
    assert store.collect_garbage() >= 1
    assert owners(reader, MEMBER) == {"internal", "private", "shared"}


def test_readers_read_the_records_the_writer_wrote(
    three: dict[str, ProjectRecord], store: Store, reader: Reader
) -> None:
    assert reader.records() == store.projects() == sorted(three.values(), key=lambda r: r.slug)
