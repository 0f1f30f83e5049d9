"""Store benchmark: embedded pyoxigraph vs `oxigraph serve` vs Virtuoso, on the same data.

One run, side by side per store (each server started here on 127.0.0.1, in a temp dir):

1. `kg ingest` (a process) of the synthetic repository (tests.fixtures.synthetic, seed 42),
   each run into a fresh store: median seconds, triples, peak RSS and CPU of kg, CPU and
   peak RSS of the server. Target: remote / embedded <= 2.
2. Lineage, upstream, depth 5 and unlimited, of the last file of a chain of DataLad runs
   (bench/extract.py's chain_repo), ingested next to it: in-process through
   `open_reader(settings).lineage(...)` and through kg serve's REST route; medians.
3. A 1,000-row SELECT as an anonymous caller through kg serve's /sparql (Accept
   application/sparql-results+json) vs the same query with the same dataset (the graphs kg
   would send) straight to the store: an HTTP request to the server, or for embedded
   pyoxigraph in this process on a checkpoint. Target: kg / direct <= 1.3.
4. Search indexing: N small projects published through `open_store(settings)`, then
   `kg reindex` (a process) timed; seconds and projects/s.

Wall time is printed, never gated on. The machine's core count matters: kg and the server
share it (the bench prints it).

    python bench/store.py [--commits 20000] [--runs 3] [--chain 1000] [--projects 10000]
    python bench/store.py --quick      # 2,000 commits, 1 run, 100-step chain, 500 projects
    python bench/store.py --stores embedded,virtuoso
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import pyoxigraph as ox  # noqa: E402

from bench.extract import chain_repo  # noqa: E402
from kg.access import Access  # noqa: E402
from kg.config import Settings  # noqa: E402
from kg.iri import Minter  # noqa: E402
from kg.sparql.readable import readable  # noqa: E402
from kg.store import ProjectRecord, open_reader, open_store  # noqa: E402
from kg.store.reading import LineageRequest, QueryRequest  # noqa: E402
from kg.store.sparql11.client import NO_GRAPH  # noqa: E402
from tests.fixtures.servers import KgServer, kg_env  # noqa: E402
from tests.fixtures.sparqlservers import OxigraphServer, VirtuosoServer  # noqa: E402
from tests.fixtures.stores import as_fields, store_env  # noqa: E402
from tests.fixtures.synthetic import synthetic_repo  # noqa: E402

# `kg ingest` under a parent that reports its child's peak RSS (KiB) and CPU seconds.
MEASURED = (
    "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "sys.stderr.write(done.stderr); u = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(done.returncode, u.ru_maxrss, u.ru_utime + u.ru_stime); print(done.stdout)"
)
QUERY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 1000"
JSON = "application/sparql-results+json"
TICK = os.sysconf("SC_CLK_TCK")
STORES = ("embedded", "oxigraph-server", "virtuoso")


# ---- the servers --------------------------------------------------------------------------


def start_server(kind: str, root: Path) -> Any:
    """A fresh server of `kind` with its data in `root` (None for embedded)."""
    if kind == "embedded":
        return None
    if kind == "oxigraph-server":
        return OxigraphServer(root, timeout_s=600)
    # kg's own queries over a 20,000-commit project return far more than the test limit of
    # 10,000 rows, and take longer than 30 s on the whole history: limits raised for the bench.
    server = VirtuosoServer(root, max_rows=10_000_000, max_seconds=3600, max_estimate=36_000)
    # ~1.3 GB of page buffers instead of the tests' 80 MB (Virtuoso's guide: ~2/3 of RAM
    # for a dedicated host; this machine shares it with kg)
    server.stop()
    ini = root / "virtuoso.ini"
    text = ini.read_text().replace("NumberOfBuffers = 10000", "NumberOfBuffers = 170000")
    ini.write_text(text.replace("MaxDirtyBuffers = 6000", "MaxDirtyBuffers = 130000"))
    server.start()
    return server


def server_cpu(server: Any) -> float:
    """CPU seconds the server process has used so far (0 for embedded)."""
    if server is None:
        return 0.0
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def server_peak_mb(server: Any) -> float:
    """The server process's peak RSS (VmHWM) in MB (0 for embedded)."""
    if server is None:
        return 0.0
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Instance:
    """One kg instance on a store: its data dir, its environment, its server."""

    kind: str
    data: Path
    server: Any
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def fresh(cls, kind: str, root: Path) -> Instance:
        server = start_server(kind, root / "server")
        env = {"KG_LOG_LEVEL": "WARNING", **store_env(kind, server)}
        if kind == "oxigraph-server":  # the server's own timeout is what stops the work
            env["KG_SPARQL_TIMEOUT_SECONDS"] = "600"
        return cls(kind, root / "kg", server, env)

    def settings(self) -> Settings:
        return Settings(data_dir=self.data, **as_fields(self.env))

    def kg(self, *args: str) -> tuple[float, str, float, float]:
        """Run `kg ARGS`: (seconds, stdout, peak RSS MB, CPU seconds of kg)."""
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", MEASURED, sys.executable, "-m", "kg", *args],
            env=kg_env(self.data, **self.env),
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        head, _, stdout = done.stdout.partition("\n")
        code, peak, cpu = head.split()
        if code != "0":
            raise RuntimeError(f"kg {' '.join(args)} on {self.kind} failed: {done.stderr[-3000:]}")
        return seconds, stdout, int(peak) / 1024, float(cpu)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


