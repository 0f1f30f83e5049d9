"""Rows of the PostgreSQL search index: documents and projects in and out, edits kept.

Values bound into SQL go through `scrub` first: PostgreSQL's text holds neither NUL nor
lone surrogates, which may arrive in a repository's metadata or a URL.
"""

from __future__ import annotations

import json
import re
from typing import Any

import psycopg
from psycopg.rows import dict_row

from kg.search import amendments, pgtext
from kg.search.base import Document, ProjectEntry

Row = dict[str, Any]
SURROGATE = re.compile("[\\ud800-\\udfff]")


def rows(db: psycopg.Connection, query: str, *params: Any) -> list[Row]:
    arguments = params[0] if len(params) == 1 and isinstance(params[0], dict) else params
    with db.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(query, scrub(arguments)).fetchall()


def delete(db: psycopg.Connection, slug: str) -> None:
    for table, column in (
        ("search_docs", "project"),
        ("search_members", "slug"),
        ("search_projects", "slug"),
    ):
        db.execute(f"DELETE FROM {table} WHERE {column} = %s", scrub((slug,)))


def buried(db: psycopg.Connection, gitlab_id: int) -> bool:
    return db.execute("SELECT 1 FROM search_buried WHERE gitlab_id = %s", (gitlab_id,)).fetchone() is not None


def edits_of(db: psycopg.Connection, slug: str) -> dict[str, Any]:
    saved = rows(db, "SELECT fields::text AS fields FROM search_edits WHERE slug = %s", slug)
    found: dict[str, Any] = json.loads(saved[0]["fields"]) if saved else {}
    return found


def save_edit(db: psycopg.Connection, slug: str, fields: dict[str, Any]) -> None:
    """Remember edited fields of a project (merged with earlier edits)."""
    merged = {**edits_of(db, slug), **{k: v for k, v in fields.items() if k in amendments.EDITABLE}}
    db.execute(
        "INSERT INTO search_edits VALUES (%s, %s) ON CONFLICT (slug) DO UPDATE SET fields = excluded.fields",
        scrub((slug, json.dumps(scrub(merged)))),
    )


def project(db: psycopg.Connection, slug: str) -> ProjectEntry | None:
    found = entries(db, rows(db, "SELECT * FROM search_projects WHERE slug = %s", slug))
    return found[0] if found else None


def entries(db: psycopg.Connection, found: list[Row]) -> list[ProjectEntry]:
    # one members query for all the rows, not one per project: callers list thousands
    members: dict[str, dict[str, int]] = {r["slug"]: {} for r in found}
    if found:
        for r in rows(
            db, "SELECT slug, user_id, level FROM search_members WHERE slug = ANY(%s)", list(members)
        ):
            members[r["slug"]][r["user_id"]] = r["level"]
    return [
        ProjectEntry(r["slug"], r["iri"], r["graph"], r["visibility"], members[r["slug"]], r["gitlab_id"])
        for r in found
    ]


def values(project: str, doc: Document) -> tuple[Any, ...]:
    """One `search_docs` row's parameters: the document's fields, then its words by weight."""
    values: tuple[Any, ...] = scrub(
        (
            doc.id,
            doc.kind,
            project,
            doc.name,
            doc.slug,
            doc.description,
            list(doc.keywords),
            list(doc.creators),
            list(doc.paths),
            doc.created,
            doc.modified,
            json.dumps(scrub(doc.extra)),
            *pgtext.weighted(doc),
        )
    )
    return values


def scrub(value: Any) -> Any:
    """`value` without NUL characters, which PostgreSQL's text cannot hold (SQLite's can),
    and lone surrogates, which UTF-8 cannot: stored and looked-up values lose them alike."""
    if isinstance(value, str):
        if not value.isascii() and SURROGATE.search(value):  # not UTF-8: as a decoder would
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, (list, tuple)):
        return type(value)(scrub(v) for v in value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    return value


def document(row: Row) -> Document:
    return Document(
        id=row["id"],
        kind=row["kind"],
        project=row["project"],
        name=row["name"],
        slug=row["slug"],
        description=row["description"],
        keywords=list(row["keywords"]),
        creators=list(row["creators"]),
        paths=list(row["paths"]),
        created=row["created"],
        modified=row["modified"],
        extra=row["extra"],
    )
