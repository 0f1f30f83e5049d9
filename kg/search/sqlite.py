"""The embedded search index: SQLite FTS5 (BM25), diacritics-insensitive, prefix-indexed.

One `docs` row per searchable thing, its text in `docs_fts`, and the projects' visibility
and members beside them, so access filtering is a join, not a list of graphs.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

from kg.access import Access, sql_may_read, sql_role
from kg.errors import Unavailable
from kg.search import amendments
from kg.search.base import Document, Kind, ProjectEntry, SearchQuery, SearchResult
from kg.search.hits import ID, ROWID, SCORE, SEP, facets, page, ranked_page, results

_SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    slug TEXT PRIMARY KEY, iri TEXT NOT NULL, graph TEXT NOT NULL, visibility TEXT NOT NULL,
    namespace TEXT NOT NULL, gitlab_id INTEGER
);
CREATE INDEX IF NOT EXISTS projects_by_gitlab_id ON projects (gitlab_id);
CREATE TABLE IF NOT EXISTS members (
    slug TEXT NOT NULL, user TEXT NOT NULL, level INTEGER NOT NULL, PRIMARY KEY (slug, user)
);
CREATE INDEX IF NOT EXISTS members_by_user ON members (user);
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, kind TEXT NOT NULL, project TEXT NOT NULL,
    name TEXT NOT NULL, slug TEXT, description TEXT, keywords TEXT, creators TEXT, paths TEXT,
    created TEXT, modified TEXT, extra TEXT
);
CREATE INDEX IF NOT EXISTS docs_by_project ON docs (project);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    name, slug, description, keywords, creators, paths,
    tokenize = "unicode61 remove_diacritics 2", prefix = '2 3'
);
"""
# What one search reads for every match: a narrow copy of each document's filter, facet and
# sort keys (docs rows are wide: paths, descriptions), so 8,000 matches cost a few pages, not
# 8,000.
_HITS = """
CREATE TABLE IF NOT EXISTS hits (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, kind TEXT NOT NULL, visibility TEXT NOT NULL,
    namespace TEXT NOT NULL, project INTEGER NOT NULL, name TEXT NOT NULL, created TEXT, modified TEXT,
    creators TEXT NOT NULL
);
"""
_HITS_FROM_DOCS = """
INSERT INTO hits (rowid, id, kind, visibility, namespace, project, name, created, modified, creators)
SELECT d.rowid, d.id, d.kind, p.visibility, p.namespace, p.rowid, lower(d.name), d.created,
    d.modified, coalesce(d.creators, '')
FROM docs d JOIN projects p ON p.slug = d.project
"""
_VERSION = 3
"""2: the `hits` table; 3: its `creators` (the creator facet)."""
_SEP = SEP  # the hits' creators are the docs' as stored
# BM25 column weights: a name match counts most, a file path least.
_RANK = "bm25(docs_fts, 10.0, 6.0, 2.0, 4.0, 3.0, 1.0)"
_WORD = re.compile(r"\w+", re.UNICODE)


def match_expression(text: str) -> str:
    """An FTS5 query: every word, as a quoted prefix, must match.

    >>> match_expression('Zürich "rain"fall* OR x')
    '"Zürich"* AND "rain"* AND "fall"* AND "OR"* AND "x"*'
    """
    return " AND ".join(f'"{w}"*' for w in _WORD.findall(text))


