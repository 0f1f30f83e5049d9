"""Runs the pipeline worker in its own process, so ingest never competes for the API's GIL."""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from multiprocessing.process import BaseProcess

from kg import logs
from kg.config import Settings
from kg.confined import confine
from kg.pipeline.worker import run_worker

log = logging.getLogger("kg.worker")


def _main(settings: Settings) -> None:
    # dies with kg serve (an orphan must not keep holding the store); it fetches, so online
    confine(None, offline=False)
    logs.configure(settings.log_level, settings.log_format)
    # Ingest is background work: webhook acknowledgements and queries come first.
    os.nice(10)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    run_worker(settings, stop)


class WorkerProcess:
    """One worker process, restarted if it dies."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context = mp.get_context("spawn")
        self._process: BaseProcess | None = None
        self._lock = threading.Lock()
        self.started_at = time.time()

    def start(self) -> None:
        """Start the process (again, if it died)."""
        with self._lock:
            if self._process is not None and self._process.is_alive():
                return
            if self._process is not None:
                log.error("worker process died; restarting", extra={"exitcode": self._process.exitcode})
            self._process = self._context.Process(
                target=_main, args=(self.settings,), name="kg-worker", daemon=False
            )
            self._process.start()
            self.started_at = time.time()

    def alive(self) -> bool:
        """Whether the process is running."""
        return self._process is not None and self._process.is_alive()

    def pid(self) -> int | None:
        """The running process's id, or None."""
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    def stop(self, grace: float = 10.0) -> None:
        """Ask the process to stop after its current job; kill it after `grace` seconds."""
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        process.join(grace)
        if process.is_alive():  # killing mid-job is safe: the store keeps the last published graph
            process.kill()
            process.join()
