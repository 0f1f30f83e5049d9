"""Renku 0.x datasets as kg reads every dataset: version chains to the datasets themselves,
the initial version's identifier, and only real files as parts.

Renku 0.x keeps each dataset in `.renku/datasets/<uuid>/metadata.yml`, where the folder's
uuid is the identifier of the dataset's first version (`dataset edit` writes a new version
into the same folder). Its `prov:wasDerivedFrom` and `schema:sameAs` point at `schema:URL`
nodes whose `schema:url` is the dataset meant; the direct link is added beside them.
"""

from __future__ import annotations

import re

import pyoxigraph as ox

from kg.vocab import PROV, RDF_TYPE, SCHEMA

RENKU = "https://swissdatasciencecenter.github.io/renku-ontology#"
_FOLDER = re.compile(r"^\.renku/datasets/([^/]+)/metadata\.yml$")
_LINKS = (PROV + "wasDerivedFrom", SCHEMA + "sameAs")


def dataset_folder(path: str) -> str | None:
    """The folder id of a Renku 0.x dataset metadata file, else None."""
    match = _FOLDER.match(path)
    return match.group(1) if match else None


def dataset_terms(triples: list[ox.Triple], folder: str) -> tuple[list[ox.Triple], list[ox.Triple]]:
    """(triples without the parts and locations in renku's own metadata folder, the triples
    to add). A dataset's `prov:atLocation` is where its files are, as for DVC artifacts and
    RO-Crates; renku 0.x wrote its metadata folder there."""
    datasets = {
        t.subject
        for t in triples
        if t.predicate.value == RDF_TYPE and t.object == ox.NamedNode(SCHEMA + "Dataset")
    }
    urls = {
        t.subject: t.object
        for t in triples
        if t.predicate.value == SCHEMA + "url" and isinstance(t.object, ox.NamedNode)
    }
    inside_renku = {
        t.subject
        for t in triples
        if t.predicate.value == PROV + "atLocation"
        and isinstance(t.object, ox.Literal)
        and t.object.value.startswith(".renku/")
    }

    def renku_own(t: ox.Triple) -> bool:
        """A part of the dataset, or its own location, in renku's metadata folder."""
        if t.subject not in datasets:
            return False
        if t.predicate.value == SCHEMA + "hasPart":
            return t.object in inside_renku
        return t.predicate.value == PROV + "atLocation" and t.subject in inside_renku

    kept = [t for t in triples if not renku_own(t)]
    extra = []
    for t in triples:
        if t.subject in datasets and t.predicate.value in _LINKS and t.object in urls:
            target = urls[t.object]  # type: ignore[index]
            if target != t.subject:
                extra.append(ox.Triple(t.subject, t.predicate, target))
    named = {t.subject for t in triples if t.predicate.value == RENKU + "originalIdentifier"}
    for dataset in sorted(datasets - named, key=str):
        extra.append(ox.Triple(dataset, ox.NamedNode(RENKU + "originalIdentifier"), ox.Literal(folder)))
    return kept, extra
