"""Structured logs: one JSON object per line (or plain text for a console), each carrying
the id of the request (or of the request that queued the job) it was written for."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str] = ContextVar("kg_request_id", default="")
"""The id of the request being served, or of the request whose push the running job ingests.
Set by `kg.api.requestid.RequestIds` and by the worker; "" outside of either."""

_STANDARD = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (a `request_id` given in `extra=` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            current = request_id.get()
            if current:
                record.request_id = current
        return True


class JsonFormatter(logging.Formatter):
    """Formats a record and its `extra=` fields as a JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Route kg's logs (and uvicorn's) to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # apscheduler logs every run of every job at INFO; httpx every request with its URL,
    # which carries a caller's whole query when kg talks to a SPARQL server.
    for chatty in ("apscheduler", "httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))


def announce(message: str, **fields: object) -> None:
    """Tell the operator something at start-up, in the logs' format (a JSON line in JSON mode,
    where a plain line would break a log shipper's parsing)."""
    logging.getLogger("kg").info(message, extra=fields)
