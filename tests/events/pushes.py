"""Pushes as the webhook receiver stores them, for the event log tests."""

from __future__ import annotations

from kg.events import Push


def push(key: str, project: int = 1, commit: str | None = "a" * 40) -> Push:
    """A push to project `project` (path g/p<project>) with delivery key `key`."""
    return Push(
        delivery_key=key,
        project_id=project,
        path=f"g/p{project}",
        clone_url=f"git://127.0.0.1/p{project}",
        commit=commit,
    )