# ---- 1. ingest ------------------------------------------------------------------------------


def ingest_runs(kind: str, work: Path, repo: Path, runs: int) -> tuple[dict[str, float], Instance]:
    """`runs` ingests into fresh stores; the medians, and the last instance (kept running)."""
    rows: list[dict[str, float]] = []
    instance: Instance | None = None
    for run in range(runs):
        if instance is not None:
            instance.stop()
        instance = Instance.fresh(kind, work / f"{kind}-{run}")
        before = server_cpu(instance.server)
        try:
            seconds, stdout, peak, cpu = instance.kg("ingest", str(repo), "--project", "bench/synthetic")
        except BaseException:
            instance.stop()
            raise
        triples = int(stdout.split(" triples")[0].rsplit(" ", 1)[-1])
        rows.append(
            {
                "seconds": seconds,
                "triples": triples,
                "kg_peak_mb": peak,
                "kg_cpu": cpu,
                "server_cpu": server_cpu(instance.server) - before,
                "server_peak_mb": server_peak_mb(instance.server),
            }
        )
    assert instance is not None
    return {key: statistics.median(r[key] for r in rows) for key in rows[0]}, instance


# ---- 2. lineage -----------------------------------------------------------------------------


def median_ms(call: Callable[[], object], n: int, warm: int = 1) -> float:
    for _ in range(warm):
        call()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def lineage_in_process(instance: Instance, path: str, steps: int) -> dict[str, float]:
    reader = open_reader(instance.settings())
    try:
        out = {}
        for depth, n in ((5, 20), (None, 5)):
            request = LineageRequest("bench/chain", path, "upstream", depth)
            body = reader.lineage(request).body
            assert (depth is None) == (body.count(b'"ProcessRun"') == steps), body[:300]
            out[f"depth {depth or 'unlimited'}"] = median_ms(lambda r=request: reader.lineage(r), n)
        return out
    finally:
        reader.close()


def lineage_rest(http: httpx.Client, path: str) -> dict[str, float]:
    route = f"/knowledge-graph/projects/bench/chain/files/{path}/lineage"
    out = {}
    for depth, n in ((5, 20), (None, 5)):
        params: dict[str, Any] = {"direction": "upstream", **({"depth": depth} if depth else {})}

        def call(params: dict[str, Any] = params) -> None:
            http.get(route, params=params).raise_for_status()

        out[f"depth {depth or 'unlimited'}"] = median_ms(call, n)
    return out


# ---- 3. 1,000-row SELECT through kg vs straight to the store -------------------------------


def anonymous_dataset(instance: Instance) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The (default, named) graphs kg sends for an anonymous caller's query without GRAPH."""
    settings = instance.settings()
    minter = Minter(settings.base_iri)
    reader = open_reader(settings)
    try:
        allowed = readable(minter, reader.records(), Access())
    finally:
        reader.close()
    return allowed.default, (NO_GRAPH,)


