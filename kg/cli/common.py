"""What every `kg` command shares: the app, the consoles, settings and errors as one line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from kg import logs
from kg.cli.help import KgCommand, KgGroup
from kg.config import Settings, SettingsError, load_settings
from kg.errors import KgError

P = ParamSpec("P")

app = typer.Typer(
    cls=KgGroup,
    help="kg: a provenance knowledge graph for git repositories.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def command(name: str | None = None) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """Register a `kg` subcommand (its help in click's words, see `kg.cli.help`)."""
    return app.command(name, cls=KgCommand)


console = Console(stderr=True, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def settings_or_exit(log_format: str = "console") -> Settings:
    """The settings, or exit 2 with one line per unusable variable (never a traceback)."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        for line in str(exc).splitlines():
            console.print(f"[red]error:[/red] {line}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    logs.configure(settings.log_level, log_format if log_format != "settings" else settings.log_format)
    return settings


def fail(exc: KgError, code: int = 1) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}", highlight=False)
    return typer.Exit(code)


def progress() -> Progress:
    """The bar `kg ingest` shows, ingesting itself or following kg serve's worker."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@contextmanager
def step(message: str, *, off_terminal: bool = True) -> Iterator[None]:
    """Say what a long step is doing while it runs: a spinner on a terminal, else one line
    (a log or CI reads what happened, and when it hangs, where), unless `off_terminal` is
    False (a step whose output scripts read, where a line would only be noise)."""
    if not console.is_terminal:
        if off_terminal:
            console.print(f"{message}…", highlight=False, markup=False)
        yield
        return
    with console.status(escape(message)):
        yield
