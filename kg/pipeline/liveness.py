"""How the worker shows it is alive and not stuck: a small file it rewrites every few seconds.

`/ready` reads it: a worker whose file is stale (frozen, dead without its supervisor
noticing yet) or whose job has run far past the job time limit is stuck.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

BEAT_SECONDS = 1.0
JOB_GRACE_SECONDS = 600.0
"""Loading a job's triples after its extraction may take this much past the job limit."""


@dataclass(frozen=True)
class Beat:
    """What the worker last said about itself."""

    pid: int
    at: float
    project_id: int | None = None
    job_since: float | None = None


def beat_file(data_dir: Path) -> Path:
    """Where the worker of `data_dir` writes its beats."""
    return data_dir / "worker.beat"


class Liveness:
    """The worker's side: beats from a thread, with the job it is on."""

    def __init__(self, data_dir: Path) -> None:
        self.path = beat_file(data_dir)
        self._job: tuple[int, float] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="liveness", daemon=True)

    def start(self) -> None:
        """Beat until `stop`."""
        self._write()
        self._thread.start()

    def working_on(self, project_id: int | None) -> None:
        """Say which job the worker is on (None: idle)."""
        self._job = None if project_id is None else (project_id, time.time())
        self._write()

    def _run(self) -> None:
        while not self._stop.wait(BEAT_SECONDS):
            self._write()

    def _write(self) -> None:
        job = self._job
        beat = Beat(os.getpid(), time.time(), *(job or (None, None)))
        tmp = self.path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(asdict(beat)))
            os.replace(tmp, self.path)
        except OSError:
            pass  # a full disk: the beat goes stale, and /ready says so

    def stop(self) -> None:
        """Stop beating and remove the file (a stopped worker is not a stuck one)."""
        self._stop.set()
        self.path.unlink(missing_ok=True)


def read_beat(data_dir: Path) -> Beat | None:
    """The worker's last beat, or None if there is none."""
    try:
        return Beat(**json.loads(beat_file(data_dir).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def trouble(beat: Beat | None, pid: int | None, since: float, stale: float, job_timeout: float) -> str:
    """Why the worker with process id `pid`, started at `since` (epoch seconds), looks down or
    stuck ('' if it does not): silent for `stale` seconds, or on one job far past its limit."""
    now = time.time()
    if beat is None or beat.pid != pid:
        # not beating yet: opening the store (or waiting for whoever holds it)
        return f"the worker has not started working in {now - since:.0f} s" if now - since > stale else ""
    if now - beat.at > stale:
        return f"the worker has not reported for {now - beat.at:.0f} s"
    if beat.job_since is not None and now - beat.job_since > job_timeout + JOB_GRACE_SECONDS:
        return f"the worker has been on project {beat.project_id} for {now - beat.job_since:.0f} s"
    return ""
