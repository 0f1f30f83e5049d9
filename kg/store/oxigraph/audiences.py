"""Retracting a graph's triples from audience graphs in the embedded store (see
`kg.store.audiences` for what audience graphs are and what keeps them safe)."""

from __future__ import annotations

from collections.abc import Mapping, Set

import pyoxigraph as ox


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
