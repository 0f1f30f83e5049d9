"""`kg ingest`: a repository into the store, itself or through a running kg serve."""

from __future__ import annotations

import hashlib
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer
from rich.markup import escape

from kg.cli.common import command, console, fail, out, progress, settings_or_exit, step
from kg.config import Settings
from kg.errors import KgError
from kg.iri import Minter
from kg.pipeline.handoff import HandoffRequest

if TYPE_CHECKING:
    from kg.forge import ProjectAccess
    from kg.pipeline.ingest import IngestResult, ProjectInfo
    from kg.store.base import Store


def _from_gitlab(
    settings: Settings, slug: str, gitlab_id: int | None
) -> tuple[int | None, ProjectAccess | None]:
    """The project's GitLab id and who may read it, as GitLab (KG_GITLAB_URL, kg's token) says;
    (the id given, None) with a warning when GitLab cannot tell."""
    from kg.forge import GitLab

    token = settings.gitlab_token.get_secret_value() if settings.gitlab_token else None
    forge = GitLab(str(settings.gitlab_url), token)
    try:
        found = forge.describe(gitlab_id if gitlab_id is not None else slug).id
        return found, forge.access(found)
    except KgError as exc:
        shown = gitlab_id if gitlab_id is not None else slug
        console.print(
            f"[yellow]warning:[/yellow] GitLab does not tell about {escape(str(shown))} ({escape(str(exc))})"
        )
        return gitlab_id, None


def _slug_from(source: str, local: bool) -> str:
    if local:
        return f"local/{Path(source).resolve().name}"
    segments = urlsplit(source).path.strip("/").removesuffix(".git").split("/")[-2:]
    return "/".join(["remote", *segments][-2:]) if segments != [""] else "remote/project"


@command()
def ingest(
    source: Annotated[str, typer.Argument(help="A local repository path or a git URL.")],
    project: Annotated[
        str | None,
        typer.Option(
            help="NAMESPACE/NAME to file it under.",
            show_default="local/DIR, or remote/NAMESPACE/NAME of the URL",
        ),
    ] = None,
    visibility: Annotated[
        str | None,
        typer.Option(help="public, internal or private.", show_default="GitLab's, else public"),
    ] = None,
    branch: Annotated[str | None, typer.Option(help="Branch to ingest.", show_default="HEAD")] = None,
    member: Annotated[
        list[str] | None, typer.Option(help="A user id who may read it (repeatable).", show_default="none")
    ] = None,
    gitlab_id: Annotated[
        int | None,
        typer.Option(help="The project's GitLab id.", show_default="asked of KG_GITLAB_URL by path, if set"),
    ] = None,
) -> None:
    """Ingest a repository synchronously and print a summary."""
    from kg.pipeline.ingest import ProjectInfo
    from kg.search import open_index
    from kg.search.documents import index_project
    from kg.slug import check_slug
    from kg.startup import serving_pid
    from kg.store import open_store

    settings = settings_or_exit()
    if branch is not None and not branch.strip():
        raise typer.BadParameter("must name a branch", param_hint="--branch")
    if visibility not in (None, "public", "internal", "private"):
        raise typer.BadParameter("must be public, internal or private", param_hint="--visibility")
    local = Path(source).exists()
    slug = project or _slug_from(source, local)
    try:
        check_slug(slug)
    except KgError as exc:
        hint = f"{exc}; name it with --project NAMESPACE/NAME"
        raise typer.BadParameter(hint, param_hint="--project") from None
    try:
        if local:
            repo = Path(source).resolve()
        else:
            from kg.pipeline.fetch import Mirrors  # a local repository needs none of it

            token = settings.git_token.get_secret_value() if settings.git_token else None
            key = "cli-" + hashlib.sha256(source.encode()).hexdigest()[:16]
            # the operator names the URL, so more transports than a webhook may use; the
            # token still goes only to GitLab's origin
            mirrors = Mirrors(
                settings.mirrors_dir,
                token=token,
                forge_origin=settings.forge_origin,
                protocols=("http", "https", "git", "ssh"),
            )
            with step(f"fetching {slug}"):
                repo = mirrors.sync(key, source)
        members = tuple((m, 30) for m in member) if member else None
        if settings.gitlab_url:
            gitlab_id, access = _from_gitlab(settings, slug, gitlab_id)
            if access is not None and visibility is None:  # GitLab is the authority on who reads
                visibility, members = access.visibility, members or access.members
        serving = serving_pid(settings.data_dir)
        if serving is not None:  # its worker is the store's one writer: it ingests this
            readers = list(members) if members is not None else None
            request = HandoffRequest(str(repo), slug, visibility or "public", gitlab_id, readers, branch)
            _hand_off(settings, request, serving)
            return
        store = open_store(settings)
        info = ProjectInfo(slug, visibility or "public", gitlab_id=gitlab_id, members=members)
        result = _ingest_here(settings, store, repo, info, branch)
        for warning in result.warnings:
            console.print(f"[yellow]warning:[/yellow] {escape(str(warning))}")
        out.print(
            f"{slug}: {result.mode} ingest, {result.commits} commits, {result.triples} triples, "
            f"{len(result.warnings)} warnings, {result.seconds:.2f} s"
        )
        with step(f"indexing {slug} for search"):
            index = open_index(settings)
            index_project(index, store, result.record)
            index.close()
        with step("compacting the store"):
            store.collect_garbage()
        store.close()
    except KgError as exc:
        raise fail(exc) from None


