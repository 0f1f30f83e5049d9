"""The `kg` command line."""

from __future__ import annotations

import gc
import hashlib
import json
import shutil
import signal
import sys
import threading
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kg import logs
from kg.config import Settings, SettingsError, load_settings
from kg.errors import KgError
from kg.iri import Minter

if TYPE_CHECKING:
    from kg.forge import ProjectAccess

app = typer.Typer(
    help="kg: a provenance knowledge graph for git repositories.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

_FORMATS = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
}


def _settings(log_format: str = "console") -> Settings:
    """The settings, or exit 2 with one line per unusable variable (never a traceback)."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        for line in str(exc).splitlines():
            console.print(f"[red]error:[/red] {line}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    logs.configure(settings.log_level, log_format if log_format != "settings" else settings.log_format)
    return settings


def _fail(exc: KgError, code: int = 1) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}", highlight=False)
    return typer.Exit(code)


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


@app.command()
def ingest(
    source: Annotated[str, typer.Argument(help="A local repository path or a git URL.")],
    project: Annotated[str | None, typer.Option(help="NAMESPACE/NAME to file it under.")] = None,
    visibility: Annotated[
        str | None, typer.Option(help="public, internal or private (default: GitLab's, else public).")
    ] = None,
    branch: Annotated[str | None, typer.Option(help="Branch to ingest (default: HEAD).")] = None,
    member: Annotated[list[str] | None, typer.Option(help="A user id who may read it (repeatable).")] = None,
    gitlab_id: Annotated[
        int | None,
        typer.Option(help="The project's GitLab id (default: asked of KG_GITLAB_URL by path, if set)."),
    ] = None,
) -> None:
    """Ingest a repository synchronously and print a summary."""
    from kg.pipeline.ingest import ProjectInfo, ingest_repository
    from kg.search import open_index
    from kg.search.documents import index_project
    from kg.slug import check_slug
    from kg.store import open_store

    settings = _settings()
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
            with console.status(f"fetching {slug}"):
                repo = mirrors.sync(key, source)
        members = tuple((m, 30) for m in member) if member else None
        if settings.gitlab_url:
            gitlab_id, access = _from_gitlab(settings, slug, gitlab_id)
            if access is not None and visibility is None:  # GitLab is the authority on who reads
                visibility, members = access.visibility, members or access.members
        store = open_store(settings)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(f"ingesting {slug}", total=None)
            result = ingest_repository(
                store,
                Minter(settings.base_iri),
                repo,
                ProjectInfo(slug, visibility or "public", gitlab_id=gitlab_id, members=members),
                branch=branch,
                branch_required=branch is not None,
                workdir=settings.data_dir / "tmp",
                extractors=settings.extractors,
                on_start=lambda total: bar.update(task, total=total),
                on_commit=lambda n: bar.update(task, completed=n) if n % 200 == 0 else None,
            )
        for warning in result.warnings:
            console.print(f"[yellow]warning:[/yellow] {escape(str(warning))}")
        out.print(
            f"{slug}: {result.mode} ingest, {result.commits} commits, {result.triples} triples, "
            f"{len(result.warnings)} warnings, {result.seconds:.2f} s"
        )
        index = open_index(settings)
        index_project(index, store, result.record)
        index.close()
        store.collect_garbage()
        store.close()
    except KgError as exc:
        raise _fail(exc) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the API, webhook receiver, worker and scheduler in one process."""
    import uvicorn

    from kg.metric_files import share_between_processes
    from kg.startup import listen, prepare_data_dir, raise_open_file_limit

    settings = _settings("settings")
    host, port = host or settings.host, port or settings.port
    try:
        locks = prepare_data_dir(settings.data_dir, settings.store_path if settings.embedded_store else None)
        share_between_processes(settings.data_dir / "metrics")  # the worker's jobs show at /metrics
        sock = listen(host, port)
    except KgError as exc:
        raise _fail(exc, 2) from None
    from kg.api.app import create_app  # after share_between_processes: it imports prometheus-client

    raise_open_file_limit()
    # The group-commit thread must get the GIL soon after its fsync returns, or every
    # waiting webhook pays up to the default 5 ms switch interval.
    sys.setswitchinterval(0.0005)
    # A search builds ~10,000 small tuples; with the default thresholds the collector then
    # walks the whole heap often enough to double a search's p95 (measured 48 -> 30 ms).
    # What exists at start lives forever: freeze it out of the collector's sight.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    logs.announce(f"kg serving on http://{host}:{port}", data_dir=str(settings.data_dir))
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        for lock in locks:
            lock.release()


