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

    def __init__(self, settings: Settings, name: str = "kg-worker") -> None:
        self.settings = settings
        self.name = name
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
                target=_main, args=(self.settings,), name=self.name, daemon=False
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

    def terminate(self) -> None:
        """Ask the process to stop after its current job (SIGTERM), without waiting."""
        process = self._process
        if process is not None and process.is_alive():
            process.terminate()

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


class Watchdog:
    """Restarts the worker processes it watches when they die (checked every `interval` s).

    Each process watches its own children: this is not a scheduled job, which in a fleet
    only one scheduler would fire.
    """

    def __init__(self, workers: list[WorkerProcess], interval: float = 2.0) -> None:
        self.workers = workers
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="worker-watchdog", daemon=True)

    def start(self) -> None:
        """Start the workers and keep them running."""
        for worker in self.workers:
            worker.start()
        if self.workers:
            self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            for worker in self.workers:
                worker.start()  # a no-op while it runs

    def stop(self, grace: float = 10.0) -> None:
        """Stop watching, then ask every worker to stop after its job (all at once, so N
        workers take one grace period, not N)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        for worker in self.workers:
            worker.terminate()
        for worker in self.workers:
            worker.stop(grace)
