"""FACTS: which query text makes each server call out to the network, observed with a
listener on 127.0.0.1; and that kg refuses that text before the server sees it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from kg.errors import InvalidInput, QueryError
from kg.store.sparql11 import SparqlClient
from tests.fixtures.sparqlservers import VirtuosoServer
from tests.store.sparql11.conftest import JSON, MB, Target, open_client


class _Listener(BaseHTTPRequestHandler):
    hits: list[str]

    def _answer(self) -> None:
        self.hits.append(f"{self.command} {self.path}")
        self.send_response(200)
        self.send_header("Content-Type", "text/turtle")
        self.end_headers()
        self.wfile.write(b"<urn:x> <urn:y> <urn:z> .")

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 recording every request: (its URL, the requests)."""
    hits: list[str] = []
    handler = type("Recording", (_Listener,), {"hits": hits})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def _raw(client: SparqlClient, query: str) -> str:
    """Send `query` as kg's own (unchecked) query; the error text, or "answered"."""
    try:
        client.query(query, accept=JSON, max_bytes=MB, trusted=True)
    except QueryError as exc:
        return str(exc)
    return "answered"


def test_service(target: Target, listener: tuple[str, list[str]]) -> None:
    url, hits = listener
    query = f"SELECT * WHERE {{ SERVICE <{url}/service> {{ ?s ?p ?o }} }}"
    outcome = _raw(target.client, query)
    if target.name == "oxigraph":
        assert hits == ["POST /service"]  # oxigraph serve calls out
    else:
        assert hits == []  # Virtuoso's anonymous user may not
        assert "Must have select privileges on view DB.DBA.SPARQL_SINV_2" in outcome
    hits.clear()
    with pytest.raises(InvalidInput, match="SERVICE is not allowed"):
        target.client.query(query, accept=JSON, max_bytes=MB)
    assert hits == []


# what Virtuoso's anonymous user can do with its extensions: (query, does it call out?,
# its answer); all refused by kg either way
VIRTUOSO_EXTENSIONS = {
    "bif:http_get": ("SELECT (bif:http_get('{url}/bif') AS ?x) WHERE {{}}", True, "answered"),
    "<bif:http_get>": ("SELECT (<bif:http_get>('{url}/bif') AS ?x) WHERE {{}}", True, "answered"),
    "bif: as a declared prefix": (
        "PREFIX b: <bif:> SELECT (b:http_get('{url}/bif') AS ?x) WHERE {{}}",
        True,
        "answered",
    ),
    "DEFINE get:soft": (
        'DEFINE get:soft "replace" SELECT * FROM <{url}/soft> WHERE {{ ?s ?p ?o }}',
        False,
        "No permission to execute procedure DB.DBA.RDF_SPONGE_UP",
    ),
    "define input:grab-all": (
        'define input:grab-all "yes" SELECT * WHERE {{ <{url}/grab> ?p ?o }}',
        False,
        "No permission to execute procedure DB.DBA.RDF_GRAB",
    ),
    "bif:file_to_string": (
        "SELECT (bif:file_to_string('/etc/passwd') AS ?x) WHERE {{}}",
        False,
        "cannot be used in text of SPARQL query due to security restrictions",
    ),
    "sql:": (
        "SELECT (sql:RDF_GRAPH_USER_PERMS_GET('urn:x', 'SPARQL') AS ?x) WHERE {{}}",
        False,
        "No permission",
    ),
}


@pytest.mark.parametrize("name", VIRTUOSO_EXTENSIONS)
def test_virtuoso_extensions(
    virtuoso_server: VirtuosoServer, listener: tuple[str, list[str]], name: str
) -> None:
    url, hits = listener
    client = open_client(virtuoso_server)
    template, calls_out, outcome = VIRTUOSO_EXTENSIONS[name]
    query = template.format(url=url)
    assert outcome in _raw(client, query)
    assert bool(hits) == calls_out
    hits.clear()
    with client, pytest.raises(InvalidInput, match="not allowed"):
        client.query(query, accept=JSON, max_bytes=MB)
    assert hits == []


def test_define_in_a_string_is_not_refused(target: Target) -> None:
    # a caller searching for the words: only the keyword and the functions are refused
    query = "SELECT * WHERE { ?s ?p ?o FILTER(CONTAINS(STR(?o), 'define bif:x')) } LIMIT 1"
    answer = target.client.query(query, accept=JSON, max_bytes=MB, default_graphs=["urn:kg-test:none"])
    assert answer.media_type == JSON
