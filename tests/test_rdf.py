"""Hand-written N-Triples must parse back to exactly what went in, whatever the text."""

from __future__ import annotations

import pyoxigraph as ox
from hypothesis import given
from hypothesis import strategies as st

from kg.rdf import iri, literal, path_segment, triple


@given(st.text())
def test_any_text_round_trips_as_a_literal(text: str) -> None:
    line = triple(iri("https://kg.test/s"), iri("https://kg.test/p"), literal(text))
    (parsed,) = ox.parse(line.encode("utf-8", "surrogatepass"), ox.RdfFormat.N_TRIPLES)
    expected = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates are replaced
    assert parsed.object.value == expected


@given(st.text(min_size=1))
def test_any_path_makes_a_valid_iri(path: str) -> None:
    line = triple(iri("https://kg.test/f/" + path_segment(path)), iri("https://kg.test/p"), literal("x"))
    (parsed,) = ox.parse(line.encode(), ox.RdfFormat.N_TRIPLES)
    assert parsed.subject.value.startswith("https://kg.test/f/")
