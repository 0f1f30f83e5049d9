"""The baseline for bench/webhooks.py: a bare FastAPI endpoint storing one row in SQLite.

Same durability as kg's event log (WAL, synchronous=FULL), nothing else.
"""

from __future__ import annotations

import os
import sqlite3
import threading

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

DB = os.environ["BASELINE_DB"]
app = FastAPI()
_local = threading.local()


def _db() -> sqlite3.Connection:
    db = getattr(_local, "db", None)
    if db is None:
        db = sqlite3.connect(DB, isolation_level=None, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE IF NOT EXISTS events (key TEXT PRIMARY KEY, body BLOB)")
        _local.db = db
    return db


def _insert(key: str, body: bytes) -> None:
    _db().execute("INSERT OR IGNORE INTO events VALUES (?, ?)", (key, body))


@app.post("/webhooks/events")
async def receive(request: Request) -> JSONResponse:
    body = await request.body()
    await run_in_threadpool(_insert, request.headers.get("idempotency-key", ""), body)
    return JSONResponse({"status": "accepted"}, status_code=202)
