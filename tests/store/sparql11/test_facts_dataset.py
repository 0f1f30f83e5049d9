"""FACTS: how each server reads the protocol's `default-graph-uri` / `named-graph-uri`
against a query's own FROM / FROM NAMED / GRAPH (SPARQL 1.1 Protocol 2.1.4: the
parameters override the query's dataset). kg's access rule rests on these answers."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from kg.errors import InvalidInput
from tests.store.sparql11.conftest import JSON, MB, Target, ntriples, values

XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.fixture
def abc(target: Target, tmp_path: Path) -> dict[str, str]:
    """Three fresh graphs A, B, C, each holding one triple whose object is "RUN LETTER"
    (other tests' graphs are on the same server)."""
    run = str(uuid.uuid4())
    graphs = {x: f"urn:kg-test:{run}:{x}" for x in "ABC"}
    for letter, iri in graphs.items():
        target.client.put_graph(iri, ntriples(tmp_path, [f'<urn:s> <urn:p> "{run} {letter}" .']))
    return {"run": run, **graphs}


# (query with {A}/{B}/{C} for the graphs, default graphs, named graphs,
#  what oxigraph answers, what Virtuoso answers); answers are the letters read
CASES = {
    "FROM in the query, default-graph-uri C": (
        "SELECT ?o FROM <{A}> FROM <{B}> WHERE {{ ?s ?p ?o }}",
        "C",
        "",
        "C",
        "ABC",  # Virtuoso adds the query's FROM to the parameter's graphs
    ),
    "GRAPH ?g, named-graph-uri A": (
        "SELECT ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        "",
        "A",
        "A",
        "A",
    ),
    "GRAPH <B> unlisted, named-graph-uri A": (
        "SELECT ?o WHERE {{ GRAPH <{B}> {{ ?s ?p ?o }} }}",
        "",
        "A",
        "",
        "",
    ),
    "FROM NAMED B in the query, named-graph-uri A": (
        "SELECT ?o FROM NAMED <{B}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        "",
        "A",
        "A",
        "AB",  # Virtuoso again adds the query's graphs
    ),
    "GRAPH ?g, default-graph-uri A and no named-graph-uri": (
        "SELECT ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        "A",
        "",
        "",
        "ABC",  # Virtuoso: no named graphs given means every graph
    ),
    "GRAPH <B>, default-graph-uri A and no named-graph-uri": (
        "SELECT ?o WHERE {{ GRAPH <{B}> {{ ?s ?p ?o }} }}",
        "A",
        "",
        "",
        "",
    ),
    "FROM C in the query, default A, named B": (
        "SELECT ?o FROM <{C}> WHERE {{ ?s ?p ?o }}",
        "A",
        "B",
        "A",
        "AC",
    ),
    "no dataset parameters at all": (
        "SELECT ?o WHERE {{ ?s ?p ?o }}",
        "",
        "",
        "",
        "ABC",  # Virtuoso's default graph is then every graph: kg must always send a list
    ),
    "GRAPH ?g, no dataset parameters at all": (
        "SELECT ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        "",
        "",
        "ABC",
        "ABC",
    ),
    "GRAPH ?g, default A, named B": (
        "SELECT ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        "A",
        "B",
        "B",
        "B",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_dataset_parameters(target: Target, abc: dict[str, str], case: str) -> None:
    query, default, named, on_oxigraph, on_virtuoso = CASES[case]
    answer = target.client.query(
        query.format(**abc),
        accept=JSON,
        max_bytes=MB,
        default_graphs=[abc[x] for x in default],
        named_graphs=[abc[x] for x in named],
        trusted=True,  # the raw server behaviour, before kg's refusals
    )
    read = "".join(v[0].split()[1] for v in values(answer) if v[0].startswith(abc["run"]))
    assert read == (on_virtuoso if target.name == "virtuoso" else on_oxigraph)


def test_what_kg_does_about_it(target: Target, abc: dict[str, str]) -> None:
    """Where the server merges instead of overriding, a caller's FROM may only name graphs
    in the lists kg sends (the union is then the lists); where it overrides, the protocol's
    graphs are enough."""
    outside = f"SELECT ?o FROM <{abc['B']}> WHERE {{ ?s ?p ?o }}"
    within = f"SELECT ?o FROM <{abc['A']}> WHERE {{ ?s ?p ?o }}"
    lists = {"default_graphs": [abc["A"], abc["C"]], "named_graphs": [abc["A"]]}
    if target.profile.overrides_dataset:
        answer = target.client.query(outside, accept=JSON, max_bytes=MB, **lists)
        assert values(answer) == [(f"{abc['run']} A",), (f"{abc['run']} C",)]
    else:
        with pytest.raises(InvalidInput, match="may only name graphs you may read"):
            target.client.query(outside, accept=JSON, max_bytes=MB, **lists)
    # naming graphs within the lists: the protocol's lists on both (Virtuoso: their union)
    answer = target.client.query(within, accept=JSON, max_bytes=MB, **lists)
    assert values(answer) == [(f"{abc['run']} A",), (f"{abc['run']} C",)]


def test_ask_answer_form(target: Target, abc: dict[str, str]) -> None:
    """SPARQL JSON's ASK form is {"boolean": ...}; Virtuoso 7.2 answers ASK as a SELECT
    with one integer binding instead, so kg must not pass its ASK answers on as they are."""
    answer = target.client.query(
        "ASK { ?s ?p ?o }", accept=JSON, max_bytes=MB, default_graphs=[abc["A"]], named_graphs=[abc["A"]]
    )
    doc = json.loads(answer.body)
    if target.name == "virtuoso":
        assert "boolean" not in doc
        assert doc["results"]["bindings"] == [
            {"__ASK_RETVAL": {"type": "typed-literal", "datatype": f"{XSD}integer", "value": "1"}}
        ]
    else:
        assert doc == {"head": {}, "boolean": True}


def test_untrusted_query_reads_only_listed_graphs(target: Target, abc: dict[str, str]) -> None:
    """A caller's query with no named graphs listed reads no named graph, and with no
    graphs at all reads nothing, on every server (on Virtuoso, no list means every graph)."""
    graph_query = "SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
    answer = target.client.query(graph_query, accept=JSON, max_bytes=MB, default_graphs=[abc["A"]])
    assert values(answer) == []
    answer = target.client.query("SELECT ?o WHERE { ?s ?p ?o }", accept=JSON, max_bytes=MB)
    assert values(answer) == []
