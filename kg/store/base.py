"""The writing interface every store implements, and the record it keeps of each project."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox


@dataclass(frozen=True)
class ProjectRecord:
    """What the shared projects graph says about one project."""

    iri: str
    slug: str
    name: str
    visibility: str = "public"
    gitlab_id: int | None = None
    ingested_commit: str | None = None
    graph: str | None = None
    generation: int = 0
    extractor_version: str | None = None
    ingested_at: str | None = None
    triples: int = 0
    warnings: int = 0
    members: tuple[tuple[str, int], ...] = ()
    """(user id, GitLab access level) of the project's members; 50 owner, 40 maintainer."""
    audience: str | None = None
    """The audience graph holding this record and its live graph's triples (None: not merged)."""

    def evolve(self, **changes: object) -> ProjectRecord:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


Bindings = Mapping[str, ox.NamedNode | ox.Literal]
"""Values bound to the variables of a named query (terms: escaped by construction)."""


class NamedQueries(Protocol):
    """Something that answers kg's own named SELECTs (writers and readers both do)."""

    def select(self, name: str, bindings: Bindings) -> list[dict[str, str]]:
        """Run the named read query of `queries/` with bound values; rows of plain values."""
        ...


class Store(NamedQueries, Protocol):
    """A triple store holding one named graph per project.

    Writers replace or extend a project's graph so that readers never see half of a job's
    work; a writer that dies mid-way leaves the previously published graph in place.
    Implementations raise `kg.errors.StoreBusy` when another process holds the store.
    """

    def project(self, iri: str) -> ProjectRecord | None:
        """The record of one project, or None if it was never published."""
        ...

    def projects(self) -> list[ProjectRecord]:
        """Every published project, ordered by slug."""
        ...

    def replace_project_graph(self, record: ProjectRecord, ntriples: Path) -> ProjectRecord:
        """Load `ntriples` as a new generation of the project's graph and publish it.

        Until the final, small publishing transaction, readers keep seeing the previous
        generation; the old generation is dropped later by `collect_garbage`.
        """
        ...

    def extend_project_graph(self, record: ProjectRecord, ntriples: Path) -> ProjectRecord:
        """Add `ntriples` to the current generation in one transaction and update the record."""
        ...

    def publish_record(self, record: ProjectRecord) -> ProjectRecord:
        """Replace a published project's description (visibility, members...) only."""
        ...

    def remove_project(self, iri: str) -> bool:
        """Take a project out of the store (its record at once, its graph at the next garbage
        collection); False if there was none."""
        ...

    def merge_audiences(self) -> int:
        """Merge every project its audience graph does not hold yet; returns how many."""
        ...

    def collect_garbage(self) -> int:
        """Drop graphs that no published record points to; returns how many were dropped."""
        ...

    def close(self) -> None:
        """Release the store."""
        ...