def direct_ms(instance: Instance, n: int) -> tuple[float, str]:
    """The query straight to the store, with the dataset kg would send; (median ms, how)."""
    default, named = anonymous_dataset(instance)
    if instance.server is None:
        from kg.store.oxigraph.checkpoints import newest_snapshot

        store = ox.Store.read_only(str(newest_snapshot(instance.settings().store_path)))
        graphs = [ox.NamedNode(g) for g in default]

        def embedded() -> None:
            store.query(QUERY, default_graph=graphs).serialize(format=ox.QueryResultsFormat.JSON)  # type: ignore[arg-type]

        return median_ms(embedded, n, warm=3), "pyoxigraph in this process, on kg's newest checkpoint"
    params = [("query", QUERY)] + [("default-graph-uri", g) for g in default]
    params += [("named-graph-uri", g) for g in named]
    with httpx.Client(timeout=600) as http:

        def remote() -> None:
            response = http.get(instance.server.url.removesuffix("/sparql") + _query_path(instance),
                                params=params, headers={"Accept": JSON})  # fmt: skip
            response.raise_for_status()
            assert response.content.count(b'"s"') >= 1000, response.content[:300]

        return median_ms(remote, n, warm=3), "HTTP GET to the server's query endpoint, same dataset"


def _query_path(instance: Instance) -> str:
    return "/query" if instance.kind == "oxigraph-server" else "/sparql"


def through_reader(instance: Instance, n: int) -> float:
    """The query through kg's reader in this process (no kg serve): what kg's store layer adds."""
    reader = open_reader(instance.settings())
    request = QueryRequest(QUERY, JSON, access=Access())
    try:
        return median_ms(lambda: reader.answer(request), n, warm=3)
    finally:
        reader.close()


def through_kg(http: httpx.Client, n: int) -> float:
    def call() -> None:
        response = http.get("/sparql", params={"query": QUERY}, headers={"Accept": JSON})
        response.raise_for_status()
        assert response.content.count(b'"s"') >= 1000, response.content[:300]

    return median_ms(call, n, warm=3)


def serve(instance: Instance) -> KgServer:
    return KgServer(
        instance.data,
        {
            **instance.env,
            "KG_WORKER_ENABLED": "false",
            "KG_SPARQL_WORKERS": "2",
            "KG_SPARQL_ANONYMOUS_SLOTS": "2",
            "KG_SPARQL_PER_CALLER": "4",
        },
    )


# ---- 4. publishing and indexing many small projects ---------------------------------------


def small_project(path: Path, iri: str, n: int, rng: random.Random) -> Path:
    """A project's graph of ~12 triples: a description, a dataset, a person, a plan."""
    s, r = "http://schema.org/", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    word = rng.choice(["rain", "genome", "galaxy", "river", "soil", "brain", "ocean", "forest"])
    ds, person = f"{iri}/-/datasets/{n}", f"{iri}/-/persons/{n % 3000}"
    lines = [
        f'<{iri}> <{s}description> "{word} study {n}" .',
        f'<{iri}> <{s}keywords> "{word}" .',
        f'<{iri}> <{s}dateCreated> "2024-01-01" .',
        f"<{ds}> <{r}> <{s}Dataset> .",
        f'<{ds}> <{s}name> "{word} data {n}" .',
        f'<{ds}> <{s}identifier> "ds-{n}" .',
        f'<{ds}> <{s}keywords> "{word}" .',
        f"<{person}> <{r}> <{s}Person> .",
        f'<{person}> <{s}name> "Person {n % 3000}" .',
        f'<{person}> <{s}email> "p{n % 3000}@example.org" .',
        f"<{ds}> <{s}creator> <{person}> .",
        f"<{iri}> <{s}creator> <{person}> .",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def publish_and_reindex(kind: str, work: Path, projects: int) -> dict[str, float]:
    instance = Instance.fresh(kind, work / f"{kind}-index")
    try:
        settings = instance.settings()
        minter = Minter(settings.base_iri)
        rng = random.Random(11)
        store = open_store(settings)
        nt = work / f"{kind}-project.nt"
        before = server_cpu(instance.server)
        started = time.perf_counter()
        for n in range(projects):
            slug = f"group{n % 100}/project-{n}"
            visibility = "public" if n % 20 < 18 else ("internal" if n % 20 == 18 else "private")
            record = ProjectRecord(
                iri=minter.project(slug),
                slug=slug,
                name=slug.rsplit("/", 1)[1],
                visibility=visibility,
                members=(("7", 30),) if visibility == "private" else (),
                ingested_commit="0" * 40,
            )
            store.replace_project_graph(record, small_project(nt, record.iri, n, rng))
            if n and n % 1000 == 0:
                print(f"  {n} published in {time.perf_counter() - started:.0f} s", flush=True)
        store.close()
        publish = time.perf_counter() - started
        publish_server = server_cpu(instance.server) - before
        before = server_cpu(instance.server)
        seconds, stdout, peak, cpu = instance.kg("reindex")
        assert f"reindexed {projects} project" in stdout, stdout
        return {
            "publish_s": publish,
            "publish_server_cpu": publish_server,
            "reindex_s": seconds,
            "reindex_kg_cpu": cpu,
            "reindex_server_cpu": server_cpu(instance.server) - before,
            "reindex_peak_mb": peak,
        }
    finally:
        instance.stop()


# ---- the run --------------------------------------------------------------------------------


def stage(kind: str, what: str) -> None:
    """A progress line with the load average: other work on the machine skews wall times
    (CPU seconds, printed too, much less)."""
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"[{time.strftime('%H:%M:%S')}] {kind}: {what} (load average {load})", flush=True)


