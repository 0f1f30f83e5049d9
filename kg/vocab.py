"""Namespaces kg writes: PROV-O and schema.org at the core, a small kg namespace for the rest."""

from __future__ import annotations

PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "http://schema.org/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
KG = "https://w3id.org/kg/ontology#"

RDF_TYPE = RDF + "type"

PREFIXES: dict[str, str] = {
    "prov": PROV,
    "schema": SCHEMA,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "kg": KG,
}
