"""Audience graphs: each project's triples merged once more, into the graph of its visibility.

pyoxigraph's `default_graph=[...]` looks every triple pattern up once per listed graph, so
a query over 10,000 listed graphs is thousands of times slower than over one (a 1,000-row
SELECT over 2,700 of 3,000 graphs: 44 s listed, 0.3 s on one merged graph). So next to
each project's own graphs the store keeps one graph per visibility merging the data and
description of every project with that visibility. An anonymous caller's query reads
`audiences/public`; an authenticated one reads the public and internal audiences plus the
graphs of their private projects: a few graphs, however many projects there are.

What keeps this safe, in the live store (readers only see checkpoints taken at publish):
- an audience graph only holds triples of projects with its visibility, and of dead
  generations that garbage collection has not retracted yet;
- a project leaves an audience (its visibility changes) before the change is published:
  its record is first detached (`kg:audience` removed, so a crash leaves a project to
  re-merge, never a stale merge), then its triples are retracted;
- a record's `kg:audience` says its audience graph holds its live graph; readers list
  the graphs of projects without one one by one.
A triple is retracted from an audience only when no other live graph of that audience's
projects holds it: projects share triples (people, content-addressed files).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set

import pyoxigraph as ox

from kg.iri import Minter
from kg.store.base import ProjectRecord

VISIBILITIES = ("public", "internal", "private")


def audience_graphs(minter: Minter) -> dict[str, str]:
    """The audience graph of each visibility."""
    return {v: minter.audience_graph(v) for v in VISIBILITIES}


def holders(minter: Minter, projects: Iterable[ProjectRecord], *, excluding: str = "") -> dict[str, set[str]]:
    """Per audience graph, the live graphs whose triples it must keep: the data and description
    graphs of the projects merged into it (but `excluding`'s)."""
    keep: dict[str, set[str]] = {g: set() for g in audience_graphs(minter).values()}
    for record in projects:
        if record.audience in keep and record.iri != excluding:
            keep[record.audience].add(minter.record_graph(record.iri))
            if record.graph:
                keep[record.audience].add(record.graph)
    return keep


def retract(store: ox.Store, graph: str, keep: Mapping[str, Set[str]]) -> int:
    """Remove `graph`'s triples from the audience graphs in `keep`, except those that a graph
    in `keep[audience]` also holds. Returns the number of triples removed."""
    removed = 0
    for quad in store.quads_for_pattern(None, None, None, ox.NamedNode(graph)):
        found = {
            q.graph_name.value
            for q in store.quads_for_pattern(quad.subject, quad.predicate, quad.object)
            if isinstance(q.graph_name, ox.NamedNode)
        }
        for audience in found & keep.keys():
            if not found & keep[audience]:
                store.remove(ox.Quad(quad.subject, quad.predicate, quad.object, ox.NamedNode(audience)))
                removed += 1
    return removed
