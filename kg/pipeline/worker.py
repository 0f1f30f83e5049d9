"""The pipeline worker: claims project jobs from the event log and ingests them."""

from __future__ import annotations

import errno
import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from kg import logs, metrics
from kg.auth.vault import TokenVault, open_vault
from kg.config import Settings
from kg.errors import KgError, LeaseLost, NotFound, StoreBusy
from kg.events import EventLog, Job, open_event_log
from kg.forge import GitLab, ProjectAccess
from kg.iri import Minter
from kg.pipeline.extraction import ExtractionProcess
from kg.pipeline.failures import out_of_space, public_reason
from kg.pipeline.fetch import Mirrors
from kg.pipeline.ingest import ProjectInfo, check_binding, ingest_repository
from kg.pipeline.liveness import Liveness
from kg.pipeline.target import gitlab_for, moved_away, target_of
from kg.search import SearchIndex, open_index
from kg.search.documents import index_project
from kg.store import Store, open_store

log = logging.getLogger("kg.worker")
_TROUBLE_PAUSE = 5.0
_STORE_WAIT = 30.0
_STOP_SLICE = 0.5
_TRANSIENT_OS_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.ENOMEM, errno.EMFILE, errno.ENFILE}


def backoff(settings: Settings, attempt: int) -> float:
    """Seconds to wait before retry number `attempt` (exponential, capped)."""
    delay: float = settings.retry_base_seconds * 2 ** max(attempt - 1, 0)
    return min(delay, settings.retry_max_seconds)


