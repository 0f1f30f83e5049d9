"""API benchmark: search, lineage and SPARQL on a generated graph, from a load generator process.

Generates 10,000 projects (9,000 public, 500 internal, 500 private) with 100,000 searchable
entities, and one project whose graph holds 10,000 runs, writes them straight into a fresh
store and search index, starts `kg serve` (no worker) and measures from another process:

- search p50/p95 (target p95 < 30 ms at 100k entities), anonymous and authenticated;
- lineage depth 5 and unlimited on the 10,000-run project (target p95 < 50 ms for depth 5);
- the SPARQL endpoint, as an anonymous caller (who may not see 1,000 of the projects),
  against the same query on pyoxigraph directly, for a query of 10-100 ms returning
  1,000 rows (target overhead <= 1.3x);
- requests/s for a cheap query (wrk, if installed), from one address (its requests over
  the per-caller limit are refused with 429) and from many (what the endpoint can answer).

    python bench/api.py [--projects 10000] [--runs 10000] [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402

from kg.config import Settings  # noqa: E402
from kg.iri import Minter  # noqa: E402
from kg.search import Document  # noqa: E402
from kg.search.base import ProjectEntry  # noqa: E402
from kg.search.sqlite import SqliteIndex  # noqa: E402
from kg.store import ProjectRecord  # noqa: E402
from kg.store.audiences import audience_of  # noqa: E402
from kg.store.oxigraph import OxigraphStore  # noqa: E402
from kg.store.records import record_ntriples  # noqa: E402
from tests.fixtures.servers import KgServer  # noqa: E402

P, S, K, R = (
    "http://www.w3.org/ns/prov#",
    "http://schema.org/",
    "https://w3id.org/kg/ontology#",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
)
WORDS = [
    "rain",
    "climate",
    "genome",
    "protein",
    "galaxy",
    "river",
    "soil",
    "cell",
    "model",
    "survey",
    "forest",
    "ocean",
    "city",
    "brain",
]

LOADGEN = r"""
import json, sys, time, statistics, httpx
spec = json.loads(sys.argv[1])
out = {}
with httpx.Client(base_url=spec["url"], timeout=300) as http:
    for name, job in spec["jobs"].items():
        times = []
        for i in range(job["n"]):
            params = dict(job.get("params", {}))
            if "query_words" in job:
                params["query"] = job["query_words"][i % len(job["query_words"])]
            started = time.perf_counter()
            try:
                r = http.request(job.get("method", "GET"), job["path"], params=params, headers=job.get("headers", {}),
                                 content=job.get("content"))
            except httpx.HTTPError as exc:
                out[name] = {"error": f"{type(exc).__name__} after {time.perf_counter() - started:.0f} s"}
                break
            times.append(time.perf_counter() - started)
            if r.status_code != 200:
                out[name] = {"error": f"{r.status_code} after {times[-1]:.0f} s: {r.text[:120]}"}
                break
        else:
            times.sort()
            out[name] = {"p50": statistics.median(times) * 1000, "p95": times[max(0, int(len(times) * 0.95) - 1)] * 1000,
                         "n": len(times), "bytes": len(r.content)}