def _ingest_here(
    settings: Settings, store: Store, repo: Path, info: ProjectInfo, branch: str | None
) -> IngestResult:
    """Ingest in this process: a bar while commits are walked, then a word while the graph
    is published (that takes seconds on a big project, after the bar is full)."""
    from kg.pipeline.extraction import Extracted, Extraction, extract
    from kg.pipeline.ingest import ingest_repository

    with ExitStack() as publishing, progress() as bar:
        task = bar.add_task(f"ingesting {info.slug}", total=None)

        def on_commit(n: int) -> None:
            if n % 200 == 0:
                bar.update(task, completed=n)

        def walk(job: Extraction) -> Extracted:
            found = extract(job, on_commit)
            bar.stop()  # transient: the bar goes, the word stays until publishing ends
            publishing.enter_context(step(f"publishing {found.triples:,} triples to the store"))
            return found

        return ingest_repository(
            store,
            Minter(settings.base_iri),
            repo,
            info,
            branch=branch,
            branch_required=branch is not None,
            workdir=settings.data_dir / "tmp",
            extractors=settings.extractors,
            on_start=lambda total: bar.update(task, total=total),
            run=walk,
        )


def _hand_off(settings: Settings, request: HandoffRequest, serving: int) -> None:
    """Give the ingest to the running kg serve's worker and follow it to its end."""
    import uuid

    from kg.events import Push, open_event_log
    from kg.pipeline import handoff

    number = handoff.submit(settings.data_dir, request)
    events = open_event_log(settings)
    try:
        events.enqueue(
            Push(
                delivery_key=f"cli:{uuid.uuid4()}",
                project_id=number,
                path=request.slug,
                clone_url="",
                commit=None,
                kind="cli",
                visibility=request.visibility,
            )
        )
        console.print(
            f"kg serve (pid {serving}) holds the store: handed {escape(request.slug)} to its worker"
        )
        with progress() as bar:
            # the worker reports its total, not how far it is: no total, so the bar pulses
            # instead of standing at 0 while it walks and publishes
            task = bar.add_task(f"waiting for kg serve's worker to take {escape(request.slug)}", total=None)
            while (outcome := handoff.outcome_of(settings.data_dir, number)) is None:
                status = events.status(number)
                if status is not None and status.state == "failed":
                    raise fail(KgError(status.message or "the worker gave up"))
                total = handoff.total_of(settings.data_dir, number)
                if total is not None:
                    what = f"kg serve's worker: {total} commit(s) of {escape(request.slug)}, then publishing"
                    bar.update(task, description=what)
                time.sleep(0.2)
    finally:
        events.close()
    if outcome.error:
        console.print(f"[red]error:[/red] {escape(outcome.error)}", highlight=False)
        raise typer.Exit(1)
    for warning in outcome.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    out.print(
        f"{request.slug}: {outcome.mode} ingest, {outcome.commits} commits, {outcome.triples} triples, "
        f"{len(outcome.warnings)} warnings, {outcome.seconds:.2f} s"
    )
