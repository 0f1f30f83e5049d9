"""Changes made to projects through kg's API, kept beside the index so a re-index keeps them.

An edit (description, keywords) made in GitLab through `PATCH /knowledge-graph/projects/...`
wins over what the repository says, as in renku-graph, where the edit is the newest word.
A project deleted through kg is buried: its GitLab id never comes back into the index (GitLab
does not reuse ids), even if a job that was already running publishes it once more.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from kg.search.base import Document

SCHEMA = """
CREATE TABLE IF NOT EXISTS edits (slug TEXT PRIMARY KEY, fields TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS buried (gitlab_id INTEGER PRIMARY KEY);
"""
EDITABLE = ("description", "keywords")


def save_edit(db: sqlite3.Connection, slug: str, fields: dict[str, object]) -> None:
    """Remember edited fields of a project (merged with earlier edits)."""
    row = db.execute("SELECT fields FROM edits WHERE slug = ?", (slug,)).fetchone()
    merged = {**(json.loads(row[0]) if row else {}), **{k: v for k, v in fields.items() if k in EDITABLE}}
    db.execute(
        "INSERT INTO edits VALUES (?, ?) ON CONFLICT (slug) DO UPDATE SET fields = excluded.fields",
        (slug, json.dumps(merged)),
    )


def edits_of(db: sqlite3.Connection, slug: str) -> dict[str, object]:
    """The edited fields of a project ({} when none)."""
    row = db.execute("SELECT fields FROM edits WHERE slug = ?", (slug,)).fetchone()
    found: dict[str, object] = json.loads(row[0]) if row else {}
    return found


def bury(db: sqlite3.Connection, slug: str, gitlab_id: int | None) -> None:
    """Remember that a project was deleted; its edits go."""
    if gitlab_id is not None:
        db.execute("INSERT OR IGNORE INTO buried VALUES (?)", (gitlab_id,))
    db.execute("DELETE FROM edits WHERE slug = ?", (slug,))


def is_buried(db: sqlite3.Connection, gitlab_id: int | None) -> bool:
    """Whether the GitLab project was deleted through kg."""
    if gitlab_id is None:
        return False
    return db.execute("SELECT 1 FROM buried WHERE gitlab_id = ?", (gitlab_id,)).fetchone() is not None


def apply_edits(documents: list[Document], edits: dict[str, Any]) -> list[Document]:
    """The documents with the project's own one edited."""
    if not edits:
        return documents
    changed = []
    for doc in documents:
        if doc.kind == "project":
            if isinstance(edits.get("description"), str):
                doc.description = edits["description"]
            if isinstance(edits.get("keywords"), list):
                doc.keywords = [str(k) for k in edits["keywords"]]
        changed.append(doc)
    return changed
