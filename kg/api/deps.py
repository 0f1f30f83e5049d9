"""Dependencies the routes take, as `Annotated` aliases' providers."""

from __future__ import annotations

from fastapi import Request

from kg.config import Settings
from kg.events import EventLog
from kg.sparql.pool import QueryPool


def settings(request: Request) -> Settings:
    """The app's settings."""
    value: Settings = request.app.state.settings
    return value


def event_log(request: Request) -> EventLog:
    """The app's event log."""
    value: EventLog = request.app.state.events
    return value


def query_pool(request: Request) -> QueryPool:
    """The app's query processes."""
    value: QueryPool = request.app.state.queries
    return value
