"""Naming a document's blank nodes from the graph's own content, in bounded time.

RDFC-1.0 (pyoxigraph's `canonicalize`) is linear when every blank node differs from the
others in the quads it appears in (its "first-degree hash"), which real documents satisfy.
When some do not, RDFC-1.0 searches permutations of alike nodes: a clique of 9 blank
nodes (72 triples) takes 40 s, of 10 several minutes. Those documents are named by colour
refinement instead (each node's colour hashes its quads with its neighbours' colours,
round after round, within a work budget); nodes still alike are named in document order,
which `parse` makes deterministic. Where refinement separates every node, the names do not
depend on the serialization either.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

import pyoxigraph as ox

MAX_REFINE_WORK = 4_000_000
"""Quad incidences refinement may visit (rounds x incidences), a few seconds at most."""


def in_document_order(quads: list[ox.Quad]) -> list[ox.Quad]:
    """The quads with blank nodes renamed `d0`, `d1`... by first appearance (parsers name
    anonymous nodes at random).

    >>> doc = b"<urn:s> <urn:p> [ <urn:p> [] ] ."
    >>> [str(q) for q in in_document_order(list(ox.parse(doc, ox.RdfFormat.TURTLE)))]
    ['_:d0 <urn:p> _:d1', '<urn:s> <urn:p> _:d0']
    """
    names: dict[ox.BlankNode, ox.BlankNode] = {}

    def term(t: Any) -> Any:  # a term of any position, kept in its type
        if isinstance(t, ox.BlankNode):
            return names.setdefault(t, ox.BlankNode(f"d{len(names)}"))
        return t

    return [ox.Quad(term(q.subject), q.predicate, term(q.object), term(q.graph_name)) for q in quads]


def _incidences(quads: list[ox.Quad]) -> dict[ox.BlankNode, list[ox.Quad]]:
    out: dict[ox.BlankNode, list[ox.Quad]] = defaultdict(list)
    for q in quads:
        for t in {q.subject, q.object, q.graph_name}:
            if isinstance(t, ox.BlankNode):
                out[t].append(q)
    return out


def _colours(
    incidences: dict[ox.BlankNode, list[ox.Quad]], previous: dict[ox.BlankNode, str] | None
) -> dict[ox.BlankNode, str]:
    """Each node's hash of its quads, itself as `_:a`, other blank nodes as `_:z` (RDFC-1.0's
    first degree) or, after a first round, as their previous colour."""
    out = {}
    for node, quads in incidences.items():

        def name(t: Any, node: ox.BlankNode = node) -> str:
            if not isinstance(t, ox.BlankNode):
                return str(t)
            if t == node:
                return "_:a"
            return "_:z" if previous is None else f"_:{previous[t]}"

        lines = sorted(
            " ".join((name(q.subject), str(q.predicate), name(q.object), name(q.graph_name))) for q in quads
        )
        seed = "" if previous is None else previous[node]
        out[node] = hashlib.sha256((seed + "\n" + "\n".join(lines)).encode()).hexdigest()[:32]
    return out


def canonical(dataset: ox.Dataset) -> ox.Dataset:
    """`dataset` with blank nodes named from its content (RDFC-1.0 where that is cheap)."""
    quads = list(dataset)
    incidences = _incidences(quads)
    colours = _colours(incidences, None)
    if len(set(colours.values())) == len(colours):
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        return dataset
    work = sum(len(q) for q in incidences.values())
    spent = work
    while spent + work <= MAX_REFINE_WORK:
        refined = _colours(incidences, colours)
        spent += work
        if len(set(refined.values())) == len(set(colours.values())):
            break  # stable: no round will tell more nodes apart
        colours = refined
    order = sorted(incidences, key=lambda b: (colours[b], b.value))  # then document order
    names = {b: ox.BlankNode(f"r{i}") for i, b in enumerate(order)}

    def term(t: Any) -> Any:  # a term of any position, kept in its type
        return names[t] if isinstance(t, ox.BlankNode) else t

    renamed = [ox.Quad(term(q.subject), q.predicate, term(q.object), term(q.graph_name)) for q in quads]
    return ox.Dataset(renamed)
