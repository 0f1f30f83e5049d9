"""Interactive sessions: what a session is, how it is named, and the backend interface.

kg does not run notebooks itself: a backend starts them (a local process, or Kubernetes
resources an operator or the kubelet acts on) and reports what they are doing. The API
(kg/api/routes/sessions.py) decides who may start what; a backend trusts its `SessionSpec`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal, Protocol

from kg.errors import KgError

SessionState = Literal["starting", "running", "stopping", "failed", "hibernated"]
NAME_MAX = 42
"""Longest session name: a DNS label, with room for suffixes a backend adds to it."""


class SessionConflict(KgError):
    """Another session already holds the name (a different image or resources asked)."""


@dataclass(frozen=True)
class Resources:
    """What a session asks for: CPU cores, memory in bytes, GPUs."""

    cpu: float
    memory: int
    gpu: int = 0


@dataclass(frozen=True)
class SessionSpec:
    """Everything a backend needs to start one session; checked by the API first.

    `clone_url` is where kg itself fetches the project from (its mirror or GitLab), never a
    value from the request; `token` is a credential for that fetch, or None.
    """

    name: str
    user: str
    project_id: int
    project_path: str
    commit_sha: str
    branch: str
    image: str
    resources: Resources
    default_url: str
    clone_url: str
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SessionStatus:
    """What the backend read from the running thing (never guessed)."""

    state: SessionState
    message: str = ""
    ready_containers: int = 0
    total_containers: int = 0


@dataclass(frozen=True)
class Session:
    """A session as the API shows it."""

    name: str
    user: str
    project_id: int
    project_path: str
    commit_sha: str
    branch: str
    image: str
    url: str
    started: float
    """Unix time the backend created it."""
    resources: Resources
    status: SessionStatus


class SessionBackend(Protocol):
    """Starts, watches and stops sessions. Every method is safe to call again."""

    async def start(self, spec: SessionSpec) -> Session:
        """Create the session; if one of that name exists with the same spec, return it;
        with another spec, raise `SessionConflict`."""
        ...

    async def get(self, name: str) -> Session | None:
        """The session of that name, or None."""
        ...

    async def list(self, user: str) -> list[Session]:
        """The user's sessions, oldest first."""
        ...

    async def stop(self, name: str) -> None:
        """Delete the session and what was created with it; nothing if it is gone."""
        ...

    async def logs(self, name: str, max_lines: int) -> str:
        """The last `max_lines` lines of the session's output; `NotFound` if it is gone."""
        ...

    async def close(self) -> None:
        """Release connections (not the sessions: they outlive kg restarts)."""
        ...


_UNSAFE = re.compile(r"[^a-z0-9]+")


def session_name(user: str, project_path: str, commit_sha: str) -> str:
    """A deterministic DNS-label name (≤ 42 characters) for a user's session of a project at
    a commit: readable prefix, then a hash of all three so different inputs never collide.

    >>> session_name("7", "climate/rain-fall", "a" * 40)
    'rain-fall-aaaaaaa-d6af92ce179b'
    >>> session_name("7", "g/2024 Data", "B" * 40)[:15]
    'p2024-data-bbbb'
    >>> len(session_name("x" * 300, "g/" + "n" * 300, "b" * 40)) <= NAME_MAX
    True
    """
    digest = hashlib.sha256(f"{user}\0{project_path}\0{commit_sha}".encode()).hexdigest()[:12]
    readable = _UNSAFE.sub("-", project_path.rsplit("/", 1)[-1].lower()).strip("-") or "project"
    if not readable[0].isalpha():  # a Service's name (RFC 1035 label) starts with a letter
        readable = "p" + readable
    stem = f"{readable[:20].strip('-')}-{commit_sha[:7].lower()}"
    return f"{stem}-{digest}"[:NAME_MAX]
