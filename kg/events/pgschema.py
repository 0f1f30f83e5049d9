"""The PostgreSQL event log's schema, brought up to date with alembic when a log opens.

Every process opens the log at start-up, and a fleet starts many at once: an advisory lock
lets one migrate while the others wait, then find nothing left to do.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from kg.errors import Unavailable
from kg.events.pgconnect import CONNECT_SECONDS, libpq_url, masked, scrubbed

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK = 0x6B67_6576  # "kgev": the advisory lock key of event log migrations
_LOCK_SECONDS = 120


def migrate(url: str) -> None:
    """Create the event log's tables, or upgrade them, in the database `url` names."""
    engine_url = libpq_url(url).replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(engine_url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_SECONDS})
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.connect() as conn:
            conn.execute(text(f"SET lock_timeout = '{_LOCK_SECONDS}s'"))
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK})
            conn.commit()
            try:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
                conn.commit()
            finally:
                conn.rollback()  # after a failed step the unlock must not run in its transaction
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK})
                conn.commit()
    except SQLAlchemyError as exc:
        reason = scrubbed(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0], url)
        raise Unavailable(f"the event log at {masked(libpq_url(url))} cannot be set up ({reason})") from None
    finally:
        engine.dispose()
