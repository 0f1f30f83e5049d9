"""Named SPARQL queries from `queries/`: one file each, loaded by name.

Reads (`.rq`) take values as pyoxigraph `substitutions`. Updates (`.ru`) take values through
`render`, which only accepts terms and blocks written by `kg.rdf` (already escaped), never
raw strings from a caller.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# kg/resources/queries is a symlink to the top-level queries/ in a checkout, a copy in a wheel
QUERIES_DIR = Path(__file__).resolve().parent / "resources" / "queries"
_PLACEHOLDER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Rendered:
    """A term or a block of N-Triples produced by `kg.rdf`; the only thing `render` takes."""

    text: str


@cache
def load(name: str) -> str:
    """The text of `queries/<name>` (with its extension)."""
    path = QUERIES_DIR / name
    if path.parent != QUERIES_DIR or not path.is_file():
        raise KeyError(f"no such query: {name}")
    return path.read_text(encoding="utf-8")


@cache
def load_variant(server: str, name: str) -> str:
    """The text of `queries/<server>/<name>` where a server needs its own variant of a query
    (one that mis-evaluates or lacks what the standard text uses), else `queries/<name>`."""
    path = QUERIES_DIR / server / name
    if server.isidentifier() and path.parent.parent == QUERIES_DIR and path.is_file():
        return path.read_text(encoding="utf-8")
    return load(name)


def render(name: str, values: Mapping[str, Rendered]) -> str:
    """Fill the `$name` placeholders of an update with already-escaped terms or blocks."""
    text = load(name)
    missing = set(_PLACEHOLDER.findall(text)) - set(values)
    if missing:
        raise KeyError(f"{name}: no value for {sorted(missing)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)].text, text)


def names() -> list[str]:
    """Every query and update shipped in `queries/`."""
    return sorted(p.name for p in QUERIES_DIR.iterdir() if p.suffix in (".rq", ".ru"))
