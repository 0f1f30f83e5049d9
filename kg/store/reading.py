"""The reading interface every store implements: what the SPARQL endpoint, lineage, search
indexing and the CLI depend on, never a store's own API.

A caller's query reads only what its `Access` may read (`kg.sparql.readable`), within the
store's timeout and result cap; kg's own named queries (`queries/*.rq`, values bound, never
spliced in) read everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kg.access import Access
from kg.store.base import Bindings, NamedQueries, ProjectRecord

__all__ = ["Answer", "Bindings", "LineageRequest", "NamedQueries", "QueryRequest", "Reader"]


@dataclass(frozen=True)
class QueryRequest:
    """A query with what the protocol request adds to it.

    The query reads what `access` may read (see `kg.sparql.readable`), narrowed further to
    `visible` when given (a route reading one project's graph); nothing else is ever read.
    """

    query: str
    accept: str = ""
    format: str | None = None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    visible: frozenset[str] | None = None
    access: Access | None = None
    """Who asks; None for kg's own tools, which read everything."""
    bindings: tuple[tuple[str, str], ...] = ()
    """(variable, literal value) pairs bound in a named query of kg's own (never user SPARQL)."""


@dataclass(frozen=True)
class LineageRequest:
    """Lineage of one file, within the projects the caller may read (None: all)."""

    slug: str
    path: str
    direction: str = "both"
    depth: int | None = None
    readable: frozenset[str] | None = None


@dataclass(frozen=True)
class Answer:
    """A serialized result."""

    media_type: str
    body: bytes


class Reader(NamedQueries, Protocol):
    """Reading a store. Raises `kg.errors.QueryError` subclasses, `NotFound` for lineage of
    a project it does not hold, `StoreUnavailable` when the store does not answer."""

    def records(self) -> list[ProjectRecord]:
        """Every published project's record, ordered by slug."""
        ...

    def answer(self, request: QueryRequest) -> Answer:
        """Run a query over what `request.access` may read, serialized as negotiated."""
        ...

    def lineage(self, request: LineageRequest) -> Answer:
        """A file's lineage (`kg.lineage`) as JSON."""
        ...

    def export(self, graph: str, accept: str) -> Answer:
        """One project graph, serialized as negotiated (Turtle, N-Triples, JSON-LD...)."""
        ...

    def check(self) -> tuple[bool, str]:
        """Whether the store can be read now, and what is wrong (or notable) if not."""
        ...

    def close(self) -> None:
        """Release what the reader holds (processes, connections)."""
        ...
