"""Which run made the version of a path that a run read (or the current one).

A version is told by its content where both sides know a hash of the same kind; otherwise
it is the newest run that wrote the path (or a folder holding it) at or before the reading
run, in git history order of the commits that recorded the runs (`kg.lineage.history`: never
by date or id, which tie or lie). A run that rewrote an input later is never the maker of what
an earlier run read. A folder's version is made by the runs that
wrote the folder or any file inside it.
"""

from __future__ import annotations

from kg.lineage.runs import ProjectRuns, RunInfo, Version


def _newest(candidates: list[RunInfo]) -> RunInfo | None:
    return max(candidates, key=lambda r: (r.order, r.iri)) if candidates else None


def maker(
    project: ProjectRuns, path: str, reader: RunInfo | None, version: Version | None = None
) -> RunInfo | None:
    """The run that made the version of `path` that `reader` read (None: the newest version).

    Runs that wrote `path` itself or a folder holding it are the candidates; `version`, the
    hashes the reader recorded, picks among those that wrote `path` itself.
    """
    candidates: list[RunInfo] = []
    matching: list[RunInfo] = []
    for where in [path, *project.folders_of(path, project.made_by)]:
        for run in project.made_by.get(where, ()):
            if reader is not None and (run is reader or run.order > reader.order):
                continue
            agrees = version.agrees(run.outputs[where]) if version is not None and where == path else None
            if agrees is False:
                continue  # it wrote other content there: not the version read
            (matching if agrees else candidates).append(run)
    return _newest(matching) or _newest(candidates)


def makers(
    project: ProjectRuns, path: str, reader: RunInfo | None, version: Version | None = None
) -> list[RunInfo]:
    """The runs that made the version of `path` (a file or a folder) that `reader` read."""
    if reader is None:
        return _makers(project, path, reader, version)
    found = project.resolved.get((reader.iri, path))
    if found is None:
        found = project.resolved[(reader.iri, path)] = _makers(project, path, reader, version)
    return found


def _makers(
    project: ProjectRuns, path: str, reader: RunInfo | None, version: Version | None
) -> list[RunInfo]:
    own = maker(project, path, reader, version)
    inside = project.inside(path, project.made_sorted)
    if not inside:
        return [] if own is None else [own]
    found: dict[str, RunInfo] = {} if own is None else {own.iri: own}
    for inner in inside:
        run = maker(project, inner, reader)
        if run is not None:
            found.setdefault(run.iri, run)
    return sorted(found.values(), key=lambda r: r.iri)


def readers(project: ProjectRuns, path: str, made: frozenset[str]) -> list[tuple[str, RunInfo]]:
    """The runs that read the version of `path` made by the runs `made` (empty: a version no
    run made), with the path each read; the newest run of each plan only."""
    candidates: list[tuple[str, RunInfo]] = []
    related = [path, *project.folders_of(path, project.used_by), *project.inside(path, project.used_sorted)]
    for where in related:
        candidates += [(where, run) for run in project.used_by.get(where, ())]
    newest: dict[str, tuple[str, RunInfo]] = {}
    for where, run in candidates:
        # Decide on the more specific of the two paths: a file inside the folder read, or
        # the file read inside the folder asked about.
        inner = where if len(where) > len(path) else path
        version = run.inputs[where] if inner == where else None
        source = maker(project, inner, run, version)
        if (source.iri in made) if source is not None else not made:
            key = run.plan or run.label or run.iri
            if key not in newest or (run.order, run.iri) > (newest[key][1].order, newest[key][1].iri):
                newest[key] = (where, run)
    return sorted(newest.values(), key=lambda x: x[1].iri)
