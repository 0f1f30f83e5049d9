"""The stamp the writer changes with every publish, so readers in other processes know when
to read the records again (one small query instead of reading 10,000 records)."""

from __future__ import annotations

import uuid

import pyoxigraph as ox

from kg import queries
from kg.iri import Minter
from kg.queries import Rendered
from kg.rdf import iri, literal
from kg.store.sparql11.named import NamedSelects


def stamp_of(named: NamedSelects, minter: Minter) -> str | None:
    """The current stamp, or None before anything was published."""
    rows = named.select("store_stamp.rq", {"graph": ox.NamedNode(minter.stamp_graph())})
    return rows[0].get("stamp") if rows else None


def restamp(minter: Minter) -> tuple[str, str]:
    """A new stamp, and the update that gives it to the store (appended to every publishing
    update)."""
    stamp = uuid.uuid4().hex
    graph = Rendered(iri(minter.stamp_graph()))
    return stamp, queries.render("stamp_store.ru", {"stampGraph": graph, "stamp": Rendered(literal(stamp))})
