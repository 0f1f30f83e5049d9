"""The vocabulary in ontology/: served as Turtle, JSON-LD or a readable HTML page."""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path

import pyoxigraph as ox

# kg/resources/ontology is a symlink to the top-level ontology/ in a checkout, a copy in a wheel
ONTOLOGY_DIR = Path(__file__).resolve().parent / "resources" / "ontology"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_OWL = "http://www.w3.org/2002/07/owl#"


@cache
def turtle() -> bytes:
    """ontology/kg.ttl as it is written."""
    return (ONTOLOGY_DIR / "kg.ttl").read_bytes()


@cache
def jsonld() -> bytes:
    """The ontology as JSON-LD."""
    data = ox.serialize(ox.parse(turtle(), ox.RdfFormat.TURTLE), format=ox.RdfFormat.JSON_LD)
    assert data is not None  # no output file given: the bytes are returned
    return data


@cache
def shapes() -> bytes:
    """ontology/shapes.ttl."""
    return (ONTOLOGY_DIR / "shapes.ttl").read_bytes()


@cache
def context() -> bytes:
    """ontology/context.jsonld."""
    return (ONTOLOGY_DIR / "context.jsonld").read_bytes()


@cache
def page() -> str:
    """A plain HTML page listing the classes and properties with their labels and comments."""
    triples = list(ox.parse(turtle(), ox.RdfFormat.TURTLE))
    about: dict[str, dict[str, list[str]]] = {}
    for t in triples:
        about.setdefault(t.subject.value, {}).setdefault(t.predicate.value, []).append(t.object.value)
    sections = {
        "Classes": _OWL + "Class",
        "Object properties": _OWL + "ObjectProperty",
        "Data properties": _OWL + "DatatypeProperty",
    }
    body = [
        "<h1>kg ontology</h1>",
        "<p>Formats: <a href='/ontology?format=ttl'>Turtle</a>, "
        "<a href='/ontology?format=jsonld'>JSON-LD</a>, "
        "<a href='/ontology/shapes'>SHACL shapes</a>, "
        "<a href='/ontology/context.jsonld'>JSON-LD context</a>.</p>",
    ]
    for title, kind in sections.items():
        body.append(f"<h2>{title}</h2><dl>")
        for term in sorted(s for s, p in about.items() if kind in p.get(_RDF_TYPE, [])):
            props = about[term]
            label = html.escape(", ".join(props.get(_RDFS + "label", [])))
            comment = html.escape(" ".join(props.get(_RDFS + "comment", [])))
            name = html.escape(term.rsplit("#", 1)[-1])
            body.append(f"<dt id='{name}'><code>kg:{name}</code> — {label}</dt><dd>{comment}</dd>")
        body.append("</dl>")
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>kg ontology</title></head><body>"
        + "".join(body)
        + "</body></html>"
    )


_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
