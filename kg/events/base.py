"""The event log interface and the records it hands out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from kg.logs import request_id

JobState = Literal["idle", "pending", "running", "failed"]


@dataclass(frozen=True)
class Push:
    """One accepted forge event that asks for a project to be (re)ingested.

    `commit` is the pushed head; None asks for whatever the default branch points at.
    """

    delivery_key: str
    project_id: int
    path: str
    clone_url: str
    commit: str | None
    ref: str = ""
    kind: str = "push"
    default_branch: str = "main"
    visibility: str = "private"
    """As the payload says; the narrowest unless told (GitLab, when configured, decides)."""
    request_id: str = field(default_factory=request_id.get)
    """The id of the HTTP request it was made for (the current one unless told; "" outside of
    any): the worker's log lines for its job carry it."""


@dataclass(frozen=True)
class Job:
    """A claim on one project's pending work, valid while its lease lasts."""

    project_id: int
    path: str
    clone_url: str
    commit: str | None
    default_branch: str
    visibility: str
    attempt: int
    lease_owner: str
    last_event_id: int
    request_id: str = ""
    """The request id of the newest push the job covers ("" if none was recorded)."""


@dataclass(frozen=True)
class ProjectStatus:
    """Sync state of one project, as `GET /projects/{id}/events/status` shows it."""

    project_id: int
    path: str
    state: JobState
    events_total: int
    events_done: int
    attempts: int = 0
    message: str = ""
    ingested_commit: str | None = None
    next_attempt_at: float | None = None
    warnings: list[str] = field(default_factory=list)
    visibility: str = "private"
    """As the newest event said (GitLab, when configured, is asked instead)."""


class EventLog(Protocol):
    """Durable queue of forge events, coalesced per project.

    Every method commits before returning. Methods taking a `Job` raise
    `kg.errors.LeaseLost` when the job's lease was taken over by another worker. Every
    method raises `kg.errors.Unavailable` when the log cannot be reached or written (then
    nothing was stored).

    A push to an idle project is due at once; pushes to a queued or running project join
    its next job. Claims hand out the due project that last had a worker longest ago, and
    keep heavy projects (slow last ingest) to a share of the live workers
    (kg/events/fairness.py).
    """

    def enqueue(self, push: Push) -> bool:
        """Store a push durably. Returns False if its delivery key was seen before."""
        ...

    async def enqueue_async(self, push: Push) -> bool:
        """`enqueue` for the event loop: waits for durability without blocking a thread."""
        ...

    def claim(self, worker: str, lease_seconds: float) -> Job | None:
        """Hand out the next due project job (or one whose lease expired), or None."""
        ...

    def renew(self, job: Job, lease_seconds: float) -> None:
        """Extend the job's lease."""
        ...

    def complete(self, job: Job, *, commit: str, warnings: list[str]) -> None:
        """Mark the job's events done; newer events that arrived meanwhile stay pending."""
        ...

    def retry_later(self, job: Job, reason: str, delay_seconds: float) -> None:
        """Give the job back, due again after `delay_seconds`."""
        ...

    def fail(self, job: Job, reason: str) -> None:
        """Give up on the job's events with a reason; a later push starts over."""
        ...

    def wait_for_work(self, timeout: float) -> bool:
        """Block until work may have become due since this thread's last `claim` (a push was
        stored, a job given back, a delay or lease ran out), at most `timeout` seconds.
        Returns True if woken before the timeout; a wake is a hint to claim, not a promise."""
        ...

    def status(self, project_id: int) -> ProjectStatus | None:
        """The project's sync state, or None if no event for it was ever accepted."""
        ...

    def statuses(self) -> list[ProjectStatus]:
        """Every known project's sync state."""
        ...

    def probe(self) -> None:
        """Raise `kg.errors.Unavailable` unless the log can be read and written now."""
        ...

    def close(self) -> None:
        """Release the log."""
        ...
