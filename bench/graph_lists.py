"""Per-graph cost of the protocol's dataset lists on each real server (issue 10, fact 4),
and Virtuoso's standard property-path lineage on a 200-long chain (fact 5).

One run: `python bench/graph_lists.py`. Starts its own servers in a temp dir.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kg.errors import KgError
from kg.store.sparql11 import SparqlClient
from tests.fixtures.sparqlservers import OxigraphServer, VirtuosoServer
from tests.store.sparql11.conftest import JSON, open_client

MB = 1024 * 1024
XML = "application/sparql-results+xml"
PROV = "http://www.w3.org/ns/prov#"


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="servers-bench-") as tmp:
        root = Path(tmp)
        for name, server in (
            ("oxigraph", OxigraphServer(root / "o", timeout_s=60)),
            ("virtuoso", VirtuosoServer(root / "v")),
        ):
            try:
                run(name, server, root)
            finally:
                server.stop()


def run(name: str, server: OxigraphServer | VirtuosoServer, root: Path) -> None:
    client = open_client(server)
    data = root / f"{name}-rows.nt"
    data.write_text("".join(f'<urn:r{i}> <urn:v> "{i}" .\n' for i in range(1000)))
    client.put_graph("urn:g:data", data)
    empty = [f"urn:g:empty{i}" for i in range(999)]
    select = "SELECT ?s ?o WHERE { ?s <urn:v> ?o }"
    named = "SELECT ?s ?o WHERE { GRAPH ?g { ?s <urn:v> ?o } }"
    one = timed(lambda: client.query(select, accept=JSON, max_bytes=16 * MB, default_graphs=["urn:g:data"]))
    many = timed(
        lambda: client.query(select, accept=JSON, max_bytes=16 * MB, default_graphs=["urn:g:data", *empty])
    )
    n_one = timed(lambda: client.query(named, accept=JSON, max_bytes=16 * MB, named_graphs=["urn:g:data"]))
    n_many = timed(
        lambda: client.query(named, accept=JSON, max_bytes=16 * MB, named_graphs=["urn:g:data", *empty])
    )
    print(f"{name}: 1,000-row SELECT, default graph 1 listed: {one:.1f} ms; 1,000 listed: {many:.1f} ms")
    xml = timed(lambda: client.query(select, accept=XML, max_bytes=16 * MB, default_graphs=["urn:g:data"]))
    print(f"{name}: the same 1,000-row SELECT as SPARQL XML, 1 listed: {xml:.1f} ms")
    print(f"{name}: 1,000-row GRAPH ?g SELECT, named 1 listed: {n_one:.1f} ms; 1,000 listed: {n_many:.1f} ms")

    chain = root / f"{name}-chain.nt"
    lines = []
    for i in range(200):  # file_i+1 wasGeneratedBy activity_i which used file_i
        lines.append(f"<urn:f{i + 1}> <{PROV}wasGeneratedBy> <urn:a{i}> .\n")
        lines.append(f"<urn:a{i}> <{PROV}used> <urn:f{i}> .\n")
    chain.write_text("".join(lines))
    client.put_graph("urn:g:chain", chain)
    lineage = f"SELECT ?up WHERE {{ <urn:f200> (<{PROV}wasGeneratedBy>/<{PROV}used>)+ ?up }}"
    report(name, "lineage (p1/p2)+ on a 200-long chain", client, lineage, "urn:g:chain")
    for depth in (8, 12, 16, 24):
        lineage_dag(name, client, root, depth)
    client.close()


def lineage_dag(name: str, client: SparqlClient, root: Path, depth: int) -> None:
    """Diamonds: each activity uses both files of the level below and generates both of its
    own, so 2^depth paths reach the bottom but only 2 x depth distinct files."""
    dag = root / f"{name}-dag.nt"
    lines = []
    for i in range(depth):
        for side in "ab":
            lines.append(f"<urn:d{i + 1}{side}> <{PROV}wasGeneratedBy> <urn:x{i}> .\n")
            lines.append(f"<urn:x{i}> <{PROV}used> <urn:d{i}{side}> .\n")
    dag.write_text("".join(lines))
    client.put_graph(f"urn:g:dag{depth}", dag)
    query = f"SELECT ?up WHERE {{ <urn:d{depth}a> (<{PROV}wasGeneratedBy>/<{PROV}used>)+ ?up }}"
    report(name, f"lineage (p1/p2)+ on {depth} diamonds", client, query, f"urn:g:dag{depth}")


def report(name: str, what: str, client: SparqlClient, query: str, graph: str) -> None:
    t = time.perf_counter()
    try:
        answer = client.query(
            query, accept=JSON, max_bytes=64 * MB, default_graphs=[graph], timeout_seconds=60
        )
        rows = [b["up"]["value"] for b in json.loads(answer.body)["results"]["bindings"]]
        ms = (time.perf_counter() - t) * 1000
        print(f"{name}: {what}: {len(rows)} rows, {len(set(rows))} distinct, {ms:.0f} ms")
    except KgError as exc:
        print(f"{name}: {what}: {type(exc).__name__}: {str(exc)[:200]} after {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
