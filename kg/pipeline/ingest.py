"""Ingest one repository into its project's graph: the service function the CLI and worker share."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kg.errors import CommandFailed, InvalidInput
from kg.iri import Minter
from kg.pipeline.extraction import Extracted, Extraction, extract
from kg.store import ProjectRecord, Store

# Bump when extractors change what they emit: projects ingested by another version are
# rebuilt in full rather than extended.
EXTRACTOR_VERSION = "kg/6"


@dataclass(frozen=True)
class ProjectInfo:
    """What the forge (or the command line) says about a project."""

    slug: str
    visibility: str = "public"
    gitlab_id: int | None = None
    members: tuple[tuple[str, int], ...] | None = None
    """(user id, access level) pairs; None keeps what was recorded before."""

    @property
    def name(self) -> str:
        """The last segment of the slug."""
        return self.slug.rsplit("/", 1)[-1]


class ProjectTaken(InvalidInput):
    """The slug belongs to another project in kg; a hook may only write its own project."""


def check_binding(
    previous: ProjectRecord | None, gitlab_id: int, *, authoritative: bool, stale: bool = False
) -> None:
    """Refuse to let GitLab project `gitlab_id` write the record `previous` unless it is its own.

    A record made by hand (`kg ingest`, no GitLab id), or one whose project GitLab now keeps
    at another path or not at all (`stale`), may be claimed only when GitLab itself says the
    slug is this project's (`authoritative`), never on a payload's word.
    """
    if previous is None or previous.gitlab_id == gitlab_id:
        return
    if authoritative and (previous.gitlab_id is None or stale):
        return
    owner = "a project ingested by hand" if previous.gitlab_id is None else "another GitLab project"
    raise ProjectTaken(f"the path {previous.slug} belongs to {owner} in kg; this project may not replace it")


@dataclass
class IngestResult:
    """What one ingest did."""

    record: ProjectRecord
    mode: Literal["full", "incremental", "unchanged"]
    commits: int = 0
    triples: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


class NoSuchBranch(InvalidInput):
    """The branch asked for is not in the repository."""


def _branch_refs(branch: str) -> list[str]:
    """Where a branch may be: a local branch, a remote-tracking one named with its remote
    (`origin/B`), or one of a fresh clone, which has only `origin`'s."""
    return [f"refs/heads/{branch}", f"refs/remotes/{branch}", f"refs/remotes/origin/{branch}"]


def resolve_head(repo: Path, commit: str | None, branch: str | None, *, branch_required: bool = False) -> str:
    """The commit to ingest: the pushed one if the repository has it, else the branch head,
    else HEAD; with `branch_required`, a branch that is not there is `NoSuchBranch`."""
    candidates = [f"{commit}^{{commit}}"] if commit else []
    candidates += [f"{ref}^{{commit}}" for ref in _branch_refs(branch)] if branch else []
    for candidate in candidates:
        done = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", candidate)
        if done.returncode == 0:
            return done.stdout.strip()
    if branch and branch_required:
        raise NoSuchBranch(f"no branch {branch!r} in {repo.name}")
    done = _git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if done.returncode == 0:
        return done.stdout.strip()
    raise CommandFailed(
        ["git", "rev-parse", "HEAD"], 128, f"no commit to ingest in {repo.name} (empty repository?)"
    )


def _is_ancestor(repo: Path, old: str, new: str) -> bool:
    return _git(repo, "merge-base", "--is-ancestor", old, new).returncode == 0


def count_commits(repo: Path, revisions: list[str]) -> int:
    """How many commits `revisions` selects (for progress bars)."""
    done = _git(repo, "rev-list", "--count", *revisions)
    return int(done.stdout.strip() or 0) if done.returncode == 0 else 0


def ingest_repository(
    store: Store,
    minter: Minter,
    repo: Path,
    project: ProjectInfo,
    *,
    commit: str | None = None,
    branch: str | None = None,
    workdir: Path,
    extractors: str = "all",
    on_start: Callable[[int], None] | None = None,
    on_commit: Callable[[int], None] | None = None,
    run: Callable[[Extraction], Extracted] | None = None,
    max_triples: int = 10_000_000,
    branch_required: bool = False,
) -> IngestResult:
    """Bring the project's graph up to `commit` (or the branch head) of `repo`.

    Only commits not ingested yet are extracted; if the previously ingested commit is no
    longer an ancestor (history was rewritten) or extractors changed, the graph is rebuilt.
    `run` walks the history (the worker: in a confined process); by default here, reporting
    progress to `on_commit`.
    """
    started = time.monotonic()
    head = resolve_head(repo, commit, branch, branch_required=branch_required)
    iri = minter.project(project.slug)
    version = f"{EXTRACTOR_VERSION}:{extractors}"
    previous = store.project(iri)
    # `kg ingest` of a project a hook made keeps it bound to its GitLab id
    gitlab_id = previous.gitlab_id if previous and project.gitlab_id is None else project.gitlab_id
    record = ProjectRecord(
        iri=iri,
        slug=project.slug,
        name=project.name,
        visibility=project.visibility,
        gitlab_id=gitlab_id,
        ingested_commit=head,
        extractor_version=version,
        members=project.members if project.members is not None else previous.members if previous else (),
    )
    same_extractor = previous is not None and previous.extractor_version == version
    if previous is not None and same_extractor and previous.ingested_commit == head:
        mode: Literal["full", "incremental", "unchanged"] = "unchanged"
        revisions: list[str] = []
    elif (
        previous is not None
        and same_extractor
        and previous.ingested_commit
        and _is_ancestor(repo, previous.ingested_commit, head)
    ):
        mode, revisions = "incremental", [head, f"^{previous.ingested_commit}"]
    else:
        mode, revisions = "full", [head]
    if on_start is not None:
        on_start(count_commits(repo, revisions) if revisions else 0)

    workdir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=".nt", dir=workdir)
    os.close(fd)
    out = Path(name)
    try:
        job = Extraction(repo, iri, minter.base, tuple(revisions), extractors, out, max_triples)
        if not revisions:
            found = Extracted(0, 0, [])
        elif run is not None:
            found = run(job)
        else:
            found = extract(job, on_commit)
        if mode == "full":
            record = record.evolve(triples=found.triples, warnings=len(found.warnings))
            published = store.replace_project_graph(record, out)
        else:
            total = (previous.triples if previous else 0) + found.triples
            record = record.evolve(triples=total, warnings=len(found.warnings))
            published = store.extend_project_graph(record, out)
    finally:
        out.unlink(missing_ok=True)
    return IngestResult(
        record=published,
        mode=mode,
        commits=found.commits,
        triples=found.triples,
        seconds=time.monotonic() - started,
        warnings=found.warnings,
    )