print(json.dumps(out))
"""


def generate(data: Path, projects: int, runs: int) -> tuple[str, set[str]]:
    """Write the store and the index; the big project's slug and the public projects' IRIs."""
    settings = Settings(data_dir=data)
    minter = Minter(settings.base_iri)
    rng = random.Random(7)
    index = SqliteIndex(data / "search.sqlite")
    nq = data / "all.nq"
    audiences: dict[str, str] = {}
    public: set[str] = set()
    big = "lab/pipeline"
    with nq.open("w") as out:
        for n in range(projects + 1):
            slug = big if n == projects else f"group{n % 100}/{WORDS[n % len(WORDS)]}-{n}"
            visibility = (
                "public" if n % 20 < 18 or n == projects else ("internal" if n % 20 == 18 else "private")
            )
            members = (("7", 40),) if visibility == "private" and n % 40 == 19 else ()
            record = ProjectRecord(
                iri=minter.project(slug),
                slug=slug,
                name=slug.rsplit("/", 1)[1],
                visibility=visibility,
                graph=minter.project_graph(minter.project(slug), 1),
                generation=1,
                members=members,
                ingested_commit="0" * 40,
            )
            record = record.evolve(audience=audience_of(minter, record))
            audiences[record.iri] = record.audience or ""
            if visibility == "public":
                public.add(record.iri)
            g = f" <{record.graph}> .\n"
            recg = f" <{minter.record_graph(record.iri)}> .\n"
            out.write("".join(line[:-3] + recg for line in record_ntriples(record).splitlines(keepends=True)))
            docs = [
                Document(
                    record.iri,
                    "project",
                    slug,
                    record.name,
                    slug=slug,
                    description=f"{WORDS[n % 7]} study {n}",
                    keywords=[WORDS[(n + 3) % len(WORDS)]],
                    created="2024-01-01",
                )
            ]
            for d in range(3):
                word = WORDS[rng.randrange(len(WORDS))]
                ds = f"{record.iri}/-/datasets/{d}"
                out.write(f'<{ds}> <{R}> <{S}Dataset>{g}<{ds}> <{S}name> "{word} data {n}-{d}"{g}')
                docs.append(
                    Document(
                        ds,
                        "dataset",
                        slug,
                        f"{word} data {n}-{d}",
                        keywords=[word],
                        created="2024-02-01",
                        paths=[f"data/{word}/{d}.csv"],
                        extra={"identifier": f"ds-{n}-{d}"},
                    )
                )
                docs.append(Document(f"{record.iri}/-/plans/{d}", "workflow", slug, f"{word} pipeline {d}"))
                docs.append(
                    Document(
                        f"https://kg.local/persons/{n % 3000}-{d}",
                        "person",
                        slug,
                        f"Person {n % 3000} {word}",
                    )
                )
            if n == projects:
                for i in range(runs):  # a run per step; step i reads the outputs of i-1 and i//2
                    run = f"{record.iri}/-/runs/{i}"
                    out.write(f"<{run}> <{R}> <{K}Run>{g}<{run}> <{R}> <{P}Activity>{g}")
                    out.write(
                        f'<{run}> <{P}startedAtTime> "2024-01-01T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime>{g}'
                    )
                    out.write(f'<{run}> <http://www.w3.org/2000/01/rdf-schema#label> "step {i}"{g}')
                    for source in {i - 1, i // 2} - {-1, i}:
                        out.write(f"<{run}> <{P}used> <{record.iri}/-/e/{source}>{g}")
                    out.write(f"<{record.iri}/-/e/{i}> <{P}wasGeneratedBy> <{run}>{g}")
                    out.write(f'<{record.iri}/-/e/{i}> <{P}atLocation> "out/step_{i}.csv"{g}')
            index.replace_project(
                ProjectEntry(
                    slug,
                    record.iri,
                    record.graph or "",
                    visibility,  # type: ignore[arg-type]
                    dict(members),
                ),
                docs,
            )
    # What the pipeline does: each project's triples merged into its audience graph.
    merged = data / "audiences.nq"
    with nq.open() as quads, merged.open("w") as out:
        for line in quads:
            head, graph, _ = line.rsplit(" ", 2)
            out.write(f"{head} <{audiences[graph.strip('<>').split('/-/')[0]]}> .\n")
    store = OxigraphStore(settings.store_path, minter)
    store.raw.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
    store.raw.bulk_load(path=str(merged), format=ox.RdfFormat.N_QUADS)
    store.checkpoint()
    store.close()
    index.close()
    return big, public


def direct_baselines(data: Path, query: str, public: set[str]) -> dict[str, float]:
    """The query on pyoxigraph in this process: on the public projects' graphs alone, as a
    store holding just them would answer it, and on the public audience graph of kg's store."""
    settings = Settings(data_dir=data)
    minter = Minter(settings.base_iri)
    from kg.store.oxigraph.checkpoints import newest_snapshot

    public_only = ox.Store(str(data / "public-only"))
    with (data / "all.nq").open() as quads:
        public_only.bulk_load(
            "".join(
                line for line in quads if line.rsplit(" ", 2)[1].strip("<>").split("/-/")[0] in public
            ).encode(),
            ox.RdfFormat.N_QUADS,
        )
    snapshot = ox.Store.read_only(str(newest_snapshot(settings.store_path)))
    runs = {
        "union of the public projects' graphs (a store of only those)": (
            public_only,
            {"use_default_graph_as_union": True},
        ),
        "kg's public audience graph": (
            snapshot,
            {"default_graph": [ox.NamedNode(minter.audience_graph("public"))]},
        ),
    }
    out = {}
    for name, (store, dataset) in runs.items():
        times = []
        for _ in range(10):
            started = time.perf_counter()
            store.query(query, **dataset).serialize(format=ox.QueryResultsFormat.JSON)  # type: ignore[arg-type]
            times.append((time.perf_counter() - started) * 1000)
        out[name] = statistics.median(times)
    return out


def by_caller(data: Path, query: str) -> dict[str, float]:
    """The query as kg's query processes run it (in this process, no HTTP), per kind of caller."""
    from kg.access import Access
    from kg.store.oxigraph import Snapshot
    from kg.store.reading import QueryRequest

    settings = Settings(data_dir=data)
    snapshot = Snapshot(settings.store_path, Minter(settings.base_iri), 10**9)
    callers = {
        "anonymous (public audience)": Access(),
        "authenticated, no private project (public + internal)": Access("99999"),
        "member of 250 private projects (one member set)": Access("7"),
        "kg's own tools (everything)": None,
    }
    out = {}
    for name, access in callers.items():
        request = QueryRequest(query=query, accept="application/sparql-results+json", access=access)
        snapshot.answer(request)
        times = []
        for _ in range(10):
            started = time.perf_counter()
            snapshot.answer(request)
            times.append((time.perf_counter() - started) * 1000)
        out[name] = statistics.median(times)
    return out


