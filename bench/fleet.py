"""Fleet benchmark: projects ingested per minute with 1, 2 and 4 workers on PostgreSQL
against the embedded single process, and webhook acknowledgements on SQLite vs PostgreSQL.

One run, on loopback, everything started here:

  (a) embedded: one `kg serve` (SQLite event log and index, embedded store, its one worker);
  (b) fleet: PostgreSQL (Debian's server in a temp dir) for the event log and the search
      index, `oxigraph serve` as the store, `kg webhooks`, and `kg worker --concurrency N`
      for N = 1, 2, 4 (a fresh database and store for each N).

Each is handed the same 200 synthetic projects (one push each, through the webhook role) and
timed from the first push until every project is ingested. Then `kg webhooks` alone is driven
with wrk on SQLite and on PostgreSQL: acknowledgements/s and p99.

    apt-get install wrk postgresql; python bench/fleet.py [--projects 200] [--commits 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhooks import lua_script, wrk  # noqa: E402
from kg.config import Settings  # noqa: E402
from kg.events import open_event_log  # noqa: E402
from tests.fixtures.fleet import KgRole, deliver  # noqa: E402
from tests.fixtures.githttp import GitHttpServer  # noqa: E402
from tests.fixtures.postgres import PostgresServer  # noqa: E402
from tests.fixtures.sparqlservers import OxigraphServer  # noqa: E402
from tests.fixtures.synthetic import synthetic_repo  # noqa: E402

QUIET = {"KG_LOG_LEVEL": "WARNING", "KG_HOOK_SECRET": "test-hook-secret"}


def all_ingested(event_log_url: str, projects: int, head: str) -> Callable[[], bool]:
    events = open_event_log(Settings(event_log_url=event_log_url, data_dir=Path(tempfile.mkdtemp())))

    def done() -> bool:
        finished = [s for s in events.statuses() if s.state in ("idle", "failed")]
        failed = [s for s in finished if s.state == "failed" or s.ingested_commit != head]
        if failed:
            sys.exit(f"ingest failed: {failed[0]}")
        return len(finished) == projects

    return done


def cpu_seconds(pids: set[int]) -> float:
    """CPU time (user + system) of `pids` and of their children they waited for."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> set[int]:
    """Every PostgreSQL process on the machine (the bench's cluster is the only one)."""
    return {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _comm(p) == "postgres"}


def _comm(proc: Path) -> str:
    try:
        return (proc / "comm").read_text().strip()
    except OSError:
        return ""


def timed_ingest(
    hooks_url: str,
    clone_url: str,
    head: str,
    projects: int,
    done: Callable[[], bool],
    parts: Mapping[str, Callable[[], set[int]]],
) -> tuple[float, dict[str, float]]:
    """Seconds from the first push of `projects` projects until `done()`, and the CPU
    seconds each part (name: its processes now) spent meanwhile."""
    before = {name: cpu_seconds(pids()) for name, pids in parts.items()}
    started = time.monotonic()
    pushes = [(i + 1, f"bench-{i}") for i in range(projects)]
    answered = asyncio.run(deliver(hooks_url, pushes, clone_url, head, connections=16))
    refused = [key for key, status, _ in answered if status != 202]
    if refused:
        sys.exit(f"{len(refused)} pushes refused")
    while not done():
        time.sleep(0.1)
    took = time.monotonic() - started
    return took, {name: cpu_seconds(pids()) - before[name] for name, pids in parts.items()}


def embedded(
    work: Path, clone_url: str, origin: str, head: str, projects: int
) -> tuple[float, dict[str, float]]:
    env = {**QUIET, "KG_GIT_ALLOWED_ORIGINS": origin, "KG_COALESCE_SECONDS": "0"}
    server = KgRole("serve", work / "embedded", env)
    try:
        url = f"sqlite:///{work / 'embedded' / 'events.sqlite'}"
        done = all_ingested(url, projects, head)
        return timed_ingest(server.url, clone_url, head, projects, done, {"kg serve": server.pids})
    finally:
        server.stop()


