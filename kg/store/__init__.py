"""The triple store: one named graph per project, and a small graph describing each project.

Writers go through `Store` (`kg.store.base`), readers through `Reader` (`kg.store.reading`).
Each implementation is one module offering `open_store(settings, read_only)` and
`open_reader(settings, serving)`, listed in `BACKENDS` by the scheme of `KG_STORE_URL`.
"""

from __future__ import annotations

import importlib
from typing import Protocol, cast

from kg.config import Settings
from kg.store.base import ProjectRecord, Store
from kg.store.reading import Reader

__all__ = ["BACKENDS", "ProjectRecord", "Reader", "Store", "open_reader", "open_store"]


class Backend(Protocol):
    """What a store implementation's module offers."""

    def open_store(self, settings: Settings, read_only: bool) -> Store: ...

    def open_reader(self, settings: Settings, serving: bool) -> Reader: ...


BACKENDS: dict[str, str] = {
    "oxigraph": "kg.store.oxigraph",
    "http": "kg.store.sparql11",
    "https": "kg.store.sparql11",
}
"""Every store kg offers: the module implementing it, by the scheme of `KG_STORE_URL`."""


def backend(settings: Settings) -> Backend:
    """The implementation `KG_STORE_URL` names (default: the embedded store in the data dir)."""
    scheme = settings.store_url.split(":", 1)[0] if settings.store_url else "oxigraph"
    return cast(Backend, importlib.import_module(BACKENDS[scheme]))


def open_store(settings: Settings, *, read_only: bool = False) -> Store:
    """The store's writer (`read_only`: for tools that only look)."""
    return backend(settings).open_store(settings, read_only)


def open_reader(settings: Settings, *, serving: bool = False) -> Reader:
    """The store's reader; `serving` for `kg serve` (reads may run elsewhere, to be killed)."""
    return backend(settings).open_reader(settings, serving)