def one_store(kind: str, work: Path, repo: Path, chain: Path, args: argparse.Namespace) -> dict[str, Any]:
    stage(kind, f"ingest x{args.runs}")
    result: dict[str, Any] = {}
    result["ingest"], instance = ingest_runs(kind, work, repo, args.runs)
    try:
        stage(kind, "lineage, SPARQL")
        instance.kg("ingest", str(chain), "--project", "bench/chain")
        last = f"chain/step_{args.chain}.txt"
        result["lineage"] = lineage_in_process(instance, last, args.chain)
        result["direct"] = direct_ms(instance, args.queries)
        result["reader"] = through_reader(instance, args.queries)
        server = serve(instance)
        try:
            with httpx.Client(base_url=server.url, timeout=600) as http:
                result["lineage_rest"] = lineage_rest(http, last)
                result["kg_sparql"] = through_kg(http, args.queries)
        finally:
            server.stop()
    finally:
        instance.stop()
    stage(kind, f"publish {args.projects} projects, reindex")
    result["index"] = publish_and_reindex(kind, work, args.projects)
    return result


def table(
    title: str, rows: list[tuple[str, Callable[[dict[str, Any]], str]]], results: dict[str, Any]
) -> None:
    print(f"\n{title}")
    print(f"  {'':44}" + "".join(f"{kind:>18}" for kind in results))
    for label, cell in rows:
        print(f"  {label:44}" + "".join(f"{cell(r):>18}" for r in results.values()))


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    base = results.get("embedded")
    ing = "ingest"

    def cpu(r: dict[str, Any]) -> float:
        return float(r[ing]["kg_cpu"] + r[ing]["server_cpu"])

    table(
        f"1. kg ingest, {args.commits} commits (median of {args.runs}, fresh store each run)",
        [
            ("seconds", lambda r: f"{r[ing]['seconds']:.2f}"),
            ("triples", lambda r: f"{r[ing]['triples']:.0f}"),
            ("triples/s", lambda r: f"{r[ing]['triples'] / r[ing]['seconds']:.0f}"),
            ("kg peak RSS MB", lambda r: f"{r[ing]['kg_peak_mb']:.0f}"),
            ("kg CPU s", lambda r: f"{r[ing]['kg_cpu']:.2f}"),
            ("server CPU s", lambda r: f"{r[ing]['server_cpu']:.2f}"),
            ("server peak RSS MB", lambda r: f"{r[ing]['server_peak_mb']:.0f}"),
            ("kg + server CPU s / embedded", lambda r: f"{cpu(r) / cpu(base):.2f}x" if base else "-"),
            ("/ embedded (target <= 2.0)",
             lambda r: f"{r[ing]['seconds'] / base[ing]['seconds']:.2f}x" if base else "-"),
        ],
        results,
    )  # fmt: skip
    table(
        f"2. lineage upstream of the last file of a {args.chain}-run chain (median ms)",
        [
            ("in-process, depth 5 (20 runs)", lambda r: f"{r['lineage']['depth 5']:.1f}"),
            ("in-process, unlimited (5 runs)", lambda r: f"{r['lineage']['depth unlimited']:.1f}"),
            ("kg serve REST, depth 5 (20 runs)", lambda r: f"{r['lineage_rest']['depth 5']:.1f}"),
            ("kg serve REST, unlimited (5 runs)", lambda r: f"{r['lineage_rest']['depth unlimited']:.1f}"),
        ],
        results,
    )
    table(
        f"3. {QUERY}, anonymous (median ms of {args.queries} after 3 warm-up)",
        [
            ("through kg serve /sparql (JSON)", lambda r: f"{r['kg_sparql']:.1f}"),
            ("through kg's reader in this process", lambda r: f"{r['reader']:.1f}"),
            ("straight to the store, same dataset", lambda r: f"{r['direct'][0]:.1f}"),
            ("kg / direct (target <= 1.3)", lambda r: f"{r['kg_sparql'] / r['direct'][0]:.2f}x"),
            ("kg's reader / direct", lambda r: f"{r['reader'] / r['direct'][0]:.2f}x"),
        ],
        results,
    )
    for kind, r in results.items():
        print(f"     direct on {kind}: {r['direct'][1]}")
    idx = "index"
    table(
        f"4. {args.projects} small projects (~12 triples each): publish, then kg reindex",
        [
            ("publish through open_store, s", lambda r: f"{r[idx]['publish_s']:.1f}"),
            ("publish, projects/s", lambda r: f"{args.projects / r[idx]['publish_s']:.0f}"),
            ("publish, server CPU s", lambda r: f"{r[idx]['publish_server_cpu']:.1f}"),
            ("kg reindex (process), s", lambda r: f"{r[idx]['reindex_s']:.1f}"),
            ("kg reindex, projects/s", lambda r: f"{args.projects / r[idx]['reindex_s']:.0f}"),
            ("kg reindex, kg CPU s", lambda r: f"{r[idx]['reindex_kg_cpu']:.1f}"),
            ("kg reindex, server CPU s", lambda r: f"{r[idx]['reindex_server_cpu']:.1f}"),
            ("kg reindex, kg peak RSS MB", lambda r: f"{r[idx]['reindex_peak_mb']:.0f}"),
        ],
        results,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chain", type=int, default=1_000)
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--stores", default=",".join(STORES))
    parser.add_argument("--quick", action="store_true", help="2,000 commits, 1 run, 100 steps, 500 projects")
    args = parser.parse_args()
    if args.quick:
        args.commits, args.runs, args.chain, args.projects = 2_000, 1, 100, 500
    kinds = [k for k in args.stores.split(",") if k]
    unknown = set(kinds) - set(STORES)
    if unknown:
        parser.error(f"unknown stores {sorted(unknown)}; choose from {', '.join(STORES)}")
    work = Path(tempfile.mkdtemp(prefix="kg-bench-store-"))
    try:
        started = time.perf_counter()
        repo = synthetic_repo(work / "synthetic.git", args.commits, seed=42)
        chain_repo(work / "chain.git", args.chain)
        print(f"{os.cpu_count()} CPUs; repository: {args.commits} commits, chain of {args.chain} runs, "
              f"built in {time.perf_counter() - started:.1f} s")  # fmt: skip
        results = {}
        for kind in kinds:
            try:
                results[kind] = one_store(kind, work, repo, work / "chain.git", args)
            except Exception as exc:  # one store failing must not lose the others' figures
                print(f"  {kind} FAILED: {type(exc).__name__}: {str(exc)[-2000:]}", flush=True)
                continue
            # as soon as it is known: a run cut short still says what it measured
            print(f"  {kind}: {json.dumps(results[kind], default=str)}", flush=True)
        report(results, args)
        stage("all", "done")
        usage = resource.getrusage(resource.RUSAGE_SELF)
        print(
            f"\nbench process: {usage.ru_utime + usage.ru_stime:.0f} s CPU; total {time.perf_counter() - started:.0f} s"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