def fleet(
    work: Path, postgres: PostgresServer, clone_url: str, origin: str, head: str, projects: int, n: int
) -> tuple[float, dict[str, float]]:
    database = postgres.url(postgres.create_database(f"fleet{n}"))
    store = OxigraphServer(work / f"oxigraph{n}", timeout_s=60)
    env: Mapping[str, str] = {
        **QUIET,
        "KG_GIT_ALLOWED_ORIGINS": origin,
        "KG_EVENT_LOG_URL": database,
        "KG_SEARCH_URL": database,
        "KG_STORE_URL": store.url,
    }
    hooks = KgRole("webhooks", work / f"webhooks{n}", env)
    workers = KgRole("worker", work / f"workers{n}", env, "--concurrency", str(n))
    try:
        parts = {
            "kg worker": workers.pids,
            "kg webhooks": hooks.pids,
            "oxigraph serve": lambda: {store.process.pid},
            "postgresql": postgres_pids,
        }
        return timed_ingest(
            hooks.url, clone_url, head, projects, all_ingested(database, projects, head), parts
        )
    finally:
        workers.stop()
        hooks.stop()
        store.stop()


def acks(work: Path, env: Mapping[str, str], script: Path, seconds: int, name: str) -> dict[str, float]:
    hooks = KgRole("webhooks", work / f"acks-{name}", {**QUIET, "KG_HOOK_SECRET": "bench-secret", **env})
    try:
        return wrk(hooks.url, script, seconds, 32)
    finally:
        hooks.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--commits", type=int, default=100)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--ack-seconds", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("this benchmark needs wrk: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="kg-bench-fleet-"))
    (work / "served").mkdir()
    git = GitHttpServer(work / "served")
    postgres = PostgresServer(work / "postgres")
    try:
        repo = synthetic_repo(work / "served" / "p.git", args.commits)
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "main"], check=True,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip
        clone_url = git.url("p.git")
        print(
            f"{args.projects} projects of {args.commits} commits each, one push each; {os.cpu_count()} cores\n"
        )
        rows = [("embedded kg serve (1 worker)", *embedded(work, clone_url, git.origin, head, args.projects))]
        for n in (int(v) for v in args.workers.split(",")):
            took, cpu = fleet(work, postgres, clone_url, git.origin, head, args.projects, n)
            rows.append((f"PostgreSQL + oxigraph serve, {n} worker(s)", took, cpu))
        print(f"{'':44}{'seconds':>10}{'projects/min':>14}{'vs embedded':>13}{'CPU s/project':>15}")
        for name, took, cpu in rows:
            per = sum(cpu.values()) / args.projects
            print(
                f"{name:44}{took:10.1f}{args.projects * 60 / took:14.0f}{rows[0][1] / took:13.2f}{per:15.3f}"
            )
        print(
            "\nCPU seconds per project, by part (the git HTTP server and wrk are this process's, not counted):"
        )
        for name, _, cpu in rows:
            print(
                f"  {name}: "
                + ", ".join(f"{part} {seconds / args.projects:.3f}" for part, seconds in cpu.items())
            )
        cores = os.cpu_count() or 1
        best = min(sum(cpu.values()) for _, _, cpu in rows[1:]) / args.projects
        print(f"\nceiling on {cores} cores at that cost: {cores * 60 / best:.0f} projects/min")

        script = work / "push.lua"
        script.write_text(lua_script(str(repo), head))
        sqlite = acks(work, {"KG_GIT_ALLOWED_ORIGINS": git.origin}, script, args.ack_seconds, "sqlite")
        database = postgres.url(postgres.create_database("acks"))
        pg = acks(work, {"KG_EVENT_LOG_URL": database}, script, args.ack_seconds, "postgres")
        print(f"\nkg webhooks, wrk -t2 -c32, {args.ack_seconds} s")
        print(f"{'':24}{'acks/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
        for name, r in (("SQLite event log", sqlite), ("PostgreSQL event log", pg)):
            print(f"{name:24}{r['rps']:10.0f}{r['p50']:10.2f}{r['p99']:10.2f}")
    finally:
        postgres.stop()
        git.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    main()
