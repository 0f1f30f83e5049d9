"""Interactive sessions for a project at a commit, started by a backend chosen by settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kg.sessions.base import (
    Resources,
    Session,
    SessionBackend,
    SessionConflict,
    SessionSpec,
    SessionStatus,
    session_name,
)

if TYPE_CHECKING:
    from kg.config import Settings

__all__ = [
    "Resources",
    "Session",
    "SessionBackend",
    "SessionConflict",
    "SessionSpec",
    "SessionStatus",
    "open_backend",
    "session_name",
]


def open_backend(settings: Settings) -> SessionBackend:
    """The session backend `KG_SESSIONS_BACKEND` names; each imported only when chosen
    (the Kubernetes one needs lightkube, which the local one does not)."""
    if settings.sessions_backend == "kubernetes":
        from kg.sessions.kubernetes import KubernetesBackend

        backend: SessionBackend = KubernetesBackend(settings)
        return backend
    from kg.sessions.local import LocalBackend

    return LocalBackend(settings)
