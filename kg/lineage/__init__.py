"""Workflow lineage: which runs made a file version, from what, and what was made from it.

Lineage follows tool runs (Renku, DVC, DataLad, RO-Crate, CWLProv/PROV), not plain commits,
and versions, not only paths (see `kg.lineage.versions`); a file inside a folder a run read
or wrote is connected to that run. The answer has renku-graph's shape, `{"edges": [...],
"nodes": [...]}`: a run's `id` and `location` are its activity and its `label` the command
line as run; a file's `id` and `location` are its path and its `label` `path@<short commit>`.
`depth` (runs per direction), `direction` and nodes of other projects (`project`) are kg's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from kg.errors import NotFound
from kg.lineage.render import as_dot, as_tree
from kg.lineage.runs import ProjectRuns
from kg.lineage.walk import MAX_NODES, Lineage
from kg.store.base import NamedQueries

Direction = Literal["upstream", "downstream", "both"]

__all__ = ["MAX_NODES", "Direction", "Lineage", "as_dot", "as_tree", "lineage"]


def lineage(
    sparql: NamedQueries,
    graphs: Mapping[str, str],
    slug: str,
    path: str,
    *,
    direction: Direction = "both",
    depth: int | None = None,
    readable: frozenset[str] | None = None,
    cache: dict[str, ProjectRuns] | None = None,
) -> dict[str, Any]:
    """The lineage of a file of a project, within the `readable` projects, read with named
    queries from a store whose live graphs are `graphs` (slug to graph IRI).

    `cache` may be kept by the caller for as long as those graphs do not change.
    """
    allowed = {s: g for s, g in graphs.items() if readable is None or s in readable}
    if slug not in allowed:
        raise NotFound("project", slug)
    return Lineage(sparql, cache).build(allowed, slug, path, direction, depth)
