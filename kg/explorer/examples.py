"""kg's named queries (queries/*.rq) as SPARQL examples: the first comment lines are the title
and description; parameters the API binds are left unbound, so each runs as it is."""

from __future__ import annotations

from functools import cache
from typing import Any

from kg import queries


@cache
def example_queries() -> list[dict[str, Any]]:
    """Every SELECT/CONSTRUCT/ASK query kg ships (not updates), with its leading comment."""
    found = []
    for name in queries.names():
        if not name.endswith(".rq") or "/" in name:
            continue
        text = queries.load(name)
        comment = []
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            comment.append(line.lstrip("# ").rstrip())
        found.append({"name": name.removesuffix(".rq"), "description": " ".join(comment), "query": text})
    return found
