"""Push latency: from a webhook for a one-commit push until `/sparql` answers with the commit.

One run: a project of 1,000 synthetic commits is ingested first; then 20 times, one commit is
added to its repository, the Push Hook is sent to kg, and `/sparql` is asked (every 10 ms)
whether the new commit is in the project's graph. Prints p50/p95/max, for the embedded
default (`kg serve`, SQLite event log) and with the event log on PostgreSQL.

Target (issue 11): p50 < 1 s, p95 < 2 s embedded.

    python bench/latency.py [--commits 1000] [--pushes 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.config import Settings  # noqa: E402
from kg.iri import Minter, commit  # noqa: E402
from tests.fixtures.fleet import KgRole, hook_request, percentile  # noqa: E402
from tests.fixtures.githttp import GitHttpServer  # noqa: E402
from tests.fixtures.postgres import PostgresServer  # noqa: E402
from tests.fixtures.synthetic import synthetic_repo  # noqa: E402

SLUG = "fleet/p1"
DEFAULTS = {
    f"KG_{name.upper()}": str(Settings.model_fields[name].default)
    for name in ("coalesce_seconds", "worker_poll_seconds")
}
BASE = "https://kg.local/"


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})  # fmt: skip
    return done.stdout.strip()


def add_commit(repo: Path, n: int) -> str:
    """One more commit on main of the bare `repo`, changing one file."""
    index = {"GIT_INDEX_FILE": str(repo / f"bench-index-{n}")}
    blob = subprocess.run(["git", "-C", str(repo), "hash-object", "-w", "--stdin"], input=f"push {n}\n",
                          check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    git(repo, "read-tree", "main", env=index)
    git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},bench/latency.txt", env=index)
    tree = git(repo, "write-tree", env=index)
    sha = git(repo, "commit-tree", tree, "-p", "main", "-m", f"push {n}")
    git(repo, "update-ref", "refs/heads/main", sha)
    (repo / f"bench-index-{n}").unlink()
    return sha


def visible(client: httpx.Client, sha: str) -> bool:
    iri = commit(Minter(BASE).project(SLUG), sha)
    query = f"ASK {{ GRAPH ?g {{ <{iri}> ?p ?o }} }}"  # a benchmark's own fixed query, not user input
    response = client.get(
        "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    return response.status_code == 200 and bool(response.json()["boolean"])


def push_and_wait(client: httpx.Client, clone_url: str, sha: str, key: str, timeout: float = 120) -> float:
    started = time.monotonic()
    response = client.post("/webhooks/events", **hook_request(1, SLUG, clone_url, sha, key))
    response.raise_for_status()
    while not visible(client, sha):
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"commit {sha} not queryable after {timeout} s")
        time.sleep(0.01)
    return time.monotonic() - started


def measure(kg: KgRole, repo: Path, clone_url: str, pushes: int) -> list[float]:
    with httpx.Client(base_url=kg.url, timeout=60) as client:
        push_and_wait(client, clone_url, git(repo, "rev-parse", "main"), "initial", timeout=600)
        return [push_and_wait(client, clone_url, add_commit(repo, n), f"push-{n}") for n in range(pushes)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--pushes", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kg-bench-latency-"))
    (work / "served").mkdir()
    git_http = GitHttpServer(work / "served")
    postgres = PostgresServer(work / "postgres")
    try:
        results = {}
        for name, extra in (
            ("embedded (SQLite event log)", {}),
            (
                "event log on PostgreSQL",
                {"KG_EVENT_LOG_URL": postgres.url(postgres.create_database("latency"))},
            ),
        ):
            repo = synthetic_repo(work / "served" / f"{len(results)}.git", args.commits)
            env = {"KG_GIT_ALLOWED_ORIGINS": git_http.origin, "KG_LOG_LEVEL": "WARNING", "KG_BASE_IRI": BASE}
            env.update(DEFAULTS)  # the tests' fixtures speed these up; a user gets the defaults
            kg = KgRole("serve", work / f"kg{len(results)}", {**env, **extra})
            try:
                results[name] = measure(kg, repo, git_http.url(repo.name), args.pushes)
            finally:
                kg.stop()
        print(f"webhook -> commit answered by /sparql; {args.pushes} one-commit pushes on a "
              f"{args.commits}-commit project; {os.cpu_count()} cores\n")  # fmt: skip
        print(f"{'':30}{'p50 s':>8}{'p95 s':>8}{'max s':>8}")
        for name, seconds in results.items():
            print(
                f"{name:30}{statistics.median(seconds):8.2f}{percentile(seconds, 0.95):8.2f}{max(seconds):8.2f}"
            )
        print("\ntarget: p50 < 1 s, p95 < 2 s (embedded)")
    finally:
        postgres.stop()
        git_http.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    main()
