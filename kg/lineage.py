"""Workflow lineage: which runs made a file, from what, and what was made from it.

Lineage follows tool runs (Renku, DVC, DataLad, RO-Crate, CWLProv/PROV), not plain commits.
Upstream of a path is the newest run that generated it, then that run's inputs,
recursively; downstream is the newest run of each plan that used it, then their outputs.
When a path's content (by hash) was made or used by a run in another project, lineage
continues there; nodes carry their project. The result has renku-graph's shape
(`{"lineage": {"nodes": [...], "edges": [...]}}`); `depth` (runs per direction) and
`direction` are kg's additions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import pyoxigraph as ox

from kg.errors import NotFound
from kg.iri import Minter
from kg.store.oxigraph import records, select

Direction = Literal["upstream", "downstream", "both"]


class Sparql(Protocol):
    """Something that answers a named SELECT with bound values."""

    def select(self, name: str, bindings: Mapping[str, ox.NamedNode | ox.Literal]) -> list[dict[str, str]]:
        """Rows of plain values."""
        ...


class StoreSparql:
    """`Sparql` over an open pyoxigraph store (a snapshot, in the CLI and query processes)."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store

    def select(self, name: str, bindings: Mapping[str, ox.NamedNode | ox.Literal]) -> list[dict[str, str]]:
        return select(self.store, name, bindings)


@dataclass
class RunInfo:
    """One run: when, what it is called, which paths went in and out."""

    iri: str
    started: str = ""
    label: str = ""
    plan: str = ""
    inputs: set[str] = field(default_factory=set)
    outputs: set[str] = field(default_factory=set)


@dataclass
class ProjectRuns:
    """The run graph of one project, indexed for walking."""

    slug: str
    runs: dict[str, RunInfo] = field(default_factory=dict)
    made_by: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    used_by: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    directories: set[str] = field(default_factory=set)
    elsewhere: dict[tuple[str, str], set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))


def load_runs(sparql: Sparql, minter: Minter, slug: str, graph: str) -> ProjectRuns:
    """Read a project's runs with one query."""
    project = ProjectRuns(slug)
    for row in sparql.select("lineage_runs.rq", {"graph": ox.NamedNode(graph)}):
        run = project.runs.setdefault(row["run"], RunInfo(row["run"]))
        run.started = row.get("started", run.started)
        run.label = row.get("label", run.label)
        run.plan = row.get("plan", run.plan)
        path = row["path"]
        (run.inputs if row["role"] == "in" else run.outputs).add(path)
        if "dir" in row:
            project.directories.add(path)
    for run in project.runs.values():
        for path in run.outputs:
            project.made_by[path].append(run.iri)
        for path in run.inputs:
            project.used_by[path].append(run.iri)
    links = {"graph": ox.NamedNode(graph)}
    for row in sparql.select("lineage_links.rq", links):
        project.elsewhere[(row["path"], row["role"])].add((row["slug"], row["other"]))
    return project


