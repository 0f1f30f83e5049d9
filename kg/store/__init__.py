"""The triple store: one named graph per project, and a small graph describing each project."""

from __future__ import annotations

from collections.abc import Callable

from kg.config import Settings
from kg.iri import Minter
from kg.store.base import ProjectRecord, Store

__all__ = ["BACKENDS", "ProjectRecord", "Store", "open_store"]


def _oxigraph(settings: Settings, read_only: bool) -> Store:
    from kg.store.oxigraph import OxigraphStore

    return OxigraphStore(settings.store_path, Minter(settings.base_iri), read_only=read_only)


BACKENDS: dict[str, Callable[[Settings, bool], Store]] = {"oxigraph": _oxigraph}
"""Every store kg offers, by the scheme of `KG_STORE_URL`."""


def open_store(settings: Settings, *, read_only: bool = False) -> Store:
    """The store `KG_STORE_URL` names (default: the embedded Oxigraph store in the data dir)."""
    scheme = settings.store_url.split(":", 1)[0] if settings.store_url else "oxigraph"
    return BACKENDS[scheme](settings, read_only)
