"""Two `kg scheduler` processes on one PostgreSQL fire each scheduled run exactly once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures.servers import kg_env


def _fired(log: Path) -> list[tuple[str, str]]:
    """(job, scheduled fire time) of every run a scheduler's log records."""
    runs = []
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("msg") == "scheduled job ran":
                runs.append((entry["job"], entry["fire_time"]))
    return runs


def test_two_schedulers_on_one_postgresql_fire_each_run_once(tmp_path: Path, postgres_url: str) -> None:
    env = {
        "KG_EVENT_LOG_URL": postgres_url,
        "KG_SCHEDULE_INDEX_SECONDS": "0.5",  # the job under test; the others wait an hour
        "KG_SCHEDULE_SWEEP_SECONDS": "1",  # reads the PostgreSQL event log too
        "KG_ACCESS_REFRESH_SECONDS": "3600",
    }
    logs = [tmp_path / f"scheduler-{n}.log" for n in (1, 2)]
    processes = []
    for n, log in enumerate(logs, 1):
        with log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "kg", "scheduler"],
                    env=kg_env(tmp_path / f"kg{n}", **env),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_fired(logs[0]) + _fired(logs[1])) < 12:
            assert all(p.poll() is None for p in processes), [log.read_text()[-2000:] for log in logs]
            time.sleep(0.2)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        codes = [process.wait(30) for process in processes]
    fired = _fired(logs[0]) + _fired(logs[1])
    assert len(fired) >= 12, [log.read_text()[-2000:] for log in logs]
    assert len(set(fired)) == len(fired), sorted(fired)  # no run fired twice
    assert codes == [0, 0]
    text = logs[0].read_text() + logs[1].read_text()
    assert "schedules are kept in memory" not in text  # they are in PostgreSQL
    assert "scheduled job failed" not in text and '"job": "sweep_queue"' in text