class Lineage:
    """Builds the lineage graph of one file, across projects when content links them."""

    def __init__(self, sparql: Sparql, minter: Minter, cache: dict[str, ProjectRuns] | None = None) -> None:
        self.sparql = sparql
        self.minter = minter
        # Run graphs by live graph IRI: a snapshot's graphs never change, so a cache kept
        # per snapshot saves re-reading them on every request.
        self._projects: dict[str, ProjectRuns] = {} if cache is None else cache
        self._graphs: dict[str, str] = {}
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: set[tuple[str, str]] = set()
        self._home = ""

    def _project(self, slug: str) -> ProjectRuns:
        graph = self._graphs.get(slug)
        if graph is None:
            raise NotFound("project", slug)
        if graph not in self._projects:
            self._projects[graph] = load_runs(self.sparql, self.minter, slug, graph)
        return self._projects[graph]

    def _file(self, slug: str, path: str) -> str:
        node = path if slug == self._home else f"{slug}:{path}"
        if node not in self.nodes:
            kind = "Directory" if path in self._project(slug).directories else "File"
            self.nodes[node] = {"id": node, "location": path, "label": path, "type": kind}
            if slug != self._home:
                self.nodes[node]["project"] = slug
        return node

    def _run(self, slug: str, run: RunInfo) -> str:
        if run.iri not in self.nodes:
            self.nodes[run.iri] = {
                "id": run.iri,
                "location": run.plan or run.iri,
                "label": run.label or run.iri,
                "type": "ProcessRun",
            }
            if slug != self._home:
                self.nodes[run.iri]["project"] = slug
        return run.iri

    def _elsewhere(self, slug: str, path: str, role: str) -> list[tuple[str, str]]:
        """(project, path) pairs in other projects where runs `role` the same content."""
        found = self._project(slug).elsewhere.get((path, role), ())
        # only into projects the caller may read (the graphs this lineage was given)
        return sorted(p for p in found if p[0] != slug and p[0] in self._graphs)

    def upstream(self, slug: str, path: str, depth: int | None) -> None:
        """Add the runs that made `path`, and their inputs' lineage, up to `depth` runs."""
        seen: set[tuple[str, str]] = set()
        todo = [(slug, path, depth)]
        while todo:  # a stack, not recursion: chains are thousands of runs long
            slug, path, depth = todo.pop()
            if (slug, path) in seen or depth == 0:
                continue
            seen.add((slug, path))
            project = self._project(slug)
            makers = [project.runs[r] for r in project.made_by.get(path, [])]
            if not makers:
                for other, other_path in self._elsewhere(slug, path, "out"):
                    self.edges.add((self._file(other, other_path), self._file(slug, path)))
                    todo.append((other, other_path, depth))
                continue
            newest = max(makers, key=lambda r: (r.started, r.iri))
            run = self._run(slug, newest)
            self.edges.add((run, self._file(slug, path)))
            for source in sorted(newest.inputs):
                self.edges.add((self._file(slug, source), run))
                todo.append((slug, source, None if depth is None else depth - 1))

    def downstream(self, slug: str, path: str, depth: int | None) -> None:
        """Add the runs that used `path` (newest per plan), and their outputs' lineage."""
        seen: set[tuple[str, str]] = set()
        todo = [(slug, path, depth)]
        while todo:
            slug, path, depth = todo.pop()
            if (slug, path) in seen or depth == 0:
                continue
            seen.add((slug, path))
            project = self._project(slug)
            newest: dict[str, RunInfo] = {}
            for iri in project.used_by.get(path, []):
                run = project.runs[iri]
                key = run.plan or run.label or run.iri
                if key not in newest or (run.started, run.iri) > (
                    newest[key].started,
                    newest[key].iri,
                ):
                    newest[key] = run
            for run in sorted(newest.values(), key=lambda r: r.iri):
                node = self._run(slug, run)
                self.edges.add((self._file(slug, path), node))
                for target in sorted(run.outputs):
                    self.edges.add((node, self._file(slug, target)))
                    todo.append((slug, target, None if depth is None else depth - 1))
            for other, other_path in self._elsewhere(slug, path, "in"):
                self.edges.add((self._file(slug, path), self._file(other, other_path)))
                todo.append((other, other_path, depth))

    def build(
        self,
        store_projects: dict[str, str],
        slug: str,
        path: str,
        direction: Direction = "both",
        depth: int | None = None,
    ) -> dict[str, Any]:
        """The lineage of `path` in project `slug`, in renku-graph's JSON shape."""
        self._graphs = store_projects
        self._home = slug
        project = self._project(slug)
        if path not in project.made_by and path not in project.used_by:
            raise NotFound("lineage of file", f"{slug}:{path}")
        self._file(slug, path)
        if direction in ("upstream", "both"):
            self.upstream(slug, path, depth)
        if direction in ("downstream", "both"):
            self.downstream(slug, path, depth)
        return {
            "lineage": {
                "nodes": sorted(self.nodes.values(), key=lambda n: n["id"]),
                "edges": [{"source": s, "target": t} for s, t in sorted(self.edges)],
            }
        }


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
    return Lineage(StoreSparql(store), minter, cache).build(allowed, slug, path, direction, depth)


def as_tree(document: dict[str, Any], root: str) -> str:
    """An indented text tree: what each node came from (upstream) and led to (downstream)."""
    nodes = {n["id"]: n for n in document["lineage"]["nodes"]}
    parents: dict[str, list[str]] = defaultdict(list)
    children: dict[str, list[str]] = defaultdict(list)
    for edge in document["lineage"]["edges"]:
        parents[edge["target"]].append(edge["source"])
        children[edge["source"]].append(edge["target"])

    def name(node: str) -> str:
        n = nodes[node]
        where = f" [{n['project']}]" if "project" in n else ""
        return (f"⚙ {n['label']}" if n["type"] == "ProcessRun" else n["location"]) + where

    lines = [name(root)]

    def walk(node: str, links: dict[str, list[str]], arrow: str, indent: int, seen: set[str]) -> None:
        for nxt in sorted(links.get(node, [])):
            lines.append("  " * indent + f"{arrow} {name(nxt)}")
            if nxt not in seen:
                walk(nxt, links, arrow, indent + 1, seen | {nxt})

    walk(root, parents, "←", 1, {root})
    walk(root, children, "→", 1, {root})
    return "\n".join(lines)


def as_dot(document: dict[str, Any]) -> str:
    """Graphviz: files as notes, runs as boxes."""
    out = ["digraph lineage {", "  rankdir=LR;"]
    for n in document["lineage"]["nodes"]:
        shape = "box" if n["type"] == "ProcessRun" else "folder" if n["type"] == "Directory" else "note"
        label = n["label"] + (f" [{n['project']}]" if "project" in n else "")
        out.append(f"  {_dot(n['id'])} [shape={shape}, label={_dot(label)}];")
    for e in document["lineage"]["edges"]:
        out.append(f"  {_dot(e['source'])} -> {_dot(e['target'])};")
    out.append("}")
    return "\n".join(out)


def _dot(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
