"""Latency benchmark: from a push's webhook to its commit answering through /sparql.

Serves a synthetic 1,000-commit repository over HTTP, has `kg serve` (production defaults:
KG_COALESCE_SECONDS=2, KG_WORKER_POLL_SECONDS=1) ingest it, then 20 times adds one commit,
delivers its push webhook and asks /sparql (anonymously; the project is public) every
20 ms until the commit is there. Before each push it waits for the project's previous job to
finish (status no longer in progress): the target is about a push to an idle project. A push
arriving while a job still runs joins the next job, due KG_COALESCE_SECONDS after the
previous one started (pushes bursting in cost two ingests, not one each). Prints the median and 95th percentile, embedded (SQLite
event log) and with the event log on PostgreSQL (Debian's server, started in a temp dir).

Target (issue 11): p50 < 1 s, p95 < 2 s embedded.

    python bench/latency.py [--pushes 20] [--commits 1000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
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

from tests.fixtures.githttp import GitHttpServer  # noqa: E402
from tests.fixtures.servers import KgServer  # noqa: E402
from tests.fixtures.synthetic import synthetic_repo  # noqa: E402
from webhooks.tokens import hook_token  # noqa: E402

SECRET = "latency-bench-hook-secret"
PROJECT = 42
SHA = "https://w3id.org/kg/ontology#sha"
POLL = 0.02
QUERYABLE_TIMEOUT = 300.0


def git(repo: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], input=stdin, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def add_commit(repo: Path, n: int) -> str:
    """One more commit on main of the bare `repo` (plumbing: no work tree needed)."""
    blob = git(repo, "hash-object", "-w", "--stdin", stdin=f"latency push {n}\n")
    tree = git(repo, "ls-tree", "main") + f"\n100644 blob {blob}\tlatency-{n}.txt\n"
    new_tree = git(repo, "mktree", stdin=tree)
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.org"}
    env.update(GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.org")
    sha = subprocess.run(
        ["git", "-C", str(repo), "commit-tree", new_tree, "-p", "main", "-m", f"latency push {n}"],
        check=True, capture_output=True, text=True, env=env,
    ).stdout.strip()  # fmt: skip
    git(repo, "update-ref", "refs/heads/main", sha)
    return sha


def deliver(client: httpx.Client, clone_url: str, sha: str, key: str) -> None:
    payload = json.loads((ROOT / "tests/fixtures/gitlab/push_event.json").read_text())
    payload["project"].update(id=PROJECT, path_with_namespace="bench/latency", git_http_url=clone_url,
                              visibility_level=20, default_branch="main")  # fmt: skip
    payload.update(after=sha, checkout_sha=sha, project_id=PROJECT, ref="refs/heads/main")
    headers = {
        "X-Gitlab-Event": "Push Hook",
        "X-Gitlab-Token": hook_token(SECRET, PROJECT),
        "Idempotency-Key": key,
    }
    answer = client.post("/webhooks/events", json=payload, headers=headers)
    assert answer.status_code == 202, answer.text


def wait_queryable(client: httpx.Client, sha: str) -> None:
    query = f'ASK {{ ?c <{SHA}> "{sha}" }}'
    deadline = time.monotonic() + QUERYABLE_TIMEOUT
    while time.monotonic() < deadline:
        answer = client.get(
            "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
        )
        if answer.status_code == 200 and answer.json().get("boolean") is True:
            return
        time.sleep(POLL)
    raise TimeoutError(f"commit {sha} not queryable after {QUERYABLE_TIMEOUT:.0f} s")


def wait_idle(client: httpx.Client) -> None:
    deadline = time.monotonic() + QUERYABLE_TIMEOUT
    while time.monotonic() < deadline:
        status = client.get(f"/projects/{PROJECT}/events/status").json()
        if status.get("details", {}).get("status") not in (None, "in-progress"):
            return
        time.sleep(POLL)
    raise TimeoutError(f"project still in progress after {QUERYABLE_TIMEOUT:.0f} s")


def measure(work: Path, commits: int, pushes: int, env: dict[str, str]) -> list[float]:
    """Seconds from each one-commit push's webhook to its commit answering through /sparql."""
    served = work / "served"
    served.mkdir(parents=True)
    repo = synthetic_repo(served / "latency.git", commits)
    http = GitHttpServer(served)
    server = KgServer(
        work / "kg",
        {
            "KG_HOOK_SECRET": SECRET,
            "KG_COALESCE_SECONDS": "2",
            "KG_WORKER_POLL_SECONDS": "1",
            "KG_GIT_ALLOWED_ORIGINS": http.origin,
            "KG_LOG_LEVEL": "WARNING",
            **env,
        },
    )
    try:
        with server.client() as client:
            head = git(repo, "rev-parse", "main")
            deliver(client, http.url("latency.git"), head, "initial")
            wait_queryable(client, head)  # the whole history, once
            samples = []
            for n in range(pushes):
                wait_idle(client)
                sha = add_commit(repo, n)
                started = time.perf_counter()
                deliver(client, http.url("latency.git"), sha, f"push-{n}")
                wait_queryable(client, sha)
                samples.append(time.perf_counter() - started)
            return samples
    finally:
        server.stop()
        http.stop()


def report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"{name:28}{statistics.median(ordered):8.3f}{p95:8.3f}{ordered[0]:8.3f}{ordered[-1]:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=20)
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--no-postgres", action="store_true", help="only the embedded event log")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kg-bench-latency-"))
    results: dict[str, list[float]] = {}
    try:
        results["embedded (SQLite log)"] = measure(work / "embedded", args.commits, args.pushes, {})
        if not args.no_postgres:
            from tests.fixtures.postgres import PostgresServer

            postgres = PostgresServer(work / "postgres")
            try:
                url = postgres.url(postgres.create_database())
                results["PostgreSQL event log"] = measure(
                    work / "pg", args.commits, args.pushes, {"KG_EVENT_LOG_URL": url}
                )
            finally:
                postgres.stop()
        print(f"\n{args.pushes} one-commit pushes on an ingested {args.commits}-commit project; "
              "seconds from the webhook to the commit answering through /sparql\n")  # fmt: skip
        print(f"{'':28}{'p50':>8}{'p95':>8}{'min':>8}{'max':>8}")
        for name, samples in results.items():
            report(name, samples)
        print("\ntarget (embedded): p50 < 1 s, p95 < 2 s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    main()