class Worker:
    """Processes jobs one at a time. Several workers may share an event log."""

    def __init__(
        self,
        settings: Settings,
        events: EventLog,
        store: Store,
        index: SearchIndex,
        vault: TokenVault | None = None,
    ) -> None:
        self.settings = settings
        self.events = events
        self.store = store
        self.index = index
        self.vault = vault
        self.minter = Minter(settings.base_iri)
        # kg's GitLab token can clone too (scope read_repository): one token is enough
        own = settings.git_token or settings.gitlab_token
        token = own.get_secret_value() if own else None
        self.mirrors = Mirrors(
            settings.mirrors_dir,
            token=token,
            forge_origin=settings.forge_origin,
            timeout=settings.git_timeout_seconds,
            memory_bytes=settings.job_max_memory_mb << 20,
        )
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.extraction = ExtractionProcess(
            memory_bytes=settings.job_max_memory_mb << 20,
            timeout=settings.job_timeout_seconds,
            scratch=settings.data_dir / "tmp",
        )
        self.liveness: Liveness | None = None

    @contextmanager
    def _heartbeat(self, job: Job) -> Iterator[None]:
        """Keep renewing the job's lease while the job runs."""
        stop = threading.Event()
        lease = self.settings.worker_lease_seconds

        def beat() -> None:
            while not stop.wait(lease / 3):
                try:
                    self.events.renew(job, lease)
                except LeaseLost:
                    log.warning("lease lost", extra={"project_id": job.project_id})
                    return
                except KgError as exc:  # the event log is away (restarting): try again next beat
                    log.warning("lease not renewed", extra={"project_id": job.project_id, "error": str(exc)})

        thread = threading.Thread(target=beat, name="lease-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def process(self, job: Job) -> None:
        """Fetch, extract and load one job, and record the outcome in the event log."""
        extra = {"project_id": job.project_id, "path": job.path, "attempt": job.attempt}
        logs.request_id.set(job.request_id)  # this job's lines carry the id of the push's request
        log.info("job claimed", extra=extra)
        if self.index.is_buried(job.project_id):
            self._bury(job)
            return
        metrics.job_started(job.project_id, job.lease_owner)
        try:
            with self._heartbeat(job):
                token = self.vault.get(job.project_id) if self.vault else None
                forge = self._gitlab(token)
                target = target_of(job, self.settings, forge)
                previous = self.store.project(self.minter.project(target.slug))
                stale = target.authoritative and moved_away(previous, forge)
                check_binding(previous, job.project_id, authoritative=target.authoritative, stale=stale)
                repo = self.mirrors.sync(job.project_id, target.clone_url, token)
                result = ingest_repository(
                    self.store,
                    self.minter,
                    repo,
                    ProjectInfo(target.slug, target.visibility, job.project_id, target.members),
                    commit=job.commit,
                    branch=target.default_branch,
                    workdir=self.settings.data_dir / "tmp",
                    extractors=self.settings.extractors,
                    run=self.extraction.run,
                    max_triples=self.settings.job_max_triples,
                )
            index_project(self.index, self.store, result.record)
            self._forget_old_paths(job.project_id, target.slug)
            self.events.complete(job, commit=result.record.ingested_commit or "", warnings=result.warnings)
            metrics.job_succeeded(job.project_id, job.lease_owner, result.triples, result.mode)
            log.info(
                "job done",
                extra={
                    **extra,
                    "mode": result.mode,
                    "commits": result.commits,
                    "triples": result.triples,
                    "seconds": round(result.seconds, 3),
                },
            )
        except LeaseLost:
            metrics.job_abandoned(job.project_id, job.lease_owner)
            log.warning("job abandoned: lease lost", extra=extra)
        except KgError as exc:
            self._settle(job, exc, exc.recoverable)
        except OSError as exc:  # a full disk heals when space is freed: try again later
            log.exception("job failed on a file", extra=extra)
            self._settle(job, exc, exc.errno in _TRANSIENT_OS_ERRORS)
        except Exception as exc:  # an unexpected bug must not kill the worker loop
            log.exception("job crashed", extra=extra)
            self._settle(job, exc, True)

    def _gitlab(self, token: str | None) -> GitLab | None:
        return gitlab_for(self.settings, token)

    def _bury(self, job: Job) -> None:
        """A project deleted through kg leaves the store too (the search index already forgot
        it): every record of its GitLab id goes, its graphs at the next garbage collection."""
        for record in self.store.projects():
            if record.gitlab_id == job.project_id:
                self.store.remove_project(record.iri)
                log.info("deleted project removed", extra={"project_id": job.project_id, "path": record.slug})
        self.events.complete(job, commit="", warnings=["the project was deleted"])

    def _forget_old_paths(self, gitlab_id: int, slug: str) -> None:
        """A project lives at one path: the records it left at others (renamed) go."""
        for record in self.store.projects():
            if record.gitlab_id == gitlab_id and record.slug != slug:
                log.info(
                    "project moved; old path forgotten", extra={"project_id": gitlab_id, "path": record.slug}
                )
                self.store.remove_project(record.iri)
                self.index.remove_project(record.slug)

    def refresh_access(self) -> int:
        """Read every GitLab project's visibility and members again; returns how many changed."""
        changed = 0
        for record in self.store.projects():
            if record.gitlab_id is None:
                continue
            token = self.vault.get(record.gitlab_id) if self.vault else None
            forge = self._gitlab(token)
            if forge is None:
                continue
            try:
                access = forge.access(record.gitlab_id)
            except NotFound:
                # GitLab no longer shows it to kg: nobody but its recorded members may read it
                access = ProjectAccess("private", record.members)
            except KgError as exc:
                log.warning("access refresh failed", extra={"project": record.slug, "error": str(exc)})
                continue
            if (access.visibility, access.members) != (record.visibility, record.members):
                updated = self.store.publish_record(
                    record.evolve(visibility=access.visibility, members=access.members)
                )
                index_project(self.index, self.store, updated)
                changed += 1
        return changed

    def _settle(self, job: Job, exc: BaseException, recoverable: bool) -> None:
        extra = {"project_id": job.project_id, "path": job.path, "attempt": job.attempt, "error": str(exc)}
        reason = public_reason(exc)
        try:
            if out_of_space(exc) or (recoverable and job.attempt < self.settings.max_attempts):
                metrics.job_failed(job.project_id, job.lease_owner, exc, retry=True)
                delay = backoff(self.settings, job.attempt)
                log.warning("job failed, will retry", extra={**extra, "reason": reason, "delay": delay})
                self.events.retry_later(job, reason, delay)
            else:
                metrics.job_failed(job.project_id, job.lease_owner, exc, retry=False)
                log.error("job failed for good", extra={**extra, "reason": reason})
                self.events.fail(job, reason)
        except LeaseLost:
            log.warning("job abandoned: lease lost", extra=extra)

    def run_once(self) -> bool:
        """Process one due job if there is one; True if a job was processed."""
        job = self.events.claim(self.name, self.settings.worker_lease_seconds)
        if job is None:
            return False
        if self.liveness is not None:
            self.liveness.working_on(job.project_id)
        try:
            self.process(job)
        finally:
            logs.request_id.set("")  # what the worker logs between jobs is no request's
            if self.liveness is not None:
                self.liveness.working_on(None)
        dropped = self.store.collect_garbage()
        if dropped:
            log.info("dropped stale graphs", extra={"graphs": dropped})
        return True

    def run(self, stop: threading.Event) -> None:
        """Process jobs until `stop` is set."""
        log.info("worker started", extra={"worker": self.name})
        self.liveness = Liveness(self.settings.data_dir)
        self.liveness.start()
        try:
            self._tidy()
            refreshed = time.monotonic()
            while not stop.is_set():
                if time.monotonic() - refreshed > self.settings.access_refresh_seconds:
                    refreshed = time.monotonic()
                    log.info("access refreshed", extra={"changed": self.refresh_access()})
                try:
                    if not self.run_once():
                        self._wait_for_work(stop)
                except (KgError, OSError, sqlite3.Error, psycopg.Error) as exc:
                    # the event log or the disk is failing (full, say): wait, do not die
                    log.error("worker loop failed; waiting", extra={"error": str(exc)})
                    stop.wait(_TROUBLE_PAUSE)
        finally:
            self.liveness.stop()
            self.extraction.close()

    def _wait_for_work(self, stop: threading.Event) -> None:
        """Idle until the event log says work may be due (a push stored by any process wakes
        the worker at once), at most `worker_poll_seconds`; `stop` is heard within a slice."""
        deadline = time.monotonic() + self.settings.worker_poll_seconds
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            if self.events.wait_for_work(min(left, _STOP_SLICE)):
                return

    def _tidy(self) -> None:
        """Repair what a worker killed mid-job may have left (one worker per data dir)."""
        for stale in (self.settings.data_dir / "tmp").glob("*.nt"):
            stale.unlink(missing_ok=True)
        self.store.collect_garbage()
        merged = self.store.merge_audiences()
        if merged:
            log.info("merged projects into their audience graphs", extra={"projects": merged})


def run_worker(settings: Settings, stop: threading.Event | None = None) -> None:
    """Entry point of a worker process: open the event log and the store, then work."""
    stop = stop or threading.Event()
    events = open_event_log(settings)
    store = _open_store(settings, stop)
    index = open_index(settings)
    vault = open_vault(settings)
    try:
        Worker(settings, events, store, index, vault).run(stop)
    finally:
        store.close()
        events.close()
        index.close()
        vault.close()


def _open_store(settings: Settings, stop: threading.Event) -> Store:
    """The store, once whoever holds it lets go: a worker orphaned by a killed `kg serve`
    exits within a second (it watches its parent), so a restarted one waits for it."""
    deadline = time.monotonic() + _STORE_WAIT
    while True:
        try:
            return open_store(settings)
        except StoreBusy:
            if time.monotonic() > deadline or stop.is_set():
                raise
            stop.wait(0.5)
