"""FACTS: how each server stops a query at its time limit or row cap, and that the
profiles turn each way of stopping into a typed error instead of a short answer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kg.errors import QueryTimeout, QueryTooLarge
from kg.store.sparql11 import Timeouts
from tests.fixtures.sparqlservers import OxigraphServer, VirtuosoServer
from tests.store.sparql11.conftest import JSON, MB, ntriples, open_client, values

COUNT_3_WAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a <urn:kg-test:big-p> ?x . ?b <urn:kg-test:big-p> ?y . ?c <urn:kg-test:big-p> ?z }"
"""3,000 triples: 2.7e10 rows to count, minutes of work on either server."""
SLOW_2_WAY = (
    "SELECT (COUNT(*) AS ?n) WHERE { ?a <urn:kg-test:big-p> ?x . ?b <urn:kg-test:big-p> ?y "
    'FILTER(REGEX(CONCAT(?x, "-", ?y), "^z")) }'
)
"""9e6 regular expressions: ~27 s on Virtuoso, yet estimated cheap (a 3-way join's
estimate varies with the data around it and may be refused by cost instead)."""
ROWS_2_WAY = "SELECT ?a WHERE { ?a <urn:kg-test:big-p> ?x . ?b <urn:kg-test:big-p> ?y } LIMIT {limit}"


def _big(tmp_path: Path) -> Path:
    return ntriples(tmp_path, [f'<urn:s{i}> <urn:kg-test:big-p> "{i}" .' for i in range(3000)])


@pytest.fixture
def slow_oxigraph(tmp_path: Path) -> Iterator[OxigraphServer]:
    """An `oxigraph serve --timeout-s 1` holding the 3,000 triples in graph urn:big."""
    server = OxigraphServer(tmp_path / "oxigraph", timeout_s=1)
    with open_client(server) as client:
        client.put_graph("urn:big", _big(tmp_path))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def big_virtuoso(virtuoso_server: VirtuosoServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The 3,000 triples in a graph of the session's Virtuoso; its IRI."""
    with open_client(virtuoso_server) as client:
        client.put_graph("urn:kg-test:big", _big(tmp_path_factory.mktemp("big")))
    return "urn:kg-test:big"


def test_oxigraph_timeout_answers_200_then_cut_short(slow_oxigraph: OxigraphServer) -> None:
    raw = httpx.post(
        f"{slow_oxigraph.url}/query",
        data={"query": COUNT_3_WAY, "default-graph-uri": "urn:big"},
        headers={"Accept": JSON},
        timeout=30,
    )
    assert raw.status_code == 200
    assert raw.content.endswith(b'"bindings":[The SPARQL operation has been cancelled')
    with open_client(slow_oxigraph) as client, pytest.raises(QueryTimeout, match="--timeout-s"):
        client.query(COUNT_3_WAY, accept=JSON, max_bytes=MB, default_graphs=["urn:big"])


def test_virtuoso_timeout_answers_200_with_partial_result(
    virtuoso_server: VirtuosoServer, big_virtuoso: str
) -> None:
    raw = httpx.post(
        virtuoso_server.url,
        data={"query": SLOW_2_WAY, "default-graph-uri": big_virtuoso, "timeout": "1000"},
        headers={"Accept": JSON},
        timeout=30,
    )
    assert raw.status_code == 200, raw.text  # an "anytime" answer: what it had, here no row at all
    assert raw.headers["x-sql-state"] == "S1TAT"
    assert raw.json()["results"]["bindings"] == []
    with (
        open_client(virtuoso_server) as client,
        pytest.raises(QueryTimeout, match="partial answer is dropped"),
    ):
        client.query(SLOW_2_WAY, accept=JSON, max_bytes=MB, default_graphs=[big_virtuoso], timeout_seconds=1)


def test_virtuoso_refuses_by_estimated_cost(tmp_path: Path) -> None:
    # MaxQueryCostEstimationTime (400 s here, Virtuoso's default; off in kg's test server):
    # refused before running, as a 500
    server = VirtuosoServer(tmp_path / "estimating", max_estimate=400)
    query = "SELECT * WHERE { ?a <urn:kg-test:big-p> ?w . ?b <urn:kg-test:big-p> ?x . ?c <urn:kg-test:big-p> ?y . ?d <urn:kg-test:big-p> ?z }"
    try:
        with open_client(server) as client:
            client.put_graph("urn:kg-test:big", _big(tmp_path))
            with pytest.raises(
                QueryTimeout, match=r"estimated execution time \d+ \(sec\) exceeds the limit of 400"
            ):
                client.query(
                    query, accept=JSON, max_bytes=MB, default_graphs=["urn:kg-test:big"], timeout_seconds=1
                )
    finally:
        server.stop()


def test_virtuoso_row_cap_truncates_silently_but_says_so(
    virtuoso_server: VirtuosoServer, big_virtuoso: str
) -> None:
    raw = httpx.post(
        virtuoso_server.url,
        data={"query": ROWS_2_WAY.replace("{limit}", "20000"), "default-graph-uri": big_virtuoso},
        headers={"Accept": JSON},
        timeout=30,
    )
    assert raw.status_code == 200
    assert len(raw.json()["results"]["bindings"]) == 10_000  # ResultSetMaxRows, not the LIMIT
    assert raw.headers["x-sparql-maxrows"] == "10000"
    with open_client(virtuoso_server) as client:
        with pytest.raises(QueryTooLarge, match="row cap"):
            client.query(
                ROWS_2_WAY.replace("{limit}", "20000"),
                accept=JSON,
                max_bytes=4 * MB,
                default_graphs=[big_virtuoso],
            )
        under = client.query(
            ROWS_2_WAY.replace("{limit}", "9999"),
            accept=JSON,
            max_bytes=4 * MB,
            default_graphs=[big_virtuoso],
        )
        assert len(values(under)) == 9999  # under the cap: no header, no error


def test_silent_store_is_query_timeout_not_retried(slow_oxigraph: OxigraphServer) -> None:
    # kg's read timeout below the server's own: kg gives up first, and does not resend
    timeouts = Timeouts(connect=2, read=0.3, attempts=3, backoff=5)
    started = time.monotonic()
    with (
        open_client(slow_oxigraph, timeouts) as client,
        pytest.raises(QueryTimeout, match=r"sent nothing for 0\.3 s"),
    ):
        client.query(COUNT_3_WAY, accept=JSON, max_bytes=MB, default_graphs=["urn:big"])
    assert time.monotonic() - started < timeouts.backoff
