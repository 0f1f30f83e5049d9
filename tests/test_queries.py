"""Every query shipped in queries/ parses."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg import queries
from kg.queries import Rendered


@pytest.mark.parametrize("name", queries.names())
def test_query_parses(name: str) -> None:
    text = queries.load(name)
    store = ox.Store()
    if name.endswith(".rq"):
        store.query(text)
    else:
        placeholders = {p: Rendered("<urn:x>") for p in queries._PLACEHOLDER.findall(text)}
        if "record" in placeholders:
            placeholders["record"] = Rendered('<urn:x> <urn:p> "o" .')
        store.update(queries.render(name, placeholders))


def test_render_refuses_missing_values() -> None:
    with pytest.raises(KeyError, match="no value"):
        queries.render("publish_project.ru", {})


def test_unknown_query() -> None:
    with pytest.raises(KeyError):
        queries.load("../pyproject.toml")
