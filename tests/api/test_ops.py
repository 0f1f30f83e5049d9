"""Liveness, readiness and request ids of a real `kg serve`: `/health` answers while the
process lives whatever its dependencies do; `/ready` fails, saying why, while the store
server is stopped; every answer carries a request id, and so do the log lines it caused."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx

from tests.fixtures.servers import KgServer
from tests.fixtures.sparqlservers import OxigraphServer


def wait_ready(kg: KgServer, want: int, timeout: float = 30) -> dict[str, Any]:
    """`/ready`'s body once it answers `want` (the probes remember an answer for a second)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(f"{kg.url}/ready", timeout=30)
        if response.status_code == want:
            body: dict[str, Any] = response.json()
            return body
        time.sleep(0.2)
    raise AssertionError(f"/ready never answered {want}: {response.text}")


def log_lines(kg: KgServer) -> list[dict[str, Any]]:
    return [json.loads(line) for line in kg.log.read_text().splitlines() if line.startswith("{")]


def test_health_is_liveness_and_ready_names_the_dependency_that_is_down(tmp_path: Path) -> None:
    ox = OxigraphServer(tmp_path / "oxigraph")
    kg = KgServer(tmp_path / "kg", {"KG_STORE_URL": ox.url, "KG_SPARQL_WORKERS": "1"})
    try:
        ready = wait_ready(kg, 200)
        assert set(ready["checks"]) == {"worker", "eventLog", "store", "searchIndex", "network"}
        assert all(check["ok"] for check in ready["checks"].values()), ready

        ox.kill()
        down = wait_ready(kg, 503)
        assert down["status"] == "degraded"
        assert down["checks"]["store"]["ok"] is False and down["checks"]["store"]["detail"]
        assert down["checks"]["eventLog"] == {"ok": True} and down["checks"]["searchIndex"] == {"ok": True}
        alive = httpx.get(f"{kg.url}/health", timeout=30)  # nothing a restart of kg would cure
        assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
        query = httpx.get(
            f"{kg.url}/sparql", params={"query": "ASK {}"}, headers={"X-Request-Id": "ops-test.1"}, timeout=30
        )
        assert query.status_code == 503 and query.headers["x-request-id"] == "ops-test.1"

        ox.start()
        wait_ready(kg, 200)
    finally:
        kg.stop()
        ox.stop()
    # the failing query's log line carries the caller's id
    failed = [line for line in log_lines(kg) if line.get("request_id") == "ops-test.1"]
    assert failed and all(line["level"] in ("warning", "error") for line in failed), failed


def test_every_answer_carries_a_request_id_and_only_a_sane_given_one_is_kept(tmp_path: Path) -> None:
    kg = KgServer(tmp_path / "kg")
    try:
        with kg.client() as http:
            kept = http.get("/version", headers={"X-Request-Id": "3f1c9a0e-1b2c-4d5e-8f90-a1b2c3d4e5f6"})
            assert kept.headers["x-request-id"] == "3f1c9a0e-1b2c-4d5e-8f90-a1b2c3d4e5f6"
            made = {http.get("/version").headers["x-request-id"] for _ in range(3)}
            assert len(made) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", m) for m in made)
            for bad in ("x" * 129, "two words", 'quote"d', "new\tline"):
                answer = http.get("/version", headers={"X-Request-Id": bad})
                assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"]), bad
            missing = http.get("/no/such/route", headers={"X-Request-Id": "lost-1"})
            assert missing.status_code == 404 and missing.headers["x-request-id"] == "lost-1"
    finally:
        kg.stop()
