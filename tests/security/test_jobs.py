"""Every job is bounded and the service survives what jobs do: a job past its time or memory
fails for good with the reason, a job that keeps killing its worker is given up, the worker
dies with `kg serve`, and /ready says when the worker, the event log or the store is not
well."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kg.pipeline.liveness import read_beat
from tests.fixtures.bombs import wide_commit
from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.gitrepo import make_repo
from tests.fixtures.processes import alive, descendants
from tests.fixtures.servers import KgServer
from tests.fixtures.synthetic import synthetic_repo
from tests.security.conftest import commits_of, push_body, send_hook, settled, wait_published


def head(repo: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "main"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def hook(kg: KgServer, plain: GitHttpServer, pid: int, name: str, key: str = "") -> None:
    """A push of `plain/<name>` as project `pid` (public, path g/<stem>)."""
    body = push_body(pid, f"g/{name.removesuffix('.git')}", plain.url(name), head(plain.root / name))
    assert send_hook(kg, body, pid, key=key or f"{pid}-{time.time_ns()}").status_code == 202


def wait(predicate: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached in {timeout} s")


def health(kg: KgServer) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{kg.url}/ready", timeout=30)
    return response.status_code, response.json()


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHttpServer]:
    root = tmp_path_factory.mktemp("job-repos")
    synthetic_repo(root / "small.git", 10, seed=1)
    synthetic_repo(root / "long.git", 6_000, seed=2)  # half a second to extract
    synthetic_repo(root / "medium.git", 2_000, seed=3)  # a 1.8 MB pack
    big = make_repo(root / "work-big")
    lines = (
        f"<http://ex/e{i}> <http://www.w3.org/ns/prov#wasGeneratedBy> <http://ex/a{i % 1000}> .\n"
        f'<http://ex/e{i}> <http://www.w3.org/2000/01/rdf-schema#label> "entity {i} with a longer label" .\n'
        for i in range(150_000)
    )
    big.commit({"prov/run.nt": "".join(lines), "README": "a big, legitimate PROV document"}, "big")
    server = GitHttpServer(root)
    server.publish(big.path, "big.git")
    yield server
    server.stop()


def serve(tmp_path: Path, plain: GitHttpServer, **env: str) -> KgServer:
    return KgServer(
        tmp_path / "kg", {"KG_GIT_ALLOWED_ORIGINS": plain.origin, "KG_SPARQL_WORKERS": "1", **env}
    )


def test_a_job_past_its_time_fails_for_good_and_the_next_runs(tmp_path: Path, plain: GitHttpServer) -> None:
    kg = serve(tmp_path, plain, KG_JOB_TIMEOUT_SECONDS="0.2")
    try:
        hook(kg, plain, 41, "long.git")
        hook(kg, plain, 42, "small.git")
        status = settled(kg, 41)
        assert status["details"] == {
            "status": "failure",
            "message": "extraction ran longer than 0.2 s (KG_JOB_TIMEOUT_SECONDS)",
        }
        assert status["attempts"] == 0  # failed for good at once: no retry, no poison loop
        assert settled(kg, 42)["details"]["status"] == "success"
        assert commits_of(kg, "g/small") == 10
    finally:
        kg.stop()


def test_a_job_past_its_memory_fails_for_good(tmp_path: Path, plain: GitHttpServer) -> None:
    kg = serve(tmp_path, plain, KG_JOB_MAX_MEMORY_MB="256")
    try:
        hook(kg, plain, 43, "big.git")  # a 29 MB PROV file: ~700 MB to canonicalize
        hook(kg, plain, 44, "small.git")
        status = settled(kg, 43)
        assert status["details"] == {
            "status": "failure",
            "message": "extraction needed more than 256 MB of memory (KG_JOB_MAX_MEMORY_MB)",
        }
        assert settled(kg, 44)["details"]["status"] == "success"
        beat = read_beat(kg.data_dir)
        assert beat is not None and alive(beat.pid)  # the worker itself never went down
    finally:
        kg.stop()


def test_a_job_past_its_triples_fails_for_good(tmp_path: Path, plain: GitHttpServer) -> None:
    kg = serve(tmp_path, plain, KG_JOB_MAX_TRIPLES="1000")
    try:
        hook(kg, plain, 45, "long.git")
        assert settled(kg, 45)["details"]["message"] == (
            "the project gives more than 1000 triples (KG_JOB_MAX_TRIPLES)"
        )
    finally:
        kg.stop()


def test_the_triple_cap_holds_within_one_commit(tmp_path: Path, plain: GitHttpServer) -> None:
    work = make_repo(tmp_path / "wide")
    work.commit({"README": "x\n"}, "start")
    wide_commit(work, 100, 1000)  # 100,000 paths in one commit: 600,000 triples
    plain.publish(work.path, "wide.git")
    kg = serve(tmp_path, plain, KG_JOB_MAX_TRIPLES="10000")
    try:
        hook(kg, plain, 57, "wide.git")
        assert settled(kg, 57)["details"] == {
            "status": "failure",
            "message": "the project gives more than 10000 triples (KG_JOB_MAX_TRIPLES)",
        }
        written = sum(f.stat().st_size for f in (kg.data_dir / "store").rglob("*") if f.is_file())
        assert written < 50 * 1024 * 1024  # nothing of it was loaded
    finally:
        kg.stop()


def test_a_job_that_keeps_killing_its_worker_is_given_up(tmp_path: Path, plain: GitHttpServer) -> None:
    kg = serve(tmp_path, plain, KG_MAX_ATTEMPTS="2", KG_WORKER_LEASE_SECONDS="2")
    try:
        hook(kg, plain, 46, "long.git")
        killed: set[int] = set()

        def on_the_job() -> bool:
            beat = read_beat(kg.data_dir)
            return beat is not None and beat.project_id == 46 and beat.pid not in killed

        for _ in range(2):  # the job takes its worker down, twice (as an OOM killer would)
            wait(on_the_job, what="job running in a live worker")
            beat = read_beat(kg.data_dir)
            assert beat is not None
            os.kill(beat.pid, signal.SIGKILL)
            killed.add(beat.pid)
            wait(lambda: not any(alive(pid) for pid in killed), what="worker gone")
        status = settled(kg, 46)
        assert status["details"] == {
            "status": "failure",
            "message": "the job stopped its worker 2 times (crashed or killed); giving up",
        }
        # the restarted worker goes on with other projects
        hook(kg, plain, 47, "small.git")
        assert settled(kg, 47)["details"]["status"] == "success"
    finally:
        kg.stop()


def test_the_worker_dies_with_kg_serve_and_a_restart_goes_on(tmp_path: Path, plain: GitHttpServer) -> None:
    kg = serve(tmp_path, plain, KG_WORKER_LEASE_SECONDS="2")
    hook(kg, plain, 48, "long.git")
    wait(lambda: (b := read_beat(kg.data_dir)) is not None and b.project_id == 48, what="job running")
    family = descendants(kg.process.pid)
    assert len(family) >= 4  # serve, worker, extraction, query process
    kg.process.kill()  # kill -9: no shutdown code runs
    kg.process.wait()
    kg.stop()  # (only closes its log file now)
    wait(lambda: not any(alive(pid) for pid in family), timeout=10, what="every child gone")
    again = serve(tmp_path, plain, KG_WORKER_LEASE_SECONDS="2")
    try:
        hook(again, plain, 49, "small.git")
        assert settled(again, 49)["details"]["status"] == "success"
        # the interrupted job is done again once its lease has run out
        assert settled(again, 48)["details"]["status"] == "success"
    finally:
        again.stop()


def test_health_reports_a_stuck_worker_a_broken_event_log_and_no_checkpoint(
    tmp_path: Path, plain: GitHttpServer
) -> None:
    kg = serve(tmp_path, plain, KG_WORKER_STALE_SECONDS="2")
    try:
        hook(kg, plain, 50, "small.git")
        wait_published(kg, "g/small")
        wait(lambda: health(kg)[0] == 200, what="ready")

        beat = read_beat(kg.data_dir)
        assert beat is not None
        os.kill(beat.pid, signal.SIGSTOP)  # frozen: alive, but doing nothing
        try:
            wait(lambda: health(kg)[0] == 503, timeout=20, what="stuck worker reported")
            _, body = health(kg)
            assert body["status"] == "degraded" and not body["checks"]["worker"]["ok"]
            assert httpx.get(f"{kg.url}/health").status_code == 200  # the process itself is alive
        finally:
            os.kill(beat.pid, signal.SIGCONT)
        wait(lambda: health(kg)[0] == 200, timeout=20, what="worker back")

        events = kg.data_dir / "events.sqlite"
        saved = events.with_name("events.saved")
        os.replace(events, saved)
        events.write_bytes(os.urandom(8192))  # what a damaged disk leaves: not a database
        try:
            wait(lambda: not health(kg)[1]["checks"]["eventLog"]["ok"], timeout=20, what="event log reported")
            assert "not a database" in health(kg)[1]["checks"]["eventLog"]["detail"]
        finally:
            os.replace(saved, events)
        wait(lambda: health(kg)[0] == 200, timeout=20, what="event log back")

        snapshots = kg.data_dir / "store.snapshots"
        for snapshot in snapshots.iterdir():
            if snapshot.is_dir():
                subprocess.run(["rm", "-rf", str(snapshot)], check=True)
        wait(lambda: not health(kg)[1]["checks"]["store"]["ok"], timeout=20, what="store reported")
        query = httpx.get(f"{kg.url}/sparql", params={"query": "ASK {}"}, timeout=30)
        assert query.status_code >= 500 and str(kg.data_dir) not in query.text
        hook(kg, plain, 50, "small.git", key="again")  # the next publish writes a checkpoint again
        wait(lambda: health(kg)[0] == 200, timeout=60, what="store back")
    finally:
        kg.stop()


def test_queries_fall_back_to_an_older_checkpoint(tmp_path: Path, plain: GitHttpServer) -> None:
    kg = serve(tmp_path, plain)
    try:
        hook(kg, plain, 52, "small.git")
        wait_published(kg, "g/small")
        hook(kg, plain, 55, "medium.git")  # a second publish, a second checkpoint
        wait_published(kg, "g/medium")
        name = (kg.data_dir / "store.version").read_text().strip()
        subprocess.run(["rm", "-rf", str(kg.data_dir / "store.snapshots" / name)], check=True)
        older = max(
            (p for p in (kg.data_dir / "store.snapshots").iterdir() if p.is_dir()), key=lambda p: p.name
        )
        records = older.with_name(older.name + ".records.json")
        records.write_text(records.read_text()[:40])  # and the records beside the older one damaged
        response = httpx.get(f"{kg.url}/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
        assert response.status_code == 200  # from the checkpoint before: g/small only
        assert commits_of(kg, "g/small") == 10
        _, body = health(kg)
        assert body["checks"]["store"] == {
            "ok": True,
            "detail": "the newest checkpoint does not open; readers use an older one",
        }
    finally:
        kg.stop()


def small_disk(path: Path, megabytes: int) -> None:
    path.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"a full disk is simulated with a small tmpfs, which needs root here: {done.stderr!r}")


def test_a_full_disk_is_retried_and_the_worker_survives(tmp_path: Path, plain: GitHttpServer) -> None:
    disk = tmp_path / "disk"
    small_disk(disk, 64)
    try:
        env = {"KG_GIT_ALLOWED_ORIGINS": plain.origin, "KG_SPARQL_WORKERS": "1", "KG_COALESCE_SECONDS": "2"}
        kg = KgServer(disk / "kg", env)
        ballast = disk / "ballast"
        try:
            hook(kg, plain, 53, "small.git")
            assert settled(kg, 53)["details"]["status"] == "success"
            worker = read_beat(kg.data_dir)
            hook(kg, plain, 54, "medium.git")  # acknowledged; due two seconds later...
            subprocess.run(["dd", "if=/dev/zero", f"of={ballast}", "bs=1M"], capture_output=True, check=False)
            # ...when the disk is all but full: room for the event log, not for the repository
            os.truncate(ballast, ballast.stat().st_size - 1024 * 1024)
            status = lambda: httpx.get(f"{kg.url}/projects/54/events/status", timeout=30).json()  # noqa: E731
            wait(lambda: "no space left" in status()["details"]["message"], what="a retry for lack of space")
            assert status()["details"]["status"] == "in-progress"
            # a webhook now is refused with "later", not a 500: GitLab retries it
            late = send_hook(
                kg, push_body(56, "g/late", plain.url("small.git"), head(plain.root / "small.git")), 56
            )
            assert late.status_code in (202, 503)
            if late.status_code == 503:
                assert late.headers["Retry-After"] and "nothing was stored" in late.json()["detail"]
            ballast.unlink()  # space again: the next retry succeeds
            final = settled(kg, 54)
            assert final["details"]["status"] == "success", final
            assert commits_of(kg, "g/medium") == 2_000
            after = read_beat(kg.data_dir)
            assert worker is not None and after is not None and after.pid == worker.pid  # never died
            assert "Traceback" not in kg.log.read_text()
        finally:
            kg.stop()
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
