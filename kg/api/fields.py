"""Response fields as renku-graph sends them."""

from __future__ import annotations

from typing import Any


def present(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields that have a value: renku-graph omits what is unknown, never sends null or ''."""
    return {k: v for k, v in fields.items() if v is not None and v != ""}
