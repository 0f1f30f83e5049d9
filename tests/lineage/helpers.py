"""Asking a store's reader for lineage, as the API and the CLI do."""

from __future__ import annotations

import json
from typing import Any

from kg.store.reading import LineageRequest, Reader


def walk(reader: Reader, slug: str, path: str, direction: str = "both", depth: int | None = None) -> Any:
    """The lineage document `reader` answers for a file."""
    return json.loads(reader.lineage(LineageRequest(slug, path, direction, depth)).body)