class SqliteIndex:
    """`SearchIndex` in one SQLite file (WAL), shared by threads and processes."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        db = self._db()
        db.executescript(_SCHEMA)
        db.executescript(amendments.SCHEMA)
        if db.execute("PRAGMA user_version").fetchone()[0] < _VERSION:
            self._migrate(db)
        else:
            db.executescript(_HITS)

    def _migrate(self, db: sqlite3.Connection) -> None:
        """An index written before `hits` had every column: make it again from `docs`."""
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("PRAGMA user_version").fetchone()[0] < _VERSION:  # not another process
                db.execute("DROP TABLE IF EXISTS hits")
                db.execute(_HITS)
                db.execute(_HITS_FROM_DOCS)
                db.execute(f"PRAGMA user_version = {_VERSION}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            self._local.db = db
        return db

    def replace_project(self, entry: ProjectEntry, documents: list[Document]) -> None:
        self._local.__dict__.pop("readable", None)  # our own writes do not move data_version
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            self._insert(db, entry, documents)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _insert(self, db: sqlite3.Connection, entry: ProjectEntry, documents: list[Document]) -> None:
        """Replace the project's rows, within the caller's transaction."""
        self._delete(db, entry.slug)
        if amendments.is_buried(db, entry.gitlab_id):  # deleted through kg meanwhile
            return
        documents = amendments.apply_edits(documents, amendments.edits_of(db, entry.slug))
        namespace = entry.slug.rsplit("/", 1)[0] if "/" in entry.slug else ""
        db.execute(
            "INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?)",
            (entry.slug, entry.iri, entry.graph, entry.visibility, namespace, entry.gitlab_id),
        )
        db.executemany(
            "INSERT INTO members VALUES (?, ?, ?)",
            [(entry.slug, user, level) for user, level in entry.members.items()],
        )
        for doc in documents:
            cursor = db.execute(
                "INSERT INTO docs (id, kind, project, name, slug, description, keywords, creators,"
                " paths, created, modified, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    doc.id,
                    doc.kind,
                    entry.slug,
                    doc.name,
                    doc.slug,
                    doc.description,
                    _SEP.join(doc.keywords),
                    _SEP.join(doc.creators),
                    _SEP.join(doc.paths),
                    doc.created,
                    doc.modified,
                    json.dumps(doc.extra),
                ),
            )
            db.execute(
                "INSERT INTO docs_fts (rowid, name, slug, description, keywords, creators, paths)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    cursor.lastrowid,
                    doc.name,
                    doc.slug.replace("/", " ").replace("-", " "),
                    doc.description,
                    " ".join(doc.keywords),
                    " ".join(doc.creators),
                    " ".join(p.replace("/", " ").replace("_", " ") for p in doc.paths),
                ),
            )
        db.execute(_HITS_FROM_DOCS + " WHERE d.project = ?", (entry.slug,))

    def _delete(self, db: sqlite3.Connection, slug: str) -> None:
        db.execute("DELETE FROM hits WHERE rowid IN (SELECT rowid FROM docs WHERE project = ?)", (slug,))
        db.execute(
            "DELETE FROM docs_fts WHERE rowid IN (SELECT rowid FROM docs WHERE project = ?)",
            (slug,),
        )
        db.execute("DELETE FROM docs WHERE project = ?", (slug,))
        db.execute("DELETE FROM members WHERE slug = ?", (slug,))
        db.execute("DELETE FROM projects WHERE slug = ?", (slug,))

    def amend_project(self, slug: str, fields: dict[str, Any]) -> None:
        """Apply edits made in GitLab through kg (description, keywords, visibility) now, and
        keep description and keywords over later re-indexing."""
        self._local.__dict__.pop("readable", None)
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            amendments.save_edit(db, slug, fields)
            entry = self.project(slug)
            if entry is not None:  # re-indexed from its own rows, in this one transaction
                docs = [_document(r) for r in db.execute("SELECT * FROM docs WHERE project = ?", (slug,))]
                visibility = fields.get("visibility") or entry.visibility
                changed = ProjectEntry(
                    entry.slug, entry.iri, entry.graph, visibility, entry.members, entry.gitlab_id
                )
                self._insert(db, changed, docs)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def bury_project(self, slug: str, gitlab_id: int | None) -> None:
        """Take a project deleted through kg out of the index, for good."""
        self._local.__dict__.pop("readable", None)
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        self._delete(db, slug)
        amendments.bury(db, slug, gitlab_id)
        db.execute("COMMIT")

    def is_buried(self, gitlab_id: int) -> bool:
        return amendments.is_buried(self._db(), gitlab_id)

    def remove_project(self, slug: str) -> None:
        self._local.__dict__.pop("readable", None)
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        self._delete(db, slug)
        db.execute("COMMIT")

    def _entry(self, row: sqlite3.Row) -> ProjectEntry:
        return self._entries([row])[0]

    def _entries(self, rows: list[sqlite3.Row]) -> list[ProjectEntry]:
        # one members query for all the rows, not one per project: callers list thousands
        members: dict[str, dict[str, int]] = {r["slug"]: {} for r in rows}
        if len(rows) == 1:
            found = self._db().execute(
                "SELECT slug, user, level FROM members WHERE slug = ?", (rows[0]["slug"],)
            )
        else:
            found = self._db().execute("SELECT slug, user, level FROM members")
        for r in found:
            if r["slug"] in members:
                members[r["slug"]][r["user"]] = r["level"]
        return [
            ProjectEntry(
                row["slug"],
                row["iri"],
                row["graph"],
                row["visibility"],
                members[row["slug"]],
                row["gitlab_id"],
            )
            for row in rows
        ]

    def project(self, slug: str) -> ProjectEntry | None:
        row = self._db().execute("SELECT * FROM projects WHERE slug = ?", (slug,)).fetchone()
        return None if row is None else self._entry(row)

    def projects_of(self, gitlab_id: int) -> list[ProjectEntry]:
        rows = self._db().execute("SELECT * FROM projects WHERE gitlab_id = ?", (gitlab_id,)).fetchall()
        return self._entries(rows)

    def projects(self) -> list[ProjectEntry]:
        """Every indexed project."""
        return self._entries(self._db().execute("SELECT * FROM projects ORDER BY slug").fetchall())

    def readable_projects(self, access: Access) -> list[ProjectEntry] | None:
        # Asked on every request: remembered per connection until the index changes
        # (SQLite's data_version moves when any other connection commits).
        db = self._db()
        version = db.execute("PRAGMA data_version").fetchone()[0]
        cache: dict[str | None, tuple[int, list[ProjectEntry] | None]] = self._local.__dict__.setdefault(
            "readable", {}
        )
        cached = cache.get(access.user)
        if cached is not None and cached[0] == version and self._local.__dict__.get("version") == version:
            return cached[1]
        if self._local.__dict__.get("version") != version:
            cache.clear()
            self._local.version = version
        result = self._readable(db, access)
        cache[access.user] = (version, result)
        return result

    def _readable(self, db: sqlite3.Connection, access: Access) -> list[ProjectEntry] | None:
        hidden = db.execute(
            "SELECT count(*) FROM projects p WHERE NOT " + _readable_projects(access), {"user": access.user}
        ).fetchone()[0]
        if hidden == 0:
            return None
        rows = db.execute(
            "SELECT * FROM projects p WHERE " + _readable_projects(access), {"user": access.user}
        ).fetchall()
        return self._entries(rows)

    def documents(self, slug: str, kind: Kind) -> list[Document]:
        rows = self._db().execute(
            "SELECT * FROM docs WHERE project = ? AND kind = ? ORDER BY lower(name), id", (slug, kind)
        )
        return [_document(r) for r in rows]

    def find(self, kind: Kind, key: str) -> list[Document]:
        rows = self._db().execute(
            "SELECT * FROM docs WHERE kind = ? AND (id = ? OR json_extract(extra, '$.identifier') = ?"
            " OR json_extract(extra, '$.initial') = ? OR id LIKE ? ESCAPE '\\'"
            " OR EXISTS (SELECT 1 FROM json_each(extra, '$.versions') WHERE value = ?)) ORDER BY project",
            (
                kind,
                key,
                key,
                key,
                "%/" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"),
                key,
            ),
        )
        return [_document(r) for r in rows]

    def member_projects(self, user: str) -> list[ProjectEntry]:
        rows = (
            self._db()
            .execute(
                "SELECT p.* FROM projects p JOIN members m ON m.slug = p.slug WHERE m.user = ?"
                " ORDER BY p.slug",
                (user,),
            )
            .fetchall()
        )
        return self._entries(rows)

    def search(self, query: SearchQuery, access: Access) -> SearchResult:
        # One pass over the matches (the FTS query, narrow rows, filters that are not
        # facets), then deduplication (people appear once per project), facets, sorting and
        # paging in Python: three SQL passes over 8,000 matches cost three times this one.
        db = self._db()
        params: dict[str, Any] = {"user": access.user}
        # members through the hits' project rowid: one index lookup, not a join per hit
        member = (
            "h.project IN (SELECT p.rowid FROM projects p"
            " JOIN members m ON m.slug = p.slug WHERE m.user = :user)"
        )
        where = [sql_may_read(access, "h.visibility", member)]
        source = "hits h"
        score = "0.0"
        match = match_expression(query.text)
        if match:
            source = "docs_fts f JOIN hits h ON h.rowid = f.rowid"
            where.append("docs_fts MATCH :match")
            params["match"] = match
            score = f"-{_RANK}"
        if query.roles:
            roles = " OR ".join(f"({sql_role(r, 'm.level')})" for r in query.roles)
            where.append(
                "h.project IN (SELECT p.rowid FROM projects p JOIN members m ON m.slug = p.slug"
                f" WHERE m.user = :user AND ({roles}))"
            )
        if query.since or query.until:  # an undated item is in no date range
            where.append("coalesce(h.created, '') != ''")
        if query.since:
            where.append("substr(h.created, 1, 10) >= :since")
            params["since"] = query.since
        if query.until:
            where.append("substr(h.created, 1, 10) <= :until")
            params["until"] = query.until
        by_score = query.sort == [("matchingScore", "desc")]
        db.execute("BEGIN")  # one snapshot: the page's rows still exist when they are read
        try:
            rows = db.execute(
                f"SELECT h.rowid, h.id, h.kind, h.visibility, h.namespace, h.creators, {score}"
                + (" AS score" if by_score else ", h.name, h.created, h.modified")
                + f" FROM {source} WHERE {' AND '.join(where)}"
                + (" ORDER BY score DESC, h.id" if by_score else ""),
                params,
            ).fetchall()
            start = (query.page - 1) * query.per_page
            if by_score:  # the default: sorted by SQLite, paged without sorting in Python
                total, shown = ranked_page(rows, query, start, query.per_page)
            else:
                kept = results(rows, query)
                total, shown = len(kept), page(kept, query.sort, start, query.per_page)
            marks = ", ".join("?" * len(shown))
            found = {
                r["rowid"]: r
                for r in db.execute(
                    f"SELECT d.rowid AS rowid, d.*, p.visibility AS visibility FROM docs d"
                    f" JOIN projects p ON p.slug = d.project WHERE d.rowid IN ({marks})",
                    [r[ROWID] for r in shown],
                )
            }
        finally:
            db.execute("COMMIT")
        return SearchResult(
            [_document(found[r[ROWID]]) for r in shown],
            total,
            facets(rows, query),
            {r[ID]: found[r[ROWID]]["visibility"] for r in shown},
            {r[ID]: float(r[SCORE]) for r in shown},
        )

    def maintain(self) -> int:
        db = self._db()
        # FTS5 appends a segment per write; `optimize` merges them into one b-tree
        db.execute("INSERT INTO docs_fts(docs_fts) VALUES ('optimize')")
        db.execute("PRAGMA optimize")
        # each row of the `_idx` table starts one segment's b-tree leaf run
        return int(db.execute("SELECT count(DISTINCT segid) FROM docs_fts_idx").fetchone()[0])

    def probe(self) -> None:
        try:
            self._db().execute("SELECT count(*) FROM projects").fetchone()
        except sqlite3.Error as exc:
            raise Unavailable(f"the search index cannot be read ({exc})") from None

    def close(self) -> None:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def _readable_projects(access: Access) -> str:
    """`kg.access.may_read` over the `projects` table (alias `p`)."""
    member = "EXISTS (SELECT 1 FROM members m WHERE m.slug = p.slug AND m.user = :user)"
    return sql_may_read(access, "p.visibility", member)


def _document(row: sqlite3.Row) -> Document:
    def split(value: str | None) -> list[str]:
        return [v for v in (value or "").split(_SEP) if v]

    return Document(
        id=row["id"],
        kind=row["kind"],
        project=row["project"],
        name=row["name"],
        slug=row["slug"] or "",
        description=row["description"] or "",
        keywords=split(row["keywords"]),
        creators=split(row["creators"]),
        paths=split(row["paths"]),
        created=row["created"] or "",
        modified=row["modified"] or "",
        extra=json.loads(row["extra"] or "{}"),
    )
