"""The embedded store: pyoxigraph on disk in kg's data dir (`KG_STORE_URL` unset or `oxigraph://`).

One process writes (`OxigraphStore`); readers open read-only checkpoints (`Snapshot`), in
killable query processes when serving (`QueryPool`).
"""

from __future__ import annotations

from kg.config import Settings
from kg.iri import Minter
from kg.store.base import Store
from kg.store.oxigraph.pool import QueryPool
from kg.store.oxigraph.records import open_oxigraph, select, stored_records
from kg.store.oxigraph.snapshot import Snapshot
from kg.store.oxigraph.store import BULK_CHUNK_BYTES, OxigraphStore
from kg.store.reading import Reader

__all__ = [
    "BULK_CHUNK_BYTES",
    "OxigraphStore",
    "QueryPool",
    "Snapshot",
    "open_oxigraph",
    "open_reader",
    "open_store",
    "select",
    "stored_records",
]


def open_store(settings: Settings, read_only: bool) -> Store:
    """The writer (read-only: over the newest checkpoint, for tools that only look)."""
    return OxigraphStore(settings.store_path, Minter(settings.base_iri), read_only=read_only)


def open_reader(settings: Settings, serving: bool) -> Reader:
    """Query processes when `serving` (a query may need killing), else this process."""
    if not serving:
        return Snapshot(settings.store_path, Minter(settings.base_iri), settings.sparql_max_result_bytes)
    return QueryPool(
        settings.store_path,
        settings.base_iri,
        size=settings.sparql_workers,
        timeout=settings.sparql_timeout_seconds,
        max_bytes=settings.sparql_max_result_bytes,
        memory_bytes=settings.sparql_max_memory_mb << 20,
        scratch=settings.data_dir / "tmp",
    )
