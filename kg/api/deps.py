"""Dependencies the routes take. Async, so FastAPI does not run them in its threadpool."""

from __future__ import annotations

from fastapi import Request

from kg.config import Settings
from kg.events import EventLog
from kg.sparql.pool import QueryPool


async def settings(request: Request) -> Settings:
    """The app's settings."""
    value: Settings = request.app.state.settings
    return value


async def event_log(request: Request) -> EventLog:
    """The app's event log."""
    value: EventLog = request.app.state.events
    return value


async def query_pool(request: Request) -> QueryPool:
    """The app's query processes."""
    value: QueryPool = request.app.state.queries
    return value
