"""Workflow lineage: which runs made a file version, from what, and what was made from it.

Lineage follows tool runs (Renku, DVC, DataLad, RO-Crate, CWLProv/PROV), not plain commits,
and versions, not only paths (see `kg.lineage.versions`); a file inside a folder a run read
or wrote is connected to that run. The answer has renku-graph's shape, `{"edges": [...],
"nodes": [...]}`: a run's `id` and `location` are its activity and its `label` the command
line as run; a file's `id` and `location` are its path and its `label` `path@<short commit>`.
`depth` (runs per direction), `direction` and nodes of other projects (`project`) are kg's.
"""

from __future__ import annotations

from typing import Any, Literal

import pyoxigraph as ox

from kg.errors import NotFound
from kg.iri import Minter
from kg.lineage.render import as_dot, as_tree
from kg.lineage.runs import ProjectRuns, StoreSparql
from kg.lineage.walk import MAX_NODES, Lineage
from kg.store.oxigraph import records

Direction = Literal["upstream", "downstream", "both"]

__all__ = ["MAX_NODES", "Direction", "Lineage", "as_dot", "as_tree", "lineage"]


def lineage(
    store: ox.Store,
    minter: Minter,
    slug: str,
    path: str,
    *,
    direction: Direction = "both",
    depth: int | None = None,
    readable: frozenset[str] | None = None,
    graphs: dict[str, str] | None = None,
    cache: dict[str, ProjectRuns] | None = None,
) -> dict[str, Any]:
    """The lineage of a file of a project in an open store, within the `readable` projects.

    `graphs` (slug to live graph) and `cache` may be kept by the caller for one snapshot.
    """
    if graphs is None:
        graphs = {r.slug: r.graph for r in records(store, minter) if r.graph}
    allowed = {s: g for s, g in graphs.items() if readable is None or s in readable}
    if slug not in allowed:
        raise NotFound("project", slug)
    return Lineage(StoreSparql(store), cache).build(allowed, slug, path, direction, depth)
