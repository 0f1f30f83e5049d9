"""FACTS: standard property-path lineage, `(prov:wasGeneratedBy/prov:used)+`, on each
server. SPARQL 1.1 gives each reachable node once; Virtuoso 7.2 gives one row per path
(2^depth on diamonds; at 24 levels, even with DISTINCT, it fails after ~10 s with "Exceeded
1000000000 bytes in transitive temp memory": bench/graph_lists.py), while its own
`OPTION (TRANSITIVE, t_distinct)` form answers right: lineage needs that variant there."""

from __future__ import annotations

import json
from pathlib import Path

from kg.store.sparql11 import SparqlClient
from tests.fixtures.sparqlservers import VirtuosoServer
from tests.store.sparql11.conftest import JSON, MB, Target, ntriples, open_client

PROV = "http://www.w3.org/ns/prov#"


def diamonds(tmp_path: Path, run: str, depth: int) -> Path:
    """Each activity uses both files of the level below and generates both of its own:
    2^depth paths from the top, 2 x depth distinct files."""
    lines = []
    for i in range(depth):
        for side in "ab":
            lines.append(f"<urn:{run}:d{i + 1}{side}> <{PROV}wasGeneratedBy> <urn:{run}:x{i}> .")
            lines.append(f"<urn:{run}:x{i}> <{PROV}used> <urn:{run}:d{i}{side}> .")
    return ntriples(tmp_path, lines)


def _ancestors(client: SparqlClient, query: str, graph: str) -> list[str]:
    answer = client.query(query, accept=JSON, max_bytes=16 * MB, default_graphs=[graph], trusted=True)
    return [b["up"]["value"] for b in json.loads(answer.body)["results"]["bindings"]]


def test_standard_path_on_diamonds(target: Target, graph_iri: str, tmp_path: Path) -> None:
    run = graph_iri.rsplit(":", 1)[1]
    target.client.put_graph(graph_iri, diamonds(tmp_path, run, 8))
    query = f"SELECT ?up WHERE {{ <urn:{run}:d8a> (<{PROV}wasGeneratedBy>/<{PROV}used>)+ ?up }}"
    rows = _ancestors(target.client, query, graph_iri)
    assert len(set(rows)) == 16
    # Virtuoso: one row per path, 2 + 4 + ... + 2^8
    assert len(rows) == (510 if target.name == "virtuoso" else 16)


def test_virtuoso_transitive_option_gives_each_ancestor_once(
    virtuoso_server: VirtuosoServer, graph_iri: str, tmp_path: Path
) -> None:
    run = graph_iri.rsplit(":", 1)[1]
    with open_client(virtuoso_server) as client:
        client.put_graph(graph_iri, diamonds(tmp_path, run, 24))
        transitive = (
            f"SELECT ?up WHERE {{ {{ SELECT ?f ?up WHERE {{ ?f <{PROV}wasGeneratedBy> ?a . ?a <{PROV}used> ?up }} }} "
            f"OPTION (TRANSITIVE, t_distinct, t_in(?f), t_out(?up), t_min(1)) . FILTER (?f = <urn:{run}:d24a>) }}"
        )
        rows = _ancestors(client, transitive, graph_iri)
        assert sorted(rows) == sorted({f"urn:{run}:d{i}{s}" for i in range(24) for s in "ab"})
