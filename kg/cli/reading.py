"""The commands that read: `kg sparql`, `kg status`, `kg lineage`."""

from __future__ import annotations

import json
import sys
from contextlib import closing
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kg.cli.common import command, console, fail, out, settings_or_exit, step
from kg.errors import KgError

_FORMATS = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
}


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


@command()
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

    settings = settings_or_exit()
    if query.startswith("@"):
        query = Path(query[1:]).read_text(encoding="utf-8")
    if format != "table" and format not in _FORMATS:
        raise typer.BadParameter(f"unknown format {format!r}", param_hint="--format")
    accept = "application/sparql-results+json, text/turtle" if format == "table" else _FORMATS[format]
    try:
        with closing(open_reader(settings)) as reader, step("querying the store", off_terminal=False):
            answer = reader.answer(QueryRequest(query=query, accept=accept))
    except KgError as exc:
        raise fail(exc) from None
    if format == "table" and answer.media_type.endswith("json"):
        _table(answer.body)
    else:
        sys.stdout.buffer.write(answer.body)
        if not answer.body.endswith(b"\n"):
            sys.stdout.buffer.write(b"\n")


@command()
def status(
    project: Annotated[
        str | None, typer.Argument(help="NAMESPACE/NAME or GitLab id of one project.", show_default="all")
    ] = None,
) -> None:
    """Show each project's sync state."""
    from kg.events import open_event_log
    from kg.status import status_document
    from kg.store import open_reader

    settings = settings_or_exit()
    events = open_event_log(settings)
    statuses = {s.path: status_document(s) for s in events.statuses()}
    with closing(open_reader(settings)) as reader:
        records = {r.slug: r for r in reader.records()}
    rows: list[tuple[str, ...]] = []
    for slug in sorted(set(statuses) | set(records)):
        doc, record = statuses.get(slug), records.get(slug)
        ids = {slug, str(record.gitlab_id) if record and record.gitlab_id else None}
        if project is not None and project not in ids:
            continue
        details = doc.get("details", {}) if doc else {}
        commit = (doc or {}).get("ingestedCommit") or (record.ingested_commit if record else "")
        rows.append(
            (
                slug,
                details.get("status", "success" if record else "unknown"),
                (commit or "")[:12],
                str(record.triples if record else ""),
                str(record.warnings if record else ""),
                details.get("message", ""),
                (doc or {}).get("nextAttemptAt") or "",
            )
        )
    if project is not None and not rows:
        console.print(f"[red]error:[/red] no project {project!r}")
        raise typer.Exit(1)
    out.print(_status_table(rows))
    _next_attempts(rows)


def _status_table(rows: list[tuple[str, ...]]) -> Table:
    """Projects' states: every cell wraps, none is cut (a name is how one finds a project)."""
    table = Table()
    for name in ("project", "state", "commit", "triples", "warnings", "message"):
        table.add_column(
            name, overflow="fold", justify="right" if name in ("triples", "warnings") else "left"
        )
    for row in rows:
        table.add_row(*row[:-1])
    return table


def _next_attempts(rows: list[tuple[str, ...]]) -> None:
    """When each waiting project is retried: lines of their own, as a time must not wrap."""
    waiting = [(row[0], row[-1]) for row in rows if row[-1]]
    if waiting:
        out.print("next attempt (UTC):", highlight=False)
    for slug, when in waiting:
        out.print(f"  {when}  {slug}", highlight=False, markup=False)


@command("lineage")
def lineage_command(
    project: Annotated[str, typer.Argument(help="NAMESPACE/NAME of the project.")],
    path: Annotated[str, typer.Argument(help="The file's path in the repository.")],
    direction: Annotated[str, typer.Option(help="upstream, downstream or both.")] = "both",
    depth: Annotated[int | None, typer.Option(help="Runs to follow each way.", show_default="all")] = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help="tree, json, dot (Graphviz) or svg (a picture, needs dot).")
    ] = "tree",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.", show_default="stdout")
    ] = None,
) -> None:
    """Where a file came from and what was made from it, across projects."""
    from kg.lineage import as_dot, as_tree
    from kg.store import open_reader
    from kg.store.reading import LineageRequest

    settings = settings_or_exit()
    if direction not in ("upstream", "downstream", "both"):
        raise typer.BadParameter("must be upstream, downstream or both", param_hint="--direction")
    if format not in ("json", "tree", "dot", "svg"):
        raise typer.BadParameter("must be tree, json, dot or svg", param_hint="--format")
    if depth is not None and depth < 1:
        raise typer.BadParameter("must be at least 1", param_hint="--depth")
    try:
        with closing(open_reader(settings)) as reader, step("following the lineage", off_terminal=False):
            answer = reader.lineage(LineageRequest(project, path, direction, depth))
        document = json.loads(answer.body)
        start = path.strip("/")
        if format == "svg":
            from kg.lineage.picture import as_svg

            with step(f"drawing {len(document['nodes'])} nodes with Graphviz", off_terminal=False):
                _write(as_svg(document, start), output)
        elif format == "json":
            _write(json.dumps(document, indent=2, ensure_ascii=False).encode() + b"\n", output)
        else:
            text = as_dot(document, start) if format == "dot" else as_tree(document, start, direction)
            _write(text.encode() + b"\n", output)
    except KgError as exc:
        raise fail(exc) from None
    if output is not None:
        console.print(f"wrote {escape(str(output))}", highlight=False)


def _write(body: bytes, output: Path | None) -> None:
    """To the file `output`, else to standard output."""
    if output is None:
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return
    try:
        output.write_bytes(body)
    except OSError as exc:
        raise KgError(f"cannot write {output}: {exc.strerror or exc}") from None
