"""The pipeline worker: claims project jobs from the event log and ingests them."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kg.auth.vault import TokenVault, open_vault
from kg.config import Settings
from kg.errors import KgError, LeaseLost
from kg.events import EventLog, Job, open_event_log
from kg.forge import GitLab
from kg.iri import Minter
from kg.pipeline.fetch import Mirrors
from kg.pipeline.ingest import ProjectInfo, ingest_repository
from kg.search import SearchIndex, open_index
from kg.search.documents import index_project
from kg.store import Store, open_store

log = logging.getLogger("kg.worker")


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
        token = settings.git_token.get_secret_value() if settings.git_token else None
        self.mirrors = Mirrors(settings.mirrors_dir, token=token, timeout=settings.git_timeout_seconds)
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"

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
        log.info("job claimed", extra=extra)
        try:
            with self._heartbeat(job):
                token = self.vault.get(job.project_id) if self.vault else None
                repo = self.mirrors.sync(job.project_id, job.clone_url, token)
                visibility, members, notes = self._access(job.project_id, job.visibility, token)
                result = ingest_repository(
                    self.store,
                    self.minter,
                    repo,
                    ProjectInfo(job.path, visibility, job.project_id, members),
                    commit=job.commit,
                    branch=job.default_branch,
                    workdir=self.settings.data_dir / "tmp",
                    extractors=self.settings.extractors,
                )
            index_project(self.index, self.store, result.record)
            self.events.complete(
                job, commit=result.record.ingested_commit or "", warnings=notes + result.warnings
            )
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
            log.warning("job abandoned: lease lost", extra=extra)
        except KgError as exc:
            self._settle(job, exc, str(exc), exc.recoverable)
        except Exception as exc:  # an unexpected bug must not kill the worker loop
            log.exception("job crashed", extra=extra)
            self._settle(job, exc, f"internal error: {type(exc).__name__}: {exc}", True)

    def _gitlab(self, token: str | None) -> GitLab | None:
        own = self.settings.gitlab_token.get_secret_value() if self.settings.gitlab_token else None
        if not self.settings.gitlab_url or not (own or token):
            return None
        return GitLab(self.settings.gitlab_url, own or token or "")

    def _access(
        self, project_id: int, visibility: str, token: str | None
    ) -> tuple[str, tuple[tuple[str, int], ...] | None, list[str]]:
        """Visibility and members from GitLab; the push's visibility (members kept) without it."""
        forge = self._gitlab(token)
        if forge is None:
            return visibility, None, []
        try:
            access = forge.access(project_id)
        except KgError as exc:
            # The push payload said the visibility; the members recorded before stay.
            return visibility, None, [f"[gitlab] members not refreshed: {exc}"]
        return access.visibility, access.members, []

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

    def _settle(self, job: Job, exc: BaseException, reason: str, recoverable: bool) -> None:
        extra = {"project_id": job.project_id, "path": job.path, "attempt": job.attempt}
        try:
            if recoverable and job.attempt < self.settings.max_attempts:
                delay = backoff(self.settings, job.attempt)
                log.warning("job failed, will retry", extra={**extra, "reason": reason, "delay": delay})
                self.events.retry_later(job, reason, delay)
            else:
                log.error("job failed for good", extra={**extra, "reason": reason})
                self.events.fail(job, reason)
        except LeaseLost:
            log.warning("job abandoned: lease lost", extra=extra)

    def run_once(self) -> bool:
        """Process one due job if there is one; True if a job was processed."""
        job = self.events.claim(self.name, self.settings.worker_lease_seconds)
        if job is None:
            return False
        self.process(job)
        dropped = self.store.collect_garbage()
        if dropped:
            log.info("dropped stale graphs", extra={"graphs": dropped})
        return True

    def run(self, stop: threading.Event) -> None:
        """Process jobs until `stop` is set."""
        log.info("worker started", extra={"worker": self.name})
        # Left by a worker killed mid-job; this data dir has one worker at a time.
        for stale in (self.settings.data_dir / "tmp").glob("*.nt"):
            stale.unlink(missing_ok=True)
        self.store.collect_garbage()
        merged = self.store.merge_audiences()
        if merged:
            log.info("merged projects into their audience graphs", extra={"projects": merged})
        refreshed = time.monotonic()
        while not stop.is_set():
            if time.monotonic() - refreshed > self.settings.access_refresh_seconds:
                refreshed = time.monotonic()
                log.info("access refreshed", extra={"changed": self.refresh_access()})
            if not self.run_once():
                stop.wait(self.settings.worker_poll_seconds)


def run_worker(settings: Settings, stop: threading.Event | None = None) -> None:
    """Entry point of a worker process: open the event log and the store, then work."""
    events = open_event_log(settings)
    store = open_store(settings)
    index = open_index(settings)
    vault = open_vault(settings)
    try:
        Worker(settings, events, store, index, vault).run(stop or threading.Event())
    finally:
        store.close()
        events.close()
        index.close()
        vault.close()
