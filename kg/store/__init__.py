"""The triple store: one named graph per project, and a small graph describing each project."""

from __future__ import annotations

from kg.config import Settings
from kg.iri import Minter
from kg.store.base import ProjectRecord, Store

__all__ = ["ProjectRecord", "Store", "open_store"]


def open_store(settings: Settings, *, read_only: bool = False) -> Store:
    """The store `KG_STORE_URL` names (today: the embedded on-disk Oxigraph store)."""
    from kg.store.oxigraph import OxigraphStore

    return OxigraphStore(settings.store_path, Minter(settings.base_iri), read_only=read_only)
