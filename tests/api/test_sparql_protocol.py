"""The SPARQL 1.1 Protocol over HTTP, against a real `kg serve`, with real SPARQL clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, TURTLE, SPARQLWrapper

from kg.demo import build_demo_repository
from tests.fixtures.servers import KgServer, kg_ingest

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sparql"
KG = "https://w3id.org/kg/ontology#"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
COMMITS = f"SELECT ?c ?label WHERE {{ ?c a <{KG}Commit> ; <{LABEL}> ?label }} ORDER BY ?label"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KgServer]:
    root = tmp_path_factory.mktemp("sparql")
    data = root / "kg"
    repo = build_demo_repository(root / "demo")
    kg_ingest(data, repo, "demo/rainfall")
    s = KgServer(data, {"KG_SPARQL_TIMEOUT_SECONDS": "2", "KG_SPARQL_WORKERS": "2"})
    yield s
    s.stop()


@pytest.fixture
def client(server: KgServer) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def labels_from_json(body: dict[str, object]) -> list[str]:
    return [b["label"]["value"] for b in body["results"]["bindings"]]  # type: ignore[index]


def test_get_post_form_and_direct_post_agree(client: httpx.Client) -> None:
    accept = {"Accept": "application/sparql-results+json"}
    get = client.get("/sparql", params={"query": COMMITS}, headers=accept)
    form = client.post("/sparql", data={"query": COMMITS}, headers=accept)
    direct = client.post(
        "/sparql", content=COMMITS, headers={**accept, "Content-Type": "application/sparql-query"}
    )
    assert get.status_code == form.status_code == direct.status_code == 200
    assert get.headers["content-type"] == "application/sparql-results+json; charset=utf-8"
    assert labels_from_json(get.json()) == labels_from_json(form.json()) == labels_from_json(direct.json())
    assert len(labels_from_json(get.json())) == 6


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
    ],
)
def test_result_formats_by_accept(client: httpx.Client, accept: str, media: str) -> None:
    r = client.get("/sparql", params={"query": COMMITS}, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media)
    assert "Start the analysis project" in r.text


@pytest.mark.parametrize(
    "media", ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"]
)
def test_construct_formats_by_accept(client: httpx.Client, media: str) -> None:
    query = f"CONSTRUCT {{ ?c a <{KG}Commit> }} WHERE {{ ?c a <{KG}Commit> }}"
    r = client.get("/sparql", params={"query": query}, headers={"Accept": media})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media)
    fmt = {
        "text/turtle": "turtle",
        "application/n-triples": "nt",
        "application/ld+json": "json-ld",
        "application/rdf+xml": "xml",
    }[media]
    assert len(Graph().parse(data=r.text, format=fmt)) == 6


def test_sparqlwrapper(server: KgServer) -> None:
    wrapper = SPARQLWrapper(f"{server.url}/sparql")
    wrapper.setQuery(COMMITS)
    wrapper.setReturnFormat(JSON)
    result = wrapper.query().convert()
    assert len(result["results"]["bindings"]) == 6  # type: ignore[index,call-overload]
    wrapper.setReturnFormat(CSV)
    assert b"Plot monthly rainfall" in wrapper.query().convert()  # type: ignore[operator]
    wrapper.setMethod("POST")
    wrapper.setReturnFormat(JSON)
    assert len(wrapper.query().convert()["results"]["bindings"]) == 6  # type: ignore[index,call-overload]
    wrapper.setQuery(f"CONSTRUCT {{ ?c a <{KG}Commit> }} WHERE {{ ?c a <{KG}Commit> }}")
    wrapper.setReturnFormat(TURTLE)
    assert len(Graph().parse(data=wrapper.query().convert(), format="turtle")) == 6  # type: ignore[arg-type]


def test_rdflib_sparqlstore(server: KgServer) -> None:
    store = SPARQLStore(f"{server.url}/sparql")
    graph = Graph(store=store)
    rows = list(graph.query(COMMITS))
    assert len(rows) == 6
    commit_type = URIRef(KG + "Commit")
    assert len(list(graph.triples((None, None, commit_type)))) == 6
    store.close()


def test_updates_are_refused(client: httpx.Client) -> None:
    update = "INSERT DATA { <urn:a> <urn:b> <urn:c> }"
    for response in (
        client.post("/sparql", data={"update": update}),
        client.post("/sparql", content=update, headers={"Content-Type": "application/sparql-update"}),
        client.get("/sparql", params={"query": update}),
    ):
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert "read-only" in response.json()["detail"]
    ask = client.get(
        "/sparql", params={"query": "ASK { <urn:a> ?p ?o }"}, headers={"Accept": "application/json"}
    )
    assert ask.json()["boolean"] is False


@pytest.mark.parametrize(
    ("params", "status", "text"),
    [
        ({"query": "SELECT ?x WHERE { ?x }"}, 400, "error at"),
        ({}, 400, "query: Field required"),
        ({"query": "SELECT * { ?s ?p ?o }", "format": "yaml"}, 400, "unsupported result format"),
    ],
)
def test_bad_requests(client: httpx.Client, params: dict[str, str], status: int, text: str) -> None:
    r = client.get("/sparql", params=params)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    assert text in r.json()["detail"]


def test_not_acceptable(client: httpx.Client) -> None:
    r = client.get("/sparql", params={"query": COMMITS}, headers={"Accept": "image/png"})
    assert r.status_code == 406


def test_a_crashing_query_costs_one_500_and_the_service_stays_up(client: httpx.Client) -> None:
    crash = (FIXTURES / "order_by_mixed_types.rq").read_text()
    r = client.post("/sparql", content=crash, headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 500
    assert r.json()["title"] == "QueryCrashed"
    assert client.get("/health").status_code == 200
    assert client.get("/sparql", params={"query": COMMITS}).status_code == 200


def test_a_runaway_query_is_stopped_with_503(client: httpx.Client) -> None:
    values = " ".join(str(i) for i in range(2000))
    blocks = " ".join(f"VALUES ?{v} {{ {values} }}" for v in "abc")
    endless = f"SELECT (COUNT(*) AS ?n) {{ {blocks} }}"
    r = client.post("/sparql", data={"query": endless})
    assert r.status_code == 503
    assert "stopped after 2s" in r.json()["detail"]
    assert client.get("/sparql", params={"query": COMMITS}).status_code == 200


def test_ops_endpoints(client: httpx.Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert (ready.json()["status"], ready.json()["worker"]) == ("ok", True), ready.json()
    assert set(ready.json()["checks"]) == {"worker", "eventLog", "store", "searchIndex", "network"}
    assert client.get("/version").json()["name"] == "kg"
    assert "/sparql" in client.get("/spec.json").json()["paths"]
    assert client.get("/metrics").status_code == 200
    missing = client.get("/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("text/html,application/xhtml+xml", "text/html"),
        ("text/turtle", "text/turtle"),
        ("application/ld+json", "application/ld+json"),
        ("", "text/turtle"),
    ],
)
def test_ontology_by_content_negotiation(client: httpx.Client, accept: str, media: str) -> None:
    r = client.get("/ontology", headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media)
    if media == "text/html":
        assert "kg:Run" in r.text
    else:
        fmt = {"text/turtle": "turtle", "application/ld+json": "json-ld"}[media]
        terms = {str(s) for s in Graph().parse(data=r.text, format=fmt).subjects()}
        assert "https://w3id.org/kg/ontology#Run" in terms
    assert client.get("/ontology/shapes").headers["content-type"].startswith("text/turtle")
    assert "@context" in client.get("/ontology/context.jsonld").json()
