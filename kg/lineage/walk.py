"""Walking lineage from one file version, up and down stream, across projects.

Nodes are file versions (a path with the runs that made that version: none for content no
run made) and runs. Upstream of a version are the runs that made it, then the versions
those runs read; downstream are the runs that read that very version (the newest run of
each plan), then what they wrote. When a path's content (by hash) was made or read by runs
in another project the caller may read, the walk continues there.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from typing import Any

from kg.errors import NotFound
from kg.lineage.runs import ProjectRuns, RunInfo, git_versions, load_runs
from kg.lineage.versions import makers, readers
from kg.store.base import NamedQueries

MAX_NODES = 50_000
"""Nodes one answer holds at most: past this the walk stops (a chain of 10,000 runs is
20,000 nodes)."""

FileKey = tuple[str, str, frozenset[str]]
"""(project, path, the runs that made this version, or `GIT` + the commit that wrote a
version no run made, where known)."""

GIT = "git:"


def _runs(made: frozenset[str]) -> frozenset[str]:
    return made if len(made) != 1 or not next(iter(made)).startswith(GIT) else frozenset()


class Lineage:
    """Builds the lineage graph of one file, across projects when content links them."""

    def __init__(self, sparql: NamedQueries, cache: dict[str, ProjectRuns] | None = None) -> None:
        self.sparql = sparql
        # Run graphs by live graph IRI: a snapshot's graphs never change, so a cache kept
        # per snapshot saves re-reading them on every request.
        self._projects: dict[str, ProjectRuns] = {} if cache is None else cache
        self._graphs: dict[str, str] = {}
        # File versions are numbered as they are found: edges hold numbers and run IRIs.
        self.files: dict[FileKey, int] = {}
        self.file_keys: list[FileKey] = []
        self.file_nodes: list[dict[str, Any]] = []
        self.runs: dict[str, dict[str, Any]] = {}
        self.reads: set[tuple[int, str]] = set()
        self.writes: set[tuple[str, int]] = set()
        self.same: set[tuple[int, int]] = set()
        """Content that another project's runs made or read."""
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

    def _file(self, slug: str, path: str, made: list[RunInfo], commit: str = "", git: str = "") -> int:
        """The node of a version: made by the runs `made`, else the git version `git` wrote."""
        key = (slug, path, frozenset(r.iri for r in made) if made else frozenset([GIT + git] if git else []))
        number = self.files.get(key)
        if number is None:
            # the commit of its newest maker, else of its git version, else of its reader
            newest = max(made, key=lambda r: (r.order, r.iri)) if made else None
            commit = (newest.commit if newest else git) or commit
            kind = "Directory" if self._project(slug).is_directory(path) else "File"
            label = f"{path}@{commit[:7]}" if commit else path
            node = {"id": "", "location": path, "label": label, "type": kind}
            if commit:
                node["commit"] = commit
            if slug != self._home:
                node["project"] = slug
            number = self.files[key] = len(self.file_nodes)
            self.file_nodes.append(node)
            self.file_keys.append(key)
        return number

    def _git_commit(self, slug: str, path: str, reader: RunInfo | None) -> str:
        """The commit of the git version of `path` that `reader` saw (None: the newest)."""
        project = self._project(slug)
        versions = project.git_versions.get(path)
        if versions is None:
            graph = self._graphs[slug]
            versions = project.git_versions[path] = git_versions(self.sparql, project.history, graph, path)
        if reader is not None and reader.placed:  # at or before the reader's commit in history, never after
            versions = [v for v in versions if v[0] <= reader.position]
        return versions[-1][1] if versions else ""

    def _run(self, slug: str, run: RunInfo) -> str:
        if run.iri not in self.runs:
            node = {"id": run.iri, "location": run.iri, "label": run.command_as_run(), "type": "ProcessRun"}
            node.update(run.details())
            if slug != self._home:
                node["project"] = slug
            self.runs[run.iri] = node
        return run.iri

    def _elsewhere(self, slug: str, path: str, role: str) -> list[tuple[str, str]]:
        """(project, path) pairs in other projects where runs `role` the same content."""
        found = self._project(slug).elsewhere.get((path, role), ())
        # only into projects the caller may read (the graphs this lineage was given)
        return sorted(p for p in found if p[0] != slug and p[0] in self._graphs)

    def _current(self, slug: str, path: str) -> int:
        """The current version of a path: the newest a run made, else the newest in git."""
        made = makers(self._project(slug), path, None)
        return self._file(slug, path, made, git="" if made else self._git_commit(slug, path, None))

    def upstream(self, start: int, depth: int | None) -> None:
        """Add the runs that made `start`, and what they read, up to `depth` runs."""
        seen: set[int] = set()
        todo = [(start, depth)]
        while todo and not self.full():  # a stack, not recursion: chains are thousands long
            key, depth = todo.pop()
            if key in seen or depth == 0:
                continue
            seen.add(key)
            slug, path, version_of = self.file_keys[key]
            made = _runs(version_of)
            project = self._project(slug)
            if not made:
                for other, other_path in self._elsewhere(slug, path, "out"):
                    there = self._current(other, other_path)
                    self.same.add((there, key))
                    todo.append((there, depth))
                continue
            for iri in made if len(made) == 1 else sorted(made):
                run = project.runs[iri]
                self.writes.add((self._run(slug, run), key))
                for source, version in sorted(run.inputs.items()):
                    found = makers(project, source, run, version)
                    git = "" if found else version.commit or self._git_commit(slug, source, run)
                    read = self._file(slug, source, found, run.commit, git)
                    self.reads.add((read, iri))
                    todo.append((read, None if depth is None else depth - 1))

    def downstream(self, start: int, depth: int | None) -> None:
        """Add the runs that read `start` (newest per plan), and what they wrote."""
        seen: set[int] = set()
        todo = [(start, depth)]
        while todo and not self.full():
            key, depth = todo.pop()
            if key in seen or depth == 0:
                continue
            seen.add(key)
            slug, path, version_of = self.file_keys[key]
            made = _runs(version_of)
            project = self._project(slug)
            for where, run in readers(project, path, made):
                if made != version_of and where == path:  # a version no run made: which one?
                    saw = run.inputs[path].commit or self._git_commit(slug, path, run)
                    if saw and GIT + saw not in version_of:
                        continue
                self.reads.add((key, self._run(slug, run)))
                for target in sorted(run.outputs):
                    written = self._file(slug, target, [run])
                    self.writes.add((run.iri, written))
                    todo.append((written, None if depth is None else depth - 1))
            for other, other_path in self._elsewhere(slug, path, "in"):
                there = self._current(other, other_path)
                self.same.add((key, there))
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
        start = self._current(slug, path)
        # The walk makes ~10 objects per node and frees none before it ends: the cyclic
        # collector would re-scan the cached run graphs over and over (a third of the time
        # of a 20,000-node answer) for nothing.
        collecting = gc.isenabled()
        gc.disable()
        try:
            if direction in ("upstream", "both"):
                self.upstream(start, depth)
            if direction in ("downstream", "both"):
                self.downstream(start, depth)
            return self._document(start)
        finally:
            if collecting:
                gc.enable()

    def _document(self, start: int) -> dict[str, Any]:
        """Nodes with ids: a file's id is its path (`project:path` in another project); when
        one answer holds several versions of a path, the others add `@commit`."""
        versions: dict[tuple[str, str], list[int]] = defaultdict(list)
        for (slug, path, _), number in self.files.items():
            versions[(slug, path)].append(number)
        ids: list[str] = [""] * len(self.file_nodes)
        for (slug, path), numbers in versions.items():
            base = path if slug == self._home else f"{slug}:{path}"
            if len(numbers) > 1:
                numbers.sort(key=lambda n: (n != start, self.file_nodes[n]["label"], n))
            for n, number in enumerate(numbers):
                label = self.file_nodes[number]["label"]
                ids[number] = base if n == 0 else base + (label[len(path) :] if "@" in label else f"#{n}")
        taken: set[str] = set(self.runs)
        for number, name in enumerate(ids):  # two versions written in one commit: number them
            if name in taken:
                ids[number] = name = f"{name}#{number}"
            taken.add(name)
        for number, node in enumerate(self.file_nodes):
            node["id"] = ids[number]
        nodes = self.file_nodes + list(self.runs.values())
        edges = [(ids[f], r) for f, r in self.reads] + [(r, ids[f]) for r, f in self.writes]
        edges += [(ids[a], ids[b]) for a, b in self.same]
        # renku-ui centres on the last node at the location it asked for: the start, last
        nodes.sort(key=lambda n: (n["id"] == ids[start], n["id"]))
        return {"edges": [{"source": s, "target": t} for s, t in sorted(edges)], "nodes": nodes}
