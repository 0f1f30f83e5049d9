"""Walking lineage from one file version, up and down stream, across projects.

Nodes are file versions (a path with the runs that made that version: none for content no
run made) and runs. Upstream of a version are the runs that made it, then the versions
those runs read; downstream are the runs that read that very version (the newest run of
each plan), then what they wrote. When a path's content (by hash) was made or read by runs
in another project the caller may read, the walk continues there.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from kg.errors import NotFound
from kg.lineage.runs import ProjectRuns, RunInfo, Sparql, load_runs
from kg.lineage.versions import makers, readers

MAX_NODES = 50_000
"""Nodes one answer holds at most: past this the walk stops (a chain of 10,000 runs is
20,000 nodes)."""

FileKey = tuple[str, str, frozenset[str]]
"""(project, path, the runs that made this version)."""


class Lineage:
    """Builds the lineage graph of one file, across projects when content links them."""

    def __init__(self, sparql: Sparql, cache: dict[str, ProjectRuns] | None = None) -> None:
        self.sparql = sparql
        # Run graphs by live graph IRI: a snapshot's graphs never change, so a cache kept
        # per snapshot saves re-reading them on every request.
        self._projects: dict[str, ProjectRuns] = {} if cache is None else cache
        self._graphs: dict[str, str] = {}
        self.files: dict[FileKey, dict[str, Any]] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.edges: set[tuple[FileKey | str, FileKey | str]] = set()
        self._home = ""

    def _project(self, slug: str) -> ProjectRuns:
        graph = self._graphs.get(slug)
        if graph is None:
            raise NotFound("project", slug)
        if graph not in self._projects:
            self._projects[graph] = load_runs(self.sparql, slug, graph)
        return self._projects[graph]

    def full(self) -> bool:
        return len(self.files) + len(self.runs) >= MAX_NODES

    def _file(self, slug: str, path: str, made: list[RunInfo], commit: str = "") -> FileKey:
        key = (slug, path, frozenset(r.iri for r in made))
        if key not in self.files:
            if made:  # the version is the newest of its makers' outputs
                commit = max(made, key=lambda r: (r.order, r.iri)).commit or commit
            kind = "Directory" if self._project(slug).is_directory(path) else "File"
            node = {"location": path, "label": f"{path}@{commit[:7]}" if commit else path, "type": kind}
            if slug != self._home:
                node["project"] = slug
            self.files[key] = node
        return key

    def _run(self, slug: str, run: RunInfo) -> str:
        if run.iri not in self.runs:
            node = {"id": run.iri, "location": run.iri, "label": run.command_as_run(), "type": "ProcessRun"}
            if slug != self._home:
                node["project"] = slug
            self.runs[run.iri] = node
        return run.iri

    def _elsewhere(self, slug: str, path: str, role: str) -> list[tuple[str, str]]:
        """(project, path) pairs in other projects where runs `role` the same content."""
        found = self._project(slug).elsewhere.get((path, role), ())
        # only into projects the caller may read (the graphs this lineage was given)
        return sorted(p for p in found if p[0] != slug and p[0] in self._graphs)

    def _there(self, slug: str, path: str) -> FileKey:
        """The current version of a path of another project."""
        return self._file(slug, path, makers(self._project(slug), path, None))

    def upstream(self, start: FileKey, depth: int | None) -> None:
        """Add the runs that made `start`, and what they read, up to `depth` runs."""
        seen: set[FileKey] = set()
        todo = [(start, depth)]
        while todo and not self.full():  # a stack, not recursion: chains are thousands long
            key, depth = todo.pop()
            if key in seen or depth == 0:
                continue
            seen.add(key)
            slug, path, made = key
            project = self._project(slug)
            if not made:
                for other, other_path in self._elsewhere(slug, path, "out"):
                    there = self._there(other, other_path)
                    self.edges.add((there, key))
                    todo.append((there, depth))
                continue
            for iri in sorted(made):
                run = project.runs[iri]
                self.edges.add((self._run(slug, run), key))
                for source, version in sorted(run.inputs.items()):
                    found = makers(project, source, run, version)
                    read = self._file(slug, source, found, version.commit or run.commit)
                    self.edges.add((read, iri))
                    todo.append((read, None if depth is None else depth - 1))

    def downstream(self, start: FileKey, depth: int | None) -> None:
        """Add the runs that read `start` (newest per plan), and what they wrote."""
        seen: set[FileKey] = set()
        todo = [(start, depth)]
        while todo and not self.full():
            key, depth = todo.pop()
            if key in seen or depth == 0:
                continue
            seen.add(key)
            slug, path, made = key
            project = self._project(slug)
            for _, run in readers(project, path, made):
                self.edges.add((key, self._run(slug, run)))
                for target in sorted(run.outputs):
                    written = self._file(slug, target, [run])
                    self.edges.add((run.iri, written))
                    todo.append((written, None if depth is None else depth - 1))
            for other, other_path in self._elsewhere(slug, path, "in"):
                there = self._there(other, other_path)
                self.edges.add((key, there))
                todo.append((there, depth))

    def build(
        self, store_projects: dict[str, str], slug: str, path: str, direction: str, depth: int | None
    ) -> dict[str, Any]:
        """The lineage of the current version of `path` in project `slug`, renku-graph's shape."""
        self._graphs = store_projects
        self._home = slug
        project = self._project(slug)
        path = path.strip("/")
        if not path or not project.known(path):
            raise NotFound("lineage of file", f"{slug}:{path}")
        start = self._file(slug, path, makers(project, path, None))
        if direction in ("upstream", "both"):
            self.upstream(start, depth)
        if direction in ("downstream", "both"):
            self.downstream(start, depth)
        return self._document(start)

    def _document(self, start: FileKey) -> dict[str, Any]:
        """Nodes with ids: a file's id is its path (`project:path` in another project); when
        one answer holds several versions of a path, the others add `@commit`."""
        versions: dict[tuple[str, str], list[FileKey]] = defaultdict(list)
        for key in self.files:
            versions[key[:2]].append(key)
        ids: dict[FileKey | str, str] = {iri: iri for iri in self.runs}
        for (slug, path), keys in versions.items():
            base = path if slug == self._home else f"{slug}:{path}"
            keys.sort(key=lambda k: (k != start, self.files[k]["label"], sorted(k[2])))
            for n, key in enumerate(keys):
                label = self.files[key]["label"]
                suffix = label[len(path) :] if "@" in label else f"#{n}"
                ids[key] = base if n == 0 else base + suffix
        taken: set[str] = set()
        for node in list(ids):  # two versions written in one commit: number them
            if ids[node] in taken:
                ids[node] = f"{ids[node]}#{len(taken)}"
            taken.add(ids[node])
        nodes = [{"id": ids[k], **n} for k, n in self.files.items()] + list(self.runs.values())
        edges = {(ids[s], ids[t]) for s, t in self.edges}
        # renku-ui centres on the last node at the location it asked for: the start, last
        nodes.sort(key=lambda n: (n["id"] == ids[start], n["id"]))
        return {"edges": [{"source": s, "target": t} for s, t in sorted(edges)], "nodes": nodes}
