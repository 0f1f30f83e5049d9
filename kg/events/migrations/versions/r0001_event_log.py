"""The event log's tables: events, one coalesced job per project, probes, live workers.

Revision ID: r0001
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "r0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Delivery keys are unique per project: one project's key can never swallow another's event.
    op.execute(
        """
        CREATE TABLE events (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            delivery_key TEXT NOT NULL,
            project_id BIGINT NOT NULL,
            kind TEXT NOT NULL,
            ref TEXT NOT NULL,
            commit_sha TEXT,
            received_at DOUBLE PRECISION NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            request_id TEXT NOT NULL DEFAULT '',
            UNIQUE (project_id, delivery_key)
        )
        """
    )
    op.execute("CREATE INDEX events_by_project ON events (project_id, state, id)")
    op.execute(
        """
        CREATE TABLE projects (
            project_id BIGINT PRIMARY KEY,
            path TEXT NOT NULL,
            clone_url TEXT NOT NULL,
            default_branch TEXT NOT NULL,
            visibility TEXT NOT NULL,
            target_commit TEXT,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            available_at DOUBLE PRECISION NOT NULL,
            lease_owner TEXT,
            lease_until DOUBLE PRECISION,
            last_event_id BIGINT NOT NULL,
            claimed_event_id BIGINT,
            claimed_at DOUBLE PRECISION,
            last_seconds DOUBLE PRECISION,
            ingested_commit TEXT,
            message TEXT NOT NULL DEFAULT '',
            warnings TEXT NOT NULL DEFAULT '[]',
            updated_at DOUBLE PRECISION NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX projects_due ON projects (state, available_at)")
    op.execute("CREATE TABLE probes (id INTEGER PRIMARY KEY, at DOUBLE PRECISION NOT NULL)")
    op.execute("CREATE TABLE workers (name TEXT PRIMARY KEY, seen_at DOUBLE PRECISION NOT NULL)")


def downgrade() -> None:
    for table in ("workers", "probes", "projects", "events"):
        op.execute(f"DROP TABLE {table}")
