"""kg's reader of a SPARQL server bounds a caller's query as the embedded store does: the server
stops it at the time limit, answers past the cap are refused, and what a server would run
but kg must not (SERVICE, Virtuoso's pragmas and built-ins) never reaches the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.access import Access
from kg.config import Settings
from kg.errors import InvalidInput, QueryTimeout, QueryTooLarge
from kg.iri import Minter
from kg.store import ProjectRecord, Reader, open_reader, open_store
from kg.store.reading import QueryRequest
from tests.fixtures.stores import as_fields, env_in_test
from tests.store.helpers import ntriples

CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f . ?g ?s ?h }"


def settings_on(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """kg on a server, with a 1 s time limit and a 64 KB cap on answers."""
    fields = as_fields(env_in_test(kind, request))
    return Settings(data_dir=tmp_path, sparql_timeout_seconds=1.0, sparql_max_result_bytes=65536, **fields)


def opened(settings: Settings, tmp_path: Path) -> Reader:
    """A reader of the server once a public project of 3,000 triples is on it."""
    store = open_store(settings)
    record = ProjectRecord(Minter(settings.base_iri).project("g/big"), "g/big", "big")
    store.replace_project_graph(record, ntriples(tmp_path / "big.nt", "big", 3000))
    store.close()
    return open_reader(settings)


@pytest.fixture(params=["oxigraph-server", "virtuoso"])
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Settings, Reader]]:
    settings = settings_on(request.param, request, tmp_path)
    reader = opened(settings, tmp_path)
    yield settings, reader
    reader.close()


@pytest.fixture
def virtuoso(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Reader]:
    reader = opened(settings_on("virtuoso", request, tmp_path), tmp_path)
    yield reader
    reader.close()


def ask(reader: Reader, query: str) -> bytes:
    return reader.answer(QueryRequest(query=query, accept="text/csv", access=Access())).body


def test_a_query_past_the_time_limit_is_stopped(remote: tuple[Settings, Reader]) -> None:
    _, reader = remote
    with pytest.raises(QueryTimeout):
        ask(reader, CROSS)
    assert ask(reader, "SELECT (COUNT(*) AS ?n) WHERE { ?s <https://kg.test/p> ?o }").split()[1] == b"3000"


def test_an_answer_past_the_cap_is_refused(remote: tuple[Settings, Reader]) -> None:
    _, reader = remote
    with pytest.raises(QueryTooLarge):
        ask(reader, "SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
    assert len(ask(reader, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 10").split()) == 11


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE SILENT ?x { ?s ?p ?o } }",
    ],
)
def test_service_never_reaches_the_server(remote: tuple[Settings, Reader], query: str) -> None:
    _, reader = remote
    with pytest.raises(InvalidInput, match="SERVICE"):
        ask(reader, query)


@pytest.mark.parametrize(
    "query",
    [
        'DEFINE get:soft "replace" SELECT * FROM <http://127.0.0.1:9/x> WHERE { ?s ?p ?o }',
        "SELECT (bif:http_get('http://127.0.0.1:9/') AS ?x) WHERE {}",
        "PREFIX b: <bif:> SELECT (b:sprintf('%s', 1) AS ?x) WHERE {}",
        "SELECT (<http://www.openlinksw.com/schemas/bif#http_get>('http://127.0.0.1:9/') AS ?x) WHERE {}",
    ],
)
def test_virtuoso_pragmas_and_built_ins_are_refused(virtuoso: Reader, query: str) -> None:
    with pytest.raises(InvalidInput):
        ask(virtuoso, query)
    assert ask(virtuoso, "SELECT (COUNT(*) AS ?n) WHERE { ?s <https://kg.test/p> ?o }").split()[1] == b"3000"