@app.command()
def worker() -> None:
    """Run only the pipeline worker (the store must not be open elsewhere)."""
    from kg.metrics import listen
    from kg.pipeline.worker import run_worker

    settings = _settings("settings")
    listen(settings.host, settings.metrics_port)
    stop = threading.Event()
    # SIGTERM finishes the current job first; a kill mid-job is safe too, only slower.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        run_worker(settings, stop)
    except KgError as exc:
        raise _fail(exc) from None


def _table(body: bytes) -> None:
    data = json.loads(body)
    if "boolean" in data:
        out.print("yes" if data["boolean"] else "no")
        return
    names = data["head"]["vars"]
    table = Table(*names)
    for row in data["results"]["bindings"]:
        table.add_row(*(row.get(name, {}).get("value", "") for name in names))
    out.print(table)
    console.print(f"{len(data['results']['bindings'])} row(s)")


@app.command()
def sparql(
    query: Annotated[str, typer.Argument(help="The query, or @FILE to read it from a file.")],
    format: Annotated[
        str,
        typer.Option("--format", "-f", help="table, json, xml, csv, tsv; ttl, nt, jsonld for graphs."),
    ] = "table",
) -> None:
    """Run a read-only SPARQL query against the store and print the result."""
    from kg.store import open_reader
    from kg.store.reading import QueryRequest

    settings = _settings()
    if query.startswith("@"):
        query = Path(query[1:]).read_text(encoding="utf-8")
    if format != "table" and format not in _FORMATS:
        raise typer.BadParameter(f"unknown format {format!r}", param_hint="--format")
    accept = "application/sparql-results+json, text/turtle" if format == "table" else _FORMATS[format]
    try:
        with closing(open_reader(settings)) as reader:
            answer = reader.answer(QueryRequest(query=query, accept=accept))
    except KgError as exc:
        raise _fail(exc) from None
    if format == "table" and answer.media_type.endswith("json"):
        _table(answer.body)
    else:
        sys.stdout.buffer.write(answer.body)
        if not answer.body.endswith(b"\n"):
            sys.stdout.buffer.write(b"\n")


@app.command()
def status(
    project: Annotated[str | None, typer.Argument(help="NAMESPACE/NAME or id.")] = None,
) -> None:
    """Show each project's sync state."""
    from kg.events import open_event_log
    from kg.status import status_document
    from kg.store import open_reader

    settings = _settings()
    events = open_event_log(settings)
    statuses = {s.path: status_document(s) for s in events.statuses()}
    with closing(open_reader(settings)) as reader:
        records = {r.slug: r for r in reader.records()}
    table = Table("project", "state", "ingested commit", "triples", "warnings", "message")
    shown = 0
    for slug in sorted(set(statuses) | set(records)):
        doc, record = statuses.get(slug), records.get(slug)
        ids = {slug, str(record.gitlab_id) if record and record.gitlab_id else None}
        if project is not None and project not in ids:
            continue
        details = doc.get("details", {}) if doc else {}
        commit = (doc or {}).get("ingestedCommit") or (record.ingested_commit if record else "")
        table.add_row(
            slug,
            details.get("status", "success" if record else "unknown"),
            (commit or "")[:12],
            str(record.triples if record else ""),
            str(record.warnings if record else ""),
            details.get("message", ""),
        )
        shown += 1
    if project is not None and not shown:
        console.print(f"[red]error:[/red] no project {project!r}")
        raise typer.Exit(1)
    out.print(table)


