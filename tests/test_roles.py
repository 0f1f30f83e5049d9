"""The four roles run apart: `kg webhooks`, `kg worker`, `kg api` (and `kg scheduler`, see
tests/scheduler/test_fleet.py) as separate real processes on one data dir ingest a push."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.fleet import KgRole
from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.gitrepo import GitRepo
from tests.fixtures.processes import alive, children
from tests.fixtures.servers import free_port, kg_env
from tests.fixtures.stores import env_in_test
from webhooks.tokens import hook_token

COMMITS = "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a <https://w3id.org/kg/ontology#Commit> }"


@pytest.fixture
def roles() -> Iterator[list[KgRole]]:
    started: list[KgRole] = []
    yield started
    for role in started:
        role.stop()


def _push(
    payload: dict[str, Any], project_id: int, url: str, after: str
) -> tuple[dict[str, Any], dict[str, str]]:
    body = json.loads(json.dumps(payload))
    body["project"].update(id=project_id, git_http_url=url, path_with_namespace=f"g/p{project_id}")
    body.update(after=after, checkout_sha=after, project_id=project_id)
    headers = {
        "X-Gitlab-Event": "Push Hook",
        "X-Gitlab-Event-UUID": "d-1",
        "X-Gitlab-Token": hook_token("test-hook-secret", project_id),
    }
    return body, headers


def _wait(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"never: {what}")


def _workers(role: KgRole) -> list[int]:
    """The worker processes a `kg worker` runs (not multiprocessing's resource tracker)."""
    found = []
    for pid in children(role.process.pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if alive(pid) and b"spawn_main" in command and b"resource_tracker" not in command:
            found.append(pid)
    return found


def test_the_webhooks_package_imports_without_the_api() -> None:
    code = "import sys, webhooks.app; print(sorted(m for m in sys.modules if m.startswith('kg.api')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_webhooks_worker_and_api_as_separate_processes_ingest_a_push(
    tmp_path: Path,
    roles: list[KgRole],
    git_http: GitHttpServer,
    git_repo: Callable[[str], GitRepo],
    gitlab_payload: Callable[[str], dict[str, Any]],
) -> None:
    data_dir = tmp_path / "kg"
    env = {"KG_SPARQL_WORKERS": "1", "KG_GIT_ALLOWED_ORIGINS": git_http.origin}
    work = git_repo("work")
    for i in range(3):
        work.commit({f"f{i}.txt": f"{i}\n"}, f"commit {i}")
    url = git_http.publish(work.path, "p1.git")

    hooks = KgRole("webhooks", data_dir, env)
    roles.append(hooks)
    assert hooks.get("/ready").status_code == 200
    assert hooks.get("/sparql", params={"query": COMMITS}).status_code == 404  # the API is not here
    body, headers = _push(gitlab_payload("push_event"), 1, url, work.head())
    answer = httpx.post(f"{hooks.url}/webhooks/events", json=body, headers=headers, timeout=30)
    assert (answer.status_code, answer.json()) == (202, {"status": "accepted", "project": 1})
    stored = subprocess.run(
        [sys.executable, "-m", "kg", "status"], env=kg_env(data_dir), capture_output=True, text=True
    )
    assert "g/p1" in stored.stdout  # stored before the 202
    metrics = hooks.get("/metrics")
    assert metrics.status_code == 200 and b"# HELP" in metrics.content

    api = KgRole("api", data_dir, env)
    roles.append(api)
    assert "kg api on the embedded store" in api.log.read_text()  # one machine only: said so
    assert httpx.post(f"{api.url}/webhooks/events", json=body, headers=headers).status_code in (404, 405)
    worker = KgRole("worker", data_dir, env)
    roles.append(worker)

    seen: list[Any] = []

    def ingested() -> bool:
        seen.append(api.get("/projects/1/events/status").json())
        return bool(seen[-1].get("details", {}).get("status") == "success")

    try:
        _wait(ingested, "the push is ingested")
    except AssertionError:
        raise AssertionError(seen[-1]) from None
    rows = api.get("/sparql", params={"query": COMMITS}, headers={"Accept": "text/csv"})
    assert rows.text.split()[1] == "3"

    # the worker role restarts a worker process that dies, and stops on SIGTERM
    (first,) = _workers(worker)
    os.kill(first, signal.SIGKILL)
    _wait(lambda: any(c != first for c in _workers(worker)), "it is restarted", 20)
    (second,) = _workers(worker)
    assert worker.stop() == 0
    assert not alive(second)


def test_more_than_one_worker_on_the_embedded_store_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kg", "worker", "--concurrency", "2"],
        env=kg_env(tmp_path / "kg"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "needs a store server (KG_STORE_URL=http(s)" in errors[0]


def test_two_workers_on_a_store_server_run_and_stop_on_sigterm(
    tmp_path: Path, roles: list[KgRole], request: pytest.FixtureRequest
) -> None:
    env = env_in_test("oxigraph-server", request)
    worker = KgRole("worker", tmp_path / "kg", env, "--concurrency", "2")
    roles.append(worker)
    _wait(lambda: len(_workers(worker)) == 2, "two worker processes run", 30)
    running = _workers(worker)
    assert worker.stop() == 0
    assert not any(alive(pid) for pid in running)
    assert "needs a store server" not in worker.log.read_text()


def test_a_scheduler_whose_database_is_down_says_so_in_one_line(tmp_path: Path) -> None:
    url = f"postgresql://kg:secret-password@127.0.0.1:{free_port()}/kg"
    done = subprocess.run(
        [sys.executable, "-m", "kg", "scheduler"],
        env=kg_env(tmp_path / "kg", KG_EVENT_LOG_URL=url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].startswith("error: the scheduler's database at 127.0.0.1:")
    assert "Traceback" not in done.stderr and "secret-password" not in done.stdout + done.stderr
