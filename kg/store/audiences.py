"""Audience graphs: each project's triples merged once more, into the graph of its visibility.

pyoxigraph's `default_graph=[...]` looks every triple pattern up once per listed graph, so
a query over 10,000 listed graphs is thousands of times slower than over one (a 1,000-row
SELECT over 2,700 of 3,000 graphs: 44 s listed, 0.3 s on one merged graph). So next to
each project's own graphs the store keeps audience graphs merging the data and description
of projects readable by the same callers: one for public projects, one for internal ones,
one per set of members for private ones (`audience_of`). An anonymous caller's query reads
`audiences/public`; an authenticated one reads the public and internal audiences plus the
audiences of the private projects they are a member of.

What keeps this safe, in the live store (readers only see checkpoints taken at publish):
- an audience graph only holds triples of projects with its visibility, and of dead
  generations that garbage collection has not retracted yet;
- a project leaves an audience (its visibility or members change) before the change is published:
  its record is first detached (`kg:audience` removed, so a crash leaves a project to
  re-merge, never a stale merge), then its triples are retracted;
- a record's `kg:audience` says its audience graph holds its live graph; readers list
  the graphs of projects without one one by one.
A triple is retracted from an audience only when no other live graph of that audience's
projects holds it: projects share triples (people, content-addressed files).
"""

from __future__ import annotations

from collections.abc import Iterable

from kg.access import audience_key
from kg.iri import Minter
from kg.store.base import ProjectRecord


def audience_of(minter: Minter, record: ProjectRecord) -> str:
    """The audience graph a project belongs in: one per visibility for public and internal
    projects; for private ones, one per set of members, because GitLab projects of one
    group share their (inherited) members, so a member of 250 private projects usually
    reads a handful of graphs.

    >>> m = Minter("https://kg.local/")
    >>> audience_of(m, ProjectRecord("p", "g/p", "p", "internal", members=(("7", 40),)))
    'https://kg.local/audiences/internal'
    >>> a = audience_of(m, ProjectRecord("p", "g/p", "p", "private", members=(("7", 40), ("9", 30))))
    >>> a == audience_of(m, ProjectRecord("q", "g/q", "q", "private", members=(("9", 50), ("7", 30))))
    True
    """
    return minter.audience_graph(audience_key(record.visibility, (user for user, _ in record.members)))


def is_audience(minter: Minter, graph: str) -> bool:
    """Whether `graph` is an audience graph."""
    return graph.startswith(minter.audience_graph(""))


def holders(minter: Minter, projects: Iterable[ProjectRecord], *, excluding: str = "") -> dict[str, set[str]]:
    """Per audience graph, the live graphs whose triples it must keep: the data and description
    graphs of the projects merged into it (but `excluding`'s)."""
    keep: dict[str, set[str]] = {}
    for record in projects:
        if record.audience and record.iri != excluding:
            own = keep.setdefault(record.audience, set())
            own.add(minter.record_graph(record.iri))
            if record.graph:
                own.add(record.graph)
    return keep
