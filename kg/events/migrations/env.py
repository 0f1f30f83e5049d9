"""Alembic's entry point for the PostgreSQL event log's schema (see kg/events/pgschema.py,
which hands over an open connection; there is no alembic.ini)."""

from __future__ import annotations

from alembic import context
from alembic.config import Config

_config: Config | None
try:
    _config = context.config
except NameError:  # imported by something other than alembic (pytest's doctest collection)
    _config = None

if _config is not None:
    context.configure(
        connection=_config.attributes["connection"],
        version_table="kg_event_log_version",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()
