"""What the receiver's routes take: the settings and the event log, from the app's state.

Both `webhooks.app` (the `kg webhooks` role) and the all-in-one `kg serve` app put them
there under these names, so the receiver runs unchanged in either.
"""

from __future__ import annotations

from fastapi import Request

from kg.config import Settings
from kg.events import EventLog


async def settings(request: Request) -> Settings:
    """The app's settings."""
    value: Settings = request.app.state.settings
    return value


async def event_log(request: Request) -> EventLog:
    """The app's event log."""
    value: EventLog = request.app.state.events
    return value
