"""The PostgreSQL fixture itself: a real server, password authentication, restartable."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest


def test_a_fresh_database_accepts_writes_and_survives_a_restart(postgres_server: Any) -> None:
    url = postgres_server.url(postgres_server.create_database())
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("CREATE TABLE t (x int)")
        db.execute("INSERT INTO t VALUES (42)")
    postgres_server.stop("immediate")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
    postgres_server.start()
    with psycopg.connect(url) as db:
        assert db.execute("SELECT x FROM t").fetchall() == [(42,)]


def test_a_wrong_password_is_refused(postgres_server: Any) -> None:
    url = postgres_server.url("postgres").replace(postgres_server.password, "wrong")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(url, connect_timeout=2)
