"""Interactive sessions for a project at a commit, started by a backend chosen by settings."""

from __future__ import annotations

from kg.sessions.base import (
    Resources,
    Session,
    SessionBackend,
    SessionConflict,
    SessionSpec,
    SessionStatus,
    session_name,
)

__all__ = [
    "Resources",
    "Session",
    "SessionBackend",
    "SessionConflict",
    "SessionSpec",
    "SessionStatus",
    "session_name",
]
