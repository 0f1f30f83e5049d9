"""The scheduler's jobs: periodic upkeep of one kg instance, each a method of `Upkeep`.

The scheduler never writes the store's projects itself (on the embedded store the worker is
its one writer): what a project needs (a missed push, changed readers) is enqueued in the
event log for the workers, like a webhook would; the store's garbage is collected here only
on a store server, where any process may.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from kg.config import Settings
from kg.errors import KgError, NotFound
from kg.events import EventLog, Push, open_event_log
from kg.forge import GitLab, ProjectAccess
from kg.search import SearchIndex, open_index
from kg.sessions.kubernetes import KubernetesBackend
from kg.store import ProjectRecord, open_reader, open_store

log = logging.getLogger("kg.scheduler")


class Upkeep:
    """The jobs, over components opened on first use (a job that needs no event log works
    without one) and kept until `close`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._events: EventLog | None = None
        self._index: SearchIndex | None = None

    @property
    def events(self) -> EventLog:
        if self._events is None:
            self._events = open_event_log(self.settings)
        return self._events

    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            self._index = open_index(self.settings)
        return self._index

    def _records(self) -> list[ProjectRecord]:
        reader = open_reader(self.settings)
        try:
            return reader.records()
        finally:
            reader.close()

    def _gitlab(self) -> GitLab | None:
        if not self.settings.gitlab_url:
            return None
        token = self.settings.gitlab_token.get_secret_value() if self.settings.gitlab_token else None
        return GitLab(self.settings.gitlab_url, token)

    def sweep_queue(self) -> dict[str, int]:
        """Count the queue by state and the retries now due, in the log (workers claim due
        retries and jobs whose lease expired on their own; `/metrics` counts the queue at
        each scrape, `kg_queue_projects`): a backlog that does not drain shows here."""
        counts = {"idle": 0, "pending": 0, "running": 0, "failed": 0}
        due = 0
        now = time.time()
        for status in self.events.statuses():
            counts[status.state] = counts.get(status.state, 0) + 1
            if status.state == "pending" and status.attempts and (status.next_attempt_at or 0) <= now:
                due += 1
        log.info("queue swept", extra={**counts, "due_retries": due})
        return {**counts, "due_retries": due}

    def reconcile(self) -> int:
        """Enqueue a push for every project whose default-branch head at GitLab is not the
        commit kg ingested (a push whose hook never arrived); returns how many."""
        forge = self._gitlab()
        if forge is None:
            return 0
        enqueued = 0
        for record in self._records():
            if record.gitlab_id is None:
                continue
            try:
                project = forge.describe(record.gitlab_id)
                head = forge.branch_head(record.gitlab_id, project.default_branch)
            except KgError as exc:
                log.warning(
                    "reconcile: GitLab did not answer", extra={"project": record.slug, "error": str(exc)}
                )
                continue
            if head == record.ingested_commit:
                continue
            push = Push(
                delivery_key=f"scheduler:reconcile:{record.gitlab_id}:{head}",
                project_id=record.gitlab_id,
                path=project.path,
                clone_url="",  # GitLab is configured: the worker asks it where to fetch
                commit=head,
                ref=f"refs/heads/{project.default_branch}",
                default_branch=project.default_branch,
                visibility=project.visibility,
            )
            if self.events.enqueue(push):
                enqueued += 1
                log.info("reconcile: missed push enqueued", extra={"project": record.slug, "commit": head})
        return enqueued

    def refresh_access(self) -> int:
        """Ask GitLab for every project's visibility and members; a project whose readers
        changed gets a refresh job (its record and search entry are rewritten by the worker,
        which asks GitLab again); returns how many."""
        forge = self._gitlab()
        if forge is None:
            return 0
        changed = 0
        for record in self._records():
            if record.gitlab_id is None:
                continue
            try:
                access = forge.access(record.gitlab_id)
            except NotFound:  # hidden from kg now: its worker job narrows it to private
                access = ProjectAccess("private", record.members)
            except KgError as exc:
                log.warning("access refresh failed", extra={"project": record.slug, "error": str(exc)})
                continue
            if (access.visibility, access.members) == (record.visibility, record.members):
                continue
            readers = f"{access.visibility}:{','.join(f'{u}={lvl}' for u, lvl in access.members)}"
            push = Push(
                delivery_key=f"scheduler:access:{record.gitlab_id}:{readers}",
                project_id=record.gitlab_id,
                path=record.slug,
                clone_url="",
                commit=None,
                kind="refresh",
                visibility=access.visibility,
            )
            self.events.enqueue(push)
            changed += 1
        log.info("access refreshed", extra={"changed": changed})
        return changed

    def maintain_index(self) -> int:
        """Optimize the search index; returns its full-text segments afterwards."""
        segments = self.index.maintain()
        log.info("search index maintained", extra={"segments": segments})
        return segments

    def collect_garbage(self) -> int:
        """Drop graphs no record points to, on a store server (the embedded store's one
        writer, the worker, collects after every job); returns how many were dropped."""
        if self.settings.embedded_store:
            return 0
        store = open_store(self.settings)
        try:
            dropped = store.collect_garbage()
        finally:
            store.close()
        log.info("garbage collected", extra={"graphs": dropped})
        return dropped

    def cull_sessions(self) -> list[str]:
        """Delete the Kubernetes sessions older than KG_SESSIONS_MAX_AGE_SECONDS where nothing
        else does (the `pod` kind: the Amalthea operator culls its own resources, and the local
        backend's sessions are not the scheduler's); returns their names. Idleness is not
        measured: a plain pod reports no activity kg could read."""
        if self.settings.sessions_backend != "kubernetes" or self.settings.sessions_kind != "pod":
            return []

        async def cull() -> list[str]:
            backend = KubernetesBackend(self.settings)
            try:
                return await backend.cull(self.settings.sessions_max_age_seconds)
            finally:
                await backend.close()

        culled = asyncio.run(cull())
        log.info("sessions culled", extra={"sessions": len(culled), "names": ",".join(culled)})
        return culled

    def close(self) -> None:
        """Release what the jobs opened."""
        for part in (self._events, self._index):
            if part is not None:
                part.close()
        self._events = self._index = None


def intervals(settings: Settings) -> dict[str, float]:
    """Each job's name and its interval (seconds), from the settings."""
    return {
        "sweep_queue": settings.schedule_sweep_seconds,
        "reconcile": settings.schedule_reconcile_seconds,
        "refresh_access": settings.access_refresh_seconds,
        "maintain_index": settings.schedule_index_seconds,
        "collect_garbage": settings.schedule_gc_seconds,
        "cull_sessions": settings.schedule_cull_seconds,
    }


def describe(result: Any) -> str:
    """A job's result, short enough for one log field."""
    return str(result)[:200]
