"""A project's runs as lineage walks them: what each read and wrote, in which version, when.

Read with named queries per project graph and kept per store snapshot (the graphs of a
snapshot never change). "When" is a place in git history (`kg.lineage.history`), not a date.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import pyoxigraph as ox

from kg.lineage.history import CommitRow, History, order_commits
from kg.store.base import NamedQueries


@dataclass
class Version:
    """What is known of one file version a run read or wrote: its hashes, its git commit."""

    hashes: dict[str, str] = field(default_factory=dict)
    commit: str = ""
    """The commit that wrote the git file version this is, when known."""

    def agrees(self, other: Version) -> bool | None:
        """True if a hash both know is equal, False if one differs, None if none is shared."""
        if not self.hashes or not other.hashes:
            return None
        shared = [k for k in self.hashes if k in other.hashes]
        if not shared:
            return None
        return any(self.hashes[k] == other.hashes[k] for k in shared)


@dataclass
class RunInfo:
    """One run: when, what it is called, which paths (in which versions) went in and out."""

    iri: str
    started: float | None = None
    committed: float | None = None
    commit: str = ""
    position: float = -0.5
    """Where the commit that recorded it stands in history (`History.position`)."""
    placed: bool = False
    """Whether that place is known (from its commit or a date), not a guess."""
    label: str = ""
    plan: str = ""
    tool: str = ""
    command: str = ""
    command_line: str = ""
    time: str = ""
    """When it started (ISO 8601, as recorded), else when its commit was made."""
    agent: str = ""
    """Who ran it: the person it is associated with, else its commit's author."""
    inputs: dict[str, Version] = field(default_factory=dict)
    outputs: dict[str, Version] = field(default_factory=dict)

    @property
    def order(self) -> tuple[float, float]:
        """Sorts runs in history: by the place in history of the commit that recorded it,
        then (several runs in one commit) by its start."""
        return (self.position, self.started if self.started is not None else 0.0)

    def details(self) -> dict[str, str]:
        """What a lineage node tells of the run beyond renku-graph's fields, where known."""
        known = {"commit": self.commit, "time": self.time, "agent": self.agent, "tool": self.tool}
        return {k: v for k, v in known.items() if v}

    def command_as_run(self) -> str:
        """The command line as run: recorded, else the plan's command (with the actual paths
        for Renku, whose plan command holds no arguments), else the run's label."""
        if self.command_line:
            return self.command_line
        if self.command and self.tool == "renku":
            words = self.command.split()
            extra = [p for p in [*sorted(self.inputs), *sorted(self.outputs)] if p not in words]
            return " ".join([self.command, *extra])
        return self.command or self.label or self.iri