def serve(data: Path, sparql_timeout: int) -> KgServer:
    """`kg serve` on the generated data: API only, two query processes, both open to anonymous
    callers (the default keeps one for authenticated ones): the capacity is what is measured."""
    return KgServer(
        data,
        {
            "KG_WORKER_ENABLED": "false",
            "KG_SPARQL_WORKERS": "2",
            "KG_SPARQL_ANONYMOUS_SLOTS": "2",
            "KG_LOG_LEVEL": "WARNING",
            "KG_SPARQL_TIMEOUT_SECONDS": str(sparql_timeout),
        },
    )


def measure(server: KgServer, jobs: dict[str, Any]) -> dict[str, Any]:
    """Run the jobs from a load generator in another process; latencies per job."""
    done = subprocess.run(
        [sys.executable, "-c", LOADGEN, json.dumps({"url": server.url, "jobs": jobs})],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# wrk script: every request from another address (kg trusts X-Forwarded-For from 127.0.0.1),
# so the per-caller query limit does not cap the throughput being measured
MANY = """
request = function()
  local headers = {}
  headers["X-Forwarded-For"] = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. ".1"
  return wrk.format("GET", "/sparql?query=ASK%7B%7D", headers)
end
"""


def wrk(url: str, work: Path, script: str | None) -> tuple[float, float]:
    """(requests/s, non-2xx responses/s) of `wrk -t2 -c8 -d10s` on `ASK {}`."""
    command = ["wrk", "-t2", "-c8", "-d10s"]
    if script is not None:
        (work / "many.lua").write_text(script)
        command += ["-s", str(work / "many.lua")]
    out = subprocess.run(
        [*command, f"{url}/sparql?query=ASK%7B%7D"], check=True, capture_output=True, text=True
    ).stdout
    seconds = 10.0
    total = float(out.split("Requests/sec:")[1].split()[0])
    refused = (
        float(out.split("Non-2xx or 3xx responses:")[1].split()[0]) / seconds if "Non-2xx" in out else 0.0
    )
    return total, refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--sparql-timeout", type=int, default=60)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kg-bench-api-"))
    try:
        started = time.perf_counter()
        big, public = generate(work / "kg", args.projects, args.runs)
        print(
            f"generated {args.projects} projects, {10 * args.projects} entities, {args.runs} runs "
            f"in {time.perf_counter() - started:.0f} s"
        )
        server = serve(work / "kg", args.sparql_timeout)
        try:
            rows_query = (
                "SELECT ?run ?label WHERE { ?run a <https://w3id.org/kg/ontology#Run> ; "
                "<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?label LIMIT 1000"
            )
            n = args.requests
            lineage = f"/knowledge-graph/projects/{big}/files/out/step_{args.runs - 1}.csv/lineage"
            jobs = {
                "search (anonymous)": {"path": "/knowledge-graph/entities", "n": n, "query_words": WORDS},
                "search prefix 2 words": {
                    "path": "/knowledge-graph/entities",
                    "n": n,
                    "query_words": [f"{w[:3]} dat" for w in WORDS],
                },
                "lineage depth 5": {"path": lineage, "n": n, "params": {"depth": 5, "direction": "upstream"}},
                "lineage unlimited": {
                    "path": lineage,
                    "n": max(5, n // 20),
                    "params": {"direction": "upstream"},
                },
                "sparql 1000 rows, anonymous": {
                    "path": "/sparql",
                    "n": 20,
                    "params": {"query": rows_query},
                    "headers": {"Accept": "application/sparql-results+json"},
                },
            }
            results = measure(server, jobs)
            rps = {}
            if shutil.which("wrk"):
                for callers, script in (("one anonymous caller", None), ("many anonymous callers", MANY)):
                    rps[callers] = wrk(server.url, work, script)
        finally:
            server.stop()
        direct = direct_baselines(work / "kg", rows_query, public)
        callers = by_caller(work / "kg", rows_query)

        print(f"\n{'':42}{'p50 ms':>10}{'p95 ms':>10}{'n':>6}")
        for name, r in results.items():
            if "error" in r:
                print(f"{name:42} did not finish: {r['error']}")
            else:
                print(f"{name:42}{r['p50']:10.1f}{r['p95']:10.1f}{r['n']:6d}")
        print("\npyoxigraph directly, same 1000-row query (median of 10):")
        for name, ms in direct.items():
            print(f"  {name:60}{ms:8.1f} ms")
        print("the same query in a query process's engine, by caller (median of 10):")
        for name, ms in callers.items():
            print(f"  {name:60}{ms:8.1f} ms")
        endpoint = results["sparql 1000 rows, anonymous"]
        if "p50" in endpoint:
            for name, ms in direct.items():
                print(f"endpoint (anonymous) / {name}: {endpoint['p50'] / ms:.2f}x (target <= 1.3)")
        for callers, (total, refused) in rps.items():
            print(
                f"cheap query (ASK {{}}), wrk -t2 -c8 10 s, {callers}: {total - refused:.0f} answered/s"
                f" ({refused:.0f}/s refused with 429: over the caller's share)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
