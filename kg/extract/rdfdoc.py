"""Ingesting RDF documents found in a repository (Renku 0.x metadata, PROV files, CWLProv).

The document is parsed, its blank nodes are canonicalized (RDFC-1.0) and turned into IRIs
named after the graph's own content, so the same graph (in any serialization, committed
again, or ingested again) always gives the same triples. Foreign IRIs are rebased by the
caller's function. Qualified PROV usages and generations get their unqualified shortcuts
(`prov:used`, `prov:wasGeneratedBy`), which lineage follows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pyoxigraph as ox

from kg import queries
from kg.vocab import KG, PROV, RDF_TYPE

Rebase = Callable[[str], str]


def parse(data: bytes, fmt: ox.RdfFormat, base: str) -> ox.Dataset:
    """Parse a document into a dataset (raises SyntaxError on bad input)."""
    dataset = ox.Dataset()
    for quad in ox.parse(data, fmt, base_iri=base):
        dataset.add(ox.Quad(quad.subject, quad.predicate, quad.object))
    return dataset


def normalize(dataset: ox.Dataset, genid_base: str, rebase: Rebase) -> list[ox.Triple]:
    """Triples with blank nodes made IRIs and foreign IRIs rebased, plus PROV shortcuts."""
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    content = "".join(sorted(str(q) + "\n" for q in dataset)).encode()
    genid = f"{genid_base}/{hashlib.sha1(content).hexdigest()[:16]}/"

    def term(t: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> ox.NamedNode | ox.Literal:
        if isinstance(t, ox.BlankNode):
            return ox.NamedNode(genid + t.value)
        if isinstance(t, ox.NamedNode):
            return ox.NamedNode(rebase(t.value))
        if isinstance(t, ox.Literal):
            return t
        raise ValueError("RDF-star triples are not supported")

    store = ox.Store()
    store.extend(ox.Quad(term(q.subject), term(q.predicate), term(q.object)) for q in dataset)  # type: ignore[arg-type]
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in store]
    shortcuts = store.query(queries.load("prov_shortcuts.rq"))
    assert isinstance(shortcuts, ox.QueryTriples)
    return triples + list(shortcuts)


def ntriples(triples: list[ox.Triple]) -> list[str]:
    """N-Triples lines (pyoxigraph escapes terms)."""
    return [f"{t.subject} {t.predicate} {t.object} .\n" for t in triples]


_NAMES = (
    "http://schema.org/name",
    "http://xmlns.com/foaf/0.1/name",
    "http://www.w3.org/2000/01/rdf-schema#label",
    PROV + "label",
)


def _tail(iri: str) -> str:
    return iri.rsplit("#", 1)[-1] if "#" in iri else iri.rstrip("/").rsplit("/", 1)[-1]


def names(triples: list[ox.Triple]) -> list[ox.Triple]:
    """A name for people and plans that have none of their own (foaf:name, a label, the IRI)."""
    labels: dict[ox.NamedNode | ox.BlankNode | ox.Triple, str] = {}
    typed: dict[ox.NamedNode | ox.BlankNode | ox.Triple, set[str]] = {}
    for t in triples:
        if t.predicate.value in _NAMES and isinstance(t.object, ox.Literal):
            labels.setdefault(t.subject, t.object.value)
        if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            typed.setdefault(t.subject, set()).add(t.object.value)
    named = {t.subject for t in triples if t.predicate.value == _NAMES[0]}
    extra = []
    for subject, kinds in typed.items():
        if "http://schema.org/Person" in kinds and subject not in named:
            text = labels.get(subject) or _tail(str(subject).strip("<>"))
            extra.append(ox.Triple(subject, ox.NamedNode(_NAMES[0]), ox.Literal(text)))
        elif PROV + "Plan" in kinds and subject not in labels:
            text = _tail(str(subject).strip("<>"))
            extra.append(ox.Triple(subject, ox.NamedNode(_NAMES[2]), ox.Literal(text)))
    return extra


def mark_runs(triples: list[ox.Triple], tool: str, commit_iri: str | None) -> list[ox.Triple]:
    """Type the document's activities as kg runs of `tool`, recorded in `commit_iri`."""
    activities = {
        t.subject
        for t in triples
        if t.predicate.value == RDF_TYPE
        and isinstance(t.object, ox.NamedNode)
        and t.object.value == PROV + "Activity"
    }
    extra = []
    for activity in sorted(activities, key=str):
        extra += [
            ox.Triple(activity, ox.NamedNode(RDF_TYPE), ox.NamedNode(KG + "Run")),
            ox.Triple(activity, ox.NamedNode(KG + "tool"), ox.Literal(tool)),
        ]
        if commit_iri:
            extra.append(ox.Triple(activity, ox.NamedNode(KG + "inCommit"), ox.NamedNode(commit_iri)))
    return extra
