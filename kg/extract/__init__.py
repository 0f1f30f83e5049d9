"""Extractors: each turns one kind of repository content into N-Triples for a project graph."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExtractWarning:
    """Something an extractor could not read; recorded on the project's status, never fatal."""

    source: str
    reason: str
    commit: str | None = None
    path: str | None = None

    def __str__(self) -> str:
        where = ":".join(x for x in (self.commit and self.commit[:12], self.path) if x)
        return f"[{self.source}] {where + ': ' if where else ''}{self.reason}"


@dataclass
class ExtractStats:
    """What one extraction produced."""

    commits: int = 0
    triples: int = 0