@app.command("lineage")
def lineage_command(
    project: Annotated[str, typer.Argument(help="NAMESPACE/NAME of the project.")],
    path: Annotated[str, typer.Argument(help="The file's path in the repository.")],
    direction: Annotated[str, typer.Option(help="upstream, downstream or both.")] = "both",
    depth: Annotated[int | None, typer.Option(help="Runs to follow each way (default: all).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="json, tree or dot.")] = "tree",
) -> None:
    """Where a file came from and what was made from it, across projects."""
    from kg.lineage import as_dot, as_tree
    from kg.store import open_reader
    from kg.store.reading import LineageRequest

    settings = _settings()
    if direction not in ("upstream", "downstream", "both"):
        raise typer.BadParameter("must be upstream, downstream or both", param_hint="--direction")
    if format not in ("json", "tree", "dot"):
        raise typer.BadParameter("must be json, tree or dot", param_hint="--format")
    if depth is not None and depth < 1:
        raise typer.BadParameter("must be at least 1", param_hint="--depth")
    try:
        with closing(open_reader(settings)) as reader:
            answer = reader.lineage(LineageRequest(project, path, direction, depth))
        document = json.loads(answer.body)
    except KgError as exc:
        raise _fail(exc) from None
    if format == "json":
        out.print_json(json.dumps(document))
    elif format == "dot":
        out.print(as_dot(document), markup=False)
    else:
        out.print(as_tree(document, path), markup=False)


@app.command()
def reindex() -> None:
    """Rebuild the search index from the store (the store must not be open elsewhere)."""
    from kg.search import open_index
    from kg.search.documents import index_project
    from kg.store import open_reader

    settings = _settings()
    try:
        reader = open_reader(settings)
        records = reader.records()
    except KgError as exc:
        raise _fail(exc) from None
    index = open_index(settings)
    known = {r.slug for r in records}
    for stale in index.projects():
        if stale.slug not in known:
            index.remove_project(stale.slug)
    for record in records:
        index_project(index, reader, record)
    index.close()
    reader.close()
    out.print(f"reindexed {len(records)} project(s)")


@app.command()
def forget(project: Annotated[str, typer.Argument(help="NAMESPACE/NAME of the project.")]) -> None:
    """Take a project out of kg (the store must not be open elsewhere): its path is then free
    for another project, e.g. one a hook without GitLab could not prove was its own."""
    from kg.search import open_index
    from kg.store import open_store

    settings = _settings()
    try:
        store = open_store(settings)
    except KgError as exc:
        raise _fail(exc) from None
    removed = store.remove_project(Minter(settings.base_iri).project(project))
    if removed:
        index = open_index(settings)
        index.remove_project(project)
        index.close()
        store.collect_garbage()
    store.close()
    if not removed:
        console.print(f"[red]error:[/red] no project {project!r}")
        raise typer.Exit(1)
    out.print(f"forgot {project}")


@app.command("hook-token")
def hook_token_command(project_id: int) -> None:
    """Print the secret token to put in GitLab's webhook form for a project."""
    from webhooks.tokens import hook_token

    settings = _settings()
    out.print(hook_token(settings.hook_secret.get_secret_value(), project_id))


@app.command("demo-repo")
def demo_repo(
    path: Path,
    force: Annotated[bool, typer.Option(help="Replace the directory if it exists.")] = False,
) -> None:
    """Create the bundled demo repository at PATH."""
    from kg.demo import build_demo_repository

    if path.exists():
        if not force:
            console.print(f"{path} exists; keeping it")
            return
        shutil.rmtree(path)
    build_demo_repository(path)
    out.print(f"demo repository created at {path}")
