"""The embedded store, opened read-write on a test's data dir."""

from __future__ import annotations

import pytest

from kg.config import Settings
from kg.store import open_store
from kg.store.oxigraph import OxigraphStore


@pytest.fixture
def store(settings: Settings) -> OxigraphStore:
    s = open_store(settings)
    assert isinstance(s, OxigraphStore)
    return s
