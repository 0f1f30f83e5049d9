"""The PostgreSQL search index's tables, created at open by whichever process comes first.

Idempotent DDL under a transaction-scoped advisory lock, so kg processes starting together
on an empty database do not race; `search_schema` records the version for later changes.
Tables are prefixed `search_`: the database may be shared with kg's event log.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from kg.errors import Unavailable
from kg.search.pgconnections import Connections

VERSION = 1
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('kg.search.schema'))"
_TABLES = """
CREATE TABLE IF NOT EXISTS search_schema (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS search_projects (
    slug text PRIMARY KEY, iri text NOT NULL, graph text NOT NULL, visibility text NOT NULL,
    namespace text NOT NULL, gitlab_id bigint
);
CREATE INDEX IF NOT EXISTS search_projects_by_gitlab_id ON search_projects (gitlab_id);
CREATE TABLE IF NOT EXISTS search_members (
    slug text NOT NULL, user_id text NOT NULL, level integer NOT NULL, PRIMARY KEY (slug, user_id)
);
CREATE INDEX IF NOT EXISTS search_members_by_user ON search_members (user_id);
CREATE TABLE IF NOT EXISTS search_docs (
    rowid bigserial PRIMARY KEY, id text NOT NULL, kind text NOT NULL, project text NOT NULL,
    name text NOT NULL, slug text NOT NULL, description text NOT NULL, keywords text[] NOT NULL,
    creators text[] NOT NULL, paths text[] NOT NULL, created text NOT NULL, modified text NOT NULL,
    extra json NOT NULL, words tsvector NOT NULL
);
CREATE INDEX IF NOT EXISTS search_docs_by_project ON search_docs (project);
CREATE INDEX IF NOT EXISTS search_docs_by_kind_id ON search_docs (kind, id);
CREATE INDEX IF NOT EXISTS search_docs_words ON search_docs USING gin (words);
CREATE TABLE IF NOT EXISTS search_edits (slug text PRIMARY KEY, fields json NOT NULL);
CREATE TABLE IF NOT EXISTS search_buried (gitlab_id bigint PRIMARY KEY);
CREATE TABLE IF NOT EXISTS search_changes (
    one integer PRIMARY KEY CHECK (one = 1), version bigint NOT NULL
);
INSERT INTO search_changes VALUES (1, 0) ON CONFLICT DO NOTHING;
"""
# `extra` is json, not jsonb: it keeps the key order kg wrote, as SQLite's text does.


def prepare(connections: Connections) -> str:
    """Create the extension and tables if missing; the schema-qualified `unaccent` function."""

    def create(db: psycopg.Connection) -> str:
        db.execute(_LOCK)
        schema = _unaccent_schema(db)
        if schema is None:
            schema = _create_unaccent(db, connections.where)
        version = _version(db)
        if version is None:
            # only on a new database: CREATE INDEX IF NOT EXISTS locks its table even when the
            # index is there, and would deadlock with other processes' writes
            db.execute(_TABLES)
            db.execute("INSERT INTO search_schema VALUES (%s)", (VERSION,))
        elif version > VERSION:
            raise Unavailable(
                f"the search index at {connections.where} was written by a newer kg"
                f" (schema {version}, this kg knows {VERSION}); upgrade kg"
            )
        return sql.SQL("{}.unaccent").format(sql.Identifier(schema)).as_string(db)

    return connections.run(create, write=True)


def _version(db: psycopg.Connection) -> int | None:
    """The schema's version, None when there are no tables yet."""
    row = db.execute("SELECT to_regclass('search_schema') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return None
    found = db.execute("SELECT max(version) FROM search_schema").fetchone()
    return None if found is None or found[0] is None else int(found[0])


def _unaccent_schema(db: psycopg.Connection) -> str | None:
    row = db.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'unaccent'"
    ).fetchone()
    return None if row is None else str(row[0])


def _create_unaccent(db: psycopg.Connection, where: str) -> str:
    """Install `unaccent` (a trusted extension since PostgreSQL 13: a role with CREATE on the
    database may); a clear error naming the fix when kg's role may not."""
    try:
        with db.transaction():  # a savepoint: the error below leaves the transaction usable
            db.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    except psycopg.errors.InsufficientPrivilege:
        database = where.rsplit("/", 1)[-1]
        raise Unavailable(
            f"the search index at {where} needs PostgreSQL's unaccent extension and kg's role"
            f" may not create it: run `CREATE EXTENSION unaccent;` in database {database} as its"
            " owner or a superuser (or grant kg's role CREATE on the database), then start kg again"
        ) from None
    except psycopg.errors.UndefinedFile:
        raise Unavailable(
            f"the PostgreSQL server of the search index at {where} has no unaccent extension"
            " installed (Debian and the official images ship it in postgresql-contrib)"
        ) from None
    schema = _unaccent_schema(db)
    if schema is None:
        raise Unavailable(f"the unaccent extension could not be created at {where}")
    return schema
