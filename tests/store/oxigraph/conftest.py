"""A store with two small projects, published the way the pipeline publishes."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.config import Settings
from kg.iri import Minter
from kg.store import ProjectRecord, open_store

EX = "https://kg.test/"


def _publish(settings: Settings, tmp: Path) -> dict[str, str]:
    store = open_store(settings)
    minter = Minter(settings.base_iri)
    graphs = {}
    for slug, label in (("g/alpha", "Alpha"), ("g/beta", "Beta")):
        data = tmp / f"{label}.nt"
        data.write_text(
            f'<{EX}{label}> <http://www.w3.org/2000/01/rdf-schema#label> "{label}" .\n'
            f'<{EX}{label}> <{EX}n> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
        )
        record = ProjectRecord(iri=minter.project(slug), slug=slug, name=label)
        graphs[label] = store.replace_project_graph(record, data).graph or ""
    store.close()
    return graphs


@pytest.fixture
def published(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """Publish projects Alpha and Beta; returns their graph IRIs by label."""
    return _publish(settings, tmp_path)
