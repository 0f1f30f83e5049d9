"""Answering queries: formats, datasets, refusals, limits."""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox
import pytest

from kg.config import Settings
from kg.errors import Forbidden, InvalidInput, QuerySyntaxError, QueryTooLarge
from kg.iri import Minter
from kg.store.oxigraph import Snapshot
from kg.store.reading import QueryRequest

LABELS = "SELECT ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY ?l"


@pytest.fixture
def snapshot(settings: Settings, published: dict[str, str]) -> Snapshot:
    return Snapshot(settings.store_path, Minter(settings.base_iri), 1_000_000)


def labels(snapshot: Snapshot, query: str = LABELS, **kw: object) -> list[str]:
    answer = snapshot.answer(QueryRequest(query=query, accept="text/csv", **kw))  # type: ignore[arg-type]
    return [row["l"] for row in csv.DictReader(io.StringIO(answer.body.decode()))]


def test_the_default_graph_is_the_union_of_published_graphs(snapshot: Snapshot) -> None:
    assert labels(snapshot) == ["Alpha", "Beta"]


@pytest.mark.parametrize(
    ("accept", "fmt", "media"),
    [
        ("application/sparql-results+json", None, "application/sparql-results+json"),
        ("application/json", None, "application/sparql-results+json"),
        ("application/sparql-results+xml", None, "application/sparql-results+xml"),
        ("text/tab-separated-values", None, "text/tab-separated-values"),
        ("text/csv;q=0.2, application/sparql-results+xml", None, "application/sparql-results+xml"),
        ("*/*", None, "application/sparql-results+json"),
        ("", "csv", "text/csv"),
        ("text/html", "json", "application/sparql-results+json"),
    ],
)
def test_select_results_are_negotiated(snapshot: Snapshot, accept: str, fmt: str | None, media: str) -> None:
    answer = snapshot.answer(QueryRequest(query=LABELS, accept=accept, format=fmt))
    assert answer.media_type == media
    if media == "text/csv":  # lossy: pyoxigraph does not parse it back
        assert answer.body.decode().split() == ["l", "Alpha", "Beta"]
        return
    parsed = ox.parse_query_results(answer.body, ox.QueryResultsFormat.from_media_type(media))
    assert isinstance(parsed, ox.QuerySolutions)
    assert [str(s["l"].value) for s in parsed] == ["Alpha", "Beta"]


@pytest.mark.parametrize(
    "media", ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"]
)
def test_construct_results_are_negotiated(snapshot: Snapshot, media: str) -> None:
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s <https://kg.test/n> ?o . ?s ?p ?o }"
    answer = snapshot.answer(QueryRequest(query=query, accept=media))
    assert answer.media_type == media
    triples = list(ox.parse(answer.body, ox.RdfFormat.from_media_type(media)))
    assert {t.subject.value for t in triples} == {"https://kg.test/Alpha", "https://kg.test/Beta"}


def test_ask_and_unacceptable_types(snapshot: Snapshot) -> None:
    answer = snapshot.answer(QueryRequest(query="ASK { ?s ?p ?o }", accept="application/json"))
    assert json.loads(answer.body)["boolean"] is True
    with pytest.raises(InvalidInput, match="not acceptable"):
        snapshot.answer(QueryRequest(query=LABELS, accept="image/png"))


def test_from_and_from_named_select_the_dataset(snapshot: Snapshot, published: dict[str, str]) -> None:
    alpha, beta = published["Alpha"], published["Beta"]
    assert labels(snapshot, LABELS.replace("WHERE", f"FROM <{alpha}> WHERE")) == ["Alpha"]
    named = f"SELECT ?l FROM NAMED <{beta}> WHERE {{ GRAPH ?g {{ ?s ?p ?l }} }} ORDER BY ?l"
    assert "Beta" in labels(snapshot, named)
    assert "Alpha" not in labels(snapshot, named)
    # protocol parameters override the query's clauses
    assert labels(snapshot, LABELS.replace("WHERE", f"FROM <{alpha}> WHERE"), default_graphs=(beta,)) == [
        "Beta"
    ]


def test_graphs_outside_the_visible_set_are_never_read(snapshot: Snapshot, published: dict[str, str]) -> None:
    only_alpha = frozenset({published["Alpha"]})
    assert labels(snapshot, visible=only_alpha) == ["Alpha"]
    from_beta = LABELS.replace("WHERE", f"FROM <{published['Beta']}> WHERE")
    assert labels(snapshot, from_beta, visible=only_alpha) == []
    in_graph = f"SELECT ?l WHERE {{ GRAPH <{published['Beta']}> {{ ?s ?p ?l }} }}"
    assert labels(snapshot, in_graph, visible=only_alpha) == []


@pytest.mark.parametrize(
    "update",
    [
        "INSERT DATA { <a:b> <a:c> <a:d> }",
        "PREFIX x: <http://x#>\n# a comment with SELECT\nDELETE WHERE { ?s ?p ?o }",
        "drop all",
        "LOAD <http://127.0.0.1:1/evil.ttl>",
    ],
)
def test_updates_are_refused(snapshot: Snapshot, update: str) -> None:
    with pytest.raises(Forbidden, match="read-only"):
        snapshot.answer(QueryRequest(query=update))


def test_syntax_errors_carry_the_parser_message(snapshot: Snapshot) -> None:
    with pytest.raises(QuerySyntaxError, match=r"error at 1:\d+"):
        snapshot.answer(QueryRequest(query="SELECT ?x WHERE { ?x ?y }"))


def test_results_beyond_the_cap_are_refused(settings: Settings, published: dict[str, str]) -> None:
    small = Snapshot(settings.store_path, Minter(settings.base_iri), 200)
    big = "SELECT * WHERE { VALUES ?x { " + " ".join(str(i) for i in range(1000)) + " } }"
    with pytest.raises(QueryTooLarge, match="200 bytes"):
        small.answer(QueryRequest(query=big, accept="text/csv"))
    assert labels(small) == ["Alpha", "Beta"]
