"""The protocol client against real servers: round trips, caps, retries, errors, secrets."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from kg.errors import Forbidden, QueryError, QuerySyntaxError, QueryTooLarge, StoreUnavailable
from kg.store.sparql11 import OXIGRAPH, VIRTUOSO, Credentials, Endpoints, SparqlClient, Timeouts
from kg.store.sparql11.client import line_ranges
from tests.fixtures.sparqlservers import OxigraphServer, VirtuosoServer
from tests.store.sparql11.conftest import FAST, JSON, MB, Target, ntriples, open_client, values


def test_graph_round_trip(target: Target, graph_iri: str, tmp_path: Path) -> None:
    client = target.client
    client.put_graph(graph_iri, ntriples(tmp_path, ['<urn:s> <urn:p> "one" .', '<urn:s> <urn:p> "two" .']))
    client.post_graph(graph_iri, ntriples(tmp_path, ['<urn:s> <urn:p> "three" .']))
    answer = client.query(
        "SELECT ?o WHERE { ?s ?p ?o }", accept=JSON, max_bytes=MB, default_graphs=[graph_iri]
    )
    assert answer.media_type == JSON
    assert values(answer) == [("one",), ("three",), ("two",)]

    client.put_graph(graph_iri, ntriples(tmp_path, ['<urn:s> <urn:p> "four" .']))  # PUT replaces
    answer = client.query(
        "SELECT ?o WHERE { ?s ?p ?o }", accept=JSON, max_bytes=MB, default_graphs=[graph_iri]
    )
    assert values(answer) == [("four",)]

    client.delete_graph(graph_iri)
    client.delete_graph(graph_iri)  # gone already: not an error
    answer = client.query(
        "SELECT ?o WHERE { ?s ?p ?o }", accept=JSON, max_bytes=MB, default_graphs=[graph_iri]
    )
    assert values(answer) == []


def test_update_and_long_query_by_post(target: Target, graph_iri: str) -> None:
    target.client.update(f'INSERT DATA {{ GRAPH <{graph_iri}> {{ <urn:s> <urn:p> "x" }} }}')
    padding = "#" + "x" * 5000 + "\n"  # past the GET limit: sent as a form
    answer = target.client.query(
        padding + "SELECT ?o WHERE { ?s ?p ?o }", accept=JSON, max_bytes=MB, default_graphs=[graph_iri]
    )
    assert values(answer) == [("x",)]


def test_byte_cap_stops_reading(target: Target, graph_iri: str, tmp_path: Path) -> None:
    target.client.put_graph(
        graph_iri, ntriples(tmp_path, [f'<urn:s{i}> <urn:p> "{i}" .' for i in range(2000)])
    )
    query = "SELECT ?s ?o WHERE { ?s ?p ?o }"
    with pytest.raises(QueryTooLarge, match="larger than 10000 bytes"):
        target.client.query(query, accept=JSON, max_bytes=10_000, default_graphs=[graph_iri])
    assert (
        len(target.client.query(query, accept=JSON, max_bytes=MB, default_graphs=[graph_iri]).body) > 10_000
    )


def test_syntax_error_is_typed_bounded_and_not_retried(
    target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "kg.store.sparql11")
    started = time.monotonic()
    with pytest.raises(QuerySyntaxError) as raised:
        target.client.query(
            "SELECT * WHERE { ?s ?p }" + " " * 10_000, accept=JSON, max_bytes=MB, trusted=True
        )
    assert time.monotonic() - started < FAST.backoff  # no backoff happened
    assert not caplog.records  # no attempt was logged as failed-and-retried
    assert 0 < len(str(raised.value)) <= 500
    assert "SPARQL query:" not in str(raised.value)  # Virtuoso's echo of the query is cut


def test_caller_update_refused_before_sending(target: Target) -> None:
    with pytest.raises(Forbidden, match="read-only"):
        target.client.query("INSERT DATA { <urn:a> <urn:b> <urn:c> }", accept=JSON, max_bytes=MB)


def _restart_later(server: OxigraphServer | VirtuosoServer, seconds: float) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(seconds), server.start()))
    thread.start()
    return thread


@pytest.mark.parametrize("kind", ["oxigraph", "virtuoso"])
def test_killed_server_restarting_is_retried(kind: str, tmp_path: Path, graph_iri: str) -> None:
    server = OxigraphServer(tmp_path / kind) if kind == "oxigraph" else VirtuosoServer(tmp_path / kind)
    try:
        with open_client(server, Timeouts(connect=2, read=30, attempts=8, backoff=0.3)) as client:
            client.update(f'INSERT DATA {{ GRAPH <{graph_iri}> {{ <urn:s> <urn:p> "kept" }} }}')
            server.kill()
            restarted = _restart_later(server, 0.5)
            # sent while the server is down: refused connections, retried until it is back
            query = "SELECT ?o { ?s ?p ?o }"
            answer = client.query(query, accept=JSON, max_bytes=MB, default_graphs=[graph_iri])
            restarted.join()
            assert values(answer) == [("kept",)]
    finally:
        server.stop()


def test_down_server_is_store_unavailable_without_secrets(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, graph_iri: str
) -> None:
    caplog.set_level(logging.DEBUG)
    server = OxigraphServer(tmp_path / "gone")
    server.stop()
    secret = "s3cr3t-password-value"
    credentials = Credentials("kg", SecretStr(secret), for_queries=True)
    with SparqlClient(OXIGRAPH.endpoints(server.url), OXIGRAPH, credentials=credentials, timeouts=FAST) as c:
        with pytest.raises(StoreUnavailable) as raised:
            c.query("ASK {}", accept=JSON, max_bytes=MB, default_graphs=[graph_iri])
        assert str(raised.value) == f"the store at {server.url} does not answer; try again"
        with pytest.raises(StoreUnavailable):
            c.update("CLEAR SILENT GRAPH <urn:x>")
    assert len([r for r in caplog.records if r.name == "kg.store.sparql11"]) == 2 * FAST.attempts
    assert secret not in caplog.text and secret not in repr(raised.value) and secret not in repr(credentials)


def test_wrong_credentials_named_without_secret(
    virtuoso_server: VirtuosoServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "not-the-writers-password"
    credentials = Credentials(VirtuosoServer.WRITER, SecretStr(secret), scheme="digest")
    endpoints = VIRTUOSO.endpoints(virtuoso_server.url)
    with (
        SparqlClient(endpoints, VIRTUOSO, credentials=credentials, timeouts=FAST) as client,
        pytest.raises(QueryError, match=r"refused kg's credentials \(HTTP 401\)") as raised,
    ):
        client.update("CLEAR SILENT GRAPH <urn:x>")
    assert secret not in str(raised.value) and secret not in caplog.text


def test_anonymous_query_endpoint_is_read_only(
    virtuoso_server: VirtuosoServer, graph_iri: str, tmp_path: Path
) -> None:
    # kg's Virtuoso set-up: the anonymous /sparql user may not write, even if kg's own
    # refusal of caller updates were bypassed
    anonymous = Endpoints(
        virtuoso_server.url, virtuoso_server.url, virtuoso_server.store_url.removesuffix("-auth")
    )
    with SparqlClient(anonymous, VIRTUOSO, timeouts=FAST) as writer:
        with pytest.raises(QueryError, match=r"No permission to execute procedure DB.DBA.SPARQL_INSERT_DICT"):
            writer.update(f"INSERT DATA {{ GRAPH <{graph_iri}> {{ <urn:a> <urn:b> <urn:c> }} }}")
        with pytest.raises(QueryError, match=r"HTTP 403"):
            writer.put_graph(graph_iri, ntriples(tmp_path, ["<urn:a> <urn:b> <urn:c> ."]))


def test_a_large_upload_goes_in_parts_that_replace_then_add(
    target: Target, graph_iri: str, tmp_path: Path
) -> None:
    # parts of ~1 KB: the first replaces the graph (PUT), the others add to it
    parted = open_client(target.server, upload_bytes=1000)
    big = ntriples(tmp_path, [f'<urn:s{i}> <urn:p> "{i} é" .' for i in range(500)])
    assert len(line_ranges(big, 1000)) > 10
    try:
        parted.put_graph(graph_iri, ntriples(tmp_path, ['<urn:old> <urn:p> "gone" .']))
        parted.put_graph(graph_iri, big)
        answer = parted.query(
            "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
            accept=JSON,
            max_bytes=MB,
            default_graphs=[graph_iri],
        )
        assert values(answer) == [("500",)]
    finally:
        parted.delete_graph(graph_iri)
        parted.close()


def test_line_ranges_cut_at_line_ends(tmp_path: Path) -> None:
    path = ntriples(tmp_path, [f'<urn:s{i}> <urn:p> "{"x" * (i % 7)}" .' for i in range(100)])
    ranges = line_ranges(path, 64)
    data = path.read_bytes()
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    assert all(data[end - 1 : end] == b"\n" for _, end in ranges)
    assert line_ranges(path, None) == [(0, len(data))]
