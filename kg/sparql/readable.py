"""Which graphs a caller's query reads, decided on the snapshot the query runs on.

Projects merged into an audience graph (see `kg.store.audiences`) are read through it, so
the default graph is a few graphs, not one per project: an anonymous caller reads the
public audience, an authenticated one the public and internal audiences plus the
audiences of their private projects (one per set of members). Projects not merged yet
are listed one by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kg.access import Access, audiences_for, may_read
from kg.iri import Minter
from kg.store.audiences import audience_of
from kg.store.base import ProjectRecord


@dataclass(frozen=True)
class Readable:
    """What one caller may read: the default graph's parts, and the graphs it may name."""

    default: tuple[str, ...]
    named: tuple[str, ...]
    graphs: frozenset[str]


def readable(minter: Minter, projects: Iterable[ProjectRecord], access: Access | None) -> Readable:
    """The graphs `access` may read (None: everything, for kg's own tools)."""
    classes = audiences_for(access)
    default = [minter.audience_graph(c) for c in classes[:2]]
    audiences = set(default)  # `in default` would be quadratic while thousands are unmerged
    named: list[str] = []
    for record in projects:
        users = (user for user, _ in record.members)
        if access is not None and not may_read(record.visibility, users, access):
            continue
        own = [minter.record_graph(record.iri)] + ([record.graph] if record.graph else [])
        named += own
        if record.audience != audience_of(minter, record):
            default += own  # not merged yet
        elif record.audience not in audiences:
            audiences.add(record.audience)
            default.append(record.audience)
    return Readable(
        default=tuple(default),
        named=tuple(named),
        graphs=frozenset(named),
    )
