"""Two `kg scheduler` processes on one PostgreSQL fire each scheduled run exactly once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures.servers import kg_env


def _fired(log: Path) -> list[str]:
    """The scheduled fire times of `maintain_index` runs a scheduler's log records."""
    times = []
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("msg") == "scheduled job ran" and entry.get("job") == "maintain_index":
                times.append(entry["fire_time"])
    return times


def test_two_schedulers_on_one_postgresql_fire_each_run_once(tmp_path: Path, postgres_url: str) -> None:
    env = {
        "KG_EVENT_LOG_URL": postgres_url,
        "KG_SCHEDULE_INDEX_SECONDS": "0.5",  # the job under test; the others wait an hour
        "KG_SCHEDULE_SWEEP_SECONDS": "3600",
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
        while time.monotonic() < deadline and len(_fired(logs[0]) + _fired(logs[1])) < 8:
            assert all(p.poll() is None for p in processes), [log.read_text()[-2000:] for log in logs]
            time.sleep(0.2)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        codes = [process.wait(30) for process in processes]
    fired = _fired(logs[0]) + _fired(logs[1])
    assert len(fired) >= 8, [log.read_text()[-2000:] for log in logs]
    assert len(set(fired)) == len(fired), sorted(fired)  # no run fired twice
    assert codes == [0, 0]
    assert "schedules are kept in memory" not in logs[0].read_text()
