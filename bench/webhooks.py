"""Webhook benchmark: durable acknowledgements per second, kg serve vs. a bare baseline.

Fires GitLab push payloads (real shape, valid per-project tokens, a unique Idempotency-Key
each) at `kg serve` on loopback with wrk (another process) for 20 s, then at a bare FastAPI
endpoint that inserts one row into SQLite with the same durability, and prints acks/s and
latency percentiles side by side. Afterwards it counts the events kg really stored.

    apt-get install wrk; python bench/webhooks.py [--seconds 20] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.servers import KgServer, free_port, kg_env, wait_for_port  # noqa: E402
from tests.fixtures.synthetic import synthetic_repo  # noqa: E402
from webhooks.tokens import hook_token  # noqa: E402

PROJECTS = 200


def lua_script(clone_url: str, head: str) -> str:
    payload = json.loads((ROOT / "tests/fixtures/gitlab/push_event.json").read_text())
    bodies, tokens = [], []
    for pid in range(1, PROJECTS + 1):
        payload["project"].update(id=pid, path_with_namespace=f"bench/p{pid}",
                                  git_http_url=clone_url)  # fmt: skip
        payload.update(after=head, checkout_sha=head, project_id=pid)
        bodies.append(json.dumps(json.dumps(payload)))
        tokens.append(json.dumps(hook_token("bench-secret", pid)))
    return f"""
local bodies = {{{", ".join(bodies)}}}
local tokens = {{{", ".join(tokens)}}}
local counter = 0
thread_id = 0  -- a global: setup() sets it per thread
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
end
function request()
  counter = counter + 1
  local i = (counter % {PROJECTS}) + 1
  local headers = {{}}
  headers["Content-Type"] = "application/json"
  headers["X-Gitlab-Event"] = "Push Hook"
  headers["X-Gitlab-Token"] = tokens[i]
  headers["Idempotency-Key"] = string.format("%d-%d", thread_id, counter)
  return wrk.format("POST", "/webhooks/events", headers, bodies[i])
end
"""


def wrk(url: str, script: Path, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert match, out
        return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]

    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests": total,
        "acked": total - (int(bad.group(1)) if bad else 0),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": latency("50%"),
        "p99": latency("99%"),
        "socket_errors": 1.0 if errors else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="run kg serve without its pipeline worker (API alone)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("this benchmark needs wrk: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="kg-bench-hooks-"))
    try:
        repo = synthetic_repo(work / "tiny.git", 3)
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "main"], check=True,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip
        script = work / "push.lua"
        script.write_text(lua_script(str(repo), head))

        env = {
            "KG_HOOK_SECRET": "bench-secret",
            "KG_LOG_LEVEL": "WARNING",
            "KG_COALESCE_SECONDS": "2",
            "KG_WORKER_ENABLED": str(not args.no_worker),
        }
        server = KgServer(work / "kg", env)
        try:
            ours = wrk(server.url, script, args.seconds, args.connections)
        finally:
            server.stop()
        stored = (
            sqlite3.connect(work / "kg" / "events.sqlite")
            .execute("SELECT count(*) FROM events")
            .fetchone()[0]
        )

        port = free_port()
        env = {**kg_env(work), "BASELINE_DB": str(work / "baseline.sqlite")}
        baseline = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.baseline_app:app", "--port", str(port),
             "--loop", "uvloop", "--http", "httptools", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        try:
            wait_for_port(port)
            base = wrk(f"http://127.0.0.1:{port}", script, args.seconds, args.connections)
        finally:
            baseline.terminate()
            baseline.wait()

        print(f"{args.seconds} s, {args.connections} connections, wrk -t2, {PROJECTS} projects\n")
        print(f"{'':24}{'acks/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
        for name, r in (("kg serve", ours), ("bare FastAPI + SQLite", base)):
            print(f"{name:24}{r['rps']:10.0f}{r['p50']:10.2f}{r['p99']:10.2f}")
        print(f"\nkg / baseline acks/s = {ours['rps'] / base['rps']:.2f}")
        print(f"kg acknowledged {ours['acked']:.0f} of {ours['requests']:.0f} requests; "
              f"events stored: {stored}")  # fmt: skip
        if stored < ours["acked"]:
            print("LOST EVENTS: fewer stored than acknowledged")
            sys.exit(1)
        print("every acknowledged event is stored (target: >= 2000 acks/s, p99 < 20 ms)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    main()