@dataclass
class ProjectRuns:
    """The run graph of one project, indexed for walking by path and path prefix."""

    slug: str
    runs: dict[str, RunInfo] = field(default_factory=dict)
    made_by: dict[str, list[RunInfo]] = field(default_factory=lambda: defaultdict(list))
    used_by: dict[str, list[RunInfo]] = field(default_factory=lambda: defaultdict(list))
    directories: set[str] = field(default_factory=set)
    elsewhere: dict[tuple[str, str], set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    made_sorted: list[str] = field(default_factory=list)
    used_sorted: list[str] = field(default_factory=list)
    enclosing: set[str] = field(default_factory=set)
    """Every folder holding a path a run read or wrote."""
    resolved: dict[tuple[str, str], list[RunInfo]] = field(default_factory=dict)
    """Which runs made what a run read, as worked out (kept with the snapshot)."""
    git_versions: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    """(position in history, commit) of the git versions of a path no run made, oldest first,
    as looked up."""
    history: History = field(default_factory=History)

    def index(self) -> None:
        """Index paths once every run is read."""
        for run in self.runs.values():
            for path in run.outputs:
                self.made_by[path].append(run)
            for path in run.inputs:
                self.used_by[path].append(run)
        self.made_sorted = sorted(self.made_by)
        self.used_sorted = sorted(self.used_by)
        for path in [*self.made_sorted, *self.used_sorted]:
            while "/" in path:
                path = path.rsplit("/", 1)[0]
                self.enclosing.add(path)

    def folders_of(self, path: str, among: Mapping[str, object]) -> list[str]:
        """The folders enclosing `path` that are keys of `among`, innermost first."""
        out: list[str] = []
        if "/" not in path:
            return out
        while "/" in path:
            path = path.rsplit("/", 1)[0]
            if path in among:
                out.append(path)
        return out

    def inside(self, path: str, among: list[str]) -> list[str]:
        """The paths of the sorted list `among` inside the folder `path`."""
        if path not in self.enclosing:
            return []
        prefix = path.rstrip("/") + "/"
        start = bisect.bisect_left(among, prefix)
        end = bisect.bisect_left(among, prefix[:-1] + "0")  # "0" sorts right after "/"
        return among[start:end]

    def known(self, path: str) -> bool:
        """Whether a run read or wrote `path`, a folder holding it or a file inside it."""
        return any(
            path in paths or self.folders_of(path, paths) or self.inside(path, ordered)
            for paths, ordered in ((self.made_by, self.made_sorted), (self.used_by, self.used_sorted))
        )

    def is_directory(self, path: str) -> bool:
        return path in self.directories or path in self.enclosing


def _time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


_AGENT_RANKS = {"plan": 0, "run": 1}
"""Who ran a run, best first: the person its plan was run by, any person it is associated
with; then (rank 2) its commit's author."""


def _agent(row: Mapping[str, str]) -> tuple[int, str] | None:
    """The agent a row of lineage_run_details.rq names, with its rank (smaller is better)."""
    if "agent" in row:
        return (_AGENT_RANKS.get(row.get("by", ""), 1), row["agent"])
    if "author" in row:
        return (2, row["author"])
    return None


def load_history(sparql: NamedQueries, graph: str) -> History:
    """Number the commits of a project graph in history order."""
    dates: dict[str, tuple[str, float | None]] = {}
    parents: dict[str, list[str]] = defaultdict(list)
    for row in sparql.select("lineage_commits.rq", {"graph": ox.NamedNode(graph)}):
        dates[row["commit"]] = (row["sha"], _time(row.get("time")))
        if "parent" in row:
            parents[row["commit"]].append(row["parent"])
    return order_commits(
        CommitRow(sha, date, tuple(dates[p][0] for p in parents.get(term, ()) if p in dates))
        for term, (sha, date) in dates.items()
    )


def load_runs(sparql: NamedQueries, slug: str, graph: str) -> ProjectRuns:
    """Read a project's runs and the order of its commits with five queries."""
    project = ProjectRuns(slug)
    project.history = load_history(sparql, graph)
    bound = {"graph": ox.NamedNode(graph)}
    versions: dict[str, Version] = defaultdict(Version)
    for row in sparql.select("lineage_entities.rq", bound):
        version = versions[row["e"]]
        if row["kind"] == "commit":
            version.commit = row["value"]
        else:
            version.hashes[row["kind"]] = row["value"]
    unknown = Version()  # shared: never written to
    for row in sparql.select("lineage_runs.rq", bound):
        run = project.runs.get(row["run"])
        if run is None:
            run = project.runs[row["run"]] = RunInfo(row["run"])
            run.started = _time(row.get("started"))
            run.time = row.get("started", "")
            run.label = row.get("label", "")
            run.plan = row.get("plan", "")
        version = versions.get(row["e"], unknown)
        (run.inputs if row["role"] == "in" else run.outputs)[row["path"]] = version
        if "dir" in row:
            project.directories.add(row["path"])
    agents: dict[str, tuple[int, str]] = {}
    for row in sparql.select("lineage_run_details.rq", bound):
        found = project.runs.get(row["run"])
        if found is None:
            continue  # a run that read and wrote nothing: no lineage passes through it
        found.commit = row.get("commit", found.commit)
        found.committed = _time(row.get("committed")) or found.committed
        found.tool = row.get("tool", found.tool)
        found.command_line = row.get("commandLine", found.command_line)
        found.command = row.get("command", found.command)
        found.time = found.time or row.get("committed", "")
        named = _agent(row)
        if named is not None:  # rows of one run differ in these: the best, then smallest, wins
            agents[found.iri] = min(agents.get(found.iri, named), named)
    for iri, (_, name) in agents.items():
        project.runs[iri].agent = name
    for run in project.runs.values():
        date = run.committed if run.committed is not None else run.started
        run.position = project.history.position(run.commit, date)
        run.placed = run.commit in project.history.positions or date is not None
    project.index()
    for row in sparql.select("lineage_links.rq", bound):
        project.elsewhere[(row["path"], row["role"])].add((row["slug"], row["other"]))
    return project


def git_versions(sparql: NamedQueries, history: History, graph: str, path: str) -> list[tuple[float, str]]:
    """(position in history, commit) of every git version of `path`, oldest first."""
    rows = sparql.select("lineage_file_versions.rq", {"graph": ox.NamedNode(graph), "path": ox.Literal(path)})
    return sorted((history.position(row["sha"], _time(row.get("time"))), row["sha"]) for row in rows)
