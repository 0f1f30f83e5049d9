"""Upkeep commands: `kg reindex`, `kg forget`, `kg hook-token`, `kg demo-repo`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from kg.cli.common import command, console, fail, out, progress, settings_or_exit, step
from kg.errors import KgError
from kg.iri import Minter


@command()
def reindex() -> None:
    """Rebuild the search index from the store (the store must not be open elsewhere)."""
    from kg.search import open_index
    from kg.search.documents import index_project
    from kg.store import open_reader

    settings = settings_or_exit()
    try:
        reader = open_reader(settings)
        records = reader.records()
    except KgError as exc:
        raise fail(exc) from None
    index = open_index(settings)
    known = {r.slug for r in records}
    for stale in index.projects():
        if stale.slug not in known:
            index.remove_project(stale.slug)
    with progress() as bar:
        task = bar.add_task("indexing projects for search", total=len(records))
        for record in records:
            index_project(index, reader, record)
            bar.advance(task)
    index.close()
    reader.close()
    out.print(f"reindexed {len(records)} project(s)")


@command()
def forget(project: Annotated[str, typer.Argument(help="NAMESPACE/NAME of the project.")]) -> None:
    """Take a project out of kg (the store must not be open elsewhere).

    Its path is then free for another project, e.g. one a hook without GitLab could not
    prove was its own."""
    from kg.search import open_index
    from kg.store import open_store

    settings = settings_or_exit()
    try:
        store = open_store(settings)
    except KgError as exc:
        raise fail(exc) from None
    with step(f"taking {project} out of the store"):
        removed = store.remove_project(Minter(settings.base_iri).project(project))
    if removed:
        index = open_index(settings)
        index.remove_project(project)
        index.close()
        with step("compacting the store"):
            store.collect_garbage()
    store.close()
    if not removed:
        console.print(f"[red]error:[/red] no project {project!r}")
        raise typer.Exit(1)
    out.print(f"forgot {project}")


@command("hook-token")
def hook_token_command(
    project_id: Annotated[int, typer.Argument(help="The project's GitLab id.")],
) -> None:
    """Print the secret token to put in GitLab's webhook form for a project."""
    from webhooks.tokens import hook_token

    settings = settings_or_exit()
    out.print(hook_token(settings.hook_secret.get_secret_value(), project_id))


@command("demo-repo")
def demo_repo(
    path: Annotated[Path, typer.Argument(help="Where to create it (a new directory).")],
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
