"""The search index on PostgreSQL, for a fleet: full-text search with weights, prefixes and
accents removed (the `unaccent` extension), shared by every kg process.

The same contract as `kg.search.sqlite`: the matches of a search are read narrow (filter
and sort keys) and deduplicated, counted, sorted and paged by `kg.search.hits`, the one
implementation both indexes share; access is `kg.access.sql_may_read` over the rows.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg

from kg.access import Access, sql_may_read, sql_role
from kg.search import amendments, pgrows, pgtext
from kg.search.base import Document, Kind, ProjectEntry, SearchQuery, SearchResult
from kg.search.hits import ID, ROWID, SCORE, SEP, facets, page, ranked_page, results
from kg.search.pgconnections import Connections
from kg.search.pgrows import Row
from kg.search.pgschema import prepare

_WRITER_LOCK = "SELECT pg_advisory_xact_lock(hashtext('kg.search'), hashtext(%s))"
_BUMP = "UPDATE search_changes SET version = version + 1"
_COLUMNS = "id, kind, project, name, slug, description, keywords, creators, paths, created, modified, extra"
_CALLERS_REMEMBERED = 10_000
"""Callers whose readable projects are remembered between changes (bounded memory)."""
_MEMBER = "EXISTS (SELECT 1 FROM search_members m WHERE m.slug = {slug} AND m.user_id = %(user)s)"


class PostgresIndex:
    """`SearchIndex` in one PostgreSQL database, shared by processes on many machines."""

    def __init__(self, url: str) -> None:
        self._db = Connections(url)
        self.where = self._db.where
        try:
            self._unaccent = prepare(self._db)
        except BaseException:
            self._db.close()
            raise
        self._vector = pgtext.vector(self._unaccent)
        self._readable: tuple[int, dict[str | None, list[ProjectEntry] | None]] = (-1, {})
        self._lock = threading.Lock()

    def _write(self, slug: str, work: Any) -> None:
        """`work(db)` in one transaction, alone among writers of `slug`; readers see it at once."""

        def run(db: psycopg.Connection) -> None:
            db.execute(_WRITER_LOCK, pgrows.scrub((slug,)))
            work(db)
            db.execute(_BUMP)  # last: the row lock is held only until the commit

        self._db.run(run, write=True)

    def replace_project(self, entry: ProjectEntry, documents: list[Document]) -> None:
        self._write(entry.slug, lambda db: self._insert(db, entry, documents))

    def _insert(self, db: psycopg.Connection, entry: ProjectEntry, documents: list[Document]) -> None:
        """Replace the project's rows, within the caller's transaction."""
        pgrows.delete(db, entry.slug)
        if entry.gitlab_id is not None and pgrows.buried(db, entry.gitlab_id):  # deleted through kg meanwhile
            return
        documents = amendments.apply_edits(documents, pgrows.edits_of(db, entry.slug))
        namespace = entry.slug.rsplit("/", 1)[0] if "/" in entry.slug else ""
        db.execute(
            "INSERT INTO search_projects VALUES (%s, %s, %s, %s, %s, %s)",
            pgrows.scrub((entry.slug, entry.iri, entry.graph, entry.visibility, namespace, entry.gitlab_id)),
        )
        with db.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO search_members VALUES (%s, %s, %s)",
                [pgrows.scrub((entry.slug, user, level)) for user, level in entry.members.items()],
            )
            cursor.executemany(
                f"INSERT INTO search_docs ({_COLUMNS}, words) VALUES"
                f" (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, {self._vector})",
                [pgrows.values(entry.slug, doc) for doc in documents],
            )

    def amend_project(self, slug: str, fields: dict[str, Any]) -> None:
        """Apply edits made in GitLab through kg (description, keywords, visibility) now, and
        keep description and keywords over later re-indexing."""

        def amend(db: psycopg.Connection) -> None:
            pgrows.save_edit(db, slug, fields)
            entry = pgrows.project(db, slug)
            if entry is not None:  # re-indexed from its own rows, in this one transaction
                found = pgrows.rows(db, "SELECT * FROM search_docs WHERE project = %s", slug)
                docs = [pgrows.document(r) for r in found]
                visibility = fields.get("visibility") or entry.visibility
                changed = ProjectEntry(
                    entry.slug, entry.iri, entry.graph, visibility, entry.members, entry.gitlab_id
                )
                self._insert(db, changed, docs)

        self._write(slug, amend)

    def bury_project(self, slug: str, gitlab_id: int | None) -> None:
        """Take a project deleted through kg out of the index, for good."""

        def bury(db: psycopg.Connection) -> None:
            pgrows.delete(db, slug)
            if gitlab_id is not None:
                db.execute("INSERT INTO search_buried VALUES (%s) ON CONFLICT DO NOTHING", (gitlab_id,))
            db.execute("DELETE FROM search_edits WHERE slug = %s", pgrows.scrub((slug,)))

        self._write(slug, bury)

    def is_buried(self, gitlab_id: int) -> bool:
        return self._db.run(lambda db: pgrows.buried(db, gitlab_id))

    def remove_project(self, slug: str) -> None:
        self._write(slug, lambda db: pgrows.delete(db, slug))

    def project(self, slug: str) -> ProjectEntry | None:
        return self._db.run(lambda db: pgrows.project(db, slug), snapshot=True)

    def projects_of(self, gitlab_id: int) -> list[ProjectEntry]:
        return self._entries("SELECT * FROM search_projects p WHERE gitlab_id = %s ORDER BY slug", gitlab_id)

    def projects(self) -> list[ProjectEntry]:
        """Every indexed project."""
        return self._entries('SELECT * FROM search_projects p ORDER BY slug COLLATE "C"')

    def _entries(self, query: str, *params: Any) -> list[ProjectEntry]:
        return self._db.run(lambda db: pgrows.entries(db, pgrows.rows(db, query, *params)), snapshot=True)

    def readable_projects(self, access: Access) -> list[ProjectEntry] | None:
        # Asked on every request: remembered until any process changes the index (the
        # version is read before the projects, so a change in between is read again later).
        def readable(db: psycopg.Connection) -> tuple[int, list[ProjectEntry] | None]:
            version = int(pgrows.rows(db, "SELECT version FROM search_changes")[0]["version"])
            with self._lock:
                known, cache = self._readable
            if known == version and access.user in cache:
                return version, cache[access.user]
            member = _MEMBER.format(slug="p.slug")
            where = sql_may_read(access, "p.visibility", member)
            params = {"user": access.user}
            hidden = db.execute(f"SELECT count(*) FROM search_projects p WHERE NOT {where}", params)
            if (hidden.fetchone() or (0,))[0] == 0:
                return version, None
            rows = pgrows.rows(
                db, f'SELECT * FROM search_projects p WHERE {where} ORDER BY slug COLLATE "C"', params
            )
            return version, pgrows.entries(db, rows)

        version, found = self._db.run(readable, snapshot=True)
        with self._lock:
            known, cache = self._readable
            if known != version or len(cache) >= _CALLERS_REMEMBERED:
                self._readable = version, (cache := {})
            cache[access.user] = found
        return found

    def documents(self, slug: str, kind: Kind) -> list[Document]:
        query = (
            "SELECT * FROM search_docs WHERE project = %s AND kind = %s"
            ' ORDER BY lower(name) COLLATE "C", id COLLATE "C"'
        )
        return self._db.run(lambda db: [pgrows.document(r) for r in pgrows.rows(db, query, slug, kind)])

    def find(self, kind: Kind, key: str) -> list[Document]:
        like = "%/" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        versions = "CASE WHEN json_typeof(extra->'versions') = 'array' THEN extra->'versions' END"
        query = (
            "SELECT * FROM search_docs WHERE kind = %(kind)s AND (id = %(key)s"
            " OR extra->>'identifier' = %(key)s OR extra->>'initial' = %(key)s OR id LIKE %(like)s"
            f" OR EXISTS (SELECT 1 FROM json_array_elements_text({versions}) v WHERE v = %(key)s))"
            ' ORDER BY project COLLATE "C", rowid'
        )
        params = pgrows.scrub({"kind": kind, "key": key, "like": like})
        return self._db.run(lambda db: [pgrows.document(r) for r in pgrows.rows(db, query, params)])

    def member_projects(self, user: str) -> list[ProjectEntry]:
        return self._entries(
            "SELECT p.* FROM search_projects p JOIN search_members m ON m.slug = p.slug"
            ' WHERE m.user_id = %s ORDER BY p.slug COLLATE "C"',
            user,
        )

    def search(self, query: SearchQuery, access: Access) -> SearchResult:
        sql, params = self._matches(query, access)
        by_score = query.sort == [("matchingScore", "desc")]

        def run(
            db: psycopg.Connection,
        ) -> tuple[list[tuple[Any, ...]], int, list[tuple[Any, ...]], dict[int, Row]]:
            rows = db.execute(
                sql + (' ORDER BY score DESC, d.id COLLATE "C", d.rowid' if by_score else ""), params
            ).fetchall()
            start = (query.page - 1) * query.per_page
            if by_score:  # the default: sorted by PostgreSQL, paged without sorting in Python
                total, shown = ranked_page(rows, query, start, query.per_page)
            else:
                kept = results(rows, query)
                total, shown = len(kept), page(kept, query.sort, start, query.per_page)
            found = pgrows.rows(
                db,
                "SELECT d.*, p.visibility FROM search_docs d JOIN search_projects p ON p.slug = d.project"
                " WHERE d.rowid = ANY(%s)",
                [r[ROWID] for r in shown],
            )
            return rows, total, shown, {r["rowid"]: r for r in found}

        rows, total, shown, found = self._db.run(run, snapshot=True)
        return SearchResult(
            [pgrows.document(found[r[ROWID]]) for r in shown],
            total,
            facets(rows, query),
            {r[ID]: found[r[ROWID]]["visibility"] for r in shown},
            {r[ID]: float(r[SCORE]) for r in shown},
        )

    def _matches(self, query: SearchQuery, access: Access) -> tuple[str, dict[str, Any]]:
        """The SQL of every readable match's narrow row (`kg.search.hits`' order), and its
        parameters. The filters that are facets are left to `kg.search.hits`."""
        params: dict[str, Any] = {"user": access.user, "sep": SEP}
        where = [sql_may_read(access, "p.visibility", _MEMBER.format(slug="d.project"))]
        score = "0.0::float8"
        typed = query.text[: pgtext.MAX_QUERY_CHARS]
        text = pgtext.words([typed])
        if pgtext.unmatchable(typed):
            where.append("false")
        if text:
            params["text"] = text
            where.append("d.words @@ q.query")
            score = f"ts_rank({pgtext.RANK_WEIGHTS}, d.words, q.query, 1)::float8"
        if query.roles:
            roles = " OR ".join(f"({sql_role(r, 'm.level')})" for r in query.roles)
            where.append(
                f"d.project IN (SELECT m.slug FROM search_members m WHERE m.user_id = %(user)s AND ({roles}))"
            )
        if query.since or query.until:  # an undated item is in no date range
            where.append("d.created != ''")
        if query.since:
            where.append("substr(d.created, 1, 10) >= %(since)s")
            params["since"] = query.since
        if query.until:
            where.append("substr(d.created, 1, 10) <= %(until)s")
            params["until"] = query.until
        source = "search_docs d JOIN search_projects p ON p.slug = d.project"
        if text:
            source += f" CROSS JOIN (SELECT {pgtext.query(self._unaccent, '%(text)s')} AS query) q"
        sql = (
            "SELECT d.rowid, d.id, d.kind, p.visibility, p.namespace,"
            f" array_to_string(d.creators, %(sep)s), {score} AS score,"
            f" lower(d.name), d.created, d.modified FROM {source} WHERE {' AND '.join(where)}"
        )
        return sql, pgrows.scrub(params)

    def maintain(self) -> int:
        # fresh planner statistics for the documents' tables (autovacuum merges GIN's pending
        # list and reclaims space on its own); GIN keeps no segments to count
        self._db.run(lambda db: db.execute("ANALYZE search_projects, search_members, search_docs"))
        return 0

    def probe(self) -> None:
        self._db.run(lambda db: db.execute("SELECT version FROM search_changes").fetchone())

    def close(self) -> None:
        self._db.close()
