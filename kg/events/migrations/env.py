"""Alembic's entry point for the PostgreSQL event log's schema (see kg/events/pgschema.py,
which hands over an open connection; there is no alembic.ini)."""

from __future__ import annotations

from alembic import context
from alembic.config import Config

# Alembic sets `context.config` while it runs this file; anything else importing it (pytest's
# doctest collection) finds none, and nothing runs.
_config: Config | None = getattr(context, "config", None)

if _config is not None:
    context.configure(
        connection=_config.attributes["connection"],
        version_table="kg_event_log_version",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()
